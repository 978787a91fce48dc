//! The trace as the viewer's data: compact JSON (a string table, one array per column, deltas
//! for times), embedded in the HTML page.
//!
//! Column `i` of every array is event `i` (in time order). Strings (kinds, methods, messages,
//! field values) are indices into `strings`; -1 means none, and a column of nothing but -1 is
//! `null`. `t`, `c` and `l` (times, calls and source lines) are deltas from the previous
//! event; `l` is `null` when every line holds an event. Arrows are triples (style, start as a
//! delta from the last arrow's start, end as an offset from the start, 0 for none). Per call, the instance (`seq`), `key` and
//! `client` found in any of its events' fields are given to all of them, so that filtering
//! on an instance keeps a request's whole arrow and its reply.

use super::layout::Layout;
use super::parse::Event;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Strings stored once, referred to by index.
#[derive(Default)]
struct Strings {
    index: HashMap<String, i64>,
    list: Vec<String>,
}

impl Strings {
    fn id(&mut self, s: &str) -> i64 {
        if let Some(&id) = self.index.get(s) {
            return id;
        }
        let id = self.list.len() as i64;
        self.index.insert(s.to_owned(), id);
        self.list.push(s.to_owned());
        id
    }

    fn id_or_none(&mut self, s: Option<&str>) -> i64 {
        s.map_or(-1, |s| self.id(s))
    }
}

/// A field's value as text: strings as they are, anything else as JSON.
fn field_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The fields that the viewer filters on.
pub const FILTER_FIELDS: [&str; 3] = ["seq", "key", "client"];

/// The viewer's data for `events` (in time order) laid out as `layout`, as JSON text.
pub fn encode(events: &[Event], layout: &Layout, title: &str) -> String {
    let mut strings = Strings::default();
    let lane: HashMap<&str, i64> = layout
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as i64))
        .collect();
    let lane_of = |name: &str| lane.get(name).copied().unwrap_or(-1);

    // The filter fields of each call, from whichever of its events has them.
    let mut call_fields: HashMap<u64, [Option<String>; 3]> = HashMap::new();
    for e in events.iter().filter(|e| e.call != 0) {
        if let Some(fields) = &e.fields {
            let entry = call_fields.entry(e.call).or_default();
            for (slot, name) in entry.iter_mut().zip(FILTER_FIELDS) {
                if slot.is_none() {
                    *slot = fields.get(name).map(field_text);
                }
            }
        }
    }

    let n = events.len();
    let mut columns: [Vec<i64>; 10] = Default::default();
    let mut filters: [Vec<i64>; 3] = Default::default();
    let (mut last_t, mut last_line, mut last_call) = (0i64, 0i64, 0i64);
    for e in events {
        let (t, line, call) = (e.at_us as i64, e.line as i64, e.call as i64);
        let row = [
            t - last_t,
            strings.id(&e.kind),
            call.wrapping_sub(last_call),
            if e.from.is_empty() {
                -1
            } else {
                lane_of(&e.from)
            },
            if e.to.is_empty() { -1 } else { lane_of(&e.to) },
            strings.id(&e.what),
            e.bytes as i64,
            e.delay_us as i64,
            strings.id_or_none(e.msg.as_deref()),
            line - last_line,
        ];
        (last_t, last_line, last_call) = (t, line, call);
        for (column, value) in columns.iter_mut().zip(row) {
            column.push(value);
        }
        let from_call = call_fields.get(&e.call);
        for (k, name) in FILTER_FIELDS.iter().enumerate() {
            let own = e.fields.as_ref().and_then(|f| f.get(*name)).map(field_text);
            let value = own.or_else(|| from_call.and_then(|f| f[k].clone()));
            filters[k].push(strings.id_or_none(value.as_deref()));
        }
    }
    // Details (fields, unknown members) are rare but for protocol events: kept sparse.
    let mut detail_events = Vec::new();
    let mut detail_texts = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(d) = details(e) {
            detail_events.push(i as i64);
            detail_texts.push(strings.id(&d));
        }
    }
    let [t, k, c, f, o, w, b, d, m, l] = columns;
    let [seq, key, client] = filters;
    let mut arrows = Vec::with_capacity(layout.arrows.len() * 3);
    let mut last_start = 0;
    for a in &layout.arrows {
        let end = a.end.map_or(0, |e| e as i64 - a.start as i64);
        arrows.extend([a.style as i64, a.start as i64 - last_start, end]);
        last_start = a.start as i64;
    }
    let mut bands = Vec::with_capacity(layout.bands.len() * 5);
    let mut groups = Vec::new();
    for band in &layout.bands {
        let group = if band.groups.is_empty() {
            -1
        } else {
            groups.push(
                band.groups
                    .iter()
                    .map(|g| g.map_or(-1, |g| g as i64))
                    .collect::<Vec<_>>(),
            );
            groups.len() as i64 - 1
        };
        bands.extend([
            band.kind as i64,
            band.lane.map_or(-1, |l| l as i64),
            band.start as i64,
            band.end.map_or(-1, |e| e as i64),
            group,
        ]);
    }
    let data = json!({
        "v": 1,
        "title": title,
        "count": n,
        "nodes": layout.nodes,
        "t": t, "k": k, "c": c, "f": f, "o": o, "w": w, "b": b, "d": d, "m": sparse(m),
        "l": if l.iter().all(|&d| d == 1) { Value::Null } else { Value::from(l) },
        "seq": sparse(seq), "key": sparse(key), "client": sparse(client),
        "xe": detail_events, "xs": detail_texts,
        "arrows": arrows, "bands": bands, "groups": groups, "marks": layout.marks,
        "strings": strings.list,
    });
    data.to_string()
}

