//! Readers for histories recorded by other tools: Jepsen's etcd logs (a register) and
//! Jepsen-style EDN lines of a key/value store.
//!
//! Both formats are event logs: an `:invoke` line opens an operation of a process, and the next
//! `:ok`, `:fail` or `:info` line of the same process closes it. The line number is the time.
//! `:info` means the outcome is unknown (the process crashed or timed out; Jepsen never reuses
//! its number), and so does an operation still open at the end of the log.

mod edn;
mod etcd;

use std::collections::BTreeMap;
use std::fmt;

pub use edn::parse_kv;
pub use etcd::{EtcdRegister, parse_etcd};

use crate::history::Operation;
use crate::models::{KvInput, KvOutput};

/// A line the reader could not understand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number; 0 for the log as a whole (one with no operation).
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.message),
            line => write!(f, "line {line}: {}", self.message),
        }
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        ParseError {
            line,
            message: message.into(),
        }
    }
}

/// A history in either supported format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyHistory {
    /// A Jepsen etcd log: one register (`nil` is `None`).
    Etcd(
        Vec<
            Operation<
                <EtcdRegister as crate::Model>::Input,
                <EtcdRegister as crate::Model>::Output,
            >,
        >,
    ),
    /// EDN lines of a key/value store.
    Kv(Vec<Operation<KvInput, KvOutput>>),
}

/// Reads a history, recognising the format from its first non-blank line: an EDN map (`{`)
/// is a key/value history, anything else is read as a Jepsen etcd log.
pub fn parse_any(text: &str) -> Result<AnyHistory, ParseError> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(line) if line.starts_with('{') => parse_kv(text).map(AnyHistory::Kv),
        _ => parse_etcd(text).map(AnyHistory::Etcd),
    }
}

/// Pairs invocations with completions, per process.
struct Pairing<I, O> {
    ops: Vec<Option<Operation<I, O>>>,
    open: BTreeMap<u64, usize>,
}

/// How a completion line closes an operation.
enum Completion<O> {
    /// It returned this output.
    Returned(O),
    /// Its outcome is unknown.
    Unknown,
    /// It certainly did not take effect: drop it from the history.
    DidNotHappen,
}

impl<I, O> Pairing<I, O> {
    fn new() -> Self {
        Pairing {
            ops: Vec::new(),
            open: BTreeMap::new(),
        }
    }

    fn invoke(&mut self, line: usize, process: u64, input: I) -> Result<(), ParseError> {
        if self.open.contains_key(&process) {
            return Err(ParseError::new(
                line,
                format!("process {process} invokes while its previous operation is open"),
            ));
        }
        let client = usize::try_from(process)
            .map_err(|_| ParseError::new(line, format!("process {process} is too large")))?;
        self.open.insert(process, self.ops.len());
        self.ops
            .push(Some(Operation::unknown(client, line as u64, input)));
        Ok(())
    }

    /// The input of the open operation of `process`.
    fn open_input(&self, line: usize, process: u64) -> Result<&I, ParseError> {
        self.open
            .get(&process)
            .and_then(|&index| self.ops.get(index))
            .and_then(Option::as_ref)
            .map(|op| &op.input)
            .ok_or_else(|| {
                ParseError::new(
                    line,
                    format!("process {process} completes an operation it never invoked"),
                )
            })
    }

    fn complete(
        &mut self,
        line: usize,
        process: u64,
        how: Completion<O>,
    ) -> Result<(), ParseError> {
        self.open_input(line, process)?;
        let Some(index) = self.open.remove(&process) else {
            return Err(ParseError::new(line, "completion without invocation"));
        };
        let Some(slot) = self.ops.get_mut(index) else {
            return Err(ParseError::new(line, "completion without invocation"));
        };
        match how {
            Completion::Returned(output) => {
                if let Some(op) = slot {
                    op.outcome = crate::Outcome::Returned {
                        at: line as u64,
                        output,
                    };
                }
            }
            Completion::Unknown => {}
            Completion::DidNotHappen => *slot = None,
        }
        Ok(())
    }

    /// The history; operations still open have an unknown outcome. A log with no operation
    /// at all is an error (`found` says what was looked for): it is almost surely not the
    /// log meant, and "linearizable, 0 operations" would hide that.
    fn finish(self, found: &str) -> Result<Vec<Operation<I, O>>, ParseError> {
        if self.ops.is_empty() {
            return Err(ParseError::new(
                0,
                format!("the log holds no operation ({found})"),
            ));
        }
        Ok(self.ops.into_iter().flatten().collect())
    }
}
