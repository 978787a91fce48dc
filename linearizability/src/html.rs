//! A picture of a history as one self-contained HTML page (inline CSS, SVG and a little
//! JavaScript; nothing is fetched from the network).
//!
//! Each part of the history gets a time line with one row per client and one bar per
//! operation, from its call to its return (an operation with an unknown outcome runs to the
//! right edge, dashed). The longest linearization found is drawn on top: numbered dots at a
//! possible instant of each operation, joined by a line, and the operation where the history
//! breaks is red. Failing parts come first and are open; the others are folded.
//!
//! The horizontal axis is the *order* of events, not their times (each distinct time gets the
//! same width), so that bursts of activity stay readable; hovering a bar shows its times.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::checker::{PartReport, Report, Verdict};
use crate::history::{Operation, Time};
use crate::model::Model;

/// Width of one event column, in pixels: at least this narrow...
const MIN_COLUMN: f64 = 22.0;
/// ...and at most this wide, aiming at this width for the whole time line.
const MAX_COLUMN: f64 = 90.0;
const TARGET_WIDTH: f64 = 800.0;
/// Room right of the time line for the "breaks here" mark.
const RIGHT_MARGIN: f64 = 110.0;
/// Height of one client row.
const ROW: f64 = 34.0;
/// Left margin holding the client names.
const LEFT: f64 = 90.0;
/// Top margin above the first row.
const TOP: f64 = 10.0;

/// Renders `history` and the checker's `report` on it as an HTML page titled `title`.
pub fn render<M: Model>(
    title: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    report: &Report,
) -> String {
    let mut parts: Vec<(usize, &PartReport)> = report.parts.iter().enumerate().collect();
    // Violations first, then unknown, then linearizable parts.
    parts.sort_by_key(|(i, p)| {
        let rank = match p.verdict {
            Verdict::Violation => 0,
            Verdict::Unknown => 1,
            Verdict::Linearizable => 2,
        };
        (rank, *i)
    });

    let mut body = String::new();
    let failing = report.violations().count();
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p class=\"summary\">Verdict: <b class=\"v-{}\">{}</b> — {} operations in {} part(s){}.</p>\n",
        escape(title),
        report.verdict,
        report.verdict,
        history.len(),
        report.parts.len(),
        if failing > 0 {
            format!(", {failing} failing")
        } else {
            String::new()
        }
    );
    body.push_str(LEGEND);
    for (index, part) in parts {
        render_part(&mut body, model, history, index, part);
    }

    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<div id=\"info\">Hover over an operation.</div>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(title)
    )
}

