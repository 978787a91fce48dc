//! The axes of the sweep plot: a linear scale with round ticks (also over a single value) and
//! a logarithmic one with a tick at each power of ten.

/// A map from data values to a fraction of an axis (0 at its start, 1 at its end), with the
/// ticks to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    /// The value at the start of the axis (positive for a log scale).
    pub lo: f64,
    /// The value at the end, always above `lo`.
    pub hi: f64,
    /// Whether the axis is logarithmic.
    pub log: bool,
    /// The tick values, ascending, all within `lo..=hi`.
    pub ticks: Vec<f64>,
}

impl Scale {
    /// A linear axis over `values` for the parameter: from the least to the greatest with a
    /// margin of 5% each side, so that no point sits on the frame. A single value (or none)
    /// gets an axis around it: half its size each side, or ±1 around zero.
    pub fn around(values: impl IntoIterator<Item = f64>) -> Scale {
        let (min, max) = bounds(values).unwrap_or((0.0, 0.0));
        let (lo, hi) = if max > min {
            let pad = (max - min) * 0.05;
            (min - pad, max + pad)
        } else {
            let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.5 };
            (min - pad, max + pad)
        };
        Scale::linear(lo, hi)
    }

    /// A linear axis from zero up to a round value above the greatest of `values` (up to 1
    /// when none is above zero): latency and throughput start at nothing.
    pub fn from_zero(values: impl IntoIterator<Item = f64>) -> Scale {
        let max = bounds(values).map_or(0.0, |(_, max)| max);
        let max = if max > 0.0 { max * 1.05 } else { 1.0 };
        let step = nice_step(max / 5.0);
        Scale::linear(0.0, (max / step).ceil() * step)
    }

    /// A logarithmic axis over the positive `values`, from the power of ten at or below the
    /// least to the one at or above the greatest (at least one decade); 1 to 10 when none is
    /// positive. Values at or below zero cannot be drawn on it.
    pub fn logarithmic(values: impl IntoIterator<Item = f64>) -> Scale {
        let positive = values.into_iter().filter(|v| *v > 0.0 && v.is_finite());
        let (lo, hi) = match bounds(positive) {
            Some((min, max)) => (min.log10().floor(), max.log10().ceil()),
            None => (0.0, 1.0),
        };
        let hi = hi.max(lo + 1.0);
        // At most about eight ticks: every decade, or every second, third... one.
        let every = ((hi - lo) / 8.0).ceil().max(1.0);
        let mut ticks = Vec::new();
        let mut e = lo;
        while e <= hi {
            ticks.push(10f64.powf(e));
            e += every;
        }
        Scale {
            lo: 10f64.powf(lo),
            hi: 10f64.powf(hi),
            log: true,
            ticks,
        }
    }

    /// A linear axis from `lo` to `hi` (`hi > lo`), ticks at round values between.
    fn linear(lo: f64, hi: f64) -> Scale {
        let step = nice_step((hi - lo) / 5.0);
        let mut ticks = Vec::new();
        // Round away the float noise of k * step (0.30000000000000004) at the step's decimals.
        let per_unit = 10f64.powf(-step.log10().floor().min(0.0));
        let mut k = (lo / step).ceil();
        while k * step <= hi + step * 1e-9 {
            let t = (k * step * per_unit).round() / per_unit;
            ticks.push(if t == 0.0 { 0.0 } else { t });
            k += 1.0;
        }
        Scale {
            lo,
            hi,
            log: false,
            ticks,
        }
    }

    /// Where `v` falls on the axis, 0 at `lo` and 1 at `hi`; `None` for a value a log axis
    /// cannot show (zero or below).
    pub fn fraction(&self, v: f64) -> Option<f64> {
        if self.log {
            (v > 0.0).then(|| (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10()))
        } else {
            Some((v - self.lo) / (self.hi - self.lo))
        }
    }

    /// The text of a tick: as few decimals as the ticks' spacing needs.
    pub fn label(&self, v: f64) -> String {
        if self.log {
            return if (1e-3..1e6).contains(&v) {
                format!("{}", v)
            } else {
                format!("1e{}", v.log10().round())
            };
        }
        let step = match self.ticks.as_slice() {
            [a, b, ..] => b - a,
            _ => self.hi - self.lo,
        };
        let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
        format!("{v:.decimals$}")
    }
}

/// The least and greatest of the finite `values`, if any.
fn bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// The round step (1, 2 or 5 times a power of ten) at or above `raw`; 1 for a step that is
/// not a positive number.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}
