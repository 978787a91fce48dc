//! The sweep's figure as SVG, written by hand: two panels (latency percentiles, throughput)
//! against the parameter, each line with a band from the least to the greatest value over the
//! seeds, the legends below the panels (never over the data), and the fixed settings in a
//! caption.

use std::fmt::Write as _;

use super::scale::Scale;
use super::{Figure, Point, Spread};

/// Width of the figure.
const WIDTH: f64 = 1100.0;
/// Left edge and width of each panel's plot area, and their vertical extent.
const PANELS: [f64; 2] = [80.0, 630.0];
const AREA_WIDTH: f64 = 420.0;
const AREA_TOP: f64 = 62.0;
const AREA_BOTTOM: f64 = 342.0;
/// Top of the legend row, below the x axis' title.
const LEGEND_TOP: f64 = 396.0;
const LEGEND_HEIGHT: f64 = 24.0;
/// Baseline of the caption's first line, and the height of a line.
const CAPTION_TOP: f64 = 448.0;
const LINE: f64 = 16.0;
/// Characters per caption line (12px sans-serif over the figure's width).
const CAPTION_CHARS: usize = 165;

/// One line of a panel: its name, its color, the value it draws and its spread over seeds.
struct Line {
    name: &'static str,
    color: &'static str,
    value: fn(&Point) -> f64,
    spread: fn(&Point) -> Spread,
}

const LATENCY: [Line; 3] = [
    Line {
        name: "p50",
        color: "#1f77b4",
        value: |p| p.p50_ms,
        spread: |p| p.p50_seeds,
    },
    Line {
        name: "p90",
        color: "#2ca02c",
        value: |p| p.p90_ms,
        spread: |p| p.p90_seeds,
    },
    Line {
        name: "p99",
        color: "#d62728",
        value: |p| p.p99_ms,
        spread: |p| p.p99_seeds,
    },
];

const THROUGHPUT: [Line; 1] = [Line {
    name: "mean",
    color: "#333333",
    value: |p| p.throughput,
    spread: |p| p.throughput_seeds,
}];

/// The figure of `points` (in any order) as an SVG document.
pub fn render(figure: &Figure, points: &[Point]) -> String {
    let mut points: Vec<&Point> = points.iter().collect();
    points.sort_by(|a, b| a.value.total_cmp(&b.value));
    let caption = wrap(&figure.caption(), CAPTION_CHARS);
    let height = CAPTION_TOP + LINE * caption.len() as f64;
    let name = figure.param.name.name();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH:.0} {height:.0}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text class=\"title\" x=\"{:.0}\" y=\"26\" font-size=\"18\" text-anchor=\"middle\">{}: latency and throughput against {}</text>\n",
        WIDTH / 2.0,
        escape(figure.lab),
        escape(name)
    );
    let x = Scale::around(points.iter().map(|p| p.value));
    let y_of = |lines: &[Line]| {
        let values = points.iter().flat_map(|p| {
            lines.iter().flat_map(move |l| {
                let s = (l.spread)(p);
                [(l.value)(p), s.min, s.max]
            })
        });
        if figure.log_scale {
            Scale::logarithmic(values)
        } else {
            Scale::from_zero(values)
        }
    };
    let unit = if figure.log_scale { ", log scale" } else { "" };
    panel(
        &mut out,
        (
            "latency",
            PANELS[0],
            &format!("latency (simulated ms{unit})"),
        ),
        (&x, &y_of(&LATENCY)),
        name,
        &LATENCY,
        &points,
    );
    panel(
        &mut out,
        (
            "throughput",
            PANELS[1],
            &format!("operations per simulated second{}", unit),
        ),
        (&x, &y_of(&THROUGHPUT)),
        name,
        &THROUGHPUT,
        &points,
    );
    for (i, line) in caption.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text class=\"caption\" x=\"20\" y=\"{:.0}\" font-size=\"12\" fill=\"#333\">{}</text>",
            CAPTION_TOP + LINE * i as f64,
            escape(line)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Draws one panel: its plot area, axes, bands, lines and points, and its legend below.
