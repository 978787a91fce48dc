//! Gradescope: the `results.json` of a grading, and the autograder bundle that grades each
//! submission with distlab.
//!
//! The format is Gradescope's autograder specification: a top-level `score` and `output`,
//! and per test its `name`, `score`, `max_score`, `status`, `output` and `visibility`
//! (`visible`, or `after_published` for a staff-only test).

use serde::Serialize;
use std::path::Path;

use super::report::{MAX_REPORT, failure_report, relative};
use super::score::Grades;
use crate::cli::Lab;
use crate::coursework::{CourseError, tree};

/// One test in `results.json`.
#[derive(Serialize)]
struct Test {
    name: String,
    score: f64,
    max_score: f64,
    status: &'static str,
    output: String,
    visibility: &'static str,
}

/// Gradescope's `results.json` for `grades`.
pub fn results(grades: &Grades) -> serde_json::Value {
    let tests: Vec<Test> = grades
        .tests
        .iter()
        .map(|t| {
            let passed = t.runs > 0 && t.passed == t.runs;
            Test {
                name: format!("{} {}", t.lab, t.name),
                score: grades.score(t),
                max_score: grades.points,
                status: if passed { "passed" } else { "failed" },
                output: if passed {
                    String::new()
                } else {
                    failure_report(t, &grades.roots)
                },
                visibility: if t.hidden {
                    "after_published"
                } else {
                    "visible"
                },
            }
        })
        .collect();
    let mut output = String::new();
    for (lab, build) in &grades.build_failures {
        let build = relative(build, &grades.roots);
        let room = MAX_REPORT.min(build.len());
        let end = build.len() - room;
        let start = (end..build.len())
            .find(|&i| build.is_char_boundary(i))
            .unwrap_or(build.len());
        output += &format!(
            "{lab}: the tests did not build, so none of them ran (score 0). The end of \
             cargo's output:\n{}\n\n",
            &build[start..]
        );
    }
    for note in &grades.notes {
        output += note;
        output += "\n";
    }
    let (score, max_score) = grades.total();
    serde_json::json!({
        "score": score,
        "max_score": max_score,
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// What the bundle's `run_autograder` passes to `distlab grade`.
#[derive(Clone, Debug)]
pub struct BundleSettings {
    /// The labs graded (all if empty).
    pub labs: Vec<Lab>,
    /// Runs of each suite.
    pub runs: u64,
    /// Points per test.
    pub points: f64,
    /// Partial credit.
    pub partial: bool,
    /// The time limit of each cargo command, as `distlab grade --timeout` takes it.
    pub timeout: String,
}

/// Writes the autograder bundle into `out` (new or empty): `setup.sh`, `run_autograder`, and
/// the staff's workspace under `staff/`. Zipped (its contents, not the folder), it is what
/// Gradescope takes as a programming assignment's autograder.
///
/// # Errors
/// If `out` is not empty or a file cannot be read or written.
pub fn write_bundle(
    staff: &Path,
    out: &Path,
    settings: &BundleSettings,
) -> Result<(), CourseError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |e| CourseError::Io(path, e)
    };
    if out.exists() && std::fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(CourseError::NotEmpty(out.to_owned()));
    }
    tree::copy(staff, &out.join("staff")).map_err(|(path, e)| CourseError::Io(path, e))?;
    let labs: Vec<&str> = settings.labs.iter().map(|l| l.name()).collect();
    let partial = if settings.partial { " --partial" } else { "" };
    let grade = format!(
        "grade {} --runs {} --points {}{partial} --timeout {}",
        labs.join(" "),
        settings.runs,
        settings.points,
        settings.timeout
    );
    write_script(out, "setup.sh", SETUP)?;
    write_script(out, "run_autograder", &RUN.replace("@GRADE@", &grade))?;
    Ok(())
}

/// Writes an executable script.
fn write_script(out: &Path, name: &str, text: &str) -> Result<(), CourseError> {
    let path = out.join(name);
    std::fs::write(&path, text).map_err(|e| CourseError::Io(path.clone(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| CourseError::Io(path.clone(), e))?;
    }
    Ok(())
}

/// Gradescope runs this once, when it builds the autograder's image.
const SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image: it installs Rust,
# builds distlab, and builds the staff's test suites once, so that grading a submission
# rebuilds only the student files.
set -euxo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
apt-get install -y --no-install-recommends curl ca-certificates build-essential
if ! command -v cargo >/dev/null; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
export PATH="$HOME/.cargo/bin:$PATH"
cd "$source_dir/staff"
cargo build --release --locked -p distlab
CARGO_TARGET_DIR="$source_dir/staff/target/grading" cargo test --workspace --locked --no-run
"#;

/// Gradescope runs this for each submission; `@GRADE@` is replaced by the grade command.
const RUN: &str = r#"#!/usr/bin/env bash
# Gradescope runs this for each submission, in /autograder: it grades the student files of
# /autograder/submission against the staff's tests and writes /autograder/results/results.json.
# AUTOGRADER_ROOT (default /autograder) and DISTLAB (default: the distlab setup.sh built)
# let it run anywhere for a test.
set -u
root="${AUTOGRADER_ROOT:-/autograder}"
source_dir="$(cd "$(dirname "$0")" && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
distlab="${DISTLAB:-$source_dir/staff/target/release/distlab}"
mkdir -p "$root/results"
results="$root/results/results.json"
rm -f "$results"
"$distlab" @GRADE@ --workspace "$source_dir/staff" --submission "$root/submission" --json "$results"
status=$?
if [ ! -s "$results" ]; then
    # distlab could not grade at all (not a failing submission: that writes its results).
    printf '{"score": 0, "output": "The autograder could not grade this submission (distlab exited with status %s). Please tell the course staff."}\n' "$status" >"$results"
fi
exit 0
"#;
