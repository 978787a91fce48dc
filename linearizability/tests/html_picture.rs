//! What makes the picture useful for debugging, read from its structure: the failing part is
//! open and every part is named by its key, every operation's full text is in the page, the
//! time axis has ticks in units, and faults are bands over the operations they overlapped.

#[path = "common/markup.rs"]
mod markup;

use linearizability::html::{self, FaultBand, Options, TimeUnit};
use linearizability::models::{KvInput, KvMap, KvOutput};
use linearizability::{Limits, Operation, Verdict, check_with};
use markup::{Element, parse};

const MS: u64 = 1_000_000;
const LONG: &str = "a-value-far-too-long-for-its-bar-0123456789";

/// 250 operations in turn on keys k0..k4 by 4 clients, one every millisecond (nanosecond
/// times): linearizable except for key k3, where the last get misses the put before it.
fn history_with(stale: bool) -> Vec<Operation<KvInput, KvOutput>> {
    let mut ops = Vec::new();
    let mut last: Vec<String> = vec![String::new(); 5];
    for j in 0..250u64 {
        let (client, k) = ((j % 4) as usize, (j % 5) as usize);
        let key = format!("k{k}");
        let (call, ret) = (j * MS, j * MS + MS / 2);
        if j % 2 == 0 {
            let value = if k == 3 {
                format!("{LONG}{j}")
            } else {
                j.to_string()
            };
            last[k] = value.clone();
            ops.push(Operation::returned(
                client,
                call,
                ret,
                KvInput::put(key, value),
                KvOutput::Done,
            ));
        } else {
            let seen = if stale && j == 53 {
                "stale".to_string()
            } else {
                last[k].clone()
            };
            ops.push(Operation::returned(
                client,
                call,
                ret,
                KvInput::get(key),
                KvOutput::Value(seen),
            ));
        }
    }
    ops
}

fn history() -> Vec<Operation<KvInput, KvOutput>> {
    history_with(true)
}

fn faults() -> Vec<FaultBand> {
    vec![
        FaultBand::new(10 * MS, 20 * MS, "partition {server0 server1} | {server2}"),
        FaultBand::new(30 * MS + MS / 4, 35 * MS, "crash server1"),
    ]
}

fn page(options: &Options) -> (Vec<Operation<KvInput, KvOutput>>, Element) {
    let history = history();
    // Every part searched to its end: one violation, the others linearizable.
    let all = Limits {
        all_parts: true,
        ..Limits::none()
    };
    let report = check_with(&KvMap, &history, all).expect("well formed");
    assert_eq!(report.verdict, Verdict::Violation);
    let text = html::render_with("250 operations", &KvMap, &history, &report, options);
    (history, parse(&text))
}

fn nanos() -> Options {
    Options {
        faults: faults(),
        time_unit: TimeUnit::Nanoseconds,
    }
}

/// The parts, in page order.
fn parts(doc: &Element) -> Vec<&Element> {
    doc.find("details", "part")
}

#[test]
fn the_violating_part_is_open_first_and_every_part_is_named_by_its_key() {
    let (_, doc) = page(&nanos());
    let parts = parts(&doc);
    assert_eq!(parts.len(), 5);
    let names: Vec<String> = parts
        .iter()
        .map(|p| p.find("span", "name")[0].text())
        .collect();
    assert_eq!(names, ["key k3", "key k0", "key k1", "key k2", "key k4"]);
    let first = parts[0];
    assert_eq!(first.attr("data-verdict"), Some("violation"));
    assert!(first.attr("open").is_some(), "the violating part is folded");
    let summary = first.children_named("summary")[0].text();
    assert!(summary.contains("key k3 — 50 operations"), "{summary}");
    assert!(summary.contains("violation"), "{summary}");
    for part in &parts[1..] {
        assert_eq!(part.attr("data-verdict"), Some("linearizable"));
        assert!(
            part.attr("open").is_none(),
            "a passing part of a big history is open"
        );
    }
}

#[test]
fn every_operation_carries_its_full_text() {
    let (history, doc) = page(&nanos());
    let bars = doc.find("g", "op");
    assert_eq!(bars.len(), history.len());
    let mut cut = 0;
    for bar in bars {
        let i: usize = bar.num("data-op") as usize;
        let full = linearizability::Model::describe_operation(
            &KvMap,
            &history[i].input,
            history[i].output(),
        );
        let title = bar.children_named("title")[0].text();
        assert!(title.contains(&full), "{title:?} lacks {full:?}");
        assert!(bar.attr("data-info").is_some_and(|t| t.contains(&full)));
        let shown = bar.children_named("text")[0].text();
        if shown != full {
            cut += 1;
            let kept = shown
                .strip_suffix('…')
                .unwrap_or_else(|| panic!("{shown:?} of {full:?}"));
            assert!(
                full.starts_with(kept) && kept.chars().count() >= 5,
                "{shown:?}"
            );
        }
    }
    assert!(cut > 0, "the long values were expected not to fit");
    // The table of each part holds every label whole.
    let labels: Vec<String> = doc.find("td", "label").iter().map(|td| td.text()).collect();
    assert_eq!(labels.len(), history.len());
    assert!(
        labels
            .iter()
            .any(|l| l == &format!("put(\"k3\", \"{LONG}8\")")),
        "{labels:?}"
    );
}

