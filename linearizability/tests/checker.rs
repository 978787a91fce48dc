//! The checker on small hand-made histories: a table of cases with both verdicts, unknown
//! outcomes and failed compare-and-sets, then the explanation of a violation, limits, input
//! errors and the recorder.

use std::time::Duration;

use linearizability::models::{
    KvInput, KvMap, KvOutput, Register, RegisterInput as In, RegisterOutput as Out,
};
use linearizability::{
    CheckError, Limits, Model, Operation, RecordError, Recorder, Verdict, check, check_with,
};

type RegOp = Operation<In<i64>, Out<i64>>;

fn op(client: usize, call: u64, ret: u64, input: In<i64>, output: Out<i64>) -> RegOp {
    Operation::returned(client, call, ret, input, output)
}

fn w(client: usize, call: u64, ret: u64, v: i64) -> RegOp {
    op(client, call, ret, In::Write(v), Out::Written)
}

fn r(client: usize, call: u64, ret: u64, v: i64) -> RegOp {
    op(client, call, ret, In::Read, Out::Read(v))
}

fn cas(client: usize, call: u64, ret: u64, from: i64, to: i64, ok: bool) -> RegOp {
    op(client, call, ret, In::Cas { from, to }, Out::Cas(ok))
}

fn register_cases() -> Vec<(&'static str, Vec<RegOp>, Verdict)> {
    use Verdict::{Linearizable as Lin, Violation as Bad};
    vec![
        ("empty history", vec![], Lin),
        ("read of the initial value", vec![r(0, 0, 1, 0)], Lin),
        ("read of a value never written", vec![r(0, 0, 1, 7)], Bad),
        (
            "write then read it",
            vec![w(0, 0, 1, 1), r(1, 2, 3, 1)],
            Lin,
        ),
        (
            "read after a write misses it",
            vec![w(0, 0, 1, 1), r(1, 2, 3, 0)],
            Bad,
        ),
        (
            "read overlapping a write sees old",
            vec![w(0, 0, 10, 1), r(1, 5, 15, 0)],
            Lin,
        ),
        (
            "read overlapping a write sees new",
            vec![w(0, 0, 10, 1), r(1, 5, 15, 1)],
            Lin,
        ),
        (
            "intervals touching at one instant overlap",
            vec![w(0, 0, 10, 1), r(1, 10, 20, 0)],
            Lin,
        ),
        (
            "stale read after two writes",
            vec![w(0, 0, 10, 1), w(0, 20, 30, 2), r(1, 40, 50, 1)],
            Bad,
        ),
        (
            "new then old during one long write",
            vec![w(0, 0, 100, 1), r(1, 5, 15, 1), r(1, 20, 30, 0)],
            Bad,
        ),
        (
            "old then new during one long write",
            vec![w(0, 0, 100, 1), r(1, 5, 15, 0), r(1, 20, 30, 1)],
            Lin,
        ),
        (
            "two concurrent writes seen in either order by different readers",
            vec![
                w(0, 0, 50, 1),
                w(1, 0, 50, 2),
                r(2, 60, 70, 2),
                r(3, 60, 70, 2),
            ],
            Lin,
        ),
        (
            "readers disagree on the last of two writes, sequentially",
            vec![
                w(0, 0, 50, 1),
                w(1, 0, 50, 2),
                r(2, 60, 70, 2),
                r(3, 80, 90, 1),
            ],
            Bad,
        ),
        (
            "unknown write seen later",
            vec![Operation::unknown(0, 0, In::Write(1)), r(1, 50, 60, 1)],
            Lin,
        ),
        (
            "unknown write never seen",
            vec![Operation::unknown(0, 0, In::Write(1)), r(1, 50, 60, 0)],
            Lin,
        ),
        (
            "unknown write seen, then unseen",
            vec![
                Operation::unknown(0, 0, In::Write(1)),
                r(1, 50, 60, 1),
                r(1, 70, 80, 0),
            ],
            Bad,
        ),
        (
            "unknown write cannot act before its call",
            vec![r(1, 0, 10, 1), Operation::unknown(0, 20, In::Write(1))],
            Bad,
        ),
        (
            "read with unknown output accepts anything",
            vec![
                w(0, 0, 10, 1),
                Operation::unknown(1, 20, In::Read),
                r(1, 40, 50, 1),
            ],
            Lin,
        ),
        (
            "successful cas",
            vec![cas(0, 0, 10, 0, 5, true), r(1, 20, 30, 5)],
            Lin,
        ),
        (
            "cas cannot succeed on another value",
            vec![w(0, 0, 10, 1), cas(1, 20, 30, 0, 5, true)],
            Bad,
        ),
        (
            "failed cas on another value",
            vec![w(0, 0, 10, 1), cas(1, 20, 30, 0, 5, false)],
            Lin,
        ),
        (
            "failed cas on the expected value",
            vec![cas(0, 0, 10, 0, 5, false)],
            Bad,
        ),
        (
            "failed cas changes nothing",
            vec![w(0, 0, 10, 1), cas(1, 20, 30, 0, 5, false), r(0, 40, 50, 5)],
            Bad,
        ),
        (
            "failed cas explained by a concurrent write",
            vec![w(0, 0, 30, 3), cas(1, 10, 20, 0, 5, false), r(0, 40, 50, 3)],
            Lin,
        ),
        (
            "unknown cas that took effect",
            vec![
                Operation::unknown(0, 0, In::Cas { from: 0, to: 5 }),
                r(1, 20, 30, 5),
            ],
            Lin,
        ),
        (
            "unknown cas cannot write when the value differs",
            vec![
                w(0, 0, 10, 1),
                Operation::unknown(0, 20, In::Cas { from: 0, to: 5 }),
                r(1, 40, 50, 5),
            ],
            Bad,
        ),
        (
            "a reply of the wrong kind",
            vec![op(0, 0, 10, In::Read, Out::Written)],
            Bad,
        ),
    ]
}

