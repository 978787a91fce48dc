//! Jepsen logs of an etcd register: `INFO  jepsen.util - 3 :invoke :cas [3 0]` (fields separated
//! by tabs, or by runs of spaces in some logs).

use super::{Completion, Pairing, ParseError};
use crate::history::Operation;
use crate::models::{Register, RegisterInput, RegisterOutput};

/// The register of the etcd logs: integer values, `nil` (`None`) before the first write.
pub type EtcdRegister = Register<Option<i64>>;

type Input = RegisterInput<Option<i64>>;
type Output = RegisterOutput<Option<i64>>;

/// Reads a Jepsen etcd log. Lines without `jepsen.util -` (other loggers) are skipped.
/// Check the result with `Register::new(None)`.
pub fn parse_etcd(text: &str) -> Result<Vec<Operation<Input, Output>>, ParseError> {
    let mut pairing = Pairing::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let Some((_, event)) = raw.split_once("jepsen.util - ") else {
            continue;
        };
        // Fields are separated by any run of blanks (tabs in most logs, spaces in some);
        // the value is the rest of the line and keeps its inner spaces (`[3 0]`).
        let mut rest = event.trim();
        let mut next = |what: &str| {
            let field = rest
                .split(char::is_whitespace)
                .next()
                .filter(|f| !f.is_empty())
                .ok_or_else(|| ParseError::new(line, format!("missing {what}")))?;
            rest = rest[field.len()..].trim_start();
            Ok::<&str, ParseError>(field)
        };
        let process = next("process")?;
        let process: u64 = process
            .parse()
            .map_err(|_| ParseError::new(line, format!("bad process number {process:?}")))?;
        let kind = next("event type")?;
        let f = next("operation")?;
        let value = match rest.trim_end() {
            "" => "nil",
            value => value,
        };

        match kind {
            ":invoke" => {
                let input = match f {
                    ":read" => RegisterInput::Read,
                    ":write" => RegisterInput::Write(Some(integer(line, value)?)),
                    ":cas" => {
                        let (from, to) = pair(line, value)?;
                        RegisterInput::Cas {
                            from: Some(from),
                            to: Some(to),
                        }
                    }
                    other => {
                        return Err(ParseError::new(line, format!("unknown operation {other}")));
                    }
                };
                pairing.invoke(line, process, input)?;
            }
            ":ok" => {
                let output = match pairing.open_input(line, process)? {
                    RegisterInput::Read => RegisterOutput::Read(match value {
                        "nil" => None,
                        v => Some(integer(line, v)?),
                    }),
                    RegisterInput::Write(_) => RegisterOutput::Written,
                    RegisterInput::Cas { .. } => RegisterOutput::Cas(true),
                };
                pairing.complete(line, process, Completion::Returned(output))?;
            }
            ":fail" => {
                let how = match pairing.open_input(line, process)? {
                    // A failed CAS found another value: a definite answer.
                    RegisterInput::Cas { .. } => Completion::Returned(RegisterOutput::Cas(false)),
                    // A failed (timed-out) read tells nothing and changed nothing.
                    RegisterInput::Read => Completion::Unknown,
                    // Jepsen's :fail means the write certainly did not happen.
                    RegisterInput::Write(_) => Completion::DidNotHappen,
                };
                pairing.complete(line, process, how)?;
            }
            ":info" => pairing.complete(line, process, Completion::Unknown)?,
            other => return Err(ParseError::new(line, format!("unknown event type {other}"))),
        }
    }
    pairing.finish("no `jepsen.util -` line with an operation")
}

fn integer(line: usize, text: &str) -> Result<i64, ParseError> {
    text.trim()
        .parse()
        .map_err(|_| ParseError::new(line, format!("expected an integer, found {text:?}")))
}

/// `[3 0]` -> (3, 0)
fn pair(line: usize, text: &str) -> Result<(i64, i64), ParseError> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| ParseError::new(line, format!("expected [from to], found {text:?}")))?;
    let mut numbers = inner.split_whitespace();
    match (numbers.next(), numbers.next(), numbers.next()) {
        (Some(from), Some(to), None) => Ok((integer(line, from)?, integer(line, to)?)),
        _ => Err(ParseError::new(
            line,
            format!("expected [from to], found {text:?}"),
        )),
    }
}
