//! The `distlab` command as users call it: every subcommand on small settings, determinism,
//! the files written, and the errors for bad arguments.

mod common;

use common::{distlab, stdout_of, tempdir};

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
    for lab in distlab::cli::Lab::ALL.map(distlab::cli::Lab::name) {
        // The sharded labs keep their state in memory only: no crashes for them.
        let crash_every = match lab {
            "shardmaster" | "shardkv" => "0s",
            _ => "700ms",
        };
        let dir = tempdir();
        let out = stdout_of(distlab().current_dir(dir.path()).args([
            "run",
            lab,
            "--duration",
            "2s",
            "--partition-every",
            "500ms",
            "--crash-every",
            crash_every,
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
        // The sharded labs have nothing to restart a crashed server from.
        (
            vec!["run", "shardkv", "--crash-every", "1s"],
            "shardkv: --crash-every must be 0s",
        ),
        (
            vec!["sweep", "shardmaster", "--param", "crash-every=0,2"],
            "shardmaster: --crash-every must be 0s",
        ),
        (
            vec!["soak", "shardkv", "--crash-every", "1s"],
            "shardkv: --crash-every must be 0s",
        ),
        (vec!["grade", "--runs", "0"], "--runs"),
        (vec!["replay", "paxos", "--seed", "abc"], "--seed"),
        (vec!["grade", "paxos", "--timeout", "0s"], "--timeout"),
        (vec!["run", "paxos", "--time-limit", "2h"], "--time-limit"),
        (vec!["soak", "paxos", "--seeds", "0"], "--seeds"),
        (vec!["soak", "paxos", "--jobs", "0"], "--jobs"),
        (
            vec![
                "soak",
                "paxos",
                "--seed",
                "18446744073709551615",
                "--seeds",
                "2",
            ],
            "--seed 18446744073709551615 with --seeds 2",
        ),
        // The last run's seed would be 2^64 (it overflowed before).
        (
            vec![
                "grade",
                "paxos",
                "--seed",
                "18446744073709551615",
                "--runs",
                "2",
            ],
            "--seed 18446744073709551615 with --runs 2",
        ),
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
    for sub in ["run", "replay", "sweep", "soak", "grade"] {
        let help = stdout_of(distlab().args([sub, "--help"]));
        assert!(
            help.contains("Examples:") && help.contains(&format!("distlab {sub}")),
            "{sub}: {help}"
        );
    }
}

/// Errors that stop distlab itself (not a failed check, not a bad argument) exit with 3.
#[test]
fn operational_errors_exit_with_3() {
    let dir = tempdir();
    std::fs::write(dir.path().join("file"), "").expect("a file");
    let output = distlab()
        .current_dir(dir.path())
        .args(["run", "paxos", "--duration", "1s", "--out", "file/out"])
        .output()
        .expect("distlab runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("cannot create the output directory"),
        "{stderr}"
    );
    let output = distlab()
        .current_dir(dir.path())
        .env("CARGO", dir.path().join("no-such-cargo"))
        .args(["grade", "paxos", "--runs", "1"])
        .output()
        .expect("distlab runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot run cargo"), "{stderr}");
}

#[test]
fn help_documents_the_exit_statuses() {
    for sub in ["run", "replay", "sweep", "soak", "grade"] {
        let help = stdout_of(distlab().args([sub, "--help"]));
        for status in [
            "Exit status:",
            "0  success",
            "1  ",
            "2  bad arguments",
            "3  distlab",
        ] {
            assert!(
                help.contains(status),
                "{sub} --help lacks {status:?}: {help}"
            );
        }
    }
    let help = stdout_of(distlab().args(["grade", "--help"]));
    assert!(help.contains("--timeout") && help.contains("20m"), "{help}");
}
