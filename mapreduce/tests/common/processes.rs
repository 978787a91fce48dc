//! Helpers for driving `mapreduce` processes on loopback and reading the master's log,
//! shared by `tests/processes.rs`, `tests/log_lines.rs` and `benches/wordcount.rs` (each
//! includes this file by path).
#![allow(dead_code)] // each includer uses part of it
#![allow(clippy::disallowed_methods)] // a thread reads a real process's output

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

/// What a line of the master's `--verbose` log says about a task execution.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Started,
    Done,
    Failed,
}

/// `(what, "phase task", worker)` of a log line about a task, as `describe` in `main.rs`
/// writes it: "map task 3 started on ADDR", "... done by ADDR", "... failed on ADDR: why".
pub fn parse(line: &str) -> Option<(Line, String, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [phase, "task", task, verb, preposition, worker, ..] = words[..] else {
        return None;
    };
    let what = match (verb, preposition) {
        ("started", "on") => Line::Started,
        ("done", "by") => Line::Done,
        ("failed", "on") => Line::Failed,
        _ => return None,
    };
    let worker = worker.trim_end_matches(':').to_owned();
    Some((what, format!("{phase} {task}"), worker))
}
