//! Properties on generated histories: run a model sequentially, then stretch every operation's
//! interval (and forget some replies): the result is always linearizable, because the
//! sequential order still fits inside the stretched intervals. Replace one read's output by a
//! value that was never written: never linearizable, because no state ever holds it.

use linearizability::models::{
    KvInput, KvMap, KvOp, KvOutput, Register, RegisterInput as In, RegisterOutput as Out,
};
use linearizability::{Limits, Model, Operation, Outcome, Verdict, check_with};
use proptest::prelude::*;

/// Operation `i` of the sequential run occupies [SLOT * i + 1, SLOT * i + SLOT - 1].
const SLOT: u64 = 10;
/// Stretching moves each end by at most this many slots (bounds the concurrency).
const MAX_STRETCH_SLOTS: u64 = 3;
/// A safety net: a wrong search must fail the property, not hang it.
const STEPS: u64 = 5_000_000;

/// How one operation is stretched: slots added before the call and after the return, and
/// whether the reply is forgotten (outcome unknown).
#[derive(Clone, Debug)]
struct Stretch {
    before: u64,
    after: u64,
    forget_reply: bool,
}

fn stretch() -> impl Strategy<Value = Stretch> {
    (
        0..=MAX_STRETCH_SLOTS * SLOT,
        0..=MAX_STRETCH_SLOTS * SLOT,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(before, after, forget_reply)| Stretch {
            before,
            after,
            forget_reply,
        })
}

/// Runs `inputs` one after the other on `model` (each from a client), then stretches them.
fn sequential_history<M: Model>(
    model: &M,
    inputs: Vec<(usize, M::Input)>,
    stretches: &[Stretch],
    answer: impl Fn(&M::State, &M::Input) -> M::Output,
) -> Vec<Operation<M::Input, M::Output>> {
    let mut state = model.init();
    let mut history = Vec::new();
    for (i, ((client, input), s)) in inputs.into_iter().zip(stretches).enumerate() {
        let output = answer(&state, &input);
        state = model
            .step(&state, &input, Some(&output))
            .expect("the answer of the sequential object fits the model");
        let call = (SLOT * i as u64 + 1 + MAX_STRETCH_SLOTS * SLOT) - s.before;
        let ret = SLOT * (i as u64 + 1) - 1 + MAX_STRETCH_SLOTS * SLOT + s.after;
        history.push(if s.forget_reply {
            Operation::unknown(client, call, input)
        } else {
            Operation::returned(client, call, ret, input, output)
        });
    }
    history
}

fn register_input() -> impl Strategy<Value = In<i64>> {
    prop_oneof![
        2 => Just(In::Read),
        2 => (0..5i64).prop_map(In::Write),
        1 => (0..5i64, 0..5i64).prop_map(|(from, to)| In::Cas { from, to }),
    ]
}

fn register_answer(state: &i64, input: &In<i64>) -> Out<i64> {
    match input {
        In::Read => Out::Read(*state),
        In::Write(_) => Out::Written,
        In::Cas { from, .. } => Out::Cas(from == state),
    }
}

/// A history of register operations.
type RegisterHistory = Vec<Operation<In<i64>, Out<i64>>>;

/// Register histories with at least one read whose reply is known (the `usize` picks it).
fn register_history() -> impl Strategy<Value = (RegisterHistory, usize)> {
    (1..25usize)
        .prop_flat_map(|n| {
            (
                prop::collection::vec((0..4usize, register_input()), n),
                prop::collection::vec(stretch(), n + 1),
                0..=n,
            )
        })
        .prop_map(|(mut inputs, mut stretches, at)| {
            // Make sure there is a read to corrupt, with a reply.
            inputs.insert(at, (0, In::Read));
            stretches[at].forget_reply = false;
            let history =
                sequential_history(&Register::new(0), inputs, &stretches, register_answer);
            (history, at)
        })
}

