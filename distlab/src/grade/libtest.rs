//! Reading what cargo and libtest print: which binary runs, which test passed, what a
//! failure printed.

use std::collections::BTreeSet;

/// One test's outcome in one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `--lib` or `--test NAME`.
    pub target: String,
    /// The test's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What it printed, if it failed.
    pub output: String,
}

/// What a line of cargo's output says about the output that follows it.
enum Marker {
    /// A test binary starts: `--lib`, `--test NAME` or `--bin NAME`, or `None` for one that is
    /// not graded.
    Binary(Option<String>),
    /// The doc-tests start (not graded).
    DocTests,
}

/// Cargo prints `Running tests/NAME.rs (...)` or `Running unittests src/lib.rs (...)` before
/// each binary's output, and `Doc-tests LAB` before the doc-tests'.
fn marker(line: &str) -> Option<Marker> {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix("Running ") {
        let target = if rest.starts_with("unittests src/lib.rs") {
            Some("--lib".to_owned())
        } else if let Some(path) = rest.strip_prefix("tests/") {
            path.split(".rs")
                .next()
                .map(|name| format!("--test {name}"))
        } else if let Some(path) = rest.strip_prefix("unittests src/bin/") {
            path.split(".rs").next().map(|name| format!("--bin {name}"))
        } else {
            None
        };
        return Some(Marker::Binary(target));
    }
    trimmed
        .starts_with("Doc-tests ")
        .then_some(Marker::DocTests)
}

/// Whether cargo started any test binary (if not, the suite did not build).
pub(super) fn has_binaries(output: &str) -> bool {
    output
        .lines()
        .any(|l| matches!(marker(l), Some(Marker::Binary(_))))
}

/// What the test binary `target` printed (with cargo's report of how it ended), from its
/// `Running` line to the next binary's; `None` if it did not start.
pub fn binary_output(output: &str, target: &str) -> Option<String> {
    let mut section: Option<String> = None;
    let mut inside = false;
    for line in output.lines() {
        if let Some(m) = marker(line) {
            inside = matches!(&m, Marker::Binary(Some(t)) if t == target);
            if inside {
                section = Some(String::new());
            }
        }
        if inside && let Some(text) = &mut section {
            text.push_str(line);
            text.push('\n');
        }
    }
    section
}

/// Reads the output of `cargo test -- --list`: the tests of each graded binary, as
/// (`--lib` or `--test NAME`, name). Libtest lists a test as `NAME: test` (and a benchmark as
/// `NAME: benchmark`, which is not graded). Doc-tests are not graded.
pub fn parse_list(output: &str) -> BTreeSet<(String, String)> {
    let mut tests = BTreeSet::new();
    let mut target: Option<String> = None;
    for line in output.lines() {
        match marker(line) {
            Some(Marker::Binary(t)) => target = t,
            Some(Marker::DocTests) => target = None,
            None => {
                if let (Some(current), Some(name)) = (&target, line.strip_suffix(": test")) {
                    tests.insert((current.clone(), name.to_owned()));
                }
            }
        }
    }
    tests
}

/// The most of one failure's output kept while reading: its beginning (where the assertion
/// message is) and its end (where the seed and the replay command are), never the middle of
/// a test that prints without end.
const KEPT: usize = 64 * 1024;
/// What is kept of the beginning when the middle is cut.
const KEPT_HEAD: usize = 16 * 1024;

/// Appends `line` to `out`, cutting the middle once `out` passes [`KEPT`] bytes.
fn keep_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
    if out.len() > KEPT {
        let head = floor_char_boundary(out, KEPT_HEAD);
        let tail = floor_char_boundary(out, out.len() - (KEPT - KEPT_HEAD) / 2);
        let cut = out.len() - head - (out.len() - tail);
        *out = format!(
            "{}\n[... {cut} bytes of output left out ...]\n{}",
            &out[..head],
            &out[tail..]
        );
    }
}

