//! Why a handout could not be made or checked, or a submission not assembled.

use std::fmt;
use std::path::PathBuf;

use super::manifest::ManifestError;
use super::regions::RegionError;

/// Why a coursework command could not do its job.
#[derive(Debug)]
pub enum CourseError {
    /// A lab's manifest is missing or wrong.
    Manifest(ManifestError),
    /// A file or directory could not be read or written.
    Io(PathBuf, std::io::Error),
    /// A student file's solution markers do not pair up.
    Region(String, RegionError),
    /// A solution region stands in a file that is not a student file: grading would use
    /// the staff's copy of that file, so the student's work there would not count.
    RegionOutside(String, usize),
    /// A lab to hand out has no solution region: its handout would be the solution.
    NoRegions(&'static str),
    /// A student file is not UTF-8 text.
    NotText(String),
    /// The handout's directory exists and is not empty.
    NotEmpty(PathBuf),
    /// The handout's directory is inside the workspace it is made from.
    InsideWorkspace(PathBuf),
    /// Cargo could not be run for the check.
    Cargo(String),
}

impl fmt::Display for CourseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CourseError::Manifest(e) => write!(f, "{e}"),
            CourseError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            CourseError::Region(path, e) => write!(f, "{path}: {e}"),
            CourseError::RegionOutside(path, line) => write!(
                f,
                "{path}:{line}: a solution region in a file that is not a student file (add \
                 the file to student-files in its lab's Cargo.toml, or move the region)"
            ),
            CourseError::NoRegions(lab) => write!(
                f,
                "{lab} has no solution region in its student files: its handout would hold \
                 the whole solution"
            ),
            CourseError::NotText(path) => write!(f, "{path}: a student file that is not UTF-8"),
            CourseError::NotEmpty(path) => write!(
                f,
                "{} exists and is not empty: give a new or empty directory",
                path.display()
            ),
            CourseError::InsideWorkspace(path) => write!(
                f,
                "{} is inside the workspace: give a directory outside it",
                path.display()
            ),
            CourseError::Cargo(e) => write!(f, "cannot run cargo: {e}"),
        }
    }
}

impl std::error::Error for CourseError {}

impl From<ManifestError> for CourseError {
    fn from(e: ManifestError) -> CourseError {
        CourseError::Manifest(e)
    }
}
