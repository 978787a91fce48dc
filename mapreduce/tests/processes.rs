//! Real mode over TCP on loopback: a master process and two worker processes of two task
//! slots each, one of them killed with SIGKILL in the middle of the job; and the command
//! line's errors.
#![allow(clippy::disallowed_methods)] // real processes and wall-clock time, no simulation

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "common/processes.rs"]
mod processes;
use processes::{Line, free_ports, master_addr, parse, stream_lines};

const EXE: &str = env!("CARGO_BIN_EXE_mapreduce");

/// How long the killing test may take before it fails with the master's log: tens of times
/// what it takes on a loaded 2-core machine.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

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

/// A worker process of `SLOTS` slots, listening from `listen` on (slot i on port P+i).
fn spawn_worker(master: &str, listen: &str) -> Child {
    Command::new(EXE)
        .args(["worker", "--master", master, "--listen", listen])
        .args(["--task-delay-ms", "300", "--slots", &SLOTS.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a worker process")
}

/// A task on the victim that started less than this long ago (tasks take 300 ms) is far
/// from its end.
const FRESH: Duration = Duration::from_millis(150);

/// Slots per worker process.
const SLOTS: usize = 2;

/// Child processes, killed and reaped when the test ends however it ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The victim worker process (listening on known ports, so the master's log tells what it
/// runs) is killed while it runs a task on each of its slots (or on one, if by the fourth
/// task done it has never run two at once): each of those executions fails and its task
/// runs again on the survivor; the output is exact. A master that hangs fails the test
/// after [`TEST_TIMEOUT`] with its log.
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
    let began = Instant::now();
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
    let (lines, _reader) = stream_lines(master.stderr.take().expect("the master's stderr"));
    // Children: 0 the master, 1 the victim, 2 the survivor.
    let mut children = Children(vec![master]);
    let mut log: Vec<String> = Vec::new();
    let next_line = |log: &mut Vec<String>| -> Option<String> {
        let left = TEST_TIMEOUT.saturating_sub(began.elapsed());
        match lines.recv_timeout(left) {
            Ok(line) => {
                log.push(line.clone());
                Some(line)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no end after {TEST_TIMEOUT:?}:\n{}", log.join("\n"))
            }
        }
    };
    let addr = master_addr(&next_line(&mut log).expect("a first line"));

    // A connection that sends garbage does not disturb the master. (A master that is gone
    // already fails the test with its log, which says why.)
    let junk = std::net::TcpStream::connect(&addr)
        .and_then(|mut junk| junk.write_all(b"\x00\x00\x00\x10this is not bincode at all"));
    if let Err(e) = junk {
        while next_line(&mut log).is_some() {}
        panic!(
            "cannot send junk to the master ({e}); its log:\n{}",
            log.join("\n")
        );
    }

    let victim_port = free_ports(SLOTS);
    let victim_slots: BTreeSet<String> = (0..SLOTS)
        .map(|i| format!("127.0.0.1:{}", usize::from(victim_port) + i))
        .collect();
    // The victim first: it surely gets tasks. The survivor once the victim has joined.
    children
        .0
        .push(spawn_worker(&addr, &format!("127.0.0.1:{victim_port}")));
    let mut survivor_started = false;

    let mut done = 0;
    // The victim's executions running now, as far as the log has told: task -> (slot, when
    // the log said it started).
    let mut on_victim: BTreeMap<String, (String, Instant)> = BTreeMap::new();
    // The victim's executions running when it was killed.
    let mut at_kill: Option<BTreeMap<String, (String, Instant)>> = None;
    // Of those, the ones that completed after all (their reply was on its way) or failed.
    let mut completed_anyway = BTreeSet::new();
    let mut failed = BTreeSet::new();
    // Tasks done by the survivor, and tasks that had a backup execution.
    let mut done_elsewhere = BTreeSet::new();
    let mut backed_up = BTreeSet::new();
    while let Some(line) = next_line(&mut log) {
        let joined = line
            .strip_prefix("worker ")
            .and_then(|l| l.strip_suffix(" joined"));
        if !survivor_started && joined.is_some_and(|worker| victim_slots.contains(worker)) {
            children.0.push(spawn_worker(&addr, "127.0.0.1:0"));
            survivor_started = true;
        }
        let Some((what, task, worker)) = parse(&line) else {
            continue;
        };
        if line.ends_with("(backup)") {
            backed_up.insert(task.clone());
        }
        let victim = victim_slots.contains(&worker);
        done += usize::from(what == Line::Done);
        match (&what, victim, &at_kill) {
            (Line::Done, false, _) => {
                done_elsewhere.insert(task.clone());
            }
            (Line::Started, true, None) => {
                on_victim.insert(task.clone(), (worker.clone(), Instant::now()));
            }
            (Line::Done | Line::Failed, true, None) => {
                on_victim.remove(&task);
            }
            (Line::Done, true, Some(_)) => {
                completed_anyway.insert(task.clone());
            }
            (Line::Failed, true, Some(_)) => {
                failed.insert(task.clone());
            }
            _ => {}
        }
        let busy = on_victim.len();
        // Mid-job: once a task is done, when both slots are busy with tasks that started
        // lately (tasks take 300 ms: far from their end); or, if by the fourth task done
        // that never happened, when one slot is busy.
        let fresh = on_victim
            .values()
            .all(|(_, started)| started.elapsed() < FRESH);
        let due = (busy == SLOTS && fresh && done >= 1) || (busy >= 1 && done >= 4);
        if at_kill.is_none() && due {
            children.0[1].kill().expect("SIGKILL the victim");
            let running: Vec<String> = (on_victim.iter())
                .map(|(task, (slot, _))| format!("{task} on {slot}"))
                .collect();
            log.push(format!(
                "[test] SIGKILL the victim while it runs {running:?}"
            ));
            at_kill = Some(on_victim.clone());
        }
    }
    let status = children.0[0].wait().expect("the master exits");
    let log = log.join("\n");
    assert!(status.success(), "the master failed:\n{log}");
    let at_kill = at_kill.unwrap_or_else(|| panic!("the victim never ran a task:\n{log}"));
    // An execution the log showed running may have completed just before the kill, its line
    // not read yet; every other one was cut short: its task is done by the survivor, and
    // the execution fails (unless a backup's completion ended the phase first: then the
    // master abandons the call and logs nothing).
    let cut_short: Vec<&String> = (at_kill.keys())
        .filter(|task| !completed_anyway.contains(*task))
        .collect();
    assert!(!cut_short.is_empty(), "no task was cut short:\n{log}");
    for task in cut_short {
        assert!(
            done_elsewhere.contains(task),
            "{task} did not run again:\n{log}"
        );
        assert!(
            failed.contains(task) || backed_up.contains(task),
            "{task} did not fail:\n{log}"
        );
    }
    let got = std::fs::read_to_string(&output).expect("the output file");
    assert_eq!(got, plain_word_count(&texts));
    let survivor = children.0.get_mut(2).expect("the survivor was started");
    loop {
        match survivor.try_wait().expect("the survivor's status") {
            Some(status) => {
                assert!(status.success(), "the survivor failed");
                break;
            }
            None if began.elapsed() > TEST_TIMEOUT => panic!("the survivor did not exit"),
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
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
