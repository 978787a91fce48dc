//! `distlab trace view`: a real trace and a synthetic one of 100,000 events, drawn by the
//! binary and loaded in headless Chromium (skipped, with a message, if none is installed).
#![allow(clippy::disallowed_methods)] // real processes (distlab, Chromium): real time, threads

mod common;
#[path = "trace_view/png.rs"]
mod png;

use common::tempdir;
use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The largest page allowed for the synthetic trace of 100,000 events (measured: see
/// distlab/README.md).
const MAX_PAGE_BYTES_100K: u64 = 10_000_000;

/// A child process in a process group of its own, killed with its group and reaped on drop.
struct Bounded(Child);

impl Drop for Bounded {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // Chromium forks helpers into the same group: end them all, by the group's id.
            let group = format!("-{}", self.0.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Runs `cmd` for at most `limit`; its stdout, or why not.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<String, String> {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut child = Bounded(child);
    let mut stdout = child.0.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return Err(format!("{cmd:?} still running after {limit:?}: killed")),
            Err(e) => return Err(format!("cannot wait for {cmd:?}: {e}")),
        }
    };
    drop(child);
    let text = reader.join().map_err(|_| "the reader panicked")?;
    if status.success() {
        Ok(text)
    } else {
        Err(format!("{cmd:?} failed: {status}\n{text}"))
    }
}

/// The Chromium of this machine: $DISTLAB_CHROMIUM, or chromium or google-chrome on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DISTLAB_CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            if dir.join(name).is_file() {
                return Some(dir.join(name));
            }
        }
    }
    eprintln!(
        "SKIPPED the browser part: no chromium on PATH (apt-get install chromium, or set \
         DISTLAB_CHROMIUM); .ci/run installs it"
    );
    None
}

/// Headless Chromium on `page` with `args`, in a profile of its own; its stdout.
fn headless(browser: &Path, page: &Path, args: &[&str]) -> String {
    let profile = tempdir();
    let url = format!("file://{}", page.display());
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
    ])
    .arg("--disable-dev-shm-usage")
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg("--virtual-time-budget=10000")
    .args(args)
    .arg(&url);
    match run_bounded(&mut cmd, Duration::from_secs(120)) {
        Ok(out) => out,
        Err(e) => panic!("{e}"),
    }
}

/// The value of `attribute` on the `<body>` of a dumped DOM.
fn body_attribute<'a>(dom: &'a str, attribute: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let at = body.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
    Some(&body[at..at + body[at..].find('"')?])
}

/// The text of the element `id="status"` of a dumped DOM.
fn status(dom: &str) -> &str {
    let at = dom.find("id=\"status\"").expect("a status element");
    let text = &dom[at + dom[at..].find('>').expect("its tag") + 1..];
    &text[..text.find('<').expect("its end")]
}

/// Asserts that the first drawing (the whole run) shows every arrow and mark, over times
/// that are numbers: what a page that decoded its data wrongly would not.
fn assert_whole_run_drawn(dom: &str) {
    for (all, visible) in [
        ("data-arrows", "data-visible-arrows"),
        ("data-marks", "data-visible-marks"),
    ] {
        let all = body_attribute(dom, all).expect(all);
        assert_eq!(body_attribute(dom, visible), Some(all), "{visible}");
    }
    assert_ne!(body_attribute(dom, "data-arrows"), Some("0"), "no arrows");
    let view = body_attribute(dom, "data-view").expect("a view");
    let ends: Vec<f64> = view.split(',').filter_map(|t| t.parse().ok()).collect();
    assert!(ends.len() == 2 && ends[0] < ends[1], "view {view}");
    assert!(!status(dom).contains("NaN"), "{}", status(dom));
}

/// `distlab trace view FILE --out OUT`: the absolute path it prints.
fn view(trace: &Path, out: &Path) -> PathBuf {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_distlab"));
    cmd.args(["trace", "view"]).arg(trace).arg("--out").arg(out);
    let printed = run_bounded(&mut cmd, Duration::from_secs(120)).expect("distlab trace view");
    let path = PathBuf::from(printed.trim());
    assert!(path.is_absolute(), "not an absolute path: {printed}");
    assert_eq!(path, std::path::absolute(out).expect("a path"));
    path
}