#[test]
fn register_table() {
    let model = Register::new(0);
    for (name, history, want) in register_cases() {
        let report = check(&model, &history).expect("hand-made histories are well formed");
        assert_eq!(report.verdict, want, "{name}");
        if want == Verdict::Linearizable {
            // The linearization is complete and replays on the model.
            let mut order = report.parts[0].linearization.clone();
            let mut state = model.init();
            for &i in &order {
                state = model
                    .step(&state, &history[i].input, history[i].output())
                    .unwrap_or_else(|| panic!("{name}: linearization does not replay"));
            }
            order.sort_unstable();
            assert_eq!(order, (0..history.len()).collect::<Vec<_>>(), "{name}");
        }
    }
}

type KvOp = Operation<KvInput, KvOutput>;

fn kv(client: usize, call: u64, ret: u64, input: KvInput, output: KvOutput) -> KvOp {
    Operation::returned(client, call, ret, input, output)
}

fn got(v: &str) -> KvOutput {
    KvOutput::Value(v.into())
}

#[test]
fn kv_table() {
    use KvOutput::Done;
    use Verdict::{Linearizable as Lin, Violation as Bad};
    let cases: Vec<(&str, Vec<KvOp>, Verdict)> = vec![
        (
            "missing key reads empty",
            vec![kv(0, 0, 1, KvInput::get("x"), got(""))],
            Lin,
        ),
        (
            "put, append, get",
            vec![
                kv(0, 0, 1, KvInput::put("x", "a"), Done),
                kv(0, 2, 3, KvInput::append("x", "b"), Done),
                kv(1, 4, 5, KvInput::get("x"), got("ab")),
            ],
            Lin,
        ),
        (
            "appends out of order",
            vec![
                kv(0, 0, 1, KvInput::append("x", "a"), Done),
                kv(0, 2, 3, KvInput::append("x", "b"), Done),
                kv(1, 4, 5, KvInput::get("x"), got("ba")),
            ],
            Bad,
        ),
        (
            "concurrent appends in either order",
            vec![
                kv(0, 0, 10, KvInput::append("x", "a"), Done),
                kv(1, 0, 10, KvInput::append("x", "b"), Done),
                kv(2, 20, 30, KvInput::get("x"), got("ba")),
            ],
            Lin,
        ),
        (
            "keys are independent",
            vec![
                kv(0, 0, 1, KvInput::put("x", "1"), Done),
                kv(1, 2, 3, KvInput::get("y"), got("")),
                kv(1, 4, 5, KvInput::get("x"), got("1")),
            ],
            Lin,
        ),
        (
            "a value from another key",
            vec![
                kv(0, 0, 1, KvInput::put("x", "1"), Done),
                kv(1, 2, 3, KvInput::get("y"), got("1")),
            ],
            Bad,
        ),
        (
            "unknown append seen",
            vec![
                Operation::unknown(0, 0, KvInput::append("x", "a")),
                kv(1, 5, 6, KvInput::get("x"), got("a")),
            ],
            Lin,
        ),
    ];
    for (name, history, want) in cases {
        let report = check(&KvMap, &history).expect("hand-made histories are well formed");
        assert_eq!(report.verdict, want, "{name}");
    }
}