/// The largest char boundary of `text` at or below `at`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// Reads libtest's output of a `cargo test` run: which test of which binary passed.
///
/// Cargo prints `Running tests/NAME.rs (...)` or `Running unittests src/lib.rs (...)` before each
/// binary's results; libtest prints `test NAME ... ok|FAILED|ignored`, then for failures a
/// `---- NAME stdout ----` section. Doc-tests are not graded. A test whose binary died before it
/// reported is simply absent: [`grade`] counts it as failed.
pub fn parse_libtest(output: &str) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut target: Option<String> = None;
    let mut failure: Option<usize> = None;
    for line in output.lines() {
        match marker(line) {
            Some(Marker::Binary(t)) => {
                target = t;
                failure = None;
                continue;
            }
            Some(Marker::DocTests) => {
                target = None;
                continue;
            }
            None => {}
        }
        let Some(current) = &target else { continue };
        if let Some(rest) = line.strip_prefix("test ") {
            let (name, verdict) = match rest.rsplit_once(" ... ") {
                Some(pair) => pair,
                None => continue,
            };
            let passed = match verdict.trim() {
                "ok" => true,
                v if v.starts_with("FAILED") => false,
                _ => continue, // ignored, bench, or cut short by a crash
            };
            outcomes.push(Outcome {
                target: current.clone(),
                name: name.trim().to_owned(),
                passed,
                output: String::new(),
            });
            continue;
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            failure = outcomes
                .iter()
                .rposition(|o| &o.target == current && o.name == name && !o.passed);
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            failure = None;
            continue;
        }
        if let Some(i) = failure {
            keep_line(&mut outcomes[i].output, line);
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "   Compiling paxos v0.1.0
     Running unittests src/lib.rs (target/debug/deps/paxos-1234)

running 1 test
test tests::unit ... ok

test result: ok. 1 passed; 0 failed
     Running tests/basic.rs (target/debug/deps/basic-abcd)

running 3 tests
test basic ... ok
test deaf ... FAILED
test slow ... ignored

failures:

---- deaf stdout ----
thread 'deaf' panicked at paxos/tests/basic.rs:10:5:
peers disagree
labrpc: FAILED with seed 9

failures:
    deaf

test result: FAILED. 1 passed; 1 failed; 1 ignored
   Doc-tests paxos

running 1 test
test paxos/src/lib.rs - (line 5) ... ok
";

    #[test]
    fn reads_libtest_output() {
        let outcomes = parse_libtest(SAMPLE);
        let summary: Vec<(&str, &str, bool)> = outcomes
            .iter()
            .map(|o| (o.target.as_str(), o.name.as_str(), o.passed))
            .collect();
        assert_eq!(
            summary,
            [
                ("--lib", "tests::unit", true),
                ("--test basic", "basic", true),
                ("--test basic", "deaf", false)
            ]
        );
        assert!(outcomes[2].output.contains("peers disagree"));
        assert!(outcomes[2].output.contains("seed 9"));
    }

    const LIST: &str = "   Compiling paxos v0.1.0
     Running unittests src/lib.rs (target/debug/deps/paxos-1234)
tests::unit: test
0 tests, 0 benchmarks
     Running tests/basic.rs (target/debug/deps/basic-abcd)
basic: test
deaf: test
speed: benchmark

3 tests, 1 benchmarks
   Doc-tests paxos
src/lib.rs - (line 5): test
";

    #[test]
    fn reads_the_list_of_tests() {
        let listed = parse_list(LIST);
        let listed: Vec<(&str, &str)> = listed
            .iter()
            .map(|(t, n)| (t.as_str(), n.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("--lib", "tests::unit"),
                ("--test basic", "basic"),
                ("--test basic", "deaf")
            ]
        );
    }

    /// A binary that died mid-run: its tests are absent, and its output (with cargo's report
    /// of the signal) is there for the note.
    #[test]
    fn a_crashed_binary_reports_nothing_but_its_output() {
        let output = "     Running tests/basic.rs (target/debug/deps/basic-abcd)

running 2 tests
test basic ... error: test failed, to rerun pass `-p paxos --test basic`

Caused by:
  process didn't exit successfully: `basic-abcd` (signal: 6, SIGABRT: process abort signal)
     Running tests/other.rs (target/debug/deps/other-abcd)

running 1 test
test other ... ok
";
        let outcomes = parse_libtest(output);
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].name, "other");
        let section = binary_output(output, "--test basic").expect("its output");
        assert!(section.contains("SIGABRT") && !section.contains("test other"));
        assert!(binary_output(output, "--test missing").is_none());
        assert!(has_binaries(output) && !has_binaries("error: could not compile `paxos`"));
    }

    #[test]
    fn a_long_failure_keeps_its_beginning_and_its_end() {
        let mut out = String::new();
        keep_line(&mut out, "thread 'x' panicked at src/lib.rs:1:1:");
        for i in 0..100_000 {
            keep_line(&mut out, &format!("line {i} é"));
        }
        keep_line(&mut out, "labrpc: replay with LABRPC_SEED=7");
        assert!(out.len() <= KEPT + 100, "{}", out.len());
        assert!(out.starts_with("thread 'x' panicked"));
        assert!(out.ends_with("LABRPC_SEED=7\n"));
        assert!(out.contains("bytes of output left out"));
    }
}
