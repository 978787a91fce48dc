//! `distlab sweep` and `distlab soak`, and runs that fail: a sweep's CSV and plot, a run whose
//! clients stay blocked, soak's reports of failed seeds with their replay commands, a sweep
//! that counts blocked runs.

mod common;

use common::{distlab, stdout_of, tempdir};
use std::path::Path;

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

/// Runs distlab with `args` in `dir`; returns the exit status and stdout.
fn status_and_stdout(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = distlab()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("distlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code(), stdout)
}

/// A network that loses every message blocks every client by design (no lab answers without
/// messages); the run must fail and say who waited for what, apart from the safety verdict.
#[test]
fn a_run_whose_clients_stay_blocked_fails_naming_them() {
    let dir = tempdir();
    let args = [
        "run",
        "paxoskv",
        "--seed",
        "4",
        "--drop",
        "1",
        "--duration",
        "1s",
        "--partition-every",
        "0s",
        "--out",
        "o",
    ];
    let (code, out) = status_and_stdout(dir.path(), &args);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("history check passed: linearizable"), "{out}");
    assert!(
        out.contains(
            "liveness FAILED: 3 of 3 clients still blocked 60 s after the faults healed:\n"
        ),
        "{out}"
    );
    let clients: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  client"))
        .collect();
    assert_eq!(clients.len(), 3, "{out}");
    for (i, line) in clients.iter().enumerate() {
        assert!(line.starts_with(&format!("{i}: ")), "{line}");
        assert!(line.contains(" pending since 0.0"), "{line}");
    }
    // The replay fails the same way.
    let replay_line = out
        .lines()
        .find_map(|l| l.strip_prefix("replay:  distlab "))
        .expect("a replay command");
    let mut replay: Vec<&str> = replay_line.split(' ').collect();
    replay.extend(["--out", "o"]);
    let (code, again) = status_and_stdout(dir.path(), &replay);
    assert_eq!(code, Some(1), "{again}");
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&out), body(&again));
}

#[test]
fn soak_passes_healthy_seeds_and_reports_each_failure_with_its_replay_command() {
    let dir = tempdir();
    let (code, out) = status_and_stdout(
        dir.path(),
        &[
            "soak",
            "viewservice",
            "--seeds",
            "4",
            "--duration",
            "2s",
            "--partition-every",
            "500ms",
            "--crash-every",
            "700ms",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "distlab soak viewservice --seeds 4 --seed 1 --servers 3 --clients 3 --duration \
             2000ms --drop 0.1 --partition-every 500ms --crash-every 700ms",
            "4 runs: 4 passed, 0 violations, 0 blocked, 0 panics, 0 timeouts",
        ]
    );
    // Blocked by design (every message lost), in seed order whatever the threads.
    let (code, out) = status_and_stdout(
        dir.path(),
        &[
            "soak",
            "paxoskv",
            "--seeds",
            "3",
            "--seed",
            "7",
            "--jobs",
            "2",
            "--drop",
            "1",
            "--duration",
            "1s",
            "--partition-every",
            "0s",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    let seeds: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("seed "))
        .collect();
    assert_eq!(seeds.len(), 3, "{out}");
    for (seed, line) in (7..).zip(&seeds) {
        assert_eq!(
            *line,
            format!("{seed}: blocked: 3 of 3 clients still blocked 60 s after the faults healed")
        );
    }
    assert!(out.contains("\n    client0: "), "{out}");
    assert!(
        out.ends_with("3 runs: 0 passed, 0 violations, 3 blocked, 0 panics, 0 timeouts\n"),
        "{out}"
    );
    // Each replay command fails as its seed did, naming the same clients.
    let replay_line = out
        .lines()
        .find_map(|l| l.strip_prefix("    replay: distlab "))
        .expect("a replay command");
    assert!(replay_line.starts_with("replay paxoskv --seed 7 "), "{out}");
    let mut replay: Vec<&str> = replay_line.split(' ').collect();
    replay.extend(["--out", "r"]);
    let (code, run) = status_and_stdout(dir.path(), &replay);
    assert_eq!(code, Some(1), "{run}");
    let soak_clients: Vec<&str> = out
        .split("seed 8:")
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("client"))
        .collect();
    let run_clients: Vec<&str> = run
        .lines()
        .filter_map(|l| l.trim().strip_prefix("client"))
        .collect();
    assert_eq!(soak_clients, run_clients);
    // A limit shorter than the duration stops every run: timeouts by design.
    let (code, out) = status_and_stdout(
        dir.path(),
        &[
            "soak",
            "viewservice",
            "--seeds",
            "2",
            "--duration",
            "30s",
            "--time-limit",
            "3s",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("seed 1: timeout: the run was not over after 3 s of virtual time"),
        "{out}"
    );
    assert!(out.contains(" --time-limit 3000ms\n"), "{out}");
    assert!(
        out.ends_with("2 runs: 0 passed, 0 violations, 0 blocked, 0 panics, 2 timeouts\n"),
        "{out}"
    );
}

#[test]
fn sweep_counts_blocked_runs_and_fails_for_them() {
    let dir = tempdir();
    let (code, out) = status_and_stdout(
        dir.path(),
        &[
            "sweep",
            "paxoskv",
            "--param",
            "drop=0,1",
            "--seeds",
            "1",
            "--duration",
            "1s",
            "--partition-every",
            "0s",
            "--out",
            "s",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    let csv = std::fs::read_to_string(dir.path().join("s/sweep.csv")).expect("a CSV");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} column: {csv}"))
    };
    let (violations, blocked) = (column("violations"), column("blocked"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows.iter()
            .map(|r| (r[violations], r[blocked]))
            .collect::<Vec<_>>(),
        [("0", "0"), ("0", "1")],
        "{csv}"
    );
}