#[test]
fn violation_reports_longest_prefix_and_breaking_op() {
    // w1, then w2, then a read of 1: the writes linearize, the read breaks.
    let history = vec![w(0, 0, 10, 1), w(0, 20, 30, 2), r(1, 40, 50, 1)];
    let report = check(&Register::new(0), &history).expect("well formed");
    assert_eq!(report.verdict, Verdict::Violation);
    let part = &report.parts[0];
    assert_eq!(part.linearization, vec![0, 1]);
    assert_eq!(part.breaking_op, Some(2));
}

#[test]
fn kv_violation_names_its_part_only() {
    let history = vec![
        kv(0, 0, 1, KvInput::put("a", "1"), KvOutput::Done),
        kv(0, 2, 3, KvInput::put("b", "1"), KvOutput::Done),
        kv(1, 4, 5, KvInput::get("b"), got("2")),
        kv(1, 6, 7, KvInput::get("a"), got("1")),
    ];
    let limits = Limits {
        all_parts: true,
        ..Limits::none()
    };
    let report = check_with(&KvMap, &history, limits).expect("well formed");
    assert_eq!(report.verdict, Verdict::Violation);
    let verdicts: Vec<_> = report
        .parts
        .iter()
        .map(|p| (p.ops.clone(), p.verdict))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            (vec![0, 3], Verdict::Linearizable),
            (vec![1, 2], Verdict::Violation)
        ]
    );
    assert_eq!(report.parts[1].linearization, vec![1]);
    assert_eq!(report.parts[1].breaking_op, Some(2));
}

/// `n` concurrent writes of distinct values, then a read of a value none wrote: a violation
/// that the search proves only after trying every subset of the writes.
fn hard_violation(n: i64) -> Vec<RegOp> {
    let mut history: Vec<RegOp> = (1..=n).map(|v| w(v as usize, 0, 100, v)).collect();
    history.push(r(0, 200, 210, -1));
    history
}

#[test]
fn step_limit_gives_unknown() {
    let model = Register::new(0);
    let history = hard_violation(10);
    let full = check(&model, &history).expect("well formed");
    assert_eq!(full.verdict, Verdict::Violation);
    assert!(
        full.steps() > 5_000,
        "the case is hard: {} steps",
        full.steps()
    );

    let cut = check_with(&model, &history, Limits::steps(2_000)).expect("well formed");
    assert_eq!(cut.verdict, Verdict::Unknown);
    assert_eq!(cut.steps(), 2_000, "spends exactly the budget");
}

/// A budget of N steps decides every history that needs at most N steps, with the verdict
/// of an unlimited check, and one step less leaves it unknown: steps are charged exactly,
/// per step, over all parts (porcupine's kv histories have 8 to 50 parts).
#[test]
fn a_step_budget_decides_exactly_the_histories_that_need_no_more() {
    use linearizability::models::KvMap;
    use linearizability::parse::parse_kv;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kv");
    for name in ["c01-ok.txt", "c01-bad.txt", "c10-ok.txt", "c10-bad.txt"] {
        let text = std::fs::read_to_string(dir.join(name)).expect("a porcupine history");
        let history = parse_kv(&text).expect("parses");
        let full = check(&KvMap, &history).expect("well formed");
        let needed = full.steps();
        let exact = check_with(&KvMap, &history, Limits::steps(needed)).expect("well formed");
        assert_eq!(
            (exact.verdict, exact.steps()),
            (full.verdict, needed),
            "{name}: a budget of the {needed} steps it needs"
        );
        let short = check_with(&KvMap, &history, Limits::steps(needed - 1)).expect("well formed");
        assert_eq!(short.verdict, Verdict::Unknown, "{name}: one step short");
    }
    // A history that needs a few steps in each of many parts, under a budget well above its
    // need but below one old chunk of 1024 steps per part.
    let small = check(&Register::new(0), &hard_violation(3)).expect("well formed");
    let budgeted = check_with(
        &Register::new(0),
        &hard_violation(3),
        Limits::steps(small.steps() + 1),
    )
    .expect("well formed");
    assert_eq!(budgeted.verdict, small.verdict);
}

