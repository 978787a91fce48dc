//! Key/value histories as EDN maps, one a line:
//! `{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}`.

use std::collections::BTreeMap;

use super::{Completion, Pairing, ParseError};
use crate::history::Operation;
use crate::models::{KvInput, KvOp, KvOutput};

/// A value of the small EDN subset these lines use.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Keyword(String),
    Str(String),
    Int(i64),
    Nil,
}

/// Reads key/value EDN lines; blank lines are skipped. Check the result with
/// [`crate::models::KvMap`].
pub fn parse_kv(text: &str) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
    let mut pairing = Pairing::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let map = parse_map(raw).map_err(|message| ParseError::new(line, message))?;
        let field = |name: &str| {
            map.get(name)
                .ok_or_else(|| ParseError::new(line, format!("missing :{name}")))
        };
        let process = match field("process")? {
            Value::Int(p) => u64::try_from(*p)
                .map_err(|_| ParseError::new(line, format!("negative process {p}")))?,
            other => return Err(ParseError::new(line, format!("bad :process {other:?}"))),
        };
        let keyword = |name: &str| match field(name)? {
            Value::Keyword(k) => Ok(k.as_str()),
            other => Err(ParseError::new(line, format!("bad :{name} {other:?}"))),
        };
        let text_of = |name: &str| match field(name)? {
            Value::Str(s) => Ok(s.clone()),
            Value::Nil => Ok(String::new()),
            other => Err(ParseError::new(line, format!("bad :{name} {other:?}"))),
        };

        match keyword("type")? {
            "invoke" => {
                let key = text_of("key")?;
                let op = match keyword("f")? {
                    "get" => KvOp::Get,
                    "put" => KvOp::Put(text_of("value")?),
                    "append" => KvOp::Append(text_of("value")?),
                    other => {
                        return Err(ParseError::new(line, format!("unknown operation :{other}")));
                    }
                };
                pairing.invoke(line, process, KvInput { key, op })?;
            }
            "ok" => {
                let output = match pairing.open_input(line, process)?.op {
                    // A missing key (`nil`) reads as the empty string.
                    KvOp::Get => KvOutput::Value(text_of("value")?),
                    KvOp::Put(_) | KvOp::Append(_) => KvOutput::Done,
                };
                pairing.complete(line, process, Completion::Returned(output))?;
            }
            // :fail means the operation certainly did not happen.
            "fail" => pairing.complete(line, process, Completion::DidNotHappen)?,
            "info" => pairing.complete(line, process, Completion::Unknown)?,
            other => return Err(ParseError::new(line, format!("unknown :type :{other}"))),
        }
    }
    pairing.finish("no EDN line with an operation")
}

/// Parses `{:a 1, :b "x", :c :kw, :d nil}` into a map from key names to values.
fn parse_map(line: &str) -> Result<BTreeMap<String, Value>, String> {
    let inner = line
        .trim()
        .strip_prefix('{')
        .and_then(|l| l.strip_suffix('}'))
        .ok_or("expected an EDN map {...}")?;
    let mut chars = inner.chars().peekable();
    let mut map = BTreeMap::new();
    loop {
        // Commas are whitespace in EDN.
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        if chars.peek().is_none() {
            return Ok(map);
        }
        let key = match value(&mut chars)? {
            Value::Keyword(k) => k,
            other => return Err(format!("map key must be a keyword, found {other:?}")),
        };
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let v = value(&mut chars)?;
        map.insert(key, v);
    }
}

fn value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Value, String> {
    match chars.peek() {
        Some('"') => {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('"') => return Ok(Value::Str(s)),
                    Some('\\') => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some(c) => s.push(c),
                        None => return Err("unfinished escape".into()),
                    },
                    Some(c) => s.push(c),
                    None => return Err("unterminated string".into()),
                }
            }
        }
        Some(_) => {
            let mut token = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != ',') {
                token.push(c);
            }
            if let Some(name) = token.strip_prefix(':') {
                Ok(Value::Keyword(name.to_string()))
            } else if token == "nil" {
                Ok(Value::Nil)
            } else {
                token
                    .parse()
                    .map(Value::Int)
                    .map_err(|_| format!("unexpected token {token:?}"))
            }
        }
        None => Err("missing value".into()),
    }
}
