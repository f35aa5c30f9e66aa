//! The real server of `tools/bench/checkers`: one listener per port given,
//! each answering every connection at once with a fixed HTTP page (or just
//! closing it when the client sends nothing: a TCP check), without forking,
//! so a thousand checks a second cost the server little. Every second it
//! writes the connections accepted per port, `PORT COUNT` lines, to the
//! file given.
//!
//! Usage: checker_bench_server COUNTS_FILE PORT [PORT ...]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The page (the benchmark's digest is its MD5).
const PAGE: &[u8] = b"<html>picket checker benchmark</html>\n";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, ports) = args
        .split_first()
        .expect("usage: COUNTS_FILE PORT [PORT ...]");
    let mut counters = Vec::new();
    for port in ports {
        let port: u16 = port.parse().expect("a port");
        let listener = TcpListener::bind(("0.0.0.0", port)).expect("bind");
        let count = Arc::new(AtomicU64::new(0));
        counters.push((port, Arc::clone(&count)));
        std::thread::spawn(move || serve(&listener, &count));
    }
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let text: String = counters
            .iter()
            .map(|(p, c)| format!("{p} {}\n", c.load(Ordering::Relaxed)))
            .collect();
        let _ = std::fs::write(file, text);
    }
}

fn serve(listener: &TcpListener, count: &AtomicU64) {
    let mut head = format!(
        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nContent-Type: text/html\r\n\r\n",
        PAGE.len()
    )
    .into_bytes();
    head.extend_from_slice(PAGE);
    for conn in listener.incoming() {
        let Ok(mut c) = conn else { continue };
        count.fetch_add(1, Ordering::Relaxed);
        let _ = c.set_read_timeout(Some(Duration::from_millis(200)));
        let mut buf = [0u8; 1024];
        let mut got = 0;
        while got < buf.len() {
            match c.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
            if buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                let _ = c.write_all(&head);
                break;
            }
        }
    }
}
