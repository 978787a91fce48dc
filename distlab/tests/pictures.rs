//! The two pictures, read from their structure: the sweep's SVG (legends outside the plot
//! areas, the fixed settings in the caption, log-scale ticks at powers of ten, a real axis
//! around a single point, bands from the least to the greatest value over the seeds) and the
//! history page of a scenario run (a band per fault the injector made, at its time).

mod common;
#[path = "../../linearizability/tests/common/markup.rs"]
mod markup;

use common::{distlab, stdout_of, tempdir};
use distlab::cli::{Lab, Param, ParamName};
use distlab::scenario::{self, Params};
use distlab::sweep::{Figure, Point, Spread, svg};
use markup::{Element, parse};
use std::time::Duration;

fn base() -> Params {
    Params {
        seed: 1,
        servers: 3,
        clients: 4,
        duration: Duration::from_secs(2),
        drop: 0.1,
        long_delays: true,
        reordering: false,
        partition_every: Duration::ZERO,
        crash_every: Duration::from_millis(1500),
        lose_disks: false,
    }
}

/// A point at `value` whose latencies are `ms` times 1, 2, 4 and whose seeds spread them
/// from half to twice as much; throughput 100 / `ms`.
fn point(value: f64, ms: f64) -> Point {
    let spread = |v: f64| Spread {
        min: v / 2.0,
        max: v * 2.0,
    };
    Point {
        value,
        runs: 5,
        ops: 100,
        p50_ms: ms,
        p90_ms: 2.0 * ms,
        p99_ms: 4.0 * ms,
        throughput: 100.0 / ms,
        violations: 0,
        blocked: 0,
        panics: 0,
        timeouts: 0,
        p50_seeds: spread(ms),
        p90_seeds: spread(2.0 * ms),
        p99_seeds: spread(4.0 * ms),
        throughput_seeds: spread(100.0 / ms),
    }
}

/// The figure of `points` for a sweep of `drop` over 5 seeds.
fn figure(points: &[Point], log_scale: bool) -> Element {
    let param = Param {
        name: ParamName::Drop,
        values: points.iter().map(|p| p.value).collect(),
    };
    let base = base();
    let figure = Figure {
        lab: "paxoskv",
        param: &param,
        base: &base,
        seeds: 5,
        log_scale,
    };
    parse(&svg::render(&figure, points))
}

fn curve() -> Vec<Point> {
    vec![
        point(0.0, 3.0),
        point(0.2, 40.0),
        point(0.1, 12.0),
        point(0.4, 900.0),
    ]
}

/// A rectangle's left, top, right and bottom.
fn bounds(rect: &Element) -> (f64, f64, f64, f64) {
    let (x, y) = (rect.num("x"), rect.num("y"));
    (x, y, x + rect.num("width"), y + rect.num("height"))
}

fn panels(doc: &Element) -> Vec<&Element> {
    doc.find("g", "panel")
}

#[test]
fn legends_lie_outside_every_plot_area() {
    let doc = figure(&curve(), false);
    let areas: Vec<_> = doc
        .find("rect", "plot-area")
        .into_iter()
        .map(bounds)
        .collect();
    assert_eq!(areas.len(), 2);
    let legends = doc.find("g", "legend");
    assert_eq!(legends.len(), 2);
    for legend in legends {
        let (l, t, r, b) = bounds(legend.find("rect", "legend-box")[0]);
        for &(al, at, ar, ab) in &areas {
            let apart = r <= al || ar <= l || b <= at || ab <= t;
            assert!(
                apart,
                "legend {:?} overlaps plot area {:?}",
                (l, t, r, b),
                (al, at, ar, ab)
            );
        }
        // Its entries stand inside its box.
        for line in legend.find("line", "") {
            assert!(line.num("y1") > t && line.num("y1") < b);
            assert!(line.num("x1") >= l && line.num("x2") <= r);
        }
    }
}

