//! A lab's manifest: which of its files a student writes, and which only the staff have.
//!
//! It is the `[package.metadata.distlab]` table of the lab's `Cargo.toml` (paths relative
//! to the crate's folder, with `/`):
//!
//! ```toml
//! [package.metadata.distlab]
//! lab = "3A"
//! student-files = ["src/acceptor.rs", "src/proposer.rs"]
//! staff-only = ["tests/proposer.rs"]
//! given-tests = ["tests/encoding.rs"]
//! ```
//!
//! - `student-files`: the files a student writes. Solution regions may stand only in them,
//!   and grading takes only them from a submission.
//! - `staff-only`: files the handout leaves out. Test files among them are graded, hidden
//!   from the student until the grades are published.
//! - `given-tests`: test files whose tests pass without any student code (the self-check
//!   expects every other test of the lab to fail in the handout). Unit tests (`--lib`) are
//!   given unless they live in a student file's module.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::cli::Lab;

/// What the manifest of one lab says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The lab.
    pub lab: Lab,
    /// Its number in the course ("3A"), used in stubs and reports.
    pub number: String,
    /// The files a student writes, relative to the workspace root (`paxos/src/acceptor.rs`).
    pub student_files: Vec<String>,
    /// The files only the staff have, relative to the workspace root.
    pub staff_only: Vec<String>,
    /// The test files that pass without student code, relative to the workspace root.
    pub given_tests: Vec<String>,
}

/// Why a manifest could not be read.
#[derive(Debug)]
pub enum ManifestError {
    /// `Cargo.toml` could not be read.
    Read(PathBuf, std::io::Error),
    /// It is not valid TOML, or the table has a wrong field.
    Parse(PathBuf, String),
    /// It has no `[package.metadata.distlab]` table, or it lists no student file.
    Missing(PathBuf),
    /// A path is absolute, climbs out of the crate with `..`, or is not in the crate.
    BadPath(PathBuf, String),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Read(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            ManifestError::Parse(path, e) => {
                write!(f, "{}: [package.metadata.distlab]: {e}", path.display())
            }
            ManifestError::Missing(path) => write!(
                f,
                "{}: no [package.metadata.distlab] table with student-files: the lab has no \
                 manifest of the files a student writes",
                path.display()
            ),
            ManifestError::BadPath(path, file) => write!(
                f,
                "{}: {file:?} is not a file of the crate (give a relative path inside it, \
                 without ..)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

/// The table as written.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Table {
    lab: String,
    #[serde(default)]
    student_files: Vec<String>,
    #[serde(default)]
    staff_only: Vec<String>,
    #[serde(default)]
    given_tests: Vec<String>,
}

#[derive(Deserialize)]
struct CargoToml {
    package: Package,
}

#[derive(Deserialize)]
struct Package {
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    distlab: Option<Table>,
}

impl Manifest {
    /// Reads the manifest of `lab` in the workspace at `root`.
    ///
    /// # Errors
    /// If `LAB/Cargo.toml` cannot be read or parsed, has no manifest, or names a path
    /// outside the crate.
    pub fn read(root: &Path, lab: Lab) -> Result<Manifest, ManifestError> {
        let path = root.join(lab.name()).join("Cargo.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| ManifestError::Read(path.clone(), e))?;
        let toml: CargoToml =
            toml::from_str(&text).map_err(|e| ManifestError::Parse(path.clone(), e.to_string()))?;
        let table = toml
            .package
            .metadata
            .and_then(|m| m.distlab)
            .filter(|t| !t.student_files.is_empty())
            .ok_or_else(|| ManifestError::Missing(path.clone()))?;
        let inside = |files: Vec<String>| -> Result<Vec<String>, ManifestError> {
            files
                .into_iter()
                .map(|file| {
                    let relative = Path::new(&file);
                    let plain = relative
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)));
                    if plain && !file.is_empty() && !file.contains('\\') {
                        Ok(format!("{}/{file}", lab.name()))
                    } else {
                        Err(ManifestError::BadPath(path.clone(), file))
                    }
                })
                .collect()
        };
        Ok(Manifest {
            lab,
            number: table.lab,
            student_files: inside(table.student_files)?,
            staff_only: inside(table.staff_only)?,
            given_tests: inside(table.given_tests)?,
        })
    }

    /// Whether `path` (relative to the workspace root) is a student file of this lab.
    pub fn is_student_file(&self, path: &str) -> bool {
        self.student_files.iter().any(|f| f == path)
    }

