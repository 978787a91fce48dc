//! Helpers for driving `mapreduce` processes on loopback, shared by `tests/processes.rs` and
//! `benches/wordcount.rs` (each includes this file by path).

use std::io::{BufRead, BufReader};
use std::process::ChildStderr;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// A port P on loopback such that P..P+n are free when asked (a worker's slots bind them
/// right after).
pub fn free_ports(n: usize) -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let port = first.local_addr().expect("its address").port();
        let rest_free = (1..n).all(|i| {
            u16::try_from(usize::from(port) + i)
                .is_ok_and(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        });
        if rest_free {
            return port;
        }
    }
}

/// The lines a process writes to `stderr`, as they come, read by a thread of their own.
pub fn stream_lines(stderr: ChildStderr) -> (mpsc::Receiver<String>, JoinHandle<()>) {
    let (send, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    (lines, reader)
}

/// The address in a master's first line, `listening on ADDR`.
pub fn master_addr(first: &str) -> String {
    first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned()
}
