//! The failure path of `linearizability::testing`: a non-linearizable history leaves the
//! picture and the trace next to each other and a message naming both, the seed and the
//! replay command; a linearizable or unfinished check leaves nothing; a test that panics for
//! another reason still leaves both files.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use linearizability::models::{KvInput, KvMap, KvOutput};
use linearizability::testing::{FailureFiles, TestHistory, check_history, failure_dir};
use linearizability::{Limits, Operation, Verdict};

/// A fresh folder for one test under the target's temporary folder.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = failure_dir(env!("CARGO_TARGET_TMPDIR")).join(format!("linearizability-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Key "k": 1 is put, then 2 is put, then a later get still reads 1. Key "other" is fine.
fn stale_read() -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        Operation::returned(0, 0, 10, KvInput::put("k", "1"), KvOutput::Done),
        Operation::returned(1, 2, 6, KvInput::append("other", "x"), KvOutput::Done),
        Operation::returned(0, 20, 30, KvInput::put("k", "2"), KvOutput::Done),
        Operation::returned(1, 40, 50, KvInput::get("k"), KvOutput::Value("1".into())),
    ]
}

/// A trace writer that writes two JSON lines and counts its calls.
fn fake_trace(calls: &Cell<u32>) -> impl FnOnce(&Path) -> std::io::Result<()> + '_ {
    move |path| {
        calls.set(calls.get() + 1);
        std::fs::write(
            path,
            "{\"at_us\":0,\"kind\":\"send\"}\n{\"at_us\":5,\"kind\":\"reply\"}\n",
        )
    }
}

#[test]
fn a_violation_writes_picture_and_trace_and_names_them() {
    let dir = fresh_dir("violation");
    let files = FailureFiles::new("stale", 4242, &dir).with_replay("REPLAY: LABRPC_SEED=4242 ...");
    let calls = Cell::new(0);
    let failure = check_history(
        &KvMap,
        &stale_read(),
        Limits::none(),
        &files,
        fake_trace(&calls),
    )
    .expect_err("a stale read is not linearizable");

    let html = dir.join("stale-seed4242.html");
    let trace = dir.join("stale-seed4242.trace.jsonl");
    assert_eq!(files.html_path(), html);
    assert_eq!(files.trace_path(), trace);
    assert_eq!(failure.written.html.as_ref(), Ok(&html));
    assert_eq!(failure.written.trace.as_ref(), Ok(&trace));
    assert_eq!(calls.get(), 1, "the trace is written once");

    let page = std::fs::read_to_string(&html).expect("the picture exists");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains("stale (seed 4242)"),
        "the title names the run"
    );
    assert!(page.contains("violation"), "the page shows the verdict");
    let lines = std::fs::read_to_string(&trace).expect("the trace exists");
    assert_eq!(lines.lines().count(), 2);

    let message = failure.to_string();
    for wanted in [
        html.display().to_string(),
        trace.display().to_string(),
        "seed 4242".to_string(),
        "REPLAY: LABRPC_SEED=4242".to_string(),
        "get(\"k\") -> \"1\"".to_string(),
        "not linearizable".to_string(),
    ] {
        assert!(
            message.contains(&wanted),
            "{wanted:?} missing from:\n{message}"
        );
    }
}

#[test]
fn a_linearizable_history_writes_nothing() {
    let dir = fresh_dir("fine");
    let mut history = stale_read();
    history[3] = Operation::returned(1, 40, 50, KvInput::get("k"), KvOutput::Value("2".into()));
    let calls = Cell::new(0);
    let files = FailureFiles::new("fine", 1, &dir);
    let report = check_history(&KvMap, &history, Limits::none(), &files, fake_trace(&calls))
        .expect("linearizable");
    assert_eq!(report.verdict, Verdict::Linearizable);
    assert_eq!(calls.get(), 0);
    assert!(!dir.exists(), "nothing written for a passing history");
}

#[test]
fn an_unfinished_check_is_unknown_and_writes_nothing() {
    let dir = fresh_dir("unknown");
    // Ten concurrent appends and a get that saw them in one order: the search needs more than
    // the single step allowed.
    let mut history: Vec<_> = (0..10)
        .map(|i| {
            Operation::returned(
                i,
                0,
                100,
                KvInput::append("k", i.to_string()),
                KvOutput::Done,
            )
        })
        .collect();
    history.push(Operation::returned(
        0,
        200,
        300,
        KvInput::get("k"),
        KvOutput::Value("9876543210".into()),
    ));
    let calls = Cell::new(0);
    let files = FailureFiles::new("unknown", 2, &dir);
    let report = check_history(
        &KvMap,
        &history,
        Limits::steps(1),
        &files,
        fake_trace(&calls),
    )
    .expect("unknown is not a failure");
    assert_eq!(report.verdict, Verdict::Unknown);
    assert_eq!(calls.get(), 0);
    assert!(!dir.exists());
}

/// A shared virtual clock for the recording tests.
fn clock() -> (
    Arc<AtomicU64>,
    impl Fn() -> Duration + Send + Sync + 'static,
) {
    let now = Arc::new(AtomicU64::new(0));
    let read = Arc::clone(&now);
    (now, move || {
        Duration::from_millis(read.load(Ordering::SeqCst))
    })
}