    /// Whether `path` is left out of the handout.
    pub fn is_staff_only(&self, path: &str) -> bool {
        self.staff_only.iter().any(|f| f == path)
    }

    /// The test target (`--test NAME`) of a file under `LAB/tests/`, if it is one.
    fn test_target(&self, path: &str) -> Option<String> {
        let file = path.strip_prefix(&format!("{}/tests/", self.lab.name()))?;
        let name = file.strip_suffix(".rs")?;
        (!name.contains('/')).then(|| format!("--test {name}"))
    }

    /// Whether the test `name` of binary `target` is staff-only (graded hidden).
    pub fn is_staff_test(&self, target: &str) -> bool {
        self.staff_only
            .iter()
            .any(|f| self.test_target(f).as_deref() == Some(target))
    }

    /// Whether the test `name` of binary `target` passes without student code.
    pub fn is_given_test(&self, target: &str, name: &str) -> bool {
        if target == "--lib" {
            return !self.student_files.iter().any(|f| {
                module_of(f, self.lab.name())
                    .is_some_and(|m| name == m || name.starts_with(&format!("{m}::")))
            });
        }
        self.given_tests
            .iter()
            .any(|f| self.test_target(f).as_deref() == Some(target))
    }
}

/// The module path of a source file of crate `lab`: `paxos/src/acceptor.rs` is
/// `acceptor`, `pbkv/src/server/mod.rs` is `server`; `None` for the crate root.
fn module_of(path: &str, lab: &str) -> Option<String> {
    let file = path.strip_prefix(&format!("{lab}/src/"))?;
    let stem = file.strip_suffix(".rs")?;
    let stem = stem.strip_suffix("/mod").unwrap_or(stem);
    (stem != "lib" && stem != "main").then(|| stem.replace('/', "::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            lab: Lab::Pbkv,
            number: "2B".into(),
            student_files: vec!["pbkv/src/server/mod.rs".into(), "pbkv/src/clerk.rs".into()],
            staff_only: vec!["pbkv/tests/beyond.rs".into()],
            given_tests: vec!["pbkv/tests/encoding.rs".into()],
        }
    }

    #[test]
    fn unit_tests_are_given_unless_they_test_a_student_module() {
        let m = manifest();
        assert!(!m.is_given_test("--lib", "server::tests::a"));
        assert!(!m.is_given_test("--lib", "clerk::tests::b"));
        assert!(m.is_given_test("--lib", "storage::tests::c"));
        assert!(m.is_given_test("--lib", "serverless::d"));
        assert!(m.is_given_test("--test encoding", "x"));
        assert!(!m.is_given_test("--test go_basic", "x"));
    }

    #[test]
    fn staff_only_test_files_are_staff_tests() {
        let m = manifest();
        assert!(m.is_staff_test("--test beyond"));
        assert!(!m.is_staff_test("--test go_basic"));
        assert!(!m.is_staff_test("--lib"));
    }

    #[test]
    fn a_manifest_is_read_from_the_crate_and_its_paths_checked() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let write = |text: &str| {
            std::fs::create_dir_all(dir.path().join("paxos")).expect("a folder");
            std::fs::write(dir.path().join("paxos/Cargo.toml"), text).expect("a file");
        };
        write(
            "[package]\nname = \"paxos\"\n[package.metadata.distlab]\nlab = \"3A\"\n\
             student-files = [\"src/acceptor.rs\"]\nstaff-only = [\"tests/proposer.rs\"]\n",
        );
        let m = Manifest::read(dir.path(), Lab::Paxos).expect("a manifest");
        assert_eq!(m.student_files, vec!["paxos/src/acceptor.rs".to_owned()]);
        assert_eq!(m.number, "3A");
        write("[package]\nname = \"paxos\"\n");
        let err = Manifest::read(dir.path(), Lab::Paxos)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.to_string().contains("no [package.metadata.distlab]"),
            "{err}"
        );
        write(
            "[package]\nname = \"paxos\"\n[package.metadata.distlab]\nlab = \"3A\"\n\
             student-files = [\"../labrpc/src/lib.rs\"]\n",
        );
        let err = Manifest::read(dir.path(), Lab::Paxos)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.to_string().contains("is not a file of the crate"),
            "{err}"
        );
        write(
            "[package]\nname = \"paxos\"\n[package.metadata.distlab]\nlab = \"3A\"\n\
             student-files = [\"src/a.rs\"]\nstudents = 1\n",
        );
        let err = Manifest::read(dir.path(), Lab::Paxos)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown field"), "{err}");
    }
}
