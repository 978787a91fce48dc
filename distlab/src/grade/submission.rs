//! A submission, graded against the staff's tests: a fresh copy of the staff's workspace
//! into which only the submission's student files are put.
//!
//! Nothing else of the submission counts: a changed test, a reliable labrpc, a new
//! dependency are reported and ignored. A student file the submission lacks (or one too
//! large to be a lab's source) is graded as the handout gave it, with a note.

use std::path::Path;

use super::error::GradeError;
use crate::cli::Lab;
use crate::coursework::handout::Content;
use crate::coursework::{CourseError, Handout, Manifest, tree};

/// The largest student file taken from a submission.
pub const MAX_STUDENT_FILE: u64 = 1 << 20;
/// How many ignored files a note names before it says how many more there are.
const NAMED: usize = 20;

/// The tree a submission is graded in, and what was left out of it.
#[derive(Debug)]
pub struct Assembled {
    /// The copy of the staff's workspace with the student files in it (removed when dropped).
    pub dir: tempfile::TempDir,
    /// Files of the submission outside the student files that differ from the handout's.
    pub ignored: Vec<String>,
    /// Student files the submission lacks.
    pub missing: Vec<String>,
    /// Student files larger than [`MAX_STUDENT_FILE`], or not regular files.
    pub refused: Vec<String>,
}

impl Assembled {
    /// The notes a report shows about the submission.
    pub fn notes(&self) -> Vec<String> {
        let list = |files: &[String]| {
            let mut named = files[..files.len().min(NAMED)].join(", ");
            if files.len() > NAMED {
                named += &format!(" and {} more", files.len() - NAMED);
            }
            named
        };
        let mut notes = Vec::new();
        if !self.ignored.is_empty() {
            notes.push(format!(
                "ignored (changed outside the student files; grading uses the staff's): {}",
                list(&self.ignored)
            ));
        }
        if !self.missing.is_empty() {
            notes.push(format!(
                "missing student files (graded as handed out): {}",
                list(&self.missing)
            ));
        }
        if !self.refused.is_empty() {
            notes.push(format!(
                "refused student files (not a regular file, or over {} bytes; graded as \
                 handed out): {}",
                MAX_STUDENT_FILE,
                list(&self.refused)
            ));
        }
        notes
    }
}

/// Copies the staff's workspace `staff` and puts into the copy the student files of `labs`
/// found in `submission`.
///
/// # Errors
/// If a manifest is wrong, the submission is not a directory, or a file cannot be read or
/// written.
pub fn assemble(staff: &Path, submission: &Path, labs: &[Lab]) -> Result<Assembled, GradeError> {
    let fail = |e: CourseError| GradeError::Submission(e);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |e| GradeError::Submission(CourseError::Io(path, e))
    };
    // What a student may have been given: the handout of every lab (a course hands them all
    // out) or, for a lab not handed out, the staff's file (a course that hands out some).
    let every_lab = Handout::make(staff, &[]).map_err(fail)?;
    for &lab in labs {
        if !every_lab.labs.iter().any(|m| m.lab == lab) {
            // Not in the staff's tree: the manifest's own error says why.
            Manifest::read(staff, lab).map_err(|e| fail(e.into()))?;
        }
    }
    let graded = every_lab
        .labs
        .iter()
        .filter(|m| labs.is_empty() || labs.contains(&m.lab));
    if !submission.is_dir() {
        return Err(fail(CourseError::Io(
            submission.to_owned(),
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        )));
    }
    let dir = tempfile::Builder::new()
        .prefix("distlab-grade-")
        .tempdir()
        .map_err(io(&std::env::temp_dir()))?;
    tree::copy(staff, dir.path()).map_err(|(path, e)| fail(CourseError::Io(path, e)))?;
    let mut assembled = Assembled {
        dir,
        ignored: Vec::new(),
        missing: Vec::new(),
        refused: Vec::new(),
    };
    let student: Vec<&String> = graded.flat_map(|m| &m.student_files).collect();
    for file in &student {
        let from = submission.join(file);
        let to = assembled.dir.path().join(file);
        match std::fs::symlink_metadata(&from) {
            Ok(meta) if meta.is_file() && meta.len() <= MAX_STUDENT_FILE => {
                std::fs::copy(&from, &to).map_err(io(&to))?;
                continue;
            }
            Ok(_) => assembled.refused.push((*file).clone()),
            Err(_) => assembled.missing.push((*file).clone()),
        }
        if let Some(Content::Text(stub)) = every_lab.files.get(*file) {
            std::fs::write(&to, stub).map_err(io(&to))?;
        }
    }
    let any_student_file = |path: &str| every_lab.labs.iter().any(|m| m.is_student_file(path));
    for path in tree::files(submission).map_err(io(submission))? {
        if any_student_file(&path) {
            continue;
        }
        let as_handed_out = match every_lab.files.get(&path) {
            Some(Content::Text(text)) => same_bytes(&submission.join(&path), text.as_bytes()),
            _ => false,
        };
        let staff_file = staff.join(&path);
        let as_staff = staff_file.is_file() && {
            let expected = std::fs::read(&staff_file).map_err(io(&staff_file))?;
            same_bytes(&submission.join(&path), &expected)
        };
        if !as_handed_out && !as_staff {
            assembled.ignored.push(path);
        }
    }
    Ok(assembled)
}

/// Whether the file at `path` holds exactly `expected` (read only if its size matches).
fn same_bytes(path: &Path, expected: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == expected.len() as u64)
        && std::fs::read(path).is_ok_and(|bytes| bytes == expected)
}
