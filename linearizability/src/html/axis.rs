//! The horizontal axis of a part's time line: one column per distinct event time, any time
//! placed between the events it falls between, round-time ticks with units, and fault bands.

use std::fmt::Write;

use super::{FaultBand, escape, fit};
use crate::history::Time;

/// What one unit of the history's [`Time`] is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeUnit {
    /// Times in an unknown unit (e.g. a log's counters): ticks show the raw numbers.
    #[default]
    Unitless,
    /// Nanoseconds, as [`crate::Recorder`] stamps them: ticks in ns, µs, ms or s, whichever
    /// suits the span.
    Nanoseconds,
}

/// Least room between two tick labels, in pixels.
const TICK_GAP: f64 = 72.0;
/// At most this many round times are considered for ticks.
const MAX_CANDIDATES: f64 = 4000.0;

/// Where times go on a part's time line.
pub(super) struct Axis {
    /// The distinct event times, sorted: column `k` is centred on `times[k]`.
    times: Vec<Time>,
    /// Width of a column.
    column: f64,
    /// Left edge of the first column.
    left: f64,
    /// Right edge of the time line (one column past the last event, for unknown outcomes).
    pub(super) right: f64,
    /// The latest time drawn (the last event, or a later end of a fault): at `right`.
    horizon: Time,
}

impl Axis {
    /// An axis over `times` (sorted, distinct) with columns of `column` pixels from `left`;
    /// times after the last event up to `horizon` fill the last column.
    pub(super) fn new(times: Vec<Time>, column: f64, left: f64, horizon: Time) -> Axis {
        let right = left + column * (times.len() as f64 + 1.0);
        let horizon = horizon.max(times.last().copied().unwrap_or(0));
        Axis {
            times,
            column,
            left,
            right,
            horizon,
        }
    }

    fn center(&self, k: usize) -> f64 {
        self.left + self.column * (k as f64 + 0.5)
    }

    /// The x of time `t`: the centre of its column if it is an event time, else linearly
    /// between the columns of the events around it (before the first: the left edge; after
    /// the last: towards the right edge, reached at the horizon).
    pub(super) fn x(&self, t: Time) -> f64 {
        let k = self.times.partition_point(|&u| u < t);
        let (Some(&first), Some(&last)) = (self.times.first(), self.times.last()) else {
            return self.left;
        };
        if self.times.get(k) == Some(&t) {
            self.center(k)
        } else if t < first {
            self.left
        } else if t > last {
            let span = self.horizon.saturating_sub(last).max(1) as f64;
            let f = ((t - last) as f64 / span).min(1.0);
            self.center(self.times.len() - 1) + (self.right - self.center(self.times.len() - 1)) * f
        } else {
            let (a, b) = (self.times[k - 1], self.times[k]);
            let f = (t - a) as f64 / (b - a) as f64;
            self.center(k - 1) + self.column * f
        }
    }

    /// Round times between the first event and the horizon, at least [`TICK_GAP`] pixels
    /// apart on this axis, each with its x; and the step they are multiples of.
    pub(super) fn ticks(&self) -> (f64, Vec<(Time, f64)>) {
        let Some(&first) = self.times.first() else {
            return (1.0, Vec::new());
        };
        let span = self.horizon - first;
        if span == 0 {
            return (1.0, vec![(first, self.x(first))]);
        }
        let wanted = ((self.right - self.left) / TICK_GAP).max(1.0) * 4.0;
        let step = nice_step(span as f64 / wanted.min(MAX_CANDIDATES));
        let mut ticks: Vec<(Time, f64)> = Vec::new();
        let mut k = (first as f64 / step).ceil();
        while k * step <= self.horizon as f64 {
            let t = (k * step).round() as Time;
            let x = self.x(t);
            if ticks.last().is_none_or(|&(_, last)| x - last >= TICK_GAP) {
                ticks.push((t, x));
            }
            k += 1.0;
        }
        (step, ticks)
    }
}

/// The round step (1, 2 or 5 times a power of ten, at least 1) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 1.0 {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * power)
}

