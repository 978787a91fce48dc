//! Messages that say what they carry: a brief summary of each request and reply in the trace.
//!
//! A trace that says only `Paxos.decided, 6 bytes` cannot tell one instance from another. So
//! every request and reply type names its content through [`Summarize`], and a recorded trace
//! carries it on the call's events: `"msg":"prepare seq=5 n=(3,1)"` for reading, and
//! `"fields":{"seq":5,"n":"(3,1)"}` for selecting, as in
//! `jq 'select(.fields.seq == 5)' trace.jsonl`.
//!
//! Summaries are made only while a trace is being recorded, so they cost nothing otherwise.
//! Lab services use the same field names wherever they mean the same thing: `seq` (a Paxos
//! instance), `n` (a ballot), `key`, `client`, `view`, `task`. The trace viewer
//! (`distlab trace view`) filters on them.
//!
//! ```
//! use labrpc::{Summarize, Summary};
//!
//! #[derive(Debug)]
//! enum KvRequest {
//!     Put { key: String, value: String, client: u64 },
//! }
//!
//! impl Summarize for KvRequest {
//!     fn summary(&self) -> Summary {
//!         match self {
//!             KvRequest::Put { key, value, client } => Summary::new("put")
//!                 .field("key", key.as_str())
//!                 .field("client", *client)
//!                 .field("value", labrpc::digest(value)),
//!         }
//!     }
//! }
//!
//! let put = KvRequest::Put { key: "k1".into(), value: "x".repeat(1000), client: 7 };
//! assert!(put.summary().text().starts_with("put key=k1 client=7 value="));
//! ```

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::{self, Debug, Write};
use std::hash::{DefaultHasher, Hash, Hasher};

/// The longest a summary's text gets; the rest is cut, marked with `…`.
pub const MAX_SUMMARY_CHARS: usize = 160;

/// The longest a string field is shown in a summary's text (the field itself keeps it all,
/// up to [`MAX_SUMMARY_CHARS`]).
const MAX_SHOWN_VALUE_CHARS: usize = 40;

/// The fields that say what a call is about, which its reply inherits from its request.
pub const CALL_IDENTITY_FIELDS: &[&str] = &["seq", "n", "key", "client", "view", "task"];

/// A brief description of a message: a name and named fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    text: String,
    fields: BTreeMap<String, Value>,
}

impl Summary {
    /// A summary named `name` (`prepare`, `put`, `ok`), without fields yet.
    pub fn new(name: &str) -> Summary {
        Summary {
            text: cut(name, MAX_SUMMARY_CHARS),
            fields: BTreeMap::new(),
        }
    }

    /// Adds a field, shown as `key=value` in the text. Numbers stay numbers in the trace's
    /// JSON; long strings are cut to [`MAX_SUMMARY_CHARS`].
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Summary {
        let value = match value.into() {
            Value::String(s) => Value::String(cut(&s, MAX_SUMMARY_CHARS)),
            other => other,
        };
        let shown = match &value {
            Value::String(s) => cut(s, MAX_SHOWN_VALUE_CHARS),
            other => other.to_string(),
        };
        if self.text.chars().count() < MAX_SUMMARY_CHARS {
            let _ = write!(self.text, " {key}={shown}");
            self.text = cut(&self.text, MAX_SUMMARY_CHARS);
        }
        self.fields.insert(key.to_owned(), value);
        self
    }

    /// The summary of a value that has no better one: its `Debug` form, cut to
    /// [`MAX_SUMMARY_CHARS`].
    pub fn debug(value: &(impl Debug + ?Sized)) -> Summary {
        Summary::new(&format!("{value:?}"))
    }

    /// The summary as text: `prepare seq=5 n=(3,1)`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The summary's fields, for the trace's JSON.
    pub fn fields(&self) -> &BTreeMap<String, Value> {
        &self.fields
    }

    /// Adds the fields of `request` that name what a call is about (`seq`, `n`, `key`,
    /// `client`, `view`, `task`) where this summary, a reply's, lacks them, so that every
    /// event of a call can be selected by them. The text stays the reply's own.
    pub(crate) fn about_the_call_of(mut self, request: &Summary) -> Summary {
        for key in CALL_IDENTITY_FIELDS {
            if let Some(value) = request.fields.get(*key) {
                self.fields
                    .entry((*key).to_owned())
                    .or_insert_with(|| value.clone());
            }
        }
        self
    }

    /// Fields without a text: a protocol event's (its text is the event's message).
    pub(crate) fn of_fields(fields: BTreeMap<String, Value>) -> Summary {
        Summary {
            text: String::new(),
            fields,
        }
    }

