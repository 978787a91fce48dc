//! A single register with read, write and compare-and-set (the etcd key Jepsen tests).

use std::fmt::Debug;
use std::hash::Hash;

use crate::model::Model;

/// A register holding one value of type `V`, starting at `initial`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Register<V> {
    /// The value before any write.
    pub initial: V,
}

impl<V> Register<V> {
    /// A register that starts at `initial`.
    pub fn new(initial: V) -> Self {
        Register { initial }
    }
}

/// A call on a register.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput<V> {
    /// Read the value.
    Read,
    /// Replace the value.
    Write(V),
    /// Replace the value by `to` if it is `from`.
    Cas {
        /// The value expected.
        from: V,
        /// The value written if the expectation holds.
        to: V,
    },
}

/// The reply to a register call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOutput<V> {
    /// A read returned this value.
    Read(V),
    /// A write finished.
    Written,
    /// A compare-and-set succeeded (`true`) or found another value (`false`).
    Cas(bool),
}

impl<V: Clone + Eq + Hash + Debug> Model for Register<V> {
    type State = V;
    type Input = RegisterInput<V>;
    type Output = RegisterOutput<V>;

    fn init(&self) -> V {
        self.initial.clone()
    }

    fn step(
        &self,
        state: &V,
        input: &RegisterInput<V>,
        output: Option<&RegisterOutput<V>>,
    ) -> Option<V> {
        match (input, output) {
            // A read changes nothing and must see the current value (any value if unknown).
            (RegisterInput::Read, None) => Some(state.clone()),
            (RegisterInput::Read, Some(RegisterOutput::Read(seen))) => {
                (seen == state).then(|| state.clone())
            }
            (RegisterInput::Write(value), None | Some(RegisterOutput::Written)) => {
                Some(value.clone())
            }
            (RegisterInput::Cas { from, to }, output) => {
                let matches = from == state;
                let next = if matches { to } else { state };
                match output {
                    None => Some(next.clone()),
                    // A failed CAS is only possible when the value differs, and vice versa.
                    Some(RegisterOutput::Cas(succeeded)) => {
                        (*succeeded == matches).then(|| next.clone())
                    }
                    Some(_) => None,
                }
            }
            // A reply of the wrong kind (a read answered "written") fits no state.
            (RegisterInput::Read | RegisterInput::Write(_), Some(_)) => None,
        }
    }

    fn describe_operation(
        &self,
        input: &RegisterInput<V>,
        output: Option<&RegisterOutput<V>>,
    ) -> String {
        let call = match input {
            RegisterInput::Read => "read".to_string(),
            RegisterInput::Write(v) => format!("write {}", short(v)),
            RegisterInput::Cas { from, to } => format!("cas {}→{}", short(from), short(to)),
        };
        match output {
            None => format!("{call} ?"),
            Some(RegisterOutput::Read(v)) => format!("{call} {}", short(v)),
            Some(RegisterOutput::Written) => call,
            Some(RegisterOutput::Cas(true)) => format!("{call} ok"),
            Some(RegisterOutput::Cas(false)) => format!("{call} failed"),
        }
    }

    fn describe_state(&self, state: &V) -> String {
        short(state)
    }
}

/// A value as short text for the picture: optional values (`Option<i64>` in the etcd logs)
/// show as the value itself or `nil`.
fn short<V: Debug>(value: &V) -> String {
    let text = format!("{value:?}");
    if text == "None" {
        return "nil".into();
    }
    match text.strip_prefix("Some(").and_then(|t| t.strip_suffix(')')) {
        Some(inner) => inner.to_string(),
        None => text,
    }
}