#[test]
fn time_limit_gives_unknown() {
    // 20 writes: about 2^20 configurations, far more than a zero time limit allows.
    let cut = check_with(
        &Register::new(0),
        &hard_violation(20),
        Limits::time(Duration::ZERO),
    )
    .expect("well formed");
    assert_eq!(cut.verdict, Verdict::Unknown);
}

#[test]
fn malformed_inputs_are_errors() {
    let backwards = vec![w(0, 10, 5, 1)];
    assert_eq!(
        check(&Register::new(0), &backwards),
        Err(CheckError::ReturnBeforeCall { op: 0 })
    );

    /// A model whose partition forgets the last operation.
    struct Forgetful;
    impl Model for Forgetful {
        type State = i64;
        type Input = In<i64>;
        type Output = Out<i64>;
        fn init(&self) -> i64 {
            0
        }
        fn step(&self, s: &i64, i: &In<i64>, o: Option<&Out<i64>>) -> Option<i64> {
            Register::new(0).step(s, i, o)
        }
        fn partition(&self, history: &[RegOp]) -> Vec<Vec<usize>> {
            vec![(0..history.len().saturating_sub(1)).collect()]
        }
    }
    let history = vec![w(0, 0, 1, 1), r(0, 2, 3, 1)];
    assert_eq!(
        check(&Forgetful, &history),
        Err(CheckError::PartitionNotExact { op: 1 })
    );
}

#[test]
fn recorder_keeps_record_order_and_unknown_outcomes() {
    let recorder: Recorder<In<i64>, Out<i64>> = Recorder::new();
    let clerk = recorder.clone();
    let t = Duration::from_millis(5);
    let write = clerk.call(0, In::Write(1), t);
    clerk
        .returned(write, Out::Written, t)
        .expect("first return");
    // Same virtual instant, but recorded after the write returned: must not overlap it.
    let read = recorder.call(1, In::Read, t);
    recorder
        .returned(read, Out::Read(0), t)
        .expect("first return");
    // A call whose reply never comes.
    recorder.call(2, In::Write(9), Duration::from_millis(6));

    assert_eq!(
        recorder.returned(read, Out::Read(0), t),
        Err(RecordError::AlreadyReturned(read))
    );
    let history = recorder.history();
    assert_eq!(history.len(), 3);
    assert!(history[1].call > history[0].outcome.returned_at().expect("returned"));
    assert_eq!(history[2].output(), None);
    assert_eq!(history[2].call, 6_000_000);
    // The read of 0 after the write of 1 returned is a violation only because order was kept.
    let report = check(&Register::new(0), &history).expect("well formed");
    assert_eq!(report.verdict, Verdict::Violation);
}

/// A cap on memoized configurations bounds the search's memory: past it the check answers
/// unknown, gracefully; a cap the search stays under changes nothing.
#[test]
fn a_memo_cap_turns_a_hard_history_unknown_not_out_of_memory() {
    let model = Register::new(0);
    let history = hard_violation(10);
    let full = check(&model, &history).expect("well formed");
    assert_eq!(full.verdict, Verdict::Violation);
    let capped = Limits {
        memo: Some(100),
        ..Limits::none()
    };
    let cut = check_with(&model, &history, capped).expect("well formed");
    assert_eq!(cut.verdict, Verdict::Unknown, "the cap was not applied");
    assert!(
        cut.steps() < full.steps(),
        "stopped at the cap: {} of {} steps",
        cut.steps(),
        full.steps()
    );
    let roomy = Limits {
        memo: Some(10_000_000),
        ..Limits::none()
    };
    let same = check_with(&model, &history, roomy).expect("well formed");
    assert_eq!((same.verdict, same.steps()), (full.verdict, full.steps()));
}
