//! `distlab grade` on fixture workspaces: crashed and hanging test binaries, seeds, scores,
//! and Gradescope's results.json.

mod common;

use common::{distlab, fixture, tempdir};
use std::path::Path;

/// Copies the fake submission (a crate `paxos` whose second test fails on odd seeds).
fn submission(to: &Path) {
    fixture("submission", to);
}

/// Grades `labs` of the workspace in `dir` with `args`; returns the exit status, the table
/// and the JSON results.
fn grade_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let output = distlab()
        .current_dir(dir)
        .arg("grade")
        .args(args)
        .args(["--json", "results.json"])
        .output()
        .expect("distlab runs");
    let table = String::from_utf8_lossy(&output.stdout).into_owned();
    let json = std::fs::read_to_string(dir.join("results.json")).unwrap_or_else(|e| {
        panic!(
            "no results.json ({e}): {table}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let json = serde_json::from_str(&json).expect("valid JSON");
    (output.status.code(), table, json)
}

/// The JSON result of the test `name` (as "LAB TEST").
fn result<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["tests"]
        .as_array()
        .expect("a test list")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no test {name} in {json}"))
}

/// A test binary that dies (abort, stack overflow) reports nothing for its tests: they must
/// still count, as failures with a note, and so must a binary that dies on some seeds only.
#[test]
fn grade_counts_tests_of_crashed_binaries_as_failed() {
    let dir = tempdir();
    fixture("crashing", dir.path());
    let (code, table, json) = grade_in(dir.path(), &["paxos", "--runs", "2", "--seed", "1"]);
    assert_eq!(code, Some(1), "not every test passed: {table}");
    // aborts_on_odd_seeds, always_passes, overflows_its_stack; the ignored test is not graded.
    assert_eq!(json["tests"].as_array().map(Vec::len), Some(3), "{json}");
    assert_eq!(json["max_score"].as_f64(), Some(3.0), "{json}");
    assert_eq!(json["score"].as_f64(), Some(1.0), "{json}");
    assert_eq!(result(&json, "paxos always_passes")["score"], 1.0);
    for name in ["paxos aborts_on_odd_seeds", "paxos overflows_its_stack"] {
        let test = result(&json, name);
        assert_eq!(test["score"], 0.0, "{test}");
        let output = test["output"].as_str().expect("its output");
        assert!(
            output.starts_with("no result: the test binary crashed or was killed"),
            "{output}"
        );
        assert!(
            output.contains("SIGABRT"),
            "no tail of the output: {output}"
        );
    }
    assert!(
        result(&json, "paxos overflows_its_stack")["output"]
            .as_str()
            .is_some_and(|o| o.contains("has overflowed its stack")),
        "{json}"
    );
    assert!(
        table.contains("paxos aborts_on_odd_seeds") && table.contains("1/2"),
        "{table}"
    );
    assert!(
        table.contains("failed with seeds 1 (no result with seeds 1: crashed, killed or timed out); replay: LABRPC_SEED=1 cargo test -p paxos --test aborts -- aborts_on_odd_seeds --exact"),
        "{table}"
    );
    assert!(
        table.contains("paxos overflows_its_stack") && table.contains("0/2"),
        "{table}"
    );
    assert!(
        table.contains("failed with seeds 1, 2 (no result with seeds 1, 2: crashed, killed or timed out); replay: LABRPC_SEED=1 cargo test -p paxos --test crash -- overflows_its_stack --exact"),
        "{table}"
    );
    assert!(table.contains("1.00 / 3.00"), "{table}");
    // With partial credit the test that crashed on one run of two earns half.
    let (_, _, json) = grade_in(
        dir.path(),
        &["paxos", "--runs", "2", "--seed", "1", "--partial"],
    );
    assert_eq!(json["score"].as_f64(), Some(1.5), "{json}");
}

/// A run that hangs is killed at the time limit, and its unfinished test fails that run.
#[test]
#[allow(clippy::disallowed_methods)] // the time limit is real time: grading is not simulated
fn grade_kills_a_hanging_run_and_fails_its_unfinished_tests() {
    let dir = tempdir();
    fixture("crashing", dir.path());
    // Build first, so that the time limit (which also applies to listing the tests, the
    // command that builds them) is spent on the runs.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = std::process::Command::new(cargo)
        .current_dir(dir.path())
        .args(["test", "-p", "pbkv", "--no-run", "--quiet"])
        .status()
        .expect("cargo runs");
    assert!(built.success(), "the fixture does not build");
    let started = std::time::Instant::now();
    let (code, table, json) = grade_in(
        dir.path(),
        &["pbkv", "--runs", "2", "--seed", "1", "--timeout", "4s"],
    );
    let took = started.elapsed();
    assert_eq!(code, Some(1), "{table}");
    assert!(
        took < std::time::Duration::from_secs(60),
        "the hanging run was not killed in time: {took:?}"
    );
    assert!(
        table.contains("pbkv hangs_on_seed_2") && table.contains("1/2"),
        "{table}"
    );
    assert!(
        table.contains("failed with seeds 2 (no result with seeds 2: crashed, killed or timed out); replay: LABRPC_SEED=2 cargo test -p pbkv --test hang -- hangs_on_seed_2 --exact"),
        "{table}"
    );
    let test = result(&json, "pbkv hangs_on_seed_2");
    let output = test["output"].as_str().expect("its output");
    assert!(
        output.starts_with("no result: timed out (distlab killed the run after 4s)"),
        "{output}"
    );
    assert_eq!(json["max_score"].as_f64(), Some(1.0), "{json}");
    assert_eq!(json["score"].as_f64(), Some(0.0), "{json}");
}

#[test]
fn grade_scores_every_test_and_writes_gradescope_json() {
    let dir = tempdir();
    submission(dir.path());
    let output = distlab()
        .current_dir(dir.path())
        .args([
            "grade",
            "paxos",
            "--runs",
            "2",
            "--seed",
            "1",
            "--points",
            "5",
            "--json",
            "results.json",
        ])
        .output()
        .expect("distlab runs");
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "not every test passed: {table}"
    );
    assert!(
        table.contains("paxos always_passes") && table.contains("2/2"),
        "{table}"
    );
    assert!(
        table.contains("paxos fails_on_odd_seeds") && table.contains("1/2"),
        "{table}"
    );
    assert!(table.contains("failed with seeds 1; replay: LABRPC_SEED=1 cargo test -p paxos --test suite -- fails_on_odd_seeds --exact"), "{table}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results.json")).expect("results.json"),
    )
    .expect("valid JSON");
    let tests = json["tests"].as_array().expect("a test list");
    assert_eq!(tests.len(), 2);
    let sum: f64 = tests
        .iter()
        .map(|t| t["score"].as_f64().expect("a score"))
        .sum();
    assert_eq!(json["score"].as_f64(), Some(sum));
    assert_eq!(json["score"].as_f64(), Some(5.0));
    assert_eq!(json["max_score"].as_f64(), Some(10.0));
    let failed = tests
        .iter()
        .find(|t| t["score"] == 0.0)
        .expect("the failing test");
    assert!(
        failed["output"]
            .as_str()
            .expect("its output")
            .contains("odd seed 1"),
        "{failed}"
    );
}