fn kv_input() -> impl Strategy<Value = KvInput> {
    let key = prop::sample::select(vec!["a", "b", "c"]);
    prop_oneof![
        2 => key.clone().prop_map(KvInput::get),
        1 => (key.clone(), 0..100u32).prop_map(|(k, v)| KvInput::put(k, format!("<{v}>"))),
        2 => (key, 0..100u32).prop_map(|(k, v)| KvInput::append(k, format!("<{v}>"))),
    ]
}

/// The per-key answer: the sequential run keeps one value per key itself, since the model's
/// state is one key's value.
fn kv_history() -> impl Strategy<Value = Vec<Operation<KvInput, KvOutput>>> {
    (1..40usize).prop_flat_map(|n| {
        (
            prop::collection::vec((0..4usize, kv_input()), n),
            prop::collection::vec(stretch(), n),
        )
            .prop_map(|(inputs, stretches)| {
                let mut values = std::collections::BTreeMap::<String, String>::new();
                let mut history = Vec::new();
                for (i, ((client, input), s)) in inputs.into_iter().zip(&stretches).enumerate() {
                    let value = values.entry(input.key.clone()).or_default();
                    let output = match &input.op {
                        KvOp::Get => KvOutput::Value(value.clone()),
                        KvOp::Put(v) => {
                            *value = v.clone();
                            KvOutput::Done
                        }
                        KvOp::Append(v) => {
                            value.push_str(v);
                            KvOutput::Done
                        }
                    };
                    let call = SLOT * i as u64 + 1 + MAX_STRETCH_SLOTS * SLOT - s.before;
                    let ret = SLOT * (i as u64 + 1) - 1 + MAX_STRETCH_SLOTS * SLOT + s.after;
                    history.push(if s.forget_reply {
                        Operation::unknown(client, call, input)
                    } else {
                        Operation::returned(client, call, ret, input, output)
                    });
                }
                history
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn stretched_register_histories_are_linearizable((history, _) in register_history()) {
        let report = check_with(&Register::new(0), &history, Limits::steps(STEPS))
            .expect("generated histories are well formed");
        prop_assert_eq!(report.verdict, Verdict::Linearizable);
    }

    #[test]
    fn a_read_of_a_never_written_value_is_a_violation((mut history, read) in register_history()) {
        prop_assert_eq!(&history[read].input, &In::Read);
        if let Outcome::Returned { output, .. } = &mut history[read].outcome {
            // Values written are 0..5 and the register starts at 0: 99 never is.
            *output = Out::Read(99);
        }
        let report = check_with(&Register::new(0), &history, Limits::steps(STEPS))
            .expect("generated histories are well formed");
        prop_assert_eq!(report.verdict, Verdict::Violation);
        let part = &report.parts[0];
        prop_assert!(!part.linearization.contains(&read));
    }

    #[test]
    fn stretched_kv_histories_are_linearizable(history in kv_history()) {
        let report = check_with(&KvMap, &history, Limits::steps(STEPS))
            .expect("generated histories are well formed");
        prop_assert_eq!(report.verdict, Verdict::Linearizable);
    }

    #[test]
    fn a_get_of_a_never_written_value_is_a_violation(
        mut history in kv_history(),
        pick in any::<prop::sample::Index>(),
    ) {
        let gets: Vec<usize> = history
            .iter()
            .enumerate()
            .filter(|(_, op)| op.input.op == KvOp::Get && op.output().is_some())
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!gets.is_empty());
        let get = gets[pick.index(gets.len())];
        if let Outcome::Returned { output, .. } = &mut history[get].outcome {
            // Every written piece is "<n>", so no value ever contains "!".
            *output = KvOutput::Value("!".into());
        }
        let report = check_with(&KvMap, &history, Limits::steps(STEPS))
            .expect("generated histories are well formed");
        prop_assert_eq!(report.verdict, Verdict::Violation);
    }
}
