//! `http`: HTTP responses to `HTTP_GET` (`picket::check::http`): the head
//! parser, the chunked decoder, and whole exchanges through the checkers
//! (status, `Content-Length`, chunked or until close, the MD5 digest).
//!
//! Input: a mode byte (`mode & 3`), then:
//!
//! | mode | bytes |
//! |---|---|
//! | 0 | a response head for [`ResponseHead::parse`] |
//! | 1 | a chunked body: 2 split points, then the body for [`Chunked::feed`] |
//! | 2 | steps of the [`checker`](super::checker) driver, `HTTP_GET` with a digest |
//! | 3 | the same, `HTTP_GET` without a digest and HTTP/1.1 |
//!
//! Checked: a parsed head lies within the buffer and ends with its blank
//! line; adding bytes after a complete head changes nothing; the chunked
//! decoder gives the same result whether the body comes whole or in three
//! pieces, and never says it used more than it got.

use picket::check::http::{Chunked, HeadError, ResponseHead};

use super::Input;

config_once!(
    digest_config,
    super::checker::one_check(
        80,
        "TCP",
        &format!(
            "HTTP_GET {{\n url {{\n  path /health\n  digest 640205b7b0fc66c1ea91c463fac6334d\n  \
             status_code 200-299 503\n }}\n url {{\n  path /second\n }}\n {}\n }}",
            super::checker::TIMING
        )
    )
);

config_once!(
    plain_config,
    super::checker::one_check(
        80,
        "TCP",
        "HTTP_GET {\n url {\n  path /\n }\n http_protocol 1.1\n virtualhost www.example.org\n \
         connect_timeout 1\n retry 0\n delay_loop 1\n warmup 0\n }"
    )
);

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    match input.byte() & 3 {
        0 => head(input.rest()),
        1 => {
            let a = usize::from(input.byte());
            let b = usize::from(input.byte());
            chunked(input.rest(), a, b);
        }
        2 => super::checker::drive(digest_config(), input.rest()),
        _ => super::checker::drive(plain_config(), input.rest()),
    }
}

fn head(buf: &[u8]) {
    let Ok(h) = ResponseHead::parse(buf) else {
        return;
    };
    assert!(h.len <= buf.len(), "head longer than the buffer");
    assert!(buf[..h.len].ends_with(b"\n\n") || buf[..h.len].ends_with(b"\n\r\n"));
    assert!((100..=999).contains(&h.status), "status {}", h.status);
    assert!(h.minor <= 9);
    // What follows the head does not change it.
    assert_eq!(ResponseHead::parse(&buf[..h.len]), Ok(h));
    // Nor is a prefix of it complete.
    if h.len > 0 {
        assert_eq!(
            ResponseHead::parse(&buf[..h.len - 1])
                .err()
                .map(|e| e == HeadError::Incomplete || e == HeadError::StatusLine),
            Some(true)
        );
    }
}

fn chunked(body: &[u8], a: usize, b: usize) {
    let mut whole = Chunked::default();
    let whole_result = whole.feed(body);
    if let Ok(n) = whole_result {
        assert!(n <= body.len());
        if n < body.len() {
            assert!(whole.is_done(), "stopped early without being done");
        }
    }
    // The same body in three pieces.
    let a = a.min(body.len());
    let b = (a + b).min(body.len());
    let mut pieces = Chunked::default();
    let mut used = 0;
    let mut result = Ok(0);
    for piece in [&body[..a], &body[a..b], &body[b..]] {
        match pieces.feed(piece) {
            Ok(n) => {
                assert!(n <= piece.len());
                used += n;
                if n < piece.len() {
                    break;
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    match (whole_result, result) {
        (Ok(n), Ok(_)) => {
            assert_eq!(n, used, "pieces used another length");
            assert_eq!(whole, pieces, "pieces end in another state");
        }
        (Err(_), Err(_)) => {}
        (w, p) => panic!("whole {w:?}, in pieces {p:?}"),
    }
}