#[test]
fn each_time_line_has_a_time_axis_with_units_and_ticks() {
    for (options, title) in [(nanos(), "time (ms)"), (Options::default(), "time")] {
        let (_, doc) = page(&options);
        for part in parts(&doc) {
            let axis = &part.find("g", "axis")[0];
            assert_eq!(axis.find("text", "title")[0].text(), title);
            let ticks = axis.find("g", "tick");
            assert!(ticks.len() >= 3, "{} ticks", ticks.len());
            let xs: Vec<f64> = ticks
                .iter()
                .map(|t| t.children_named("line")[0].num("x1"))
                .collect();
            let labels: Vec<f64> = ticks
                .iter()
                .map(|t| {
                    t.children_named("text")[0]
                        .text()
                        .parse()
                        .expect("a number")
                })
                .collect();
            let times: Vec<f64> = ticks.iter().map(|t| t.num("data-time")).collect();
            assert!(xs.windows(2).all(|w| w[1] > w[0]), "{xs:?}");
            assert!(labels.windows(2).all(|w| w[1] > w[0]), "{labels:?}");
            let per = if title == "time (ms)" { MS as f64 } else { 1.0 };
            for (label, time) in labels.iter().zip(&times) {
                assert!((label * per - time).abs() < per * 1e-6, "{label} at {time}");
            }
        }
    }
}

#[test]
fn faults_are_bands_over_the_operations_during_them() {
    let (history, doc) = page(&nanos());
    for part in parts(&doc) {
        let bands = part.find("g", "fault");
        assert_eq!(bands.len(), 2);
        let kinds: Vec<&str> = bands.iter().filter_map(|b| b.attr("data-kind")).collect();
        assert_eq!(kinds, ["partition", "crash"]);
        let lanes = part.find("line", "lane");
        let bottom = lanes.iter().map(|l| l.num("y1")).fold(0.0, f64::max);
        for (band, fault) in bands.iter().zip(faults()) {
            assert!(
                band.children_named("title")[0]
                    .text()
                    .contains(&fault.label)
            );
            let rect = &band.children_named("rect")[0];
            let (x0, x1) = (rect.num("x"), rect.num("x") + rect.num("width"));
            assert!(x1 > x0);
            assert!(
                rect.num("y") + rect.num("height") >= bottom - 1.0,
                "the band stops short"
            );
            // Each operation of the part that ran inside the fault is inside its band, and
            // each that ended before it began is left of it.
            for bar in part.find("g", "op") {
                let op = &history[bar.num("data-op") as usize];
                let r = &bar.children_named("rect")[0];
                let ret = op.outcome.returned_at().expect("all returned");
                if op.call >= fault.start && ret <= fault.end {
                    assert!(r.num("x") >= x0 && r.num("x") + r.num("width") <= x1 + 0.1);
                } else if ret < fault.start {
                    assert!(r.num("x") + r.num("width") <= x0 + 0.1);
                }
            }
        }
    }
    let (_, doc) = page(&Options::default());
    assert!(doc.find("g", "fault").is_empty());
}

#[test]
fn a_big_passing_history_opens_its_first_part() {
    let history = history_with(false);
    let report = check_with(&KvMap, &history, Limits::none()).expect("well formed");
    assert_eq!(report.verdict, Verdict::Linearizable);
    let doc = parse(&html::render("passing", &KvMap, &history, &report));
    let open: Vec<bool> = parts(&doc)
        .iter()
        .map(|p| p.attr("open").is_some())
        .collect();
    assert_eq!(open, [true, false, false, false, false]);
}

/// Bursts and gaps: ticks chosen among fine round times stay labelled apart (each label
/// with the decimals of the step it is a multiple of).
#[test]
fn tick_labels_stay_distinct_over_bursts() {
    let at = |j: u64| {
        if j < 40 {
            j * MS / 10
        } else {
            700 * MS + j * 37 * MS
        }
    };
    let history: Vec<_> = (0..60u64)
        .map(|j| {
            let input = KvInput::put("k", j.to_string());
            Operation::returned(
                (j % 3) as usize,
                at(j),
                at(j) + MS / 20,
                input,
                KvOutput::Done,
            )
        })
        .collect();
    let report = check_with(&KvMap, &history, Limits::none()).expect("well formed");
    let options = Options {
        faults: Vec::new(),
        time_unit: TimeUnit::Nanoseconds,
    };
    let doc = parse(&html::render_with(
        "bursts", &KvMap, &history, &report, &options,
    ));
    let labels: Vec<String> = doc
        .find("g", "tick")
        .iter()
        .map(|t| t.children_named("text")[0].text())
        .collect();
    assert!(labels.len() >= 4, "{labels:?}");
    let values: Vec<f64> = labels
        .iter()
        .map(|l| l.parse().expect("a number"))
        .collect();
    assert!(values.windows(2).all(|w| w[1] > w[0]), "{labels:?}");
}
