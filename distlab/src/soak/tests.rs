//! Soak's classification of runs, its report, and its determinism against `distlab run`.

use super::*;
use crate::scenario::{Aborted, Blocked, Check, Pending};

fn params(seed: u64) -> Params {
    scenario::sample_outcome(seed, Check::Unknown, Vec::new(), None).params
}

/// A run of seed 5 with this check, these blocked clients and this abort.
fn outcome(check: Check, blocked: Vec<Blocked>, aborted: Option<Aborted>) -> Outcome {
    scenario::sample_outcome(5, check, blocked, aborted)
}

fn passed() -> Check {
    Check::Passed("linearizable (10 operations, 0 without a reply)".to_owned())
}

fn blocked_clients() -> Vec<Blocked> {
    vec![
        Blocked {
            client: 0,
            pending: Some(Pending {
                what: r#"append("k1", "[0.3]")"#.to_owned(),
                since: Duration::from_millis(3420),
            }),
        },
        Blocked {
            client: 2,
            pending: None,
        },
    ]
}

#[test]
fn a_blocked_run_is_a_failure_that_names_its_clients_and_their_operations() {
    let result = classify(&outcome(passed(), blocked_clients(), None));
    assert_eq!(result.verdict, Verdict::Blocked);
    assert!(result.verdict.is_failure());
    assert_eq!(
        result.details,
        [
            "blocked: 2 of 3 clients still blocked 60 s after the faults healed",
            r#"client0: append("k1", "[0.3]") pending since 3.42 s"#,
            "client2: an operation never returned (this lab does not record which)",
        ]
    );
    let text = report(Lab::Pbkv, &result, "");
    assert!(
        text.starts_with("seed 5: blocked: 2 of 3 clients"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "    replay: distlab replay pbkv {}\n",
            params(5).command_line()
        )),
        "{text}"
    );
    // The same run with every client done passes, and soak says nothing about it.
    let fine = classify(&outcome(passed(), Vec::new(), None));
    assert_eq!((fine.verdict, fine.details.len()), (Verdict::Passed, 0));
    assert_eq!(report(Lab::Pbkv, &fine, ""), "");
    // A blocked run whose checker could not decide is still a liveness failure.
    let unknown = classify(&outcome(Check::Unknown, blocked_clients(), None));
    assert_eq!(unknown.verdict, Verdict::Blocked);
    let inconclusive = classify(&outcome(Check::Unknown, Vec::new(), None));
    assert_eq!(inconclusive.verdict, Verdict::Inconclusive);
    assert!(!inconclusive.verdict.is_failure());
}

#[test]
fn a_violation_stays_a_violation_when_clients_are_blocked_too() {
    let broken = Check::Violation("not linearizable: breaks at operation 3".to_owned());
    let result = classify(&outcome(broken, blocked_clients(), None));
    assert_eq!(result.verdict, Verdict::Violation);
    assert_eq!(
        result.details[..2],
        [
            "violation: not safe: not linearizable: breaks at operation 3",
            "and 2 of 3 clients still blocked 60 s after the faults healed",
        ]
    );
    assert_eq!(result.details.len(), 4, "{:?}", result.details);
}

#[test]
fn panics_and_timeouts_are_told_apart_from_violations() {
    let panic = Aborted::Panicked("px1: index out of bounds\nat paxos.rs:3".to_owned());
    let result = classify(&outcome(
        Check::Violation(panic.to_string()),
        Vec::new(),
        Some(panic),
    ));
    assert_eq!(result.verdict, Verdict::Panicked);
    let text = report(Lab::Paxos, &result, " --time-limit 60000ms");
    assert!(
        text.starts_with(
            "seed 5: panic: the lab panicked: px1: index out of bounds\n      at paxos.rs:3\n"
        ),
        "{text}"
    );
    assert!(text.ends_with(" --time-limit 60000ms\n"), "{text}");
    let timeout = Aborted::TimedOut(Duration::from_secs(90));
    let result = classify(&outcome(
        Check::Violation(timeout.to_string()),
        Vec::new(),
        Some(timeout),
    ));
    assert_eq!(result.verdict, Verdict::TimedOut);
    assert!(
        result.details[0].starts_with("timeout: the run was not over after 90 s"),
        "{:?}",
        result.details
    );
    // A panic outside the simulation is caught too.
    let escaped = guarded(&params(8), || panic!("the checker broke"));
    assert_eq!(escaped.verdict, Verdict::Panicked);
    assert_eq!(escaped.seed, 8);
    assert!(
        escaped.details[0].contains("the checker broke"),
        "{escaped:?}"
    );
}