fn panel(
    out: &mut String,
    (id, left, y_title): (&str, f64, &str),
    (x, y): (&Scale, &Scale),
    x_title: &str,
    lines: &[Line],
    points: &[&Point],
) {
    let px = |v: f64| x.fraction(v).map(|f| left + f * AREA_WIDTH);
    let py = |v: f64| {
        y.fraction(v)
            .map(|f| AREA_BOTTOM - f.clamp(0.0, 1.0) * (AREA_BOTTOM - AREA_TOP))
    };
    let _ = writeln!(
        out,
        "<g class=\"panel\" id=\"{id}\">\n<rect class=\"plot-area\" x=\"{left:.1}\" y=\"{AREA_TOP:.1}\" width=\"{AREA_WIDTH:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#444\"/>",
        AREA_BOTTOM - AREA_TOP
    );
    // The axes: grid lines and labels at the ticks, and the titles.
    let _ = write!(out, "<g class=\"axis x\" font-size=\"11\" fill=\"#333\">");
    for &t in &x.ticks {
        let Some(tx) = px(t) else { continue };
        let _ = write!(
            out,
            "<g class=\"tick\" data-value=\"{t}\"><line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{AREA_TOP:.1}\" y2=\"{:.1}\" stroke=\"#e5e5e5\"/><text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
            AREA_BOTTOM + 5.0,
            AREA_BOTTOM + 18.0,
            x.label(t)
        );
    }
    let _ = writeln!(
        out,
        "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"13\">{}</text></g>",
        left + AREA_WIDTH / 2.0,
        AREA_BOTTOM + 38.0,
        escape(x_title)
    );
    let _ = write!(out, "<g class=\"axis y\" font-size=\"11\" fill=\"#333\">");
    for &t in &y.ticks {
        let Some(ty) = py(t) else { continue };
        let _ = write!(
            out,
            "<g class=\"tick\" data-value=\"{t}\"><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"#e5e5e5\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text></g>",
            left - 5.0,
            left + AREA_WIDTH,
            left - 8.0,
            ty + 4.0,
            y.label(t)
        );
    }
    let _ = writeln!(
        out,
        "<text class=\"axis-title\" transform=\"translate({:.1} {:.1}) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">{}</text></g>",
        left - 58.0,
        (AREA_TOP + AREA_BOTTOM) / 2.0,
        escape(y_title)
    );

    // Bands first, under every line: from each seed's least to its greatest value, up along
    // the greatest and back along the least. A single point gets a narrow bar.
    for line in lines {
        let mut top = Vec::new();
        let mut bottom = Vec::new();
        for p in points {
            let s = (line.spread)(p);
            let (Some(bx), Some(hi)) = (px(p.value), py(s.max)) else {
                continue;
            };
            // A least value a log axis cannot show runs the band down to the axis.
            let lo = py(s.min).unwrap_or(AREA_BOTTOM);
            top.push((bx, hi));
            bottom.push((bx, lo));
        }
        if let ([(bx, hi)], [(_, lo)]) = (top.as_slice(), bottom.as_slice()) {
            let (bx, hi, lo) = (*bx, *hi, *lo);
            top = vec![(bx - 5.0, hi), (bx + 5.0, hi)];
            bottom = vec![(bx - 5.0, lo), (bx + 5.0, lo)];
        }
        if top.is_empty() {
            continue;
        }
        let ring: Vec<String> = top
            .iter()
            .chain(bottom.iter().rev())
            .map(|(a, b)| format!("{a:.1},{b:.1}"))
            .collect();
        let _ = writeln!(
            out,
            "<polygon class=\"band {}\" points=\"{}\" fill=\"{}\" fill-opacity=\"0.15\" stroke=\"none\"/>",
            line.name,
            ring.join(" "),
            line.color
        );
    }
    for line in lines {
        let drawn: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|p| Some((px(p.value)?, py((line.value)(p))?)))
            .collect();
        let path: Vec<String> = drawn
            .iter()
            .map(|(a, b)| format!("{a:.1},{b:.1}"))
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"series {}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            line.name,
            path.join(" "),
            line.color
        );
        for (a, b) in drawn {
            let _ = write!(
                out,
                "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"3\" fill=\"{}\"/>",
                line.color
            );
        }
        out.push('\n');
    }
    legend(out, left, lines);
    out.push_str("</g>\n");
}

/// The legend of a panel's lines, in a box below its plot area.
fn legend(out: &mut String, left: f64, lines: &[Line]) {
    let mut items = String::new();
    let mut at = left + 10.0;
    let mid = LEGEND_TOP + LEGEND_HEIGHT / 2.0;
    for line in lines {
        let _ = write!(
            items,
            "<line x1=\"{at:.1}\" x2=\"{:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            at + 20.0,
            line.color,
            at + 25.0,
            mid + 4.0,
            line.name
        );
        at += 35.0 + 7.0 * line.name.len() as f64;
    }
    let _ = write!(
        items,
        "<rect x=\"{at:.1}\" y=\"{:.1}\" width=\"20\" height=\"10\" fill=\"#777\" fill-opacity=\"0.25\"/><text x=\"{:.1}\" y=\"{:.1}\">band: min–max over seeds</text>",
        mid - 5.0,
        at + 25.0,
        mid + 4.0
    );
    at += 25.0 + 7.2 * 24.0;
    let _ = writeln!(
        out,
        "<g class=\"legend\" font-size=\"12\" fill=\"#333\"><rect class=\"legend-box\" x=\"{left:.1}\" y=\"{LEGEND_TOP:.1}\" width=\"{:.1}\" height=\"{LEGEND_HEIGHT:.1}\" fill=\"white\" stroke=\"#999\"/>{items}</g>",
        (at - left + 5.0).min(AREA_WIDTH)
    );
}

/// `text` cut into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// Escapes text for SVG content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
