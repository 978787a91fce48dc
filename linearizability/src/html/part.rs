//! One part of the picture: its title, the explanation of a break, the time line (rows of
//! bars, the linearization's dots, fault bands, the time axis) and the table of operations.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::axis::{self, Axis, describe_time};
use super::{CHAR_WIDTH, Options, escape, fit};
use crate::checker::{PartReport, Verdict};
use crate::history::{Operation, Time};
use crate::model::Model;

/// Width of one event column, in pixels: at least this narrow...
const MIN_COLUMN: f64 = 26.0;
/// ...and at most this wide, aiming at this width for the whole time line.
const MAX_COLUMN: f64 = 90.0;
const TARGET_WIDTH: f64 = 900.0;
/// Room right of the time line for the "breaks here" mark.
const RIGHT_MARGIN: f64 = 110.0;
/// Height of one client row.
const ROW: f64 = 34.0;
/// Left margin holding the client names.
const LEFT: f64 = 90.0;
/// Top margin above the first row: room for the labels of fault bands.
const TOP: f64 = 22.0;
/// Room below the rows for the time axis.
const AXIS: f64 = 34.0;

/// An operation of the history of model `M`.
type OpOf<M> = Operation<<M as Model>::Input, <M as Model>::Output>;

/// Writes part `index` of the history, open if `open`.
pub(super) fn render<M: Model>(
    out: &mut String,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    index: usize,
    part: &PartReport,
    open: bool,
    options: &Options,
) {
    let ops: Vec<(usize, &OpOf<M>)> = part
        .ops
        .iter()
        .filter_map(|&i| history.get(i).map(|op| (i, op)))
        .collect();

    // The x axis: each distinct event time of this part is one column.
    let times: Vec<Time> = ops
        .iter()
        .flat_map(|(_, op)| [Some(op.call), op.outcome.returned_at()])
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let column = (TARGET_WIDTH / times.len().max(1) as f64).clamp(MIN_COLUMN, MAX_COLUMN);
    let last = times.last().copied().unwrap_or(0);
    // Faults that outlast the part's events stretch the part's last column up to their end.
    let horizon = if ops.iter().any(|(_, op)| op.output().is_none()) {
        options
            .faults
            .iter()
            .filter(|f| f.start <= last)
            .map(|f| f.end)
            .fold(last, Time::max)
    } else {
        last
    };
    let axis = Axis::new(times, column, LEFT, horizon);
    let right = axis.right;
    let mut width = right + RIGHT_MARGIN;
    let clients: Vec<usize> = ops
        .iter()
        .map(|(_, op)| op.client)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let row_of = |client: usize| clients.partition_point(|&c| c < client);
    let y = |client: usize| TOP + ROW * row_of(client) as f64;
    let rows_bottom = TOP + ROW * clients.len() as f64;
    let height = rows_bottom + AXIS;

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

    let name = ops
        .first()
        .and_then(|(_, op)| model.describe_part(&op.input))
        .unwrap_or_else(|| format!("part {index}"));
    let _ = write!(
        out,
        "<details class=\"part\" id=\"part-{index}\" data-verdict=\"{v}\"{open}>\n<summary><span class=\"name\">{name}</span> — {n} operations, {c} clients — <b class=\"v-{v}\">{v}</b>{l}</summary>\n",
        open = if open { " open" } else { "" },
        name = escape(&name),
        v = part.verdict,
        n = ops.len(),
        c = clients.len(),
        l = match part.verdict {
            Verdict::Linearizable => String::new(),
            _ => format!(" (linearization of {} found)", part.linearization.len()),
        },
    );
    if let Some(op) = part.breaking_op.and_then(|i| history.get(i)) {
        let after = states
            .last()
            .cloned()
            .unwrap_or_else(|| model.describe_state(&model.init()));
        let _ = writeln!(
            out,
            "<p class=\"why\">The {} numbered operations are a valid order; after them the state is <code>{}</code>. \
             Then <b>{}</b> (client {}, called at {}) must take effect before it returns, but neither it nor any other operation that may come first fits there: the history breaks at it.</p>",
            part.linearization.len(),
            escape(&after),
            escape(&model.describe_operation(&op.input, op.output())),
            op.client,
            describe_time(op.call, options.time_unit),
        );
    }
    // The drawing, written apart so that the width can follow the break mark.
    let page = out;
    let mut svg = String::new();
    let out = &mut svg;
    axis::draw_faults(
        out,
        &axis,
        &options.faults,
        (TOP, rows_bottom),
        options.time_unit,
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

    // The bars. A label may run past its bar up to the next call of the same client.
    let mut rows: Vec<Vec<Time>> = vec![Vec::new(); clients.len()];
    for (_, op) in &ops {
        rows[row_of(op.client)].push(op.call);
    }
    rows.iter_mut().for_each(|r| r.sort_unstable());
    let mut table = String::new();
    let mut break_mark = None;
    for &(i, op) in &ops {
        let x0 = axis.x(op.call);
        let x1 = op.outcome.returned_at().map_or(right - 2.0, |t| axis.x(t));
        let row = &rows[row_of(op.client)];
        let next_call = row
            .get(row.partition_point(|&c| c <= op.call))
            .map_or(right, |&c| axis.x(c));
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
            .map_or("never (unknown outcome)".to_string(), |t| {
                describe_time(t, options.time_unit)
            });
        let order = match position[i] {
            Some(k) => format!(
                "#{} in the linearization; state after: {}",
                k + 1,
                states.get(k).map_or("", String::as_str)
            ),
            None if part.breaking_op == Some(i) => "the history breaks here".to_string(),
            None => "not in the linearization found".to_string(),
        };
        let called = describe_time(op.call, options.time_unit);
        let info = format!(
            "op {i}, client {}: {desc}\ncalled at {called}, returned at {ret}\n{order}",
            op.client
        );
        let shown = fit(&desc, x1.max(next_call) - x0 - 6.0, 6);
        if part.breaking_op == Some(i) {
            // The mark stands right of the bar and of its label.
            let label_end = x0 + 6.0 + CHAR_WIDTH * shown.chars().count() as f64;
            break_mark = Some((x1.max(label_end) + 6.0, y(op.client) + 24.0));
        }
        let _ = writeln!(
            out,
            "<g class=\"{class}{unknown}\" data-op=\"{i}\" data-info=\"{}\"><title>{}</title><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            escape(&info),
            escape(&info),
            y(op.client) + 10.0,
            (x1 - x0).max(4.0),
            20.0,
            x0 + 3.0,
            y(op.client) + 24.0,
            escape(&shown)
        );
        let _ = writeln!(
            table,
            "<tr{}><td>{i}</td><td>{}</td><td>{called}</td><td>{ret}</td><td class=\"label\">{}</td><td>{}</td></tr>",
            if part.breaking_op == Some(i) {
                " class=\"break\""
            } else {
                ""
            },
            op.client,
            escape(&desc),
            escape(&order),
        );
    }

    // The linearization: one instant per operation, inside its interval and not before the
    // previous one (a valid choice exists because the order is a linearization).
    let mut points = Vec::with_capacity(part.linearization.len());
    let mut latest = f64::MIN;
    for &i in &part.linearization {
        if let Some(op) = history.get(i) {
            let px = axis.x(op.call).max(latest);
            latest = px;
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
    if let Some((bx, by)) = break_mark {
        let _ = writeln!(
            out,
            "<g class=\"breakmark\"><text x=\"{bx:.1}\" y=\"{by:.1}\">✗ breaks here</text></g>"
        );
        width = width.max(bx + RIGHT_MARGIN);
    }
    axis::draw(out, &axis, rows_bottom + 4.0, options.time_unit);
    let _ = write!(
        page,
        "<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\">\n{svg}</svg></div>\n<details class=\"ops\"><summary>The {} operations in full</summary>\n<table>\n<tr><th>op</th><th>client</th><th>called</th><th>returned</th><th>operation</th><th>order</th></tr>\n{table}</table></details>\n</details>\n",
        ops.len()
    );
}
