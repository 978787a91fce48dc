//! Unit tests of the sweep's aggregates and settings.

use super::*;
use crate::cli::ParamName;

fn base() -> Params {
    Params {
        seed: 1,
        servers: 3,
        clients: 3,
        duration: Duration::from_secs(1),
        drop: 0.1,
        long_delays: false,
        reordering: false,
        partition_every: Duration::ZERO,
        crash_every: Duration::ZERO,
        lose_disks: false,
    }
}

/// Each run counts once, as its verdict says: a blocked run is not a violation, and a
/// panic or a timeout is neither.
#[test]
fn aggregate_counts_each_kind_of_failed_run() {
    use crate::scenario::{Aborted, Blocked, Check, sample_outcome};
    let passed = || Check::Passed("linearizable".to_owned());
    let broken = || Check::Violation("not linearizable".to_owned());
    let stuck = || {
        vec![Blocked {
            client: 1,
            pending: None,
        }]
    };
    let outcomes = [
        sample_outcome(1, passed(), Vec::new(), None),
        sample_outcome(2, passed(), stuck(), None),
        sample_outcome(3, Check::Unknown, stuck(), None),
        sample_outcome(4, broken(), stuck(), None),
        sample_outcome(5, broken(), Vec::new(), None),
        sample_outcome(6, broken(), Vec::new(), Some(Aborted::Panicked("p".into()))),
        sample_outcome(
            7,
            broken(),
            Vec::new(),
            Some(Aborted::TimedOut(Duration::MAX)),
        ),
    ];
    let point = aggregate(0.5, &outcomes);
    assert_eq!(
        (
            point.runs,
            point.violations,
            point.blocked,
            point.panics,
            point.timeouts
        ),
        (7, 2, 2, 1, 1)
    );
    assert_eq!(point.failures(), 6);
    let param = Param {
        name: ParamName::Drop,
        values: vec![0.5],
    };
    let csv = csv(&param, &[point]);
    assert!(
        csv.starts_with(
            "drop,runs,ops,p50_ms,p90_ms,p99_ms,ops_per_s,violations,blocked,panics,timeouts,"
        ),
        "{csv}"
    );
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(lines[1].len(), lines[0].len(), "{csv}");
    assert_eq!(lines[1][7..11], ["2", "2", "1", "1"], "{csv}");
}

/// Values the command line rejects still give settings here, never a panic.
#[test]
fn out_of_range_intervals_saturate() {
    for name in [ParamName::CrashEvery, ParamName::PartitionEvery] {
        let interval = |v: f64| {
            let p = with_value(&base(), name, v);
            match name {
                ParamName::CrashEvery => p.crash_every,
                _ => p.partition_every,
            }
        };
        assert_eq!(interval(1e20), Duration::MAX);
        assert_eq!(interval(f64::INFINITY), Duration::MAX);
        assert_eq!(interval(-1.0), Duration::ZERO);
        assert_eq!(interval(f64::NAN), Duration::ZERO);
        assert_eq!(interval(2.5), Duration::from_millis(2500));
    }
}
