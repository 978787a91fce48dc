//! The `distlab` command as users call it: every subcommand on small settings, determinism,
//! the files written, and the errors for bad arguments.

use assert_cmd::Command;
use std::path::Path;

fn distlab() -> Command {
    match Command::cargo_bin("distlab") {
        Ok(cmd) => cmd,
        Err(e) => panic!("the distlab binary is not built: {e}"),
    }
}

fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().expect("distlab runs");
    assert!(
        output.status.success(),
        "distlab failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

#[test]
fn run_prints_the_same_bytes_and_trace_for_the_same_seed() {
    let dir = tempdir();
    let run = |out: &str| {
        stdout_of(distlab().current_dir(dir.path()).args([
            "run",
            "paxos",
            "--seed",
            "5",
            "--duration",
            "3s",
            "--crash-every",
            "1s",
            "--out",
            out,
        ]))
    };
    let (first, second) = (run("a"), run("b"));
    assert_eq!(first.replace("a/", "b/"), second);
    assert!(
        first.contains("history check passed: linearizable"),
        "{first}"
    );
    assert!(
        dir.path().join("a/history.html").exists(),
        "no picture of the Paxos history"
    );
    let trace = |d: &str| std::fs::read(dir.path().join(d).join("trace.jsonl")).expect("a trace");
    assert_eq!(trace("a"), trace("b"));
    assert!(!trace("a").is_empty());
    let other = stdout_of(distlab().current_dir(dir.path()).args([
        "run",
        "paxos",
        "--seed",
        "6",
        "--duration",
        "3s",
        "--out",
        "c",
    ]));
    assert_ne!(
        first.replace("a/", "c/"),
        other,
        "another seed ran the same"
    );
}

#[test]
fn every_lab_runs_its_scenario_and_passes_its_check() {
    for lab in ["mapreduce", "viewservice", "pbkv", "paxos", "paxoskv"] {
        let dir = tempdir();
        let out = stdout_of(distlab().current_dir(dir.path()).args([
            "run",
            lab,
            "--duration",
            "2s",
            "--partition-every",
            "500ms",
            "--crash-every",
            "700ms",
            "--out",
            "out",
        ]));
        assert!(out.contains("history check passed"), "{lab}: {out}");
        assert!(
            out.contains(&format!("replay:  distlab replay {lab} --seed 1 ")),
            "{lab}: {out}"
        );
        let ops: u64 = out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{lab}: ")))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{lab}: no summary line in {out}"));
        assert!(ops > 0, "{lab}: no operation completed: {out}");
        // Only the output directory was written.
        let entries: Vec<_> = std::fs::read_dir(dir.path())
            .expect("readable")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("out")], "{lab}");
    }
}

#[test]
fn key_value_runs_draw_their_history() {
    let dir = tempdir();
    let out = stdout_of(distlab().current_dir(dir.path()).args([
        "run",
        "pbkv",
        "--duration",
        "2s",
        "--out",
        "o",
    ]));
    assert!(out.contains("history check passed: linearizable"), "{out}");
    let html = std::fs::read_to_string(dir.path().join("o/history.html")).expect("a picture");
    assert!(
        html.contains("<svg") && html.contains("linearizable"),
        "not a picture of the history"
    );
}

#[test]
fn replay_repeats_the_run_it_is_given() {
    let dir = tempdir();
    let args = [
        "paxoskv",
        "--seed",
        "9",
        "--duration",
        "2s",
        "--drop",
        "0.2",
        "--reordering",
    ];
    let run = stdout_of(
        distlab()
            .current_dir(dir.path())
            .arg("run")
            .args(args)
            .args(["--out", "r"]),
    );
    let replay_line = run
        .lines()
        .find_map(|l| l.strip_prefix("replay:  distlab "))
        .expect("a replay command");
    let replay_args: Vec<&str> = replay_line.split(' ').collect();
    let replay = stdout_of(
        distlab()
            .current_dir(dir.path())
            .args(&replay_args)
            .args(["--out", "r"]),
    );
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&run), body(&replay));
}

#[test]
fn sweep_writes_a_csv_and_a_plot() {
    let dir = tempdir();
    stdout_of(distlab().current_dir(dir.path()).args([
        "sweep",
        "paxoskv",
        "--param",
        "drop=0,0.2,0.4",
        "--seeds",
        "2",
        "--duration",
        "2s",
        "--out",
        "s",
    ]));
    let csv = std::fs::read_to_string(dir.path().join("s/sweep.csv")).expect("a CSV");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header[0], "drop");
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            l.split(',')
                .map(|v| v.parse().unwrap_or_else(|_| panic!("{v:?} in {l:?}")))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        vec![0.0, 0.2, 0.4]
    );
    let throughput = header
        .iter()
        .position(|h| *h == "ops_per_s")
        .expect("a throughput column");
    assert!(
        rows[0][throughput] > rows[2][throughput],
        "losing 40% of messages did not slow anything: {csv}"
    );
    let svg = std::fs::read_to_string(dir.path().join("s/sweep.svg")).expect("a plot");
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "not a plot with lines"
    );
}

/// Copies the fake submission (a crate `paxos` whose second test fails on odd seeds).
fn submission(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/submission");
    for file in [
        "Cargo.toml",
        "paxos/Cargo.toml",
        "paxos/src/lib.rs",
        "paxos/tests/suite.rs",
    ] {
        let target = to.join(file);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("a directory");
        std::fs::copy(from.join(file), target).expect("a copy");
    }
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

#[test]
fn bad_arguments_exit_with_2_and_name_the_argument() {
    for (args, named) in [
        (vec!["run", "paxos", "--drop", "2"], "--drop"),
        (vec!["run", "raft"], "raft"),
        (vec!["run", "paxos", "--duration", "ten"], "--duration"),
        (vec!["run", "paxos", "--servers", "0"], "--servers"),
        (vec!["sweep", "paxos", "--param", "speed=1,2"], "--param"),
        (vec!["sweep", "paxos", "--param", "drop=0,x"], "--param"),
        // Swept intervals have the limits of --crash-every and --partition-every (24 h);
        // 1e20 seconds panicked before.
        (
            vec!["sweep", "paxos", "--param", "crash-every=1,1e20"],
            "out of range for crash-every",
        ),
        (
            vec!["sweep", "paxos", "--param", "partition-every=1e20"],
            "out of range for partition-every",
        ),
        (vec!["grade", "--runs", "0"], "--runs"),
        (vec!["replay", "paxos", "--seed", "abc"], "--seed"),
    ] {
        let output = distlab().args(&args).output().expect("distlab runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "{args:?} does not name {named}: {stderr}"
        );
    }
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for sub in ["run", "replay", "sweep", "grade"] {
        let help = stdout_of(distlab().args([sub, "--help"]));
        assert!(
            help.contains("Examples:") && help.contains(&format!("distlab {sub}")),
            "{sub}: {help}"
        );
    }
}
