//! A picture of a history as one self-contained HTML page (inline CSS, SVG and a little
//! JavaScript; nothing is fetched from the network).
//!
//! Each part of the history (one per key for a key/value store, named by
//! [`Model::describe_part`]) gets a time line with one row per client and one bar per
//! operation, from its call to its return (an operation with an unknown outcome runs to the
//! right edge, dashed). The longest linearization found is drawn on top: numbered dots at a
//! possible instant of each operation, joined by a line, and the operation where the history
//! breaks is red. Failing parts come first and are open; the others are folded unless the
//! history is small (and the first part is open when nothing failed). Faults given in
//! [`Options::faults`] (partitions, crashes) are shaded
//! bands across the time line, and a time axis under it carries ticks in the history's unit.
//!
//! The horizontal axis is the *order* of events, not their times (each distinct time gets the
//! same width), so that bursts of activity stay readable; the ticks of the time axis are at
//! round times, placed between the events they fall between, so their spacing shows where time
//! is compressed. Hovering a bar shows its full text and times, and each part lists its
//! operations in a table.

mod axis;
mod part;

use std::fmt::Write;

use crate::checker::{Report, Verdict};
use crate::history::{Operation, Time};
use crate::model::Model;

pub use axis::TimeUnit;

/// A fault to draw as a shaded band across the time line of every part: from `start` to `end`
/// (in the history's time unit), with a short `label` such as `partition` or `crash server1`.
/// The first word of the label picks the band's color (`partition`, `crash` and `disk` have
/// their own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultBand {
    /// When the fault began.
    pub start: Time,
    /// When it healed (a fault still on at the end of the history: its last time or later).
    pub end: Time,
    /// What it was, e.g. `partition {server0 server1} | {server2}`.
    pub label: String,
}

impl FaultBand {
    /// A band from `start` to `end` labelled `label`.
    pub fn new(start: Time, end: Time, label: impl Into<String>) -> FaultBand {
        FaultBand {
            start,
            end,
            label: label.into(),
        }
    }
}

/// What [`render_with`] draws besides the history itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Faults, drawn as bands in every part (in any order).
    pub faults: Vec<FaultBand>,
    /// What one unit of [`Time`] is, for the labels of the time axis.
    pub time_unit: TimeUnit,
}

/// A history with at most this many operations has every part open.
const SMALL_HISTORY: usize = 200;

/// Renders `history` and the checker's `report` on it as an HTML page titled `title`, with a
/// unitless time axis and no faults: [`render_with`] with default [`Options`].
pub fn render<M: Model>(
    title: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    report: &Report,
) -> String {
    render_with(title, model, history, report, &Options::default())
}

/// Renders `history` and the checker's `report` on it as an HTML page titled `title`, with
/// the faults and the time unit of `options`.
pub fn render_with<M: Model>(
    title: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    report: &Report,
    options: &Options,
) -> String {
    let rank = |v: Verdict| match v {
        Verdict::Violation => 0,
        Verdict::Unknown => 1,
        Verdict::Linearizable => 2,
    };
    // Violations first, then unknown, then linearizable parts; in the model's order within.
    let mut parts: Vec<usize> = (0..report.parts.len()).collect();
    parts.sort_by_key(|&i| (rank(report.parts[i].verdict), i));

    let failing = report.violations().count();
    let small = history.len() <= SMALL_HISTORY;
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p class=\"summary\">Verdict: <b class=\"v-{}\">{}</b> — {} operations in {} part(s){}{}.</p>\n",
        escape(title),
        report.verdict,
        report.verdict,
        history.len(),
        report.parts.len(),
        if failing > 0 {
            format!(", {failing} failing")
        } else {
            String::new()
        },
        match options.faults.len() {
            0 => String::new(),
            n => format!(", {n} fault(s) shaded"),
        }
    );
    body.push_str(LEGEND);
    // The failing parts are open; the others too when there are few operations; and when
    // that leaves every part folded, the first one is open: the page never opens blank.
    let mut opened = false;
    for index in parts {
        let part = &report.parts[index];
        let open = part.verdict == Verdict::Violation || small || !opened;
        opened |= open;
        part::render(&mut body, model, history, index, part, open, options);
    }

    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<div id=\"info\">Hover over an operation or a fault.</div>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(title)
    )
}

/// Width of a character of the 11px monospace font, in pixels.
const CHAR_WIDTH: f64 = 6.7;

