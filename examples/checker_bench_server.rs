//! The real server of `tools/bench/checkers`: one listener per port given
//! (backlog 4096), each accepting as fast as it can and handing connections
//! to a pool of threads that answer with a fixed HTTP page (or just close
//! when the client sends nothing: a TCP check), without forking, so a
//! thousand checks a second cost the server little. Every second it
//! writes the connections accepted per port, `PORT COUNT` lines, to the
//! file given.
//!
//! Usage: checker_bench_server COUNTS_FILE PORT [PORT ...]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// Threads answering connections, per port.
const WORKERS: usize = 16;

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
        // A deeper accept queue than std's 128.
        let backlog = nix::sys::socket::Backlog::new(4096).expect("a backlog");
        nix::sys::socket::listen(&listener, backlog).expect("listen");
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
    let head: Arc<[u8]> = head.into();
    let (tx, rx) = mpsc::channel::<TcpStream>();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..WORKERS {
        let rx = Arc::clone(&rx);
        let head = Arc::clone(&head);
        std::thread::spawn(move || {
            loop {
                let conn = match rx.lock() {
                    Ok(r) => r.recv(),
                    Err(_) => return,
                };
                match conn {
                    Ok(c) => answer(c, &head),
                    Err(_) => return,
                }
            }
        });
    }
    for conn in listener.incoming() {
        let Ok(c) = conn else { continue };
        count.fetch_add(1, Ordering::Relaxed);
        let _ = tx.send(c);
    }
}

fn answer(mut c: TcpStream, head: &[u8]) {
    {
        let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 1024];
        let mut got = 0;
        while got < buf.len() {
            match c.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
            if buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                let _ = c.write_all(head);
                break;
            }
        }
    }
}