/// A column of string indices, or `null` if it holds none.
fn sparse(column: Vec<i64>) -> Value {
    if column.iter().all(|&id| id < 0) {
        Value::Null
    } else {
        Value::from(column)
    }
}

/// An event's fields and unknown members as JSON text, if it has any.
fn details(e: &Event) -> Option<String> {
    let mut all = Map::new();
    if let Some(fields) = &e.fields {
        all.insert("fields".to_owned(), Value::Object(fields.clone()));
    }
    all.extend(e.extra.clone());
    (!all.is_empty()).then(|| Value::Object(all).to_string())
}

/// Makes JSON text safe inside `<script type="application/json">`: no `</` (which could end
/// the element) and no `<!--`. Both escapes stay valid JSON: `<` only occurs inside strings.
pub fn script_safe(json: &str) -> String {
    json.replace("</", "<\\/").replace("<!--", "<\\u0021--")
}

/// Escapes text for HTML.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::{layout::layout, parse::parse};
    use super::*;

    #[test]
    fn columns_are_deltas_and_empty_columns_null() {
        let events = parse(concat!(
            r#"{"at_us":10,"kind":"send","call":7,"from":"b","to":"a","fields":{"seq":3}}"#,
            "\n",
            r#"{"at_us":15,"kind":"deliver","call":7,"from":"b","to":"a"}"#,
            "\n",
            r#"{"at_us":15,"kind":"send","call":9,"from":"a","to":"b"}"#,
            "\n",
        ))
        .expect("a trace");
        let data: Value =
            serde_json::from_str(&encode(&events, &layout(&events), "t")).expect("JSON");
        assert_eq!(data["t"], json!([10, 5, 0]));
        assert_eq!(data["c"], json!([7, 0, 2]));
        assert_eq!(data["f"], json!([1, 1, 0]));
        assert_eq!(data["l"], Value::Null, "every line holds an event");
        assert_eq!((&data["key"], &data["m"]), (&Value::Null, &Value::Null));
        // The instance of call 7 is given to its delivery too, not to call 9.
        let seq: Vec<i64> = serde_json::from_value(data["seq"].clone()).expect("seq");
        let strings = data["strings"].as_array().expect("strings");
        assert_eq!(strings[seq[0] as usize], "3");
        assert_eq!((seq[1], seq[2]), (seq[0], -1));
        // A request (style 0) from event 0 to event 1, then an unanswered one (6) at 2.
        assert_eq!(data["arrows"], json!([0, 0, 1, 6, 2, 0]));
        assert_eq!(data["xe"], json!([0]));
    }

    #[test]
    fn script_safe_text_stays_the_same_json() {
        let text = json!({"a": "</script><!-- x"}).to_string();
        let safe = script_safe(&text);
        assert!(!safe.contains("</") && !safe.contains("<!--"));
        assert_eq!(
            serde_json::from_str::<Value>(&safe).expect("JSON"),
            serde_json::from_str::<Value>(&text).expect("JSON")
        );
    }
}
