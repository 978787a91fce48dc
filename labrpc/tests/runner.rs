//! The test runner: seeds from settings, the determinism check, the replay message.

use labrpc::sim::{self, Settings, SimError};
use labrpc::{Network, SharedRng};
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn settings(seed: u64, seeds: u64, check_determinism: bool) -> Settings {
    Settings {
        seed,
        seeds,
        check_determinism,
        trace: None,
        time_limit: Some(sim::DEFAULT_TIME_LIMIT),
    }
}

#[test]
fn runs_consecutive_seeds() {
    let seen = parking_lot::Mutex::new(Vec::new());
    settings(3, 4, false).run(|net: Network| {
        seen.lock().push(net.seed());
        async {}
    });
    assert_eq!(*seen.lock(), vec![3, 4, 5, 6]);
}

// A bug that shows on one seed in three must have its chance in every `cargo test`.
const _: () = assert!(sim::DEFAULT_SEEDS >= 3);

#[test]
fn an_ordinary_test_tries_several_seeds() {
    let runs = std::cell::Cell::new(0u64);
    sim::run(|_net: Network| {
        runs.set(runs.get() + 1);
        async {}
    });
    let named = ["LABRPC_SEED", "LABRPC_SEEDS"]
        .iter()
        .any(|name| std::env::var(name).is_ok());
    if named {
        assert_eq!(runs.get(), Settings::from_env().seeds);
    } else {
        assert_eq!(runs.get(), sim::DEFAULT_SEEDS);
    }
}

#[test]
fn a_chaos_test_runs_several_seeds_unless_one_is_named() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let fresh = Settings::from_vars(vars(&[]), 8);
    assert_eq!(fresh.seeds, 8);
    let replay = Settings::from_vars(vars(&[("LABRPC_SEED", "42")]), 8);
    assert_eq!((replay.seed, replay.seeds), (42, 1));
    let many = Settings::from_vars(vars(&[("LABRPC_SEED", "42"), ("LABRPC_SEEDS", "100")]), 8);
    assert_eq!((many.seed, many.seeds), (42, 100));
    let plain = Settings::from_vars(vars(&[("LABRPC_TRACE", "t.jsonl")]), 1);
    assert_eq!(plain.seeds, 1);
    assert_eq!(plain.trace, Some("t.jsonl".into()));
    assert!(!plain.check_determinism);
}

#[test]
fn the_seed_decides_the_random_draws() {
    let draw = |seed| {
        let mut rng = SharedRng::seeded(seed);
        (0..4)
            .map(|_| rng.random_range(0..1000))
            .collect::<Vec<u32>>()
    };
    assert_eq!(draw(9), draw(9));
    assert_ne!(draw(9), draw(10));
}

#[test]
fn the_determinism_check_catches_a_run_that_depends_on_more_than_its_seed() {
    // Something outside the simulation (a counter that survives between runs) changes what
    // the body does: exactly what the check exists to catch.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let outcome = std::panic::catch_unwind(|| {
        settings(1, 1, true).run(|net: Network| async move {
            let wait = RUNS.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            net.set_reliable(false);
        })
    });
    let message = outcome
        .err()
        .and_then(|p| p.downcast::<String>().ok())
        .map(|s| *s)
        .unwrap_or_default();
    assert!(message.contains("seed 1 is not deterministic"), "{message}");
}

#[test]
fn the_determinism_check_passes_a_deterministic_run() {
    settings(1, 3, true).run(|net: Network| async move {
        let wait = net.rng().random_range(0..100);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        net.set_reliable(false);
    });
}

#[test]
fn a_failure_names_its_seed_and_the_command_that_replays_it() {
    let help = sim::replay_help(77);
    assert!(help.contains("FAILED with seed 77"), "{help}");
    assert!(
        help.contains("LABRPC_SEED=77 cargo test -p labrpc --test runner"),
        "{help}"
    );
    assert!(help.contains("LABRPC_TRACE="), "{help}");
}