#[test]
fn the_caption_gives_every_fixed_setting() {
    let doc = figure(&curve(), false);
    let caption: Vec<String> = doc
        .find("text", "caption")
        .iter()
        .map(|t| t.text())
        .collect();
    let caption = caption.join(" ");
    for setting in [
        "paxoskv",
        "--duration 2000ms",
        "--servers 3",
        "--clients 4",
        "--partition-every 0ms",
        "--crash-every 1500ms",
        "--long-delays",
        "seeds 1-5",
    ] {
        assert!(
            caption.contains(setting),
            "{setting} missing from {caption:?}"
        );
    }
    // The swept parameter is the x axis, not a fixed setting.
    assert!(!caption.contains("--drop"), "{caption}");
    let box_bottom = doc.find("rect", "legend-box")[0].num("y") + 24.0;
    for text in doc.find("text", "caption") {
        assert!(
            text.num("y") > box_bottom,
            "the caption is not below the legends"
        );
    }
}

/// The y ticks of a panel: (value, y) from top to bottom.
fn y_ticks(panel: &Element) -> Vec<(f64, f64)> {
    let axis = panel.find("g", "y")[0];
    axis.find("g", "tick")
        .iter()
        .map(|t| (t.num("data-value"), t.children_named("line")[0].num("y1")))
        .collect()
}

#[test]
fn a_log_scale_has_its_ticks_at_powers_of_ten() {
    let doc = figure(&curve(), true);
    for panel in panels(&doc) {
        let ticks = y_ticks(panel);
        assert!(ticks.len() >= 3, "{ticks:?}");
        for (value, _) in &ticks {
            let e = value.log10();
            assert!(
                (e - e.round()).abs() < 1e-9,
                "{value} is not a power of ten"
            );
        }
        // Equal ratios are equal distances.
        let gaps: Vec<f64> = ticks.windows(2).map(|w| w[0].1 - w[1].1).collect();
        assert!(gaps.iter().all(|g| (g - gaps[0]).abs() < 0.2), "{gaps:?}");
        let title = panel.find("text", "axis-title")[1].text();
        assert!(title.contains("log scale"), "{title}");
    }
    // Latencies of 1.5 to 3600 ms take four decades at least.
    let latency = y_ticks(panels(&doc)[0]);
    assert!(latency.first().expect("ticks").0 <= 1.0 && latency.last().expect("ticks").0 >= 1e4);
}

#[test]
fn a_single_point_gets_an_axis_around_it() {
    for p in [point(0.1, 50.0), point(0.0, 50.0), point(0.3, 0.0)] {
        let doc = figure(std::slice::from_ref(&p), false);
        for panel in panels(&doc) {
            let area = bounds(panel.find("rect", "plot-area")[0]);
            let x_ticks: Vec<f64> = panel.find("g", "x")[0]
                .find("g", "tick")
                .iter()
                .map(|t| t.num("data-value"))
                .collect();
            assert!(x_ticks.len() >= 2, "{x_ticks:?}");
            assert!(x_ticks.iter().all(|t| t.is_finite()));
            assert!(x_ticks.first() < Some(&p.value) && x_ticks.last() > Some(&p.value));
            let y = y_ticks(panel);
            assert!(y.len() >= 2 && y[y.len() - 1].0 > y[0].0, "{y:?}");
            // The point sits inside the area, off its left and right edges.
            for c in panel.find("circle", "") {
                let (cx, cy) = (c.num("cx"), c.num("cy"));
                assert!(cx > area.0 + 10.0 && cx < area.2 - 10.0, "{cx} in {area:?}");
                assert!(cy >= area.1 && cy <= area.3, "{cy} in {area:?}");
            }
            // And its band is still a shape, not a line.
            for band in panel.find("polygon", "band") {
                let xs: Vec<f64> = points(band).iter().map(|p| p.0).collect();
                assert!(
                    xs.iter().cloned().fold(f64::MIN, f64::max)
                        > xs.iter().cloned().fold(f64::MAX, f64::min)
                );
            }
        }
    }
}