/// A limit shorter than the scenario's duration stops every run: a timeout by design.
#[test]
fn a_run_past_its_time_limit_is_a_timeout() {
    let long = Params {
        duration: Duration::from_secs(30),
        ..params(2)
    };
    let result = run_seed(Lab::Viewservice, &long, Some(Duration::from_secs(3)));
    assert_eq!(result.verdict, Verdict::TimedOut, "{result:?}");
    let outcome = scenario::run_within(
        Lab::Viewservice,
        &long,
        false,
        true,
        Some(Duration::from_secs(3)),
    );
    assert_eq!(outcome.simulated, Duration::from_secs(3));
    assert!(!outcome.events.is_empty(), "no trace up to the limit");
    assert!(outcome.check.is_violation(), "{:?}", outcome.check);
    assert_eq!(outcome.trace_hash, result.trace_hash);
}

/// A network that loses every message blocks every client of a lab that needs messages to
/// answer, by design: each is reported with the operation it was waiting for.
#[test]
fn clients_that_never_finish_are_detected_with_their_pending_operations() {
    let lossy = Params {
        drop: 1.0,
        ..params(3)
    };
    for (lab, operation) in [
        (Lab::Paxoskv, vec!["get(", "put(", "append("]),
        (Lab::Paxos, vec!["propose("]),
        (Lab::Shardmaster, vec!["join(", "leave(", "move(", "query("]),
        (Lab::Shardkv, vec!["get(", "put(", "append("]),
    ] {
        let outcome = scenario::run(lab, &lossy, false, false);
        assert_eq!(
            outcome.verdict(),
            Verdict::Blocked,
            "{lab:?}: {:?}",
            outcome.check
        );
        let clients: Vec<usize> = outcome.blocked.iter().map(|b| b.client).collect();
        assert_eq!(clients, [0, 1, 2], "{lab:?}");
        for blocked in &outcome.blocked {
            let pending = blocked.pending.as_ref().expect("the operation is recorded");
            assert!(
                operation.iter().any(|op| pending.what.starts_with(op)),
                "{lab:?}: {blocked}"
            );
            // Each client's first operation, called at the start.
            assert!(pending.since < Duration::from_millis(100), "{blocked}");
        }
    }
}

#[test]
fn a_summary_counts_each_kind_of_result() {
    let mut results = Vec::new();
    for (i, verdict) in [
        Verdict::Passed,
        Verdict::Passed,
        Verdict::Violation,
        Verdict::Blocked,
        Verdict::Panicked,
        Verdict::TimedOut,
        Verdict::Blocked,
    ]
    .into_iter()
    .enumerate()
    {
        results.push(SeedResult {
            seed: i as u64,
            verdict,
            details: Vec::new(),
            command_line: String::new(),
            trace_hash: 0,
        });
    }
    let summary = Summary::of(&results);
    assert_eq!(summary.failures(), 5);
    assert_eq!(
        summary.to_string(),
        "7 runs: 2 passed, 1 violations, 2 blocked, 1 panics, 1 timeouts"
    );
    results[0].verdict = Verdict::Inconclusive;
    assert_eq!(
        Summary::of(&results).to_string(),
        "7 runs: 1 passed, 1 violations, 2 blocked, 1 panics, 1 timeouts, 1 inconclusive (the \
         checker ran out of steps)"
    );
}

/// Whatever the threads, results come in seed order and each is `distlab run`'s for its seed
/// (live lines and a recorded trace, as `run` has them, change nothing).
#[test]
fn soak_results_are_in_seed_order_and_equal_distlab_run() {
    let base = Params {
        partition_every: Duration::from_millis(300),
        crash_every: Duration::from_millis(400),
        lose_disks: false,
        ..params(11)
    };
    let limit = Some(scenario::default_time_limit(base.duration));
    let (mut finished, mut ordered) = (0, Vec::new());
    let results = soak(
        Lab::Viewservice,
        &base,
        4,
        3,
        limit,
        |_| finished += 1,
        |r| ordered.push(r.seed),
    )
    .expect("threads start");
    assert_eq!(finished, 4);
    assert_eq!(ordered, [11, 12, 13, 14]);
    assert_eq!(
        results.iter().map(|r| r.seed).collect::<Vec<_>>(),
        [11, 12, 13, 14]
    );
    for result in &results {
        let params = Params {
            seed: result.seed,
            ..base.clone()
        };
        let run = scenario::run_within(Lab::Viewservice, &params, true, true, limit);
        assert_eq!(result.trace_hash, run.trace_hash, "seed {}", result.seed);
        assert_eq!(result.verdict, run.verdict(), "seed {}", result.seed);
    }
    let hashes = |rs: &[SeedResult]| rs.iter().map(|r| r.trace_hash).collect::<Vec<_>>();
    let hashes_4 = hashes(&results);
    let alone = soak(Lab::Viewservice, &base, 4, 1, limit, |_| {}, |_| {}).expect("a thread");
    assert_eq!(hashes(&alone), hashes_4);
    assert_eq!(
        hashes_4
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        4
    );
}
