//! Every shared history (Jepsen etcd logs, key/value EDN lines) gets the verdict recorded in
//! its folder's `verdicts.tsv`.

use std::path::{Path, PathBuf};

use linearizability::models::KvMap;
use linearizability::parse::{EtcdRegister, parse_etcd, parse_kv};
use linearizability::{Limits, Model, Operation, Verdict, check_with};

fn data(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(folder)
}

/// (file name, expected verdict) from `verdicts.tsv`.
fn verdicts(folder: &str) -> Vec<(String, Verdict)> {
    let path = data(folder).join("verdicts.tsv");
    let text = std::fs::read_to_string(&path).expect("verdicts.tsv is part of the test data");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (file, verdict) = line.split_once('\t').expect("name<TAB>verdict");
            let verdict = match verdict.trim() {
                "linearizable" => Verdict::Linearizable,
                "violation" => Verdict::Violation,
                other => panic!("unknown verdict {other:?} in {}", path.display()),
            };
            (file.to_string(), verdict)
        })
        .collect()
}

/// Checks one history; for a violation, also checks the explanation is coherent: the prefix
/// replays on the model and the breaking operation is not in it.
fn verdict_of<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> Verdict {
    // A generous step budget: no shared history needs more than a few million steps, and a
    // bug that sends the search astray must fail the test rather than hang it.
    let report = check_with(model, history, Limits::steps(200_000_000)).expect("valid history");
    for part in report.violations() {
        let mut state = model.init();
        for &op in &part.linearization {
            let op = &history[op];
            state = model
                .step(&state, &op.input, op.output())
                .expect("the longest prefix replays on the model");
        }
        let breaking = part
            .breaking_op
            .expect("a violation names its breaking operation");
        assert!(!part.linearization.contains(&breaking));
        assert!(part.ops.contains(&breaking));
    }
    report.verdict
}

#[test]
fn etcd_logs_match_their_verdicts() {
    let expected = verdicts("etcd");
    assert!(expected.len() >= 70, "the whole etcd set is listed");
    let model = EtcdRegister::new(None);
    for (file, want) in expected {
        let text = std::fs::read_to_string(data("etcd").join(&file)).expect("listed file exists");
        let history = parse_etcd(&text).expect("Jepsen log parses");
        assert!(!history.is_empty(), "{file} has operations");
        assert_eq!(verdict_of(&model, &history), want, "{file}");
    }
}

#[test]
fn kv_histories_match_their_verdicts() {
    let expected = verdicts("kv");
    assert_eq!(expected.len(), 6);
    for (file, want) in expected {
        let text = std::fs::read_to_string(data("kv").join(&file)).expect("listed file exists");
        let history = parse_kv(&text).expect("EDN lines parse");
        assert!(!history.is_empty(), "{file} has operations");
        assert_eq!(verdict_of(&KvMap, &history), want, "{file}");
    }
}
