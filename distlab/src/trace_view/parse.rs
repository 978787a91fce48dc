//! Reading a trace: JSON lines as labrpc writes them, one event a line.
//!
//! Every line is read as a generic JSON value, so that kinds and fields this viewer does not
//! know (written by a newer labrpc, or by lab code through `tracing`) are kept and shown rather
//! than refused. Only what the picture cannot do without is required: an object with a
//! numeric `at_us` and a string `kind`.

use serde_json::{Map, Value};
use std::fmt;

/// One event of the trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The line of the trace file it came from (from 1).
    pub line: usize,
    /// Virtual time, in microseconds.
    pub at_us: u64,
    /// What happened: `send`, `deliver`, `links`, `log`, ... (any string).
    pub kind: String,
    /// The call the event belongs to (0: not about a call).
    pub call: u64,
    /// The sending node, or the node concerned ("" for the whole network).
    pub from: String,
    /// The receiving node ("" if none).
    pub to: String,
    /// The method, the change or the message.
    pub what: String,
    /// The message's size in bytes.
    pub bytes: u64,
    /// A delay drawn for the event, in microseconds.
    pub delay_us: u64,
    /// A brief summary of the payload, if the trace has one.
    pub msg: Option<String>,
    /// Structured fields (a protocol event's `tracing` fields, a payload's fields), if any.
    pub fields: Option<Map<String, Value>>,
    /// Top-level members this viewer does not know, kept to be shown.
    pub extra: Map<String, Value>,
}

/// Why a trace cannot be read.
#[derive(Debug, PartialEq)]
pub struct Malformed {
    /// The line (from 1).
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

/// The members every event has, as labrpc writes them.
const KNOWN: [&str; 10] = [
    "at_us", "kind", "call", "from", "to", "what", "bytes", "delay_us", "msg", "fields",
];

/// Parses a whole trace (blank lines are skipped); the first malformed line is the error.
pub fn parse(text: &str) -> Result<Vec<Event>, Malformed> {
    let mut events = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        events.push(parse_line(index + 1, line)?);
    }
    Ok(events)
}

/// Parses line number `line` of a trace.
pub fn parse_line(line: usize, text: &str) -> Result<Event, Malformed> {
    let bad = |why: String| Malformed { line, why };
    let value: Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let Value::Object(mut object) = value else {
        return Err(bad("not a JSON object".to_owned()));
    };
    let at_us = match object.get("at_us") {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| bad(format!("at_us is not a whole number of microseconds: {v}")))?,
        None => return Err(bad("no at_us".to_owned())),
    };
    let kind = match object.get("kind") {
        Some(Value::String(kind)) => kind.clone(),
        Some(v) => return Err(bad(format!("kind is not a string: {v}"))),
        None => return Err(bad("no kind".to_owned())),
    };
    let number = |name: &str| -> Result<u64, Malformed> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| bad(format!("{name} is not a whole number: {v}"))),
        }
    };
    let (call, bytes, delay_us) = (number("call")?, number("bytes")?, number("delay_us")?);
    let string = |name: &str| -> Result<Option<String>, Malformed> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(bad(format!("{name} is not a string: {v}"))),
        }
    };
    let (from, to, what) = (string("from")?, string("to")?, string("what")?);
    let msg = string("msg")?;
    let fields = match object.get("fields") {
        None | Some(Value::Null) => None,
        Some(Value::Object(fields)) => Some(fields.clone()),
        Some(v) => return Err(bad(format!("fields is not an object: {v}"))),
    };
    for name in KNOWN {
        object.remove(name);
    }
    Ok(Event {
        line,
        at_us,
        kind,
        call,
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        what: what.unwrap_or_default(),
        bytes,
        delay_us,
        msg,
        fields,
        extra: object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_call_event_as_labrpc_writes_it() {
        let line = r#"{"at_us":0,"kind":"send","call":2,"from":"px2","to":"px1","what":"Paxos.prepare","bytes":6,"delay_us":4000}"#;
        let e = parse_line(1, line).expect("an event");
        assert_eq!(
            (
                e.at_us,
                e.kind.as_str(),
                e.call,
                e.from.as_str(),
                e.to.as_str()
            ),
            (0, "send", 2, "px2", "px1")
        );
        assert_eq!(
            (e.what.as_str(), e.bytes, e.delay_us),
            ("Paxos.prepare", 6, 4000)
        );
        assert_eq!((e.msg, e.fields), (None, None));
        assert!(e.extra.is_empty());
    }

    #[test]
    fn keeps_msg_fields_and_unknown_members() {
        let line = r#"{"at_us":5,"kind":"log","from":"px0","what":"decided","fields":{"seq":5,"level":"INFO"},"msg":"m","colour":"blue"}"#;
        let e = parse_line(3, line).expect("an event");
        assert_eq!(e.kind, "log");
        assert_eq!(e.msg.as_deref(), Some("m"));
        let fields = e.fields.expect("fields");
        assert_eq!(fields.get("seq"), Some(&Value::from(5)));
        assert_eq!(e.extra.get("colour"), Some(&Value::from("blue")));
        assert_eq!((e.call, e.to.as_str(), e.bytes), (0, "", 0));
    }

    #[test]
    fn tolerates_unknown_kinds_and_blank_lines() {
        let text = "{\"at_us\":1,\"kind\":\"quantum_tunnel\"}\n\n{\"at_us\":2,\"kind\":\"send\"}\n";
        let events = parse(text).expect("events");
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].line, events[1].line), (1, 3));
        assert_eq!(events[0].kind, "quantum_tunnel");
    }

    #[test]
    fn names_the_line_of_malformed_input() {
        let cases = [
            (
                "{\"at_us\":1,\"kind\":\"send\"}\n{not json",
                2,
                "not valid JSON",
            ),
            ("[1,2]", 1, "not a JSON object"),
            ("{\"kind\":\"send\"}", 1, "no at_us"),
            (
                "{\"at_us\":-4,\"kind\":\"send\"}",
                1,
                "at_us is not a whole number",
            ),
            ("{\"at_us\":1}", 1, "no kind"),
            ("{\"at_us\":1,\"kind\":7}", 1, "kind is not a string"),
            (
                "{\"at_us\":1,\"kind\":\"send\",\"call\":\"x\"}",
                1,
                "call is not",
            ),
            (
                "{\"at_us\":1,\"kind\":\"send\",\"from\":3}",
                1,
                "from is not a string",
            ),
            (
                "{\"at_us\":1,\"kind\":\"log\",\"fields\":[1]}",
                1,
                "fields is not an object",
            ),
            ("\n\n{\"at_us\":1.5,\"kind\":\"send\"}", 3, "at_us"),
        ];
        for (text, line, why) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.line, line, "{text}");
            assert!(err.why.contains(why), "{text}: {err}");
            assert!(err.to_string().starts_with(&format!("line {line}: ")));
        }
    }

    #[test]
    fn survives_arbitrary_bytes() {
        for text in [
            "\u{0}",
            "{\"at_us\":1e400,\"kind\":\"x\"}",
            "\"",
            "{}",
            "null",
            "}{",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }
}