#[test]
fn a_paxos_run_shows_every_node_as_a_lane_in_chromium() {
    let dir = tempdir();
    let run = dir.path().join("run");
    let mut replay = Command::new(env!("CARGO_BIN_EXE_distlab"));
    replay
        .args(["replay", "--seed", "1", "paxos", "--out"])
        .arg(&run);
    let printed = run_bounded(&mut replay, Duration::from_secs(300)).expect("distlab replay");
    // The replay draws its trace too.
    let line = format!("view:    {}", run.join("trace.html").display());
    assert!(
        printed.lines().any(|l| l == line),
        "no `{line}` in\n{printed}"
    );
    assert!(run.join("trace.html").is_file());

    let trace = run.join("trace.jsonl");
    let text = std::fs::read_to_string(&trace).expect("the trace");
    let mut nodes = BTreeSet::new();
    let mut events = 0;
    for line in text.lines() {
        let e: serde_json::Value = serde_json::from_str(line).expect("an event");
        for end in ["from", "to"] {
            match e[end].as_str() {
                Some("") | None => {}
                Some(node) => {
                    nodes.insert(node.to_owned());
                }
            }
        }
        events += 1;
    }
    assert!(nodes.len() >= 3 && events > 1000, "{nodes:?} {events}");
    let page = view(&trace, &dir.path().join("view.html"));

    let Some(browser) = chromium() else { return };
    let dom = headless(&browser, &page, &["--dump-dom"]);
    assert_eq!(
        body_attribute(&dom, "data-rendered"),
        Some("1"),
        "not rendered"
    );
    assert_eq!(
        body_attribute(&dom, "data-events"),
        Some(events.to_string().as_str())
    );
    assert_eq!(
        body_attribute(&dom, "data-lanes"),
        Some(nodes.len().to_string().as_str())
    );
    for node in &nodes {
        let label = format!("class=\"lane-label\" data-node=\"{node}\"");
        assert!(dom.contains(&label), "no lane for {node}");
    }
    assert_whole_run_drawn(&dom);
    let shown = status(&dom);
    assert!(
        shown.starts_with(&format!(
            "rendered {events} events on {} lanes",
            nodes.len()
        )),
        "{shown}"
    );

    // A filter on one Paxos instance (fields.seq, as the address can give it) keeps some
    // events, not all.
    let seq = text.lines().find_map(|line| {
        let e: serde_json::Value = serde_json::from_str(line).ok()?;
        e["fields"]["seq"].as_u64()
    });
    if let Some(seq) = seq {
        let mut filtered = page.clone().into_os_string();
        filtered.push(format!("#seq={seq}"));
        let dom = headless(&browser, Path::new(&filtered), &["--dump-dom"]);
        let matching: usize = body_attribute(&dom, "data-matching")
            .and_then(|m| m.parse().ok())
            .expect("a count of matching events");
        assert!(
            0 < matching && matching < events,
            "{matching} of {events} match seq={seq}"
        );
        assert!(status(&dom).contains(&format!("{matching} match the filters")));
    }

    // Selecting a call (as a click does; here through the address) lists its events with
    // every field in the side panel.
    let (call, method) = text
        .lines()
        .find_map(|line| {
            let e: serde_json::Value = serde_json::from_str(line).ok()?;
            (e["kind"] == "send" && e["fields"].is_object())
                .then(|| (e["call"].as_u64(), e["what"].as_str().map(str::to_owned)))
        })
        .and_then(|(call, what)| Some((call?, what?)))
        .expect("a send with fields");
    let mut selected = page.clone().into_os_string();
    selected.push(format!("#call={call}"));
    let dom = headless(&browser, Path::new(&selected), &["--dump-dom"]);
    let panel = &dom[dom.find("id=\"details\"").expect("the panel")..];
    let panel = &panel[..panel.find("id=\"legend\"").expect("the legend after it")];
    assert!(panel.contains(&format!("call {call}")), "{panel}");
    for shown in [
        "<td>kind</td><td>send</td>",
        "<td>fields.seq</td>",
        &format!("<td>{method}</td>"),
    ] {
        assert!(panel.contains(shown), "no {shown} in the panel: {panel}");
    }

    interact(&browser, &page, events);

    let shot = dir.path().join("shot.png");
    let screenshot = format!("--screenshot={}", shot.display());
    headless(
        &browser,
        &page,
        &[&screenshot, "--window-size=1400,900", "--hide-scrollbars"],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    let (width, height, rgba) = png::decode(&png).expect("a PNG");
    assert_eq!((width, height), (1400, 900));
    let colours: BTreeSet<&[u8]> = rgba.chunks(4).collect();
    assert!(
        colours.len() > 50,
        "only {} colours: the page drew nothing",
        colours.len()
    );
    // The diagram itself: the blue of requests and the green of replies.
    let near = |c: &[u8], rgb: [i32; 3]| (0..3).all(|k| (c[k] as i32 - rgb[k]).abs() < 12);
    assert!(
        rgba.chunks(4).any(|c| near(c, [0x25, 0x63, 0xeb])),
        "no request arrow"
    );
    assert!(
        rgba.chunks(4).any(|c| near(c, [0x16, 0xa3, 0x4a])),
        "no reply arrow"
    );
}

/// Drives the page as a user would, from a page that frames it (`trace_view/harness.html`):
/// a click shows something in the panel, the wheel zooms in, a drag pans, a text filter
/// keeps some events, `fit` shows the whole run again.
fn interact(browser: &Path, page: &Path, events: usize) {
    let name = page.file_name().expect("a file name").to_string_lossy();
    let harness = page.with_file_name("harness.html");
    let text = include_str!("trace_view/harness.html").replace("PAGE", &name);
    std::fs::write(&harness, text).expect("the harness");
    let dom = headless(
        browser,
        &harness,
        &[
            "--dump-dom",
            "--allow-file-access-from-files",
            "--window-size=1500,1000",
        ],
    );
    let start = "<pre id=\"out\">";
    let out = &dom[dom.find(start).expect("the harness's output") + start.len()..];
    let out = out[..out.find("</pre>").expect("its end")]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let seen: serde_json::Value = serde_json::from_str(&out).expect(&out);
    assert_eq!(seen["error"], serde_json::Value::Null, "{seen}");
    assert_eq!(
        seen["first"], "1.69 s – 1.79 s",
        "the view of the address: {seen}"
    );
    assert!(
        seen["clicked"].is_string() && seen["tables"].as_u64() >= Some(1),
        "{seen}"
    );
    let (first, zoomed, dragged) = (&seen["first"], &seen["zoomed"], &seen["dragged"]);
    assert!(
        zoomed != first && dragged != zoomed,
        "zoom and drag changed nothing: {seen}"
    );
    let matching = seen["matching"].as_u64().expect("matching") as usize;
    assert!(0 < matching && matching < events, "{seen}");
    assert!(
        seen["fit"].as_str().is_some_and(|v| v.ends_with(" s")),
        "{seen}"
    );
}

/// A synthetic trace of `n` events on 5 nodes: calls (delivered, lost, unreachable),
/// protocol events with fields, partitions and crashes, and an unknown kind now and then.
fn synthetic(n: usize) -> String {
    let mut lines = Vec::with_capacity(n);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let (mut t, mut call) = (0u64, 0u64);
    let node = |i: u64| format!("px{i}");
    while lines.len() < n {
        t += 100 + next(900);
        call += 1;
        let (from, to) = (next(5), next(5));
        let (seq, delay) = (call / 7, 1000 + next(30_000));
        let head = format!(
            r#""call":{call},"from":"{}","to":"{}""#,
            node(from),
            node(to)
        );
        let payload = format!(
            r#""msg":"accept seq={seq} n=({},{from})","fields":{{"seq":{seq},"n":"({},{from})"}}"#,
            call % 9,
            call % 9
        );
        if call % 1000 == 0 {
            // A kind and a member this viewer does not know: a mark, shown as it is.
            lines.push(format!(
                r#"{{"at_us":{t},"kind":"checkpoint","from":"{}","epoch":{call}}}"#,
                node(from)
            ));
        }
        match next(10) {
            0 => lines.push(format!(r#"{{"at_us":{t},"kind":"unreachable",{head},"what":"Paxos.accept","bytes":11,"delay_us":{delay}}}"#)),
            1 => {
                lines.push(format!(r#"{{"at_us":{t},"kind":"send",{head},"what":"Paxos.accept","bytes":11,"delay_us":{delay},{payload}}}"#));
                lines.push(format!(r#"{{"at_us":{},"kind":"request_lost",{head},"what":"Paxos.accept","bytes":0,"delay_us":0}}"#, t + delay));
            }
            2 => lines.push(format!(r#"{{"at_us":{t},"kind":"log","call":0,"from":"{}","to":"","what":"decided","bytes":0,"delay_us":0,"fields":{{"seq":{seq},"level":"INFO","target":"paxos"}}}}"#, node(from))),
            3 if next(200) == 0 => {
                let what = format!(r#"partition [[\"{}\"], [\"{}\", \"{}\"]]"#, node(from), node((from + 1) % 5), node((from + 2) % 5));
                lines.push(format!(r#"{{"at_us":{t},"kind":"links","call":0,"from":"","to":"","what":"{what}","bytes":0,"delay_us":0}}"#));
            }
            4 if next(200) == 0 => lines.push(format!(r#"{{"at_us":{t},"kind":"links","call":0,"from":"","to":"","what":"heal","bytes":0,"delay_us":0}}"#)),
            5 if next(300) == 0 => lines.push(format!(r#"{{"at_us":{t},"kind":"killed","call":0,"from":"{}","to":"","what":"","bytes":0,"delay_us":0}}"#, node(from))),
            6 if next(300) == 0 => lines.push(format!(r#"{{"at_us":{t},"kind":"server_started","call":0,"from":"{}","to":"","what":"","bytes":0,"delay_us":0}}"#, node(from))),
            _ => {
                lines.push(format!(r#"{{"at_us":{t},"kind":"send",{head},"what":"Paxos.accept","bytes":11,"delay_us":{delay},{payload}}}"#));
                lines.push(format!(r#"{{"at_us":{},"kind":"deliver",{head},"what":"","bytes":11,"delay_us":0}}"#, t + delay));
                let back = format!(r#""call":{call},"from":"{}","to":"{}""#, node(to), node(from));
                lines.push(format!(r#"{{"at_us":{},"kind":"reply",{back},"what":"Paxos.accept","bytes":5,"delay_us":0,"msg":"accept_ok n=({},{from})"}}"#, t + delay + 1000, call % 9));
            }
        }
    }
    lines.truncate(n);
    lines.join("\n") + "\n"
}

#[test]
fn a_trace_of_100k_events_renders_and_stays_small() {
    let dir = tempdir();
    let trace = dir.path().join("big.jsonl");
    std::fs::write(&trace, synthetic(100_000)).expect("the trace");
    let started = Instant::now();
    let page = view(&trace, &dir.path().join("big.html"));
    let written = started.elapsed();
    let bytes = std::fs::metadata(&page).expect("the page").len();
    let trace_bytes = std::fs::metadata(&trace).expect("the trace").len();
    eprintln!(
        "100,000 events: trace {trace_bytes} bytes, page {bytes} bytes, written in {written:?}"
    );
    if let Some(keep) = std::env::var_os("DISTLAB_TRACE_VIEW_KEEP") {
        // To measure or look at the page by hand.
        let keep = PathBuf::from(keep);
        let _ = std::fs::copy(&trace, keep.join("big.jsonl"));
        let _ = std::fs::copy(&page, keep.join("big.html"));
    }
    assert!(
        bytes <= MAX_PAGE_BYTES_100K,
        "the page has {bytes} bytes, more than {MAX_PAGE_BYTES_100K}"
    );

    let Some(browser) = chromium() else { return };
    let started = Instant::now();
    let dom = headless(&browser, &page, &["--dump-dom"]);
    let loaded = started.elapsed();
    eprintln!(
        "chromium --dump-dom of 100,000 events: {loaded:?} in all, {} ms in the page's script",
        body_attribute(&dom, "data-render-ms").unwrap_or("?")
    );
    assert_eq!(
        body_attribute(&dom, "data-rendered"),
        Some("1"),
        "not rendered"
    );
    assert_eq!(body_attribute(&dom, "data-events"), Some("100000"));
    assert_eq!(body_attribute(&dom, "data-lanes"), Some("5"));
    assert_whole_run_drawn(&dom);
    assert!(
        status(&dom).starts_with("rendered 100000 events on 5 lanes"),
        "{}",
        status(&dom)
    );
}

#[test]
fn a_malformed_trace_is_refused_with_its_line() {
    let dir = tempdir();
    let trace = dir.path().join("bad.jsonl");
    std::fs::write(
        &trace,
        "{\"at_us\":1,\"kind\":\"send\"}\n{\"at_us\":2,\"kind\":\n",
    )
    .expect("written");
    let output = Command::new(env!("CARGO_BIN_EXE_distlab"))
        .args(["trace", "view"])
        .arg(&trace)
        .output()
        .expect("distlab runs");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.jsonl is not a trace: line 2: not valid JSON"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("bad.html").exists(),
        "a page of a malformed trace"
    );
    let missing = Command::new(env!("CARGO_BIN_EXE_distlab"))
        .args(["trace", "view"])
        .arg(dir.path().join("none.jsonl"))
        .output()
        .expect("distlab runs");
    assert_eq!(missing.status.code(), Some(3));
    let usage = Command::new(env!("CARGO_BIN_EXE_distlab"))
        .args(["trace", "view"])
        .output()
        .expect("distlab runs");
    assert_eq!(usage.status.code(), Some(2));
}
