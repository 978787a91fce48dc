//! Real mode over TCP on loopback: a master process and two worker processes of two task
//! slots each, one of them killed with SIGKILL in the middle of the job; and the command
//! line's errors.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const EXE: &str = env!("CARGO_BIN_EXE_mapreduce");

fn plain_word_count(texts: &[String]) -> String {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for text in texts {
        let mut word = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if c.is_alphabetic() {
                word.push(c);
            } else if !word.is_empty() {
                *counts.entry(std::mem::take(&mut word)).or_default() += 1;
            }
        }
    }
    counts.iter().map(|(w, n)| format!("{w}: {n}\n")).collect()
}

fn spawn_worker(master: &str) -> Child {
    Command::new(EXE)
        .args([
            "worker",
            "--master",
            master,
            "--task-delay-ms",
            "300",
            "--slots",
            "2",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a worker process")
}

#[test]
fn worker_killed_with_sigkill_mid_job() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("a work directory");
    let texts: Vec<String> = [
        include_str!("data/river.txt"),
        include_str!("data/winter.txt"),
        include_str!("data/ledger.txt"),
    ]
    .iter()
    .map(|t| t.repeat(20))
    .collect();
    let mut files = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let path = dir.path().join(format!("input-{i}.txt"));
        std::fs::write(&path, text).expect("write an input");
        files.push(path.display().to_string());
    }
    let output = dir.path().join("out.txt");
    let mut master = Command::new(EXE)
        .args([
            "master",
            "--listen",
            "127.0.0.1:0",
            "--app",
            "wc",
            "-m",
            "8",
            "-r",
            "4",
        ])
        .arg("--output")
        .arg(&output)
        .arg("--work-dir")
        .arg(&work)
        .arg("--verbose")
        .args(&files)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the master process");
    let mut lines = BufReader::new(master.stderr.take().expect("the master's stderr")).lines();
    let first = lines.next().expect("a first line").expect("text");
    let addr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();

    // A connection that sends garbage does not disturb the master.
    let mut junk = std::net::TcpStream::connect(&addr).expect("connect to the master");
    junk.write_all(b"\x00\x00\x00\x10this is not bincode at all")
        .expect("send junk");
    drop(junk);

    let mut victim = spawn_worker(&addr);
    let mut survivor = spawn_worker(&addr);
    let mut done = 0;
    let mut killed = false;
    let mut failures = 0;
    let mut log = Vec::new();
    for line in lines {
        let line = line.expect("text");
        done += usize::from(line.contains(" done by "));
        failures += usize::from(line.contains(" failed on "));
        if done == 4 && !killed {
            // Tasks take 300 ms and all four slots are busy: the victim is mid-task twice.
            victim.kill().expect("SIGKILL the worker");
            killed = true;
        }
        log.push(line);
    }
    if !killed {
        let _ = victim.kill();
    }
    victim.wait().expect("reap the killed worker");
    let status = master.wait().expect("the master exits");
    assert!(status.success(), "master failed:\n{}", log.join("\n"));
    assert!(killed, "the job ended before the kill:\n{}", log.join("\n"));
    assert!(
        failures >= 2,
        "the victim's two tasks did not fail:\n{}",
        log.join("\n")
    );
    let got = std::fs::read_to_string(&output).expect("the output file");
    assert_eq!(got, plain_word_count(&texts));
    assert!(survivor.wait().expect("the survivor exits").success());
    let left: Vec<_> = std::fs::read_dir(&work).expect("work dir").collect();
    assert!(left.is_empty(), "job directory not removed: {left:?}");
}

fn run_cli(args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new(EXE)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run the command");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn command_line_errors_are_clear() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ok, err) = run_cli(&["wc", "missing.txt"], dir.path());
    assert!(!ok);
    assert!(err.contains("cannot read input missing.txt"), "{err}");

    std::fs::write(dir.path().join("bad.txt"), b"fine\n\xff\xfe\n").expect("write");
    let (ok, err) = run_cli(&["wc", "bad.txt", "--workers", "1"], dir.path());
    assert!(!ok);
    assert!(
        err.contains("bad.txt: not UTF-8 text (bad byte at offset 5)"),
        "{err}"
    );

    let (ok, err) = run_cli(&["wc", "bad.txt", "--workers", "0"], dir.path());
    assert!(!ok);
    assert!(err.contains("--workers must be at least 1"), "{err}");

    let (ok, err) = run_cli(&["worker", "--master", "not-an-address"], dir.path());
    assert!(!ok);
    assert!(err.contains("invalid value"), "{err}");

    let (ok, err) = run_cli(
        &["worker", "--master", "127.0.0.1:7878", "--slots", "0"],
        dir.path(),
    );
    assert!(!ok);
    assert!(err.contains("'--slots <SLOTS>'"), "{err}");

    let (ok, err) = run_cli(
        &[
            "worker",
            "--master",
            "127.0.0.1:7878",
            "--listen",
            "127.0.0.1:65535",
            "--slots",
            "2",
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(err.contains("past 65535"), "{err}");

    std::fs::write(dir.path().join("ok.txt"), b"fine\n").expect("write");
    let (ok, err) = run_cli(
        &[
            "wc",
            "ok.txt",
            "--workers",
            "1",
            "-r",
            "18446744073709551615",
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(
        err.contains("18446744073709551615 reduce tasks: more than the limit"),
        "{err}"
    );
}

#[test]
fn local_word_count_matches_a_plain_count() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text = include_str!("data/river.txt").to_string();
    std::fs::write(dir.path().join("river.txt"), &text).expect("write");
    let out = Command::new(EXE)
        .args(["wc", "river.txt", "--workers", "2", "-m", "3", "-r", "2"])
        .current_dir(dir.path())
        .output()
        .expect("run the command");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        plain_word_count(&[text])
    );
}