/// Shortens `text` to what fits in `width` pixels of the 11px monospace font; nothing if not
/// even `min` characters fit (a label cut to one letter says nothing).
fn fit(text: &str, width: f64, min: usize) -> String {
    let room = (width / CHAR_WIDTH).floor().max(0.0) as usize;
    if text.chars().count() <= room {
        text.to_string()
    } else if room < min.max(2) {
        String::new()
    } else {
        text.chars().take(room - 1).chain(['…']).collect()
    }
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

const LEGEND: &str = "<p class=\"legend\"><span class=\"k lin\">in the linearization</span> \
<span class=\"k break\">where it breaks</span> <span class=\"k rest\">not placed</span> \
<span class=\"k unknown\">unknown outcome (dashed, runs to the end)</span> \
<span class=\"k fault\">a fault (partition, crash)</span> \
numbered dots: the order found, at one possible instant of each operation. \
One column per event time: the axis is not to scale.</p>\n";

const STYLE: &str = r#"
body { font: 14px system-ui, sans-serif; margin: 1em 2em 8em; color: #222; }
h1 { font-size: 1.3em; }
.v-violation { color: #c0392b; } .v-linearizable { color: #1e8449; } .v-unknown { color: #b9770e; }
.part { margin: 1em 0; border: 1px solid #ddd; border-radius: 6px; padding: .5em; }
.part > summary { cursor: pointer; font-size: 1.05em; }
.why { max-width: 60em; }
.scroll { overflow-x: auto; }
svg text { font: 11px ui-monospace, monospace; }
.client { fill: #555; }
.lane { stroke: #eee; }
.op rect { stroke-width: 1; }
.op text { fill: #222; pointer-events: none; }
.op.lin rect { fill: #d5f5e3; stroke: #27ae60; }
.op.rest rect { fill: #eaeded; stroke: #99a3a4; }
.op.break rect { fill: #fadbd8; stroke: #c0392b; stroke-width: 2.5; }
.op.unknown rect { stroke-dasharray: 5 3; fill-opacity: .5; }
.op:hover rect, .op.selected rect { stroke: #2471a3; stroke-width: 2.5; }
.order { fill: none; stroke: #2471a3; stroke-width: 1.5; opacity: .6; }
.point circle { fill: #2471a3; }
.point text { fill: white; text-anchor: middle; font-size: 8px; pointer-events: none; }
.breakmark text { fill: #c0392b; font-weight: bold; }
.fault rect { fill: #f5b041; opacity: .22; }
.fault[data-kind="crash"] rect, .fault[data-kind="disk"] rect { fill: #8e44ad; opacity: .18; }
.fault text { fill: #7e5109; font-size: 10px; }
.fault[data-kind="crash"] text, .fault[data-kind="disk"] text { fill: #5b2c6f; }
.fault:hover rect { opacity: .4; }
.axis line { stroke: #888; }
.axis text { fill: #555; text-anchor: middle; font-size: 10px; }
.axis .title { text-anchor: start; }
.legend .k { padding: 1px 6px; border-radius: 3px; border: 1px solid; margin-right: .5em; }
.legend .lin { background: #d5f5e3; border-color: #27ae60; }
.legend .break { background: #fadbd8; border-color: #c0392b; }
.legend .rest { background: #eaeded; border-color: #99a3a4; }
.legend .unknown { border-style: dashed; }
.legend .fault { background: #fbe3bd; border-color: #f5b041; }
.ops table { border-collapse: collapse; font: 12px ui-monospace, monospace; }
.ops td, .ops th { padding: 1px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
.ops td.label { white-space: pre-wrap; word-break: break-all; max-width: 60em; }
.ops tr.break td { background: #fadbd8; }
#info { position: fixed; bottom: 0; left: 0; right: 0; background: #fdfefe; border-top: 1px solid #ccc;
        padding: .5em 2em; white-space: pre-wrap; font: 12px ui-monospace, monospace; min-height: 3.5em; }
"#;

const SCRIPT: &str = r#"
(function () {
  var info = document.getElementById('info');
  var ops = document.querySelectorAll('g.op');
  var all = document.querySelectorAll('g.op, g.fault');
  all.forEach(function (g) {
    g.addEventListener('mouseenter', function () {
      all.forEach(function (o) { o.classList.remove('selected'); });
      g.classList.add('selected');
      info.textContent = g.getAttribute('data-info');
    });
  });
  var breaks = document.querySelectorAll('g.op.break').length;
  document.body.setAttribute('data-drawn', ops.length + ' operations, ' + breaks + ' breaking');
})();
"#;
