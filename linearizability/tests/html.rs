//! The HTML picture of a failing history: its content, and (ignored by default, needs Debian's
//! `chromium`) that a headless browser loads it and runs its script.
//!
//! Run the browser check with:
//! `cargo test -p linearizability --test html -- --ignored` (set `CHROMIUM=/path/to/chromium`
//! if the binary is not called `chromium`).

use linearizability::models::{KvInput, KvMap, KvOutput};
use linearizability::{Operation, Report, Verdict, check, html};

/// Two keys; on key "b" a get misses an append that finished before it: a violation.
fn failing_history() -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        Operation::returned(0, 0, 10, KvInput::put("a", "<1>"), KvOutput::Done),
        Operation::returned(1, 5, 20, KvInput::append("b", "x"), KvOutput::Done),
        Operation::returned(2, 8, 25, KvInput::append("b", "y"), KvOutput::Done),
        Operation::returned(0, 30, 40, KvInput::get("b"), KvOutput::Value("x".into())),
        Operation::returned(1, 32, 45, KvInput::get("a"), KvOutput::Value("<1>".into())),
        Operation::unknown(2, 50, KvInput::append("b", "z")),
    ]
}

fn render() -> (Report, String) {
    let history = failing_history();
    let report = check(&KvMap, &history).expect("well formed");
    let page = html::render("a lost append", &KvMap, &history, &report);
    (report, page)
}

#[test]
fn page_shows_the_violation() {
    let (report, page) = render();
    assert_eq!(report.verdict, Verdict::Violation);
    let failing = report.violations().next().expect("one failing part");
    assert_eq!(failing.breaking_op, Some(3), "the get that misses y");

    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<b class=\"v-violation\">violation</b>"));
    // One bar per operation, one of them the breaking one, one with an unknown outcome.
    assert_eq!(page.matches("<g class=\"op ").count(), 6);
    assert_eq!(page.matches("<g class=\"op break").count(), 1);
    assert_eq!(page.matches(" unknown\" data-op=").count(), 1);
    assert!(page.contains("breaks here"));
    assert!(page.contains("get(&quot;b&quot;) -&gt; &quot;x&quot;"));
    // The numbered dots of the longest prefix of the failing part and of the other part.
    let dots: usize = report.parts.iter().map(|p| p.linearization.len()).sum();
    assert_eq!(page.matches("<g class=\"point\">").count(), dots);
    // User text is escaped: the value "<1>" never appears raw.
    assert!(!page.contains("<1>"));
    assert!(page.contains("&lt;1&gt;"));
    // The failing part comes first and is open.
    let first = page.find("<details").expect("a part");
    assert!(
        page[first..]
            .starts_with("<details class=\"part\" id=\"part-1\" data-verdict=\"violation\" open>")
    );
}

#[test]
fn page_is_self_contained() {
    let (_, page) = render();
    for external in ["<link", "src=", "@import", "url(", "https://"] {
        assert!(!page.contains(external), "page refers outside: {external}");
    }
    // The only URL is the SVG namespace name, which is never fetched.
    assert_eq!(
        page.matches("http://").count(),
        page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
}

#[test]
#[ignore = "needs a headless Chromium (Debian package `chromium`); see the file's doc"]
fn chromium_renders_the_page() {
    let (_, page) = render();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("linearizability-violation.html");
    std::fs::write(&file, page).expect("write the page");
    let browser = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let output = std::process::Command::new(&browser)
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--dump-dom"])
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {browser}: {e}"));
    assert!(output.status.success(), "{browser} failed: {output:?}");
    let dom = String::from_utf8_lossy(&output.stdout);
    // The script ran and counted what the SVG drew.
    assert!(
        dom.contains("data-drawn=\"6 operations, 1 breaking\""),
        "script output missing from the DOM:\n{dom}"
    );
}