    pub(crate) fn into_parts(self) -> (String, BTreeMap<String, Value>) {
        (self.text, self.fields)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a message says about itself in the trace.
///
/// Implement it for a service's request and response enums (the ones `#[tarpc::service]`
/// generates: `EchoRequest`, `EchoResponse`). The default is the message's `Debug` form, cut
/// short, so `impl labrpc::Summarize for EchoRequest {}` is enough to start with; a summary
/// with fields ([`Summary::field`]) lets a trace be searched by instance, key or client.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say what it carries in a labrpc trace",
    note = "add `impl labrpc::Summarize for {Self} {{}}` (its Debug form), or write a `summary` \
            with the message's fields; see labrpc::summary"
)]
pub trait Summarize: Debug {
    /// A brief description of this message.
    fn summary(&self) -> Summary {
        Summary::debug(self)
    }
}

/// A short digest of a value (8 hex digits), to tell values apart in a summary without
/// printing them: `value=5f3a09c1`. The same value gives the same digest in every run of a
/// build.
pub fn digest(value: &(impl Hash + ?Sized)) -> String {
    // DefaultHasher::new() has fixed keys, so the digest is the same in every run.
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    format!("{:08x}", hasher.finish() as u32)
}

/// A string value as a summary shows it: a short one (up to 16 bytes) as it is, a longer one
/// by its size and [`digest`] (`4096B/5f3a09c1`), so that a trace names big values without
/// holding them.
pub fn shown(value: &str) -> String {
    if value.len() <= 16 {
        value.to_owned()
    } else {
        format!("{}B/{}", value.len(), digest(value))
    }
}

/// `text`, cut to `max` characters, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((end, _)) if text.chars().count() > max => format!("{}…", &text[..end]),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_the_fields_and_fields_keep_their_types() {
        let s = Summary::new("prepare").field("seq", 5).field("n", "(3,1)");
        assert_eq!(s.text(), "prepare seq=5 n=(3,1)");
        assert_eq!(s.fields()["seq"], Value::from(5));
        assert_eq!(s.fields()["n"], Value::from("(3,1)"));
    }

    #[test]
    fn long_values_and_texts_are_cut() {
        let long = "v".repeat(1000);
        let s = Summary::new("put").field("value", long.as_str());
        assert!(s.text().chars().count() <= MAX_SUMMARY_CHARS);
        assert!(s.text().ends_with('…'), "{}", s.text());
        let Value::String(kept) = &s.fields()["value"] else {
            panic!("a string field stays a string");
        };
        assert_eq!(kept.chars().count(), MAX_SUMMARY_CHARS);
        let debug = Summary::debug(&vec![7u8; 1000]);
        assert_eq!(debug.text().chars().count(), MAX_SUMMARY_CHARS);
        assert_eq!(cut("short", 10), "short");
        assert_eq!(
            cut("exactly10!", 10),
            "exactly10!",
            "a text of the limit is not cut"
        );
        assert_eq!(cut("eleven11111", 10), "eleven111…");
        assert_eq!(cut("ééé", 2), "é…");
    }

    #[test]
    fn a_full_text_takes_no_more_fields_but_keeps_them() {
        let full = "x".repeat(MAX_SUMMARY_CHARS);
        let s = Summary::new(&full).field("seq", 5);
        assert_eq!(s.text(), full, "a full text is left as it is");
        assert_eq!(
            s.fields()["seq"],
            Value::from(5),
            "the field is still there to select by"
        );
        let almost = "x".repeat(MAX_SUMMARY_CHARS - 1);
        let s = Summary::new(&almost).field("seq", 5);
        assert_eq!(s.text().chars().count(), MAX_SUMMARY_CHARS);
        assert!(s.text().ends_with('…'), "{}", s.text());
    }

    #[test]
    fn the_default_summary_is_the_debug_form_and_displays_as_its_text() {
        #[derive(Debug)]
        #[allow(dead_code)] // read only by Debug
        struct Ping {
            seq: u32,
        }
        impl Summarize for Ping {}
        let s = Ping { seq: 3 }.summary();
        assert_eq!(s.text(), "Ping { seq: 3 }");
        assert_eq!(s.to_string(), s.text());
    }

    #[test]
    fn short_values_are_shown_long_ones_by_size_and_digest() {
        assert_eq!(shown("x".repeat(16).as_str()), "x".repeat(16));
        let long = "y".repeat(17);
        assert_eq!(shown(&long), format!("17B/{}", digest(long.as_str())));
    }

    #[test]
    fn digests_tell_values_apart_and_repeat() {
        assert_eq!(digest("a"), digest("a"));
        assert_ne!(digest("a"), digest("b"));
        assert_eq!(digest("a").len(), 8);
    }
}
