//! The handout's self-check: what a course relies on before it hands a workspace out.
//!
//! - no line of a solution region is in the handout (but lines that also stand outside the
//!   regions, such as a lone `}`);
//! - the handout builds and is clippy-clean (`-D warnings`, every target);
//! - every test of a handed-out lab fails with the stubs' "not yet implemented", but the
//!   given tests of its manifest, which pass.

use std::path::Path;
use std::time::Duration;

use super::error::CourseError;
use super::handout::Handout;
use crate::grade::report::tail;
use crate::grade::{Cargo, parse_libtest};

/// What the check found.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// What is wrong; empty if the handout passed.
    pub problems: Vec<String>,
    /// What was checked, one line per step.
    pub checked: Vec<String>,
}

/// Checks the handout written at `out`, building in `target_dir`.
///
/// # Errors
/// If a file cannot be read or cargo cannot be run.
pub fn check(
    handout: &Handout,
    out: &Path,
    target_dir: &Path,
    timeout: Duration,
) -> Result<CheckReport, CourseError> {
    let mut report = CheckReport::default();
    let leaks = handout.leaks(out)?;
    report.checked.push(format!(
        "{} solution lines cut from {} student files; {} left in the handout",
        handout.solution.values().map(Vec::len).sum::<usize>(),
        handout.solution.len(),
        leaks.len()
    ));
    report.problems.extend(
        leaks
            .into_iter()
            .map(|l| format!("solution line in the handout: {l}")),
    );
    let cargo = Cargo {
        workspace: out,
        target_dir: Some(target_dir),
        timeout,
        backtraces: false,
    };
    let failed = |e: crate::grade::GradeError| CourseError::Cargo(e.to_string());
    let clippy = cargo
        .run(
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--color",
                "never",
                "--",
                "-D",
                "warnings",
            ],
            None,
        )
        .map_err(failed)?;
    if clippy.success {
        report.checked.push("cargo clippy: clean".to_owned());
    } else {
        report.problems.push(format!(
            "the handout does not pass cargo clippy -D warnings:\n{}",
            tail(&clippy.output, 40)
        ));
        return Ok(report); // its tests would not build either
    }
    for lab in &handout.labs {
        let run = cargo
            .test(lab.lab.name(), &["--color", "never"], 1)
            .map_err(failed)?;
        let outcomes = parse_libtest(&run.output);
        if outcomes.is_empty() {
            report.problems.push(format!(
                "{}: no test reported a result:\n{}",
                lab.lab.name(),
                tail(&run.output, 40)
            ));
            continue;
        }
        let (mut stubbed, mut given) = (0, 0);
        for outcome in &outcomes {
            let name = format!("{} {} {}", lab.lab.name(), outcome.target, outcome.name);
            let is_given = lab.is_given_test(&outcome.target, &outcome.name);
            match (is_given, outcome.passed) {
                (true, true) => given += 1,
                (true, false) => report.problems.push(format!(
                    "{name}: a given test fails in the handout:\n{}",
                    tail(&outcome.output, 20)
                )),
                (false, true) => report.problems.push(format!(
                    "{name}: passes without student code (cut more of the solution, or list \
                     its file in given-tests)"
                )),
                (false, false) if !outcome.output.contains("not yet implemented") => {
                    report.problems.push(format!(
                        "{name}: fails for another reason than a stub:\n{}",
                        tail(&outcome.output, 20)
                    ));
                }
                (false, false) => stubbed += 1,
            }
        }
        report.checked.push(format!(
            "{} (lab {}): {stubbed} tests fail until written, {given} given tests pass",
            lab.lab.name(),
            lab.number
        ));
    }
    Ok(report)
}
