//! A key/value map with get, put and append (the 6.824 key/value service).
//!
//! Keys are independent, so the model splits a history per key and the state of each part is
//! just the value of its key.

use crate::history::{Operation, partition_by};
use crate::model::Model;

/// A map from string keys to string values; a missing key reads as the empty string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvMap;

/// A call on the map: an operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvInput {
    /// The key operated on.
    pub key: String,
    /// What to do with it.
    pub op: KvOp,
}

impl KvInput {
    /// `get(key)`.
    pub fn get(key: impl Into<String>) -> Self {
        KvInput {
            key: key.into(),
            op: KvOp::Get,
        }
    }

    /// `put(key, value)`.
    pub fn put(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput {
            key: key.into(),
            op: KvOp::Put(value.into()),
        }
    }

    /// `append(key, value)`.
    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput {
            key: key.into(),
            op: KvOp::Append(value.into()),
        }
    }
}

/// What a call does to its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    /// Read the value.
    Get,
    /// Replace the value.
    Put(String),
    /// Add to the end of the value.
    Append(String),
}

/// The reply to a map call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// A get returned this value.
    Value(String),
    /// A put or append finished.
    Done,
}

impl Model for KvMap {
    /// The value of the one key of a part (the partition guarantees one key per part).
    type State = String;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: Option<&KvOutput>) -> Option<String> {
        match (&input.op, output) {
            (KvOp::Get, None) => Some(state.clone()),
            (KvOp::Get, Some(KvOutput::Value(seen))) => (seen == state).then(|| state.clone()),
            (KvOp::Put(value), None | Some(KvOutput::Done)) => Some(value.clone()),
            (KvOp::Append(value), None | Some(KvOutput::Done)) => {
                // One allocation of the final size (`format!` grows its buffer as it goes).
                let mut next = String::with_capacity(state.len() + value.len());
                next.push_str(state);
                next.push_str(value);
                Some(next)
            }
            // A reply of the wrong kind fits no state.
            (KvOp::Get, Some(KvOutput::Done))
            | (KvOp::Put(_) | KvOp::Append(_), Some(KvOutput::Value(_))) => None,
        }
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        partition_by(history, |input| input.key.clone())
    }

    fn describe_part(&self, input: &KvInput) -> Option<String> {
        let key = &input.key;
        // Quoted only when a bare key could be misread: empty, or with spaces or controls.
        let plain = !key.is_empty() && !key.chars().any(|c| c.is_whitespace() || c.is_control());
        Some(if plain {
            format!("key {key}")
        } else {
            format!("key {key:?}")
        })
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        let key = &input.key;
        match (&input.op, output) {
            (KvOp::Get, Some(KvOutput::Value(v))) => format!("get({key:?}) -> {v:?}"),
            (KvOp::Get, _) => format!("get({key:?}) -> ?"),
            (KvOp::Put(v), _) => format!("put({key:?}, {v:?})"),
            (KvOp::Append(v), _) => format!("append({key:?}, {v:?})"),
        }
    }
}
