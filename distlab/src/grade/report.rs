//! How grading shows text to people: a failure's report, the end of an output, a duration.

use std::time::Duration;

use super::score::TestResult;

/// The most a test's report in `results.json` holds.
pub const MAX_REPORT: usize = 6000;
/// The most of a report that the assertion message takes.
const MAX_MESSAGE: usize = 2000;

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let mut last: Vec<&str> = text.lines().rev().take(lines).collect();
    last.reverse();
    last.join("\n")
}

/// `20m`, `10s` or `1500ms`.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `text` with every absolute path of the grading tree made relative to it: `roots` are
/// the directories graded in, so that a report names `paxos/src/acceptor.rs`, not the
/// grader's `/tmp/...` or `/autograder/...`.
pub fn relative(text: &str, roots: &[String]) -> String {
    let mut out = text.to_owned();
    for root in roots.iter().filter(|r| !r.is_empty()) {
        let root = root.trim_end_matches('/');
        out = out.replace(&format!("{root}/"), "").replace(root, ".");
    }
    out
}

/// The assertion message of a failure: from the line that says where the test panicked to
/// the end of its message (or the note of a test without result).
fn message(output: &str) -> Option<String> {
    if output.starts_with("no result:") {
        return output.lines().next().map(str::to_owned);
    }
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.iter().position(|l| l.contains("panicked at"))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.is_empty() || l.starts_with("note:") || l.starts_with("stack backtrace"))
        .map_or(lines.len(), |n| start + 1 + n);
    Some(cut_to(&lines[start..end].join("\n"), MAX_MESSAGE))
}

/// `text`, cut to at most `max` bytes (on a char boundary) with a mark where it was cut.
fn cut_to(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let at = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{} [...]", &text[..at])
}

/// The end of `text` in at most `max` bytes, starting on a line.
fn end_of(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let from = (text.len() - max..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    let rest = &text[from..];
    let rest = rest.split_once('\n').map_or(rest, |(_, after)| after);
    format!("[...]\n{rest}")
}

/// What a student reads about a failing test, within [`MAX_REPORT`] bytes: the assertion
/// message, the seeds it failed with and the command that replays the first, then the end
/// of its output, with the grading tree's paths made relative.
pub fn failure_report(test: &TestResult, roots: &[String]) -> String {
    let output = relative(&test.output, roots);
    let mut report = String::new();
    if let Some(message) = message(&output) {
        report += &message;
        report += "\n\n";
    }
    if let Some(&seed) = test.failed_seeds.first() {
        let seeds: Vec<String> = test.failed_seeds.iter().map(u64::to_string).collect();
        report += &format!(
            "failed {} of {} runs, with seeds {}; replay: {}\n",
            test.failed_seeds.len(),
            test.runs,
            seeds.join(", "),
            test.replay(seed)
        );
    }
    let room = MAX_REPORT.saturating_sub(report.len() + 40);
    report += &format!("\nthe end of its output:\n{}", end_of(&output, room));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_show_in_their_unit() {
        assert_eq!(show_duration(Duration::from_secs(1200)), "20m");
        assert_eq!(show_duration(Duration::from_secs(90)), "90s");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn a_report_opens_with_the_message_and_the_replay_and_ends_with_the_output() {
        let mut output = "thread 'go_basic::basic' panicked at /tmp/grade-x1/paxos/tests/go_basic.rs:10:5:\nassertion `left == right` failed: decided twice\n  left: 1\n right: 2\nnote: run with `RUST_BACKTRACE=1`\n".to_owned();
        for i in 0..2000 {
            output += &format!("event {i}\n");
        }
        output += "labrpc: seed 7 failed; replay: LABRPC_SEED=7 cargo test\n";
        let test = TestResult {
            lab: "paxos".into(),
            target: "--test go_basic".into(),
            name: "basic".into(),
            runs: 3,
            failed_seeds: vec![7, 9],
            output,
            ..TestResult::default()
        };
        let report = failure_report(&test, &["/tmp/grade-x1".to_owned()]);
        assert!(report.len() <= MAX_REPORT, "{}", report.len());
        assert!(
            report.starts_with("thread 'go_basic::basic' panicked at paxos/tests/go_basic.rs:10:5:\nassertion `left == right` failed: decided twice\n  left: 1\n right: 2\n\nfailed 2 of 3 runs, with seeds 7, 9; replay: LABRPC_SEED=7 cargo test -p paxos --test go_basic -- basic --exact\n"),
            "{report}"
        );
        assert!(report.ends_with("labrpc: seed 7 failed; replay: LABRPC_SEED=7 cargo test\n"));
        assert!(!report.contains("/tmp/grade-x1"));
    }
}