/// The display unit for times spanning `span` of `unit`: its name and how many units it holds.
fn display_unit(unit: TimeUnit, span: Time) -> (&'static str, f64) {
    match unit {
        TimeUnit::Unitless => ("", 1.0),
        TimeUnit::Nanoseconds if span >= 2_000_000_000 => ("s", 1e9),
        TimeUnit::Nanoseconds if span >= 2_000_000 => ("ms", 1e6),
        TimeUnit::Nanoseconds if span >= 2_000 => ("µs", 1e3),
        TimeUnit::Nanoseconds => ("ns", 1.0),
    }
}

/// `t` in `unit`, with the decimals that tell apart times `step` apart.
fn label(t: Time, (_, per): (&str, f64), step: f64) -> String {
    let decimals = (-(step / per).log10().floor()).clamp(0.0, 9.0) as usize;
    format!("{:.*}", decimals, t as f64 / per)
}

/// A time in `unit` for the hover texts: `2.104 s`, or the raw number if unitless.
pub(super) fn describe_time(t: Time, unit: TimeUnit) -> String {
    match unit {
        TimeUnit::Unitless => t.to_string(),
        TimeUnit::Nanoseconds => format!("{:.6} s", t as f64 / 1e9),
    }
}

/// Draws the time axis at `y`: a line, the ticks with their labels, and the unit.
pub(super) fn draw(out: &mut String, axis: &Axis, y: f64, unit: TimeUnit) {
    let (step, ticks) = axis.ticks();
    let span = axis.horizon - axis.times.first().copied().unwrap_or(axis.horizon);
    let display = display_unit(unit, span);
    let _ = write!(
        out,
        "<g class=\"axis\"><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>",
        axis.left, axis.right
    );
    for (t, x) in &ticks {
        let _ = write!(
            out,
            "<g class=\"tick\" data-time=\"{t}\"><line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y:.1}\" y2=\"{:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\">{}</text></g>",
            y + 5.0,
            y + 17.0,
            label(*t, display, step)
        );
    }
    let title = match display.0 {
        "" => "time".to_string(),
        name => format!("time ({name})"),
    };
    let _ = writeln!(
        out,
        "<text class=\"title\" x=\"4\" y=\"{:.1}\">{title}</text></g>",
        y + 17.0
    );
}

/// Draws each fault of `faults` that overlaps the part's time line as a band from `top` to
/// `bottom`, its label in the strip above `top`.
pub(super) fn draw_faults(
    out: &mut String,
    axis: &Axis,
    faults: &[FaultBand],
    (top, bottom): (f64, f64),
    unit: TimeUnit,
) {
    let Some(&first) = axis.times.first() else {
        return;
    };
    for fault in faults {
        if fault.end < first || fault.start > axis.horizon {
            continue;
        }
        let x0 = axis.x(fault.start);
        let x1 = axis.x(fault.end).max(x0 + 3.0);
        let kind: String = fault
            .label
            .split_whitespace()
            .next()
            .unwrap_or("fault")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let info = format!(
            "{}\nfrom {} to {}",
            fault.label,
            describe_time(fault.start, unit),
            describe_time(fault.end, unit)
        );
        let _ = writeln!(
            out,
            "<g class=\"fault\" data-kind=\"{}\" data-start=\"{}\" data-end=\"{}\" data-info=\"{}\"><title>{}</title><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            escape(&kind),
            fault.start,
            fault.end,
            escape(&info),
            escape(&info),
            top - 12.0,
            x1 - x0,
            bottom - top + 12.0,
            x0 + 2.0,
            top - 3.0,
            escape(&fit(&fault.label, x1 - x0 - 2.0, 4)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_between_events_fall_between_their_columns() {
        let axis = Axis::new(vec![10, 20, 40], 30.0, 100.0, 40);
        assert_eq!(axis.x(10), 115.0);
        assert_eq!(axis.x(20), 145.0);
        assert_eq!(axis.x(30), 160.0);
        assert_eq!(axis.x(5), 100.0);
        assert_eq!(axis.x(1000), axis.right);
        let (step, ticks) = axis.ticks();
        assert_eq!(step, 5.0);
        assert!(!ticks.is_empty());
        assert!(ticks.windows(2).all(|w| w[1].1 - w[0].1 >= TICK_GAP));
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.3), 1.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(120.0), 200.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
        assert_eq!(label(2_500_000_000, ("s", 1e9), 5e8), "2.5");
    }
}