fn render_part<M: Model>(
    out: &mut String,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    index: usize,
    part: &PartReport,
) {
    let ops: Vec<&Operation<M::Input, M::Output>> =
        part.ops.iter().filter_map(|&i| history.get(i)).collect();

    // The x axis: each distinct event time of this part is one column.
    let times: Vec<Time> = ops
        .iter()
        .flat_map(|op| [Some(op.call), op.outcome.returned_at()])
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let column = (TARGET_WIDTH / times.len().max(1) as f64).clamp(MIN_COLUMN, MAX_COLUMN);
    let x = |t: Time| LEFT + column * (times.partition_point(|&u| u < t) as f64 + 0.5);
    let right = LEFT + column * (times.len() as f64 + 1.0);
    let width = right + RIGHT_MARGIN;
    let clients: Vec<usize> = ops
        .iter()
        .map(|op| op.client)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let row_of = |client: usize| clients.partition_point(|&c| c < client);
    let y = |client: usize| TOP + ROW * row_of(client) as f64;
    let height = TOP * 2.0 + ROW * clients.len() as f64;

    // Replay the linearization to know the state after each of its operations.
    let mut position = vec![None; history.len()];
    let mut states = Vec::with_capacity(part.linearization.len());
    let mut state = model.init();
    for (k, &i) in part.linearization.iter().enumerate() {
        if let (Some(slot), Some(op)) = (position.get_mut(i), history.get(i)) {
            *slot = Some(k);
            if let Some(next) = model.step(&state, &op.input, op.output()) {
                state = next;
            }
            states.push(model.describe_state(&state));
        }
    }

    let open = if part.verdict == Verdict::Linearizable {
        ""
    } else {
        " open"
    };
    let _ = write!(
        out,
        "<details class=\"part\" id=\"part-{index}\"{open}>\n<summary>Part {index}: <b class=\"v-{v}\">{v}</b>, {n} operations, {c} clients, linearization of {l}</summary>\n",
        v = part.verdict,
        n = ops.len(),
        c = clients.len(),
        l = part.linearization.len(),
    );
    if let Some(op) = part.breaking_op.and_then(|i| history.get(i)) {
        let after = states
            .last()
            .cloned()
            .unwrap_or_else(|| model.describe_state(&model.init()));
        let _ = writeln!(
            out,
            "<p class=\"why\">The {} numbered operations are a valid order; after them the state is <code>{}</code>. \
             Then <b>{}</b> (client {}) must take effect before it returns, but neither it nor any other operation that may come first fits there: the history breaks at it.</p>",
            part.linearization.len(),
            escape(&after),
            escape(&model.describe_operation(&op.input, op.output())),
            op.client
        );
    }
    let _ = writeln!(
        out,
        "<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\">"
    );
    for &client in &clients {
        let _ = writeln!(
            out,
            "<text class=\"client\" x=\"4\" y=\"{:.1}\">client {client}</text><line class=\"lane\" x1=\"{LEFT}\" x2=\"{right:.0}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
            y(client) + 24.0,
            y(client) + ROW - 1.0,
            y(client) + ROW - 1.0
        );
    }

    // The bars.
    for (&i, op) in part.ops.iter().zip(&ops) {
        let x0 = x(op.call);
        let x1 = op.outcome.returned_at().map_or(right - 2.0, x);
        let class = if part.breaking_op == Some(i) {
            "op break"
        } else if position[i].is_some() {
            "op lin"
        } else {
            "op rest"
        };
        let unknown = if op.output().is_none() {
            " unknown"
        } else {
            ""
        };
        let desc = model.describe_operation(&op.input, op.output());
        let ret = op
            .outcome
            .returned_at()
            .map_or("never (unknown outcome)".to_string(), |t| t.to_string());
        let order = match position[i] {
            Some(k) => format!(
                "#{} in the linearization; state after: {}",
                k + 1,
                states.get(k).map_or("", String::as_str)
            ),
            None if part.breaking_op == Some(i) => "the history breaks here".to_string(),
            None => "not in the linearization found".to_string(),
        };
        let info = format!(
            "op {i}, client {}: {desc}\ncalled at {}, returned at {ret}\n{order}",
            op.client, op.call
        );
        let _ = writeln!(
            out,
            "<g class=\"{class}{unknown}\" data-info=\"{}\"><title>{}</title><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            escape(&info),
            escape(&info),
            y(op.client) + 10.0,
            (x1 - x0).max(4.0),
            20.0,
            x0 + 3.0,
            y(op.client) + 24.0,
            escape(&fit(&desc, x1 - x0 - 6.0))
        );
    }

    // The linearization: one instant per operation, inside its interval and not before the
    // previous one (a valid choice exists because the order is a linearization).
    let mut points = Vec::with_capacity(part.linearization.len());
    let mut last = f64::MIN;
    for &i in &part.linearization {
        if let Some(op) = history.get(i) {
            let px = x(op.call).max(last);
            last = px;
            // On the top edge of the bar, clear of its label.
            points.push((px, y(op.client) + 9.0));
        }
    }
    if points.len() > 1 {
        let path: Vec<String> = points
            .iter()
            .map(|(px, py)| format!("{px:.1},{py:.1}"))
            .collect();
        let _ = writeln!(
            out,
            "<polyline class=\"order\" points=\"{}\"/>",
            path.join(" ")
        );
    }
    for (k, (px, py)) in points.iter().enumerate() {
        let _ = writeln!(
            out,
            "<g class=\"point\"><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"6.5\"/><text x=\"{px:.1}\" y=\"{:.1}\">{}</text></g>",
            py + 3.0,
            k + 1
        );
    }
    if let Some(op) = part.breaking_op.and_then(|i| history.get(i)) {
        let _ = writeln!(
            out,
            "<g class=\"breakmark\"><text x=\"{:.1}\" y=\"{:.1}\">✗ breaks here</text></g>",
            op.outcome.returned_at().map_or(right - 90.0, x) + 4.0,
            y(op.client) + 24.0
        );
    }
    out.push_str("</svg></div>\n</details>\n");
}

/// Shortens `text` to what fits in `width` pixels of the 11px monospace font.
fn fit(text: &str, width: f64) -> String {
    const CHAR_WIDTH: f64 = 6.7;
    let room = (width / CHAR_WIDTH).floor().max(0.0) as usize;
    if text.chars().count() <= room {
        text.to_string()
    } else if room < 2 {
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
numbered dots: the order found, at one possible instant of each operation.</p>\n";

const STYLE: &str = r#"
body { font: 14px system-ui, sans-serif; margin: 1em 2em 8em; color: #222; }
h1 { font-size: 1.3em; }
.v-violation { color: #c0392b; } .v-linearizable { color: #1e8449; } .v-unknown { color: #b9770e; }
.part { margin: 1em 0; border: 1px solid #ddd; border-radius: 6px; padding: .5em; }
.part summary { cursor: pointer; }
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
.legend .k { padding: 1px 6px; border-radius: 3px; border: 1px solid; margin-right: .5em; }
.legend .lin { background: #d5f5e3; border-color: #27ae60; }
.legend .break { background: #fadbd8; border-color: #c0392b; }
.legend .rest { background: #eaeded; border-color: #99a3a4; }
.legend .unknown { border-style: dashed; }
#info { position: fixed; bottom: 0; left: 0; right: 0; background: #fdfefe; border-top: 1px solid #ccc;
        padding: .5em 2em; white-space: pre-wrap; font: 12px ui-monospace, monospace; min-height: 3.5em; }
"#;

const SCRIPT: &str = r#"
(function () {
  var info = document.getElementById('info');
  var ops = document.querySelectorAll('g.op');
  ops.forEach(function (g) {
    g.addEventListener('mouseenter', function () {
      ops.forEach(function (o) { o.classList.remove('selected'); });
      g.classList.add('selected');
      info.textContent = g.getAttribute('data-info');
    });
  });
  var breaks = document.querySelectorAll('g.op.break').length;
  document.body.setAttribute('data-drawn', ops.length + ' operations, ' + breaks + ' breaking');
})();
"#;