/// The points of a polygon.
fn points(polygon: &Element) -> Vec<(f64, f64)> {
    polygon
        .attr("points")
        .expect("points")
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

#[test]
fn bands_run_from_the_least_to_the_greatest_value_over_the_seeds() {
    let mut points_in = curve();
    points_in.sort_by(|a, b| a.value.total_cmp(&b.value));
    let doc = figure(&points_in, false);
    for (panel, bands) in panels(&doc)
        .into_iter()
        .zip([vec!["p50", "p90", "p99"], vec!["mean"]])
    {
        let ticks = y_ticks(panel);
        // The y axis' map from value to pixel, from two of its ticks.
        let ((v0, y0), (v1, y1)) = (ticks[0], ticks[ticks.len() - 1]);
        let y_of = |v: f64| y0 + (v - v0) * (y1 - y0) / (v1 - v0);
        for name in bands {
            let band = panel
                .find("polygon", "band")
                .into_iter()
                .find(|b| b.has_class(name))
                .unwrap_or_else(|| panic!("no {name} band"));
            let ring = points(band);
            assert_eq!(ring.len(), 2 * points_in.len());
            let (top, bottom) = ring.split_at(points_in.len());
            for (k, p) in points_in.iter().enumerate() {
                let spread = match name {
                    "p50" => p.p50_seeds,
                    "p90" => p.p90_seeds,
                    "p99" => p.p99_seeds,
                    _ => p.throughput_seeds,
                };
                let low = bottom[bottom.len() - 1 - k].1;
                assert!(
                    (top[k].1 - y_of(spread.max)).abs() < 0.2,
                    "{name} top at {k}"
                );
                assert!((low - y_of(spread.min)).abs() < 0.2, "{name} bottom at {k}");
            }
            // The line runs inside its band.
            let line = panel
                .find("polyline", "series")
                .into_iter()
                .find(|l| l.has_class(name))
                .expect("the line");
            let on_line: Vec<&str> = line.attr("points").expect("points").split(' ').collect();
            assert_eq!(on_line.len(), points_in.len());
        }
    }
}

/// `distlab sweep --log-scale` draws log axes and names its settings on the figure.
#[test]
fn the_sweep_command_takes_log_scale() {
    let dir = tempdir();
    stdout_of(distlab().current_dir(dir.path()).args([
        "sweep",
        "viewservice",
        "--param",
        "clients=2",
        "--seeds",
        "2",
        "--duration",
        "1s",
        "--log-scale",
        "--out",
        "s",
    ]));
    let text = std::fs::read_to_string(dir.path().join("s/sweep.svg")).expect("a plot");
    let doc = parse(&text);
    for panel in panels(&doc) {
        for (value, _) in y_ticks(panel) {
            assert_eq!(value.log10().fract(), 0.0, "{value}");
        }
    }
    let caption: String = doc
        .find("text", "caption")
        .iter()
        .map(|t| t.text())
        .collect();
    assert!(
        caption.contains("seeds 1-2") && caption.contains("--duration 1000ms"),
        "{caption}"
    );
}

/// A scenario run draws each partition and crash of its injector as a band, from the time the
/// network trace shows it starting.
#[test]
fn history_pages_shade_the_scenarios_faults() {
    use labrpc::trace::EventKind;
    let params = Params {
        seed: 4,
        clients: 3,
        duration: Duration::from_secs(4),
        partition_every: Duration::from_millis(600),
        crash_every: Duration::from_millis(700),
        long_delays: false,
        ..base()
    };
    let outcome = scenario::run(Lab::Paxoskv, &params, false, true);
    assert!(outcome.faults >= 2, "{} faults", outcome.faults);
    let doc = parse(outcome.history_html.as_deref().expect("a history page"));
    let part = doc.find("details", "part")[0];
    let bands = part.find("g", "fault");
    assert_eq!(bands.len() as u64, outcome.faults, "one band per fault");
    let at = |kind: EventKind| -> Vec<u64> {
        outcome
            .events
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.at_us)
            .collect()
    };
    let (links, kills) = (at(EventKind::Links), at(EventKind::Killed));
    let mut kinds = Vec::new();
    for band in &bands {
        let start_us = band.num("data-start") as u64 / 1000;
        assert!(band.num("data-end") > band.num("data-start"));
        let kind = band.attr("data-kind").expect("a kind");
        let events = match kind {
            "partition" => &links,
            "crash" => &kills,
            other => panic!("a band of kind {other}"),
        };
        assert!(
            events.contains(&start_us),
            "{kind} at {start_us} µs is not in the trace"
        );
        kinds.push(kind.to_owned());
    }
    assert!(
        kinds.iter().any(|k| k == "partition") && kinds.iter().any(|k| k == "crash"),
        "{kinds:?}"
    );
}
