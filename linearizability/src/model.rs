//! The sequential specification a history is checked against.
//!
//! A [`Model`] describes the object as if it were used by one client at a time: a starting
//! state and a step function that says whether an operation with a given input may return a
//! given output in a given state, and which state follows. The checker searches for an order of
//! the concurrent operations that this sequential object could have produced.

use std::fmt::Debug;
use std::hash::Hash;

use crate::history::Operation;

/// A sequential object: the specification that a concurrent history must match.
///
/// The register model of [`crate::models::Register`] is the whole interface in practice:
///
/// ```
/// use linearizability::Model;
///
/// /// A register holding an integer, with reads and writes.
/// struct Reg;
///
/// #[derive(Debug)]
/// enum In { Read, Write(i64) }
///
/// impl Model for Reg {
///     type State = i64;
///     type Input = In;
///     type Output = Option<i64>; // what a read returned; None for a write
///
///     fn init(&self) -> i64 { 0 }
///
///     fn step(&self, state: &i64, input: &In, output: Option<&Option<i64>>) -> Option<i64> {
///         match (input, output) {
///             // A read must return the current value; if we never learned what it returned,
///             // any value will do. Either way the state is unchanged.
///             (In::Read, Some(seen)) => (*seen == Some(*state)).then_some(*state),
///             (In::Read, None) => Some(*state),
///             (In::Write(v), _) => Some(*v),
///         }
///     }
/// }
/// ```
pub trait Model {
    /// The state of the sequential object. The checker memoizes (set of operations done, state)
    /// pairs, so it must be cheap to clone, compare and hash.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asked for (the arguments of one call).
    type Input: Debug;
    /// What the client was told (the result of one call).
    type Output: Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies one operation to `state`.
    ///
    /// `output` is `None` when the outcome is unknown (the call never returned, or timed out):
    /// then any output is acceptable and the step describes what the operation would have done.
    /// Returns the next state if the operation may return `output` in `state`, `None` if this
    /// sequential object could never answer that.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Splits a history into independent parts (P-compositionality): a history is linearizable
    /// if and only if each part is. Returns lists of indices into `history`; every index must
    /// appear in exactly one part. The default keeps the whole history as one part; a key/value
    /// store splits it per key (see [`crate::history::partition_by`]).
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// A name for the part of the history that holds an operation with this input, for the
    /// titles of the HTML picture's parts (e.g. `key "k3"`). The default, `None`, numbers the
    /// parts instead.
    fn describe_part(&self, input: &Self::Input) -> Option<String> {
        let _ = input;
        None
    }

    /// A short text for one operation, used by the HTML picture (e.g. `put(x, "1")`).
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        match output {
            Some(output) => format!("{input:?} -> {output:?}"),
            None => format!("{input:?} -> ?"),
        }
    }

    /// A short text for a state, used by the HTML picture.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}
