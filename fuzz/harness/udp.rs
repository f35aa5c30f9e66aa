//! `udp`: replies to `UDP_CHECK` (`picket::check::udp`): the hex pattern
//! decoder, the reply match, and whole checks through the checkers.
//!
//! Input: a mode byte. `mode & 1 == 0`: a pattern length `n`, `n` bytes of
//! pattern text (with `X` wildcards), 2 bytes of min/max reply length,
//! then the reply. Else: steps of the [`checker`](super::checker) driver
//! (a `UDP_CHECK` with `require_reply 0aXX0c…`).
//!
//! Checked: a decoded pattern's mask is 0 exactly at its wildcards; a reply
//! that matches has the pattern's bytes where the mask says and a length
//! within the bounds; the reply made of the pattern (wildcards as 0)
//! matches whenever the bounds allow.

use picket::check::udp::reply_matches;
use picket::config::lvs::{CheckKind, parse_udp_pattern};
use picket::limits::PAYLOAD_BYTES;

use super::Input;

config_once!(
    config,
    super::checker::one_check(
        9000,
        "UDP",
        &format!(
            "UDP_CHECK {{\n payload 70696e67\n require_reply 0aXX0c706f6e67\n min_reply_length 4\n max_reply_length 64\n {}\n }}",
            super::checker::TIMING
        )
    )
);

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    if input.byte() & 1 == 1 {
        super::checker::drive(config(), input.rest());
        return;
    }
    let n = usize::from(input.byte());
    let pattern = String::from_utf8_lossy(input.bytes(n)).into_owned();
    let (min, max) = (u16::from(input.byte()), u16::from(input.byte()) * 4);
    let reply = input.rest();
    let mut bytes = [0u8; PAYLOAD_BYTES];
    let mut mask = [0u8; PAYLOAD_BYTES];
    let decoded = parse_udp_pattern(&pattern, true, &mut bytes, &mut mask);
    if let Ok(k) = decoded {
        assert!((1..=PAYLOAD_BYTES).contains(&k));
        let digits = pattern
            .strip_prefix("0x")
            .or_else(|| pattern.strip_prefix("0X"))
            .unwrap_or(&pattern);
        assert_eq!(digits.len(), 2 * k);
        for (i, c) in digits.bytes().enumerate() {
            let nibble = (mask[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0xf;
            assert_eq!(nibble == 0, c == b'X' || c == b'x', "mask of {pattern:?}");
        }
    }
    // The same pattern without wildcards allowed decodes only if it has none.
    let strict = parse_udp_pattern(
        &pattern,
        false,
        &mut [0; PAYLOAD_BYTES],
        &mut [0; PAYLOAD_BYTES],
    );
    if strict.is_ok() {
        assert_eq!(strict.ok(), decoded.as_ref().ok().copied());
    }

    // The match, with the configured check's bounds replaced.
    let CheckKind::Udp(mut u) = config().lvs.checkers[0].kind else {
        panic!("the harness's check is not UDP_CHECK");
    };
    u.min_reply_length = min;
    u.max_reply_length = max;
    let full = reply.len();
    if reply_matches(&u, &pattern, reply, full) {
        assert!(full >= usize::from(min) && full <= usize::from(max));
        if !pattern.is_empty() {
            let k = decoded.unwrap_or_else(|e| panic!("matched an undecodable pattern: {e:?}"));
            for i in 0..k {
                assert_eq!(reply[i] & mask[i], bytes[i] & mask[i]);
            }
        }
    }
    if let Ok(k) = decoded
        && k >= usize::from(min)
        && k <= usize::from(max)
    {
        assert!(
            reply_matches(&u, &pattern, &bytes[..k], k),
            "the pattern's own bytes do not match it"
        );
    }
}
