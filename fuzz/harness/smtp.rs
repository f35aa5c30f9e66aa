//! `smtp`: SMTP replies to `SMTP_CHECK` (`picket::check::smtp`): the reply
//! parser alone, and whole dialogues (banner, `HELO`, `QUIT`) through the
//! checkers.
//!
//! Input: a mode byte; `mode & 1 == 0`: the rest is one buffer for
//! [`parse_reply`]; else steps of the [`checker`](super::checker) driver.
//!
//! Checked: a parsed reply lies within the buffer, ends a line, its code
//! is three digits, and bytes after it do not change it.

use picket::check::smtp::{ReplyError, parse_reply};

use super::Input;

config_once!(
    config,
    super::checker::one_check(
        25,
        "TCP",
        &format!(
            "SMTP_CHECK {{\n helo_name picket.test\n {}\n }}",
            super::checker::TIMING
        )
    )
);

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    if input.byte() & 1 == 0 {
        reply(input.rest());
    } else {
        super::checker::drive(config(), input.rest());
    }
}

fn reply(buf: &[u8]) {
    match parse_reply(buf) {
        Ok((code, len)) => {
            assert!(code <= 999);
            assert!(len >= 1 && len <= buf.len());
            assert_eq!(buf[len - 1], b'\n');
            assert_eq!(parse_reply(&buf[..len]), Ok((code, len)));
        }
        Err(ReplyError::Incomplete | ReplyError::Malformed) => {}
    }
}
