//! `dns`: answers to `DNS_CHECK` (`picket::check::dns`): [`check_answer`]
//! against a query made by [`write_query`], and whole checks through the
//! checkers (the id there comes from the checkers' seeded generator).
//!
//! Input: a mode byte. `mode & 1 == 0`: a query type (`mode >> 1`), a
//! 2-byte id, a name length `n`, `n` bytes of name, then the answer.
//! Else: steps of the [`checker`](super::checker) driver.
//!
//! Checked: an accepted answer carries the query's id, is a response, and
//! echoes the question; the query written parses as a header plus the name.

use picket::check::dns::{AnswerError, HEADER_LEN, check_answer, write_query};
use picket::config::lvs::DnsType;

use super::Input;

config_once!(
    config,
    super::checker::one_check(
        53,
        "UDP",
        &format!(
            "DNS_CHECK {{\n type AAAA\n name check.example.org\n {}\n }}",
            super::checker::TIMING
        )
    )
);

const TYPES: [DnsType; 7] = DnsType::ALL;

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte();
    if mode & 1 == 1 {
        super::checker::drive(config(), input.rest());
        return;
    }
    let kind = TYPES[usize::from(mode >> 1) % TYPES.len()];
    let id = input.u16();
    let n = usize::from(input.byte());
    let name = String::from_utf8_lossy(input.bytes(n)).into_owned();
    let answer = input.rest();
    let mut query = [0u8; 300];
    let Some(qlen) = write_query(&mut query, id, &name, kind) else {
        return;
    };
    let query = &query[..qlen];
    assert!(qlen >= HEADER_LEN + 1 + 4);
    assert_eq!(query[..2], id.to_be_bytes());
    assert_eq!(query[qlen - 5], 0, "the name ends with the root label");
    match check_answer(answer, query) {
        Ok(()) => {
            assert_eq!(answer[..2], query[..2]);
            assert!(answer[2] & 0x80 != 0, "accepted a query as an answer");
            assert!(answer.len() >= qlen);
            assert!(answer[HEADER_LEN..qlen].eq_ignore_ascii_case(&query[HEADER_LEN..]));
        }
        Err(AnswerError::Rcode(r)) => assert!(r != 0 && r < 16),
        Err(_) => {}
    }
    // The query is itself no answer to itself (QR is clear).
    assert!(check_answer(query, query).is_err());
}
