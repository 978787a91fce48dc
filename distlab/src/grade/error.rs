//! Why grading could not be done.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::report::show_duration;
use crate::coursework::CourseError;
use crate::exit;

/// Why grading could not be done.
#[derive(Debug)]
pub enum GradeError {
    /// `cargo` could not be started, or its output not read.
    Cargo(std::io::Error),
    /// A suite did not build, so none of its tests ran.
    Build {
        /// The lab.
        lab: &'static str,
        /// The end of cargo's output.
        output: String,
    },
    /// A suite built, but its test binaries could not list their tests.
    List {
        /// The lab.
        lab: &'static str,
        /// The end of cargo's output.
        output: String,
    },
    /// Listing a suite's tests (which builds them) took longer than the time limit.
    ListTimeout {
        /// The lab.
        lab: &'static str,
        /// The time limit.
        timeout: Duration,
        /// The end of cargo's output.
        output: String,
    },
    /// The runs' seeds (`seed`, `seed + 1`, ..., `seed + runs - 1`) do not fit in a `u64`.
    Seeds {
        /// The first seed.
        seed: u64,
        /// The number of runs.
        runs: u64,
    },
    /// The results file could not be written.
    Write(PathBuf, std::io::Error),
    /// The submission could not be put into a copy of the staff's workspace.
    Submission(CourseError),
}

impl GradeError {
    /// The exit status of `distlab grade` for this error: [`exit::USAGE`] for arguments that
    /// cannot work together, [`exit::FAILED`] for a submission whose suite does not build or
    /// list its tests, [`exit::ERROR`] when distlab itself could not do its job.
    pub fn exit_code(&self) -> u8 {
        match self {
            GradeError::Seeds { .. } => exit::USAGE,
            GradeError::Build { .. } | GradeError::List { .. } => exit::FAILED,
            GradeError::Cargo(_)
            | GradeError::ListTimeout { .. }
            | GradeError::Write(..)
            | GradeError::Submission(_) => exit::ERROR,
        }
    }
}

impl fmt::Display for GradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradeError::Cargo(e) => write!(f, "cannot run cargo: {e}"),
            GradeError::Build { lab, output } => {
                write!(f, "the tests of {lab} did not build:\n{output}")
            }
            GradeError::List { lab, output } => {
                write!(
                    f,
                    "the tests of {lab} built but could not be listed:\n{output}"
                )
            }
            GradeError::ListTimeout {
                lab,
                timeout,
                output,
            } => write!(
                f,
                "listing the tests of {lab} (which builds them) took more than {}; \
                 if the build is just slow, raise --timeout. The end of cargo's output:\n{output}",
                show_duration(*timeout)
            ),
            GradeError::Seeds { seed, runs } => write!(
                f,
                "--seed {seed} with --runs {runs} needs seeds past {}, the largest there is; \
                 use a smaller --seed",
                u64::MAX
            ),
            GradeError::Write(path, e) => write!(f, "cannot write {}: {e}", path.display()),
            GradeError::Submission(e) => write!(f, "cannot assemble the submission: {e}"),
        }
    }
}

impl std::error::Error for GradeError {}