/// Runs `future` to completion; the futures of these tests never wait.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("a test future waited"),
    }
}

/// Records the stale read through clients, as a chaos test does, with a store that forgets
/// the second put.
fn record_stale_read(history: &TestHistory<KvMap>, now: &AtomicU64) {
    let (a, b) = (history.client(0), history.client(1));
    let step = |ms: u64| now.store(ms, Ordering::SeqCst);
    block_on(async {
        a.put("k", "1", async { step(10) }).await;
        a.put("k", "2", async { step(30) }).await;
        let stale = b.get("k", async { "1".to_string() }).await;
        assert_eq!(stale, "1");
    });
}

#[test]
fn finish_panics_with_the_paths_and_the_seed() {
    let dir = fresh_dir("finish");
    let (now, clock) = clock();
    let history = TestHistory::new(KvMap, FailureFiles::new("rec", 77, &dir), clock)
        .with_trace(|path| std::fs::write(path, "{}\n"));
    record_stale_read(&history, &now);
    assert_eq!(history.recorder().len(), 3);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| history.finish()))
        .expect_err("a violation fails the test");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted message")
        .clone();
    let (html, trace) = (
        dir.join("rec-seed77.html"),
        dir.join("rec-seed77.trace.jsonl"),
    );
    assert!(html.is_file() && trace.is_file(), "{message}");
    let page = std::fs::read_to_string(&html).expect("the picture is readable");
    assert!(
        page.contains("time (ms)"),
        "the recorder's nanoseconds are shown in a unit"
    );
    assert!(message.contains(&html.display().to_string()), "{message}");
    assert!(message.contains(&trace.display().to_string()), "{message}");
    assert!(message.contains("seed 77"), "{message}");
}

#[test]
fn finish_passes_a_linearizable_history() {
    let dir = fresh_dir("pass");
    let (now, clock) = clock();
    let history = TestHistory::new(KvMap, FailureFiles::new("ok", 3, &dir), clock);
    let (a, b) = (history.client(0), history.client(1));
    block_on(async {
        a.append("k", "x", async { now.store(5, Ordering::SeqCst) })
            .await;
        // Same virtual instant as the return before it: still ordered after it.
        assert_eq!(b.get("k", async { "x".to_string() }).await, "x");
    });
    assert_eq!(history.finish().verdict, Verdict::Linearizable);
    assert!(!dir.exists());
}

#[test]
fn an_operation_that_never_returns_is_unknown() {
    let dir = fresh_dir("open");
    let (_now, clock) = clock();
    let history = TestHistory::new(KvMap, FailureFiles::new("open", 4, &dir), clock);
    let a = history.client(0);
    // Polled once and dropped: the call is recorded, the return never is.
    let mut pending = Box::pin(a.put("k", "1", std::future::pending()));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(pending.as_mut().poll(&mut cx).is_pending());
    drop(pending);
    let ops = history.recorder().history();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].output(), None);
    assert_eq!(history.finish().verdict, Verdict::Linearizable);
}

#[test]
fn a_test_that_panics_otherwise_still_leaves_both_files() {
    let dir = fresh_dir("panic");
    let (now, clock) = clock();
    let history = TestHistory::new(KvMap, FailureFiles::new("stuck", 9, &dir), clock)
        .with_trace(|path| std::fs::write(path, "{}\n"));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        record_stale_read(&history, &now);
        let _keep = history;
        panic!("a clerk is stuck");
    }));
    assert!(result.is_err());
    assert!(dir.join("stuck-seed9.html").is_file());
    assert!(dir.join("stuck-seed9.trace.jsonl").is_file());
}

#[test]
fn a_long_value_is_shortened_in_the_message() {
    let dir = fresh_dir("long");
    let long = "x".repeat(1000);
    let history = vec![
        Operation::returned(0, 0, 10, KvInput::put("k", "1"), KvOutput::Done),
        Operation::returned(1, 20, 30, KvInput::get("k"), KvOutput::Value(long.clone())),
    ];
    let files = FailureFiles::new("long", 5, &dir);
    let failure = check_history(&KvMap, &history, Limits::none(), &files, |_| Ok(()))
        .expect_err("a value never written");
    let message = failure.to_string();
    assert!(message.len() < 600, "{message}");
    assert!(message.contains("(1014 characters)"), "{message}");
    let page = std::fs::read_to_string(files.html_path()).expect("the picture");
    assert!(page.contains(&long), "the picture keeps the whole value");
}

#[test]
fn a_malformed_history_fails_with_the_trace_and_no_picture() {
    let dir = fresh_dir("malformed");
    let history = vec![Operation::returned(
        0,
        10,
        5,
        KvInput::put("k", "1"),
        KvOutput::Done,
    )];
    let calls = Cell::new(0);
    let files = FailureFiles::new("bad", 6, &dir);
    let failure = check_history(&KvMap, &history, Limits::none(), &files, fake_trace(&calls))
        .expect_err("a return before its call");
    assert!(failure.reason.contains("malformed"), "{failure}");
    assert!(failure.written.html.is_err());
    assert!(!files.html_path().exists());
    assert_eq!(failure.written.trace.as_ref(), Ok(&files.trace_path()));
    assert!(failure.to_string().contains("not written"), "{failure}");
}
