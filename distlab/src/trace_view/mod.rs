//! `distlab trace view`: a trace as one offline HTML page, a space-time diagram.
//!
//! A lane per node, an arrow per message (lost, unreachable, rejected and unanswered ones
//! drawn apart), protocol events (`log`) as marks on their node's lane, partitions and
//! crashes as bands, with zoom, pan, filters and a panel showing every field of what is
//! clicked. The page embeds its script, its style and the trace (see [`encode`]), needs no
//! network, and draws on a canvas only what is in view, so that 100,000 events stay usable.

pub mod encode;
pub mod layout;
pub mod parse;

use std::fmt;
use std::path::{Path, PathBuf};

const TEMPLATE: &str = include_str!("view.html");
const STYLE: &str = include_str!("view.css");
const DATA_SCRIPT: &str = include_str!("data.js");
const DRAW_SCRIPT: &str = include_str!("draw.js");
const VIEW_SCRIPT: &str = include_str!("view.js");

/// What a rendered page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Events in the trace.
    pub events: usize,
    /// Lanes (nodes).
    pub lanes: usize,
}

/// Why a trace could not be shown.
#[derive(Debug)]
pub enum ViewError {
    /// The trace could not be read.
    Read(PathBuf, std::io::Error),
    /// A line of the trace is not an event.
    Malformed(PathBuf, parse::Malformed),
    /// The page would overwrite the trace itself.
    SamePath(PathBuf),
    /// The page could not be written.
    Write(PathBuf, std::io::Error),
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewError::Read(path, e) => write!(f, "cannot read the trace {}: {e}", path.display()),
            ViewError::Malformed(path, e) => {
                write!(f, "{} is not a trace: {e}", path.display())
            }
            ViewError::SamePath(path) => write!(
                f,
                "the page would overwrite the trace {}: give another --out",
                path.display()
            ),
            ViewError::Write(path, e) => write!(f, "cannot write {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for ViewError {}

/// The page of the trace `text` (JSON lines), titled `title`.
pub fn render(text: &str, title: &str) -> Result<(String, Summary), parse::Malformed> {
    let mut events = parse::parse(text)?;
    // The trace is in time order; a stable sort keeps it so and mends one that is not.
    events.sort_by_key(|e| e.at_us);
    let layout = layout::layout(&events);
    let data = encode::script_safe(&encode::encode(&events, &layout, title));
    let summary = Summary {
        events: events.len(),
        lanes: layout.nodes.len(),
    };
    Ok((page(title, &data), summary))
}

/// Fills the template: the title, the style, the data and the script.
fn page(title: &str, data: &str) -> String {
    let scripts = DATA_SCRIPT.len() + DRAW_SCRIPT.len() + VIEW_SCRIPT.len() + 2;
    let mut html = String::with_capacity(TEMPLATE.len() + STYLE.len() + scripts + data.len());
    let mut rest = TEMPLATE;
    // Each placeholder once, in order; the data and the script are not searched again.
    for (mark, value) in [
        ("{{TITLE}}", encode::html_escape(title)),
        ("{{STYLE}}", STYLE.to_owned()),
        ("{{DATA}}", data.to_owned()),
        (
            "{{SCRIPT}}",
            format!("{DATA_SCRIPT}\n{DRAW_SCRIPT}\n{VIEW_SCRIPT}"),
        ),
    ] {
        match rest.split_once(mark) {
            Some((before, after)) => {
                html.push_str(before);
                html.push_str(&value);
                rest = after;
            }
            None => debug_assert!(false, "the template has no {mark}"),
        }
    }
    html.push_str(rest);
    html
}

/// The default page of a trace: the same path with the extension `.html`.
pub fn default_output(trace: &Path) -> PathBuf {
    trace.with_extension("html")
}

/// Reads the trace `input`, writes its page to `output` (default: [`default_output`]) and
/// returns the page's path and what it shows.
pub fn view_file(input: &Path, output: Option<&Path>) -> Result<(PathBuf, Summary), ViewError> {
    let text =
        std::fs::read_to_string(input).map_err(|e| ViewError::Read(input.to_path_buf(), e))?;
    let output = output.map_or_else(|| default_output(input), Path::to_path_buf);
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let output = absolute(&output);
    if output == absolute(input) {
        return Err(ViewError::SamePath(output));
    }
    let title = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (html, summary) =
        render(&text, &title).map_err(|e| ViewError::Malformed(input.to_path_buf(), e))?;
    std::fs::write(&output, html).map_err(|e| ViewError::Write(output.clone(), e))?;
    Ok((output, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = concat!(
        r#"{"at_us":0,"kind":"server_started","call":0,"from":"px1","to":"","what":"","bytes":0,"delay_us":0}"#,
        "\n",
        r#"{"at_us":0,"kind":"send","call":1,"from":"px1","to":"px0","what":"Paxos.prepare","bytes":6,"delay_us":25000,"msg":"prepare seq=5 </script>","fields":{"seq":5,"n":"(3,1)"}}"#,
        "\n",
        r#"{"at_us":25000,"kind":"deliver","call":1,"from":"px1","to":"px0","what":"","bytes":6,"delay_us":0}"#,
        "\n",
    );

    #[test]
    fn a_page_embeds_everything_and_no_closing_tag_of_the_data() {
        let (html, summary) = render(TRACE, "t<1>.jsonl").expect("a page");
        assert_eq!(
            summary,
            Summary {
                events: 3,
                lanes: 2
            }
        );
        assert!(html.contains("<title>t&lt;1&gt;.jsonl"));
        assert!(!html.contains("{{"), "a placeholder left");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "nothing online"
        );
        let start = html.find(r#"<script type="application/json" id="trace-data">"#);
        let data = &html[start.expect("the data")..];
        let end = data.find("</script>").expect("its end");
        let json = &data[data.find('>').expect("tag") + 1..end];
        let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(value["count"], 3);
        assert_eq!(value["nodes"], serde_json::json!(["px0", "px1"]));
        let strings = value["strings"].as_array().expect("strings");
        assert!(strings.iter().any(|s| s == "prepare seq=5 </script>"));
        // The deliver gets the instance of its call's send.
        let seq = value["seq"].as_array().expect("seq");
        assert_eq!(strings[seq[2].as_u64().expect("an index") as usize], "5");
    }

    #[test]
    fn the_scripts_cannot_end_their_element() {
        for script in [DATA_SCRIPT, DRAW_SCRIPT, VIEW_SCRIPT, STYLE] {
            assert!(
                !script.to_ascii_lowercase().contains("</"),
                "a closing tag in a script"
            );
        }
    }

    #[test]
    fn files_errors_name_the_file_and_the_line() {
        let dir = tempfile::tempdir().expect("a directory");
        let input = dir.path().join("bad.jsonl");
        std::fs::write(&input, format!("{TRACE}{{\"at_us\":\"soon\"}}\n")).expect("written");
        let err = view_file(&input, None).expect_err("malformed");
        assert!(
            err.to_string()
                .contains("bad.jsonl is not a trace: line 4: at_us"),
            "{err}"
        );
        let err = view_file(&dir.path().join("none.jsonl"), None).expect_err("missing");
        assert!(matches!(err, ViewError::Read(..)), "{err}");
        let err = view_file(&input, Some(&input)).expect_err("the same file");
        assert!(matches!(err, ViewError::SamePath(..)), "{err}");
        std::fs::write(&input, TRACE).expect("written");
        let (out, summary) = view_file(&input, None).expect("a page");
        assert_eq!(out, dir.path().join("bad.html"));
        assert_eq!(summary.events, 3);
        let missing = dir.path().join("no/such/dir.html");
        assert!(matches!(
            view_file(&input, Some(&missing)),
            Err(ViewError::Write(..))
        ));
    }
}
