//! `smtp`: SMTP replies to `SMTP_CHECK` (`picket::check::smtp`): the reply
//! parser alone, and whole dialogues (banner, `HELO`, `QUIT`) through the
//! checkers.
//!
//! Input: a mode byte; `mode & 1 == 0`: the rest is one buffer for
//! [`parse_reply`]; else steps of the [`checker`](super::checker) driver.
//!
//! Checked: a parsed reply lies within the buffer, ends a line, its code
//! is three digits, and bytes after it do not change it.

use std::sync::OnceLock;

use picket::check::smtp::{ReplyError, parse_reply};
use picket::config::Config;

use super::Input;

const CONF: &str = "\
virtual_server 10.9.0.1 25 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.0.0.1 25 {
    SMTP_CHECK {
      helo_name picket.test
      connect_timeout 1
      retry 1
      delay_before_retry 0.2
      delay_loop 1
      warmup 0
    }
  }
}
";

fn config() -> &'static Config {
    static CFG: OnceLock<Box<Config>> = OnceLock::new();
    CFG.get_or_init(|| super::load_config(CONF))
}

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