#[test]
fn a_trace_file_holds_one_json_event_per_line() {
    let path = std::env::temp_dir().join(format!("labrpc-trace-{}.jsonl", std::process::id()));
    Settings {
        trace: Some(path.clone()),
        ..settings(5, 1, false)
    }
    .run(|net: Network| async move {
        net.set_reliable(false);
        net.partition(&[&["a"], &["b"]]);
    });
    let text = std::fs::read_to_string(&path).expect("the runner wrote the trace");
    let _ = std::fs::remove_file(&path);
    let kinds: Vec<String> = text
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
            // Events about the whole network name no node.
            assert_eq!(event["from"], "", "{line}");
            event["kind"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(kinds, ["faults", "links"]);
}

/// A run that waits forever fails once the virtual time limit passes, quickly in wall time,
/// with a message that says what happened; `LABRPC_TIME_LIMIT` sets the limit, 0 removes it.
#[test]
fn a_stuck_run_fails_at_the_time_limit() {
    let stuck = Settings {
        time_limit: Some(Duration::from_secs(3600)),
        ..settings(1, 1, false)
    };
    let outcome = std::panic::catch_unwind(|| {
        stuck.run(|net: Network| async move {
            // A clerk that retries forever: only the limit ends this.
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = net.now();
            }
        })
    });
    let panic = outcome.expect_err("a stuck run fails");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("not over after 3600s of virtual time"),
        "{message}"
    );

    let vars = |value: &'static str| {
        move |name: &str| (name == "LABRPC_TIME_LIMIT").then(|| value.to_owned())
    };
    assert_eq!(
        Settings::from_vars(vars("90"), 1).time_limit,
        Some(Duration::from_secs(90))
    );
    assert_eq!(Settings::from_vars(vars("0"), 1).time_limit, None);
    assert_eq!(
        Settings::from_vars(|_| None, 1).time_limit,
        Some(sim::DEFAULT_TIME_LIMIT)
    );
}

/// An experiment's stuck body under `simulate_for` fails with the limit error, which names the
/// seed and the limit and keeps the trace so far, instead of hanging; a body that ends within
/// the limit gives its report as `simulate` does, and a panic still propagates.
#[test]
fn a_stuck_body_under_simulate_for_fails_with_its_seed_and_the_limit() {
    let limit = Duration::from_secs(600);
    let stuck = sim::simulate_for(42, true, limit, |net: Network| async move {
        // A clerk that retries forever, leaving a trace of every attempt.
        loop {
            net.partition(&[&["clerk"], &["server"]]);
            tokio::time::sleep(Duration::from_secs(7)).await;
        }
    });
    let Err(error) = stuck else {
        panic!("a stuck body returned a report");
    };
    let message = error.to_string();
    assert!(
        message.contains("seed 42") && message.contains("not over after 600s of virtual time"),
        "{message}"
    );
    let SimError::TimeLimit {
        seed,
        limit: reached,
        report,
    } = error;
    assert_eq!((seed, reached), (42, limit));
    assert_eq!(report.simulated, limit);
    // A partition (a `links` event) at 0 s, 7 s, ..., 595 s: the trace up to the limit.
    assert_eq!(report.events.len(), 86, "{:?}", report.events.first());

    let quick = sim::simulate_for(42, false, limit, |_net: Network| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let report = quick.expect("a body that ends within the limit has a report");
    assert_eq!(report.simulated, Duration::from_secs(5));
    let unlimited = sim::simulate(42, false, |_net: Network| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    assert_eq!(unlimited.trace_hash, report.trace_hash);

    let panicked = std::panic::catch_unwind(|| {
        sim::simulate_for(42, false, limit, |_net: Network| async {
            panic!("the body broke")
        })
    });
    let payload = panicked.expect_err("a panic propagates");
    let text = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert_eq!(text, "the body broke");
}
