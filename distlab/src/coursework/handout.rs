//! `distlab handout`: the student repository, made from the staff's workspace.
//!
//! The handout holds every file of the workspace (but version control and build output)
//! except the staff-only files of the labs handed out; in their student files, each
//! solution region is replaced by its stub, and their crate roots allow unused code (a
//! skeleton leaves parameters and helpers unused). Labs not handed out keep their solution
//! and all their tests: a course that hands out `pbkv` alone gives the view service it
//! builds on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::error::CourseError;
use super::manifest::Manifest;
use super::regions;
use super::tree;
use crate::cli::Lab;

/// The lines a handed-out lab's crate root gets before its first item.
pub const ALLOW_UNUSED: &str = "// Added by `distlab handout`: the skeleton leaves parameters, fields and helpers\n\
// unused until the lab is written. Delete these lines to see what is still unused.\n\
#![allow(unused)]\n";

/// What a file of the handout holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// The staff's file as it is.
    Same,
    /// This text instead.
    Text(String),
}

/// A handout, made but not yet written.
#[derive(Clone, Debug)]
pub struct Handout {
    /// The workspace it is made from.
    pub root: PathBuf,
    /// Every file of the handout, by path relative to the root.
    pub files: BTreeMap<String, Content>,
    /// The lines cut out of each student file, with their line numbers.
    pub solution: BTreeMap<String, Vec<(usize, String)>>,
    /// The manifests of the labs handed out.
    pub labs: Vec<Manifest>,
}

impl Handout {
    /// Makes the handout of `labs` (every lab if empty) from the workspace at `root`.
    ///
    /// # Errors
    /// If a manifest is missing or wrong, a file cannot be read, a student file's markers
    /// do not pair up, a region stands outside the student files, or a lab handed out has
    /// no region at all.
    pub fn make(root: &Path, labs: &[Lab]) -> Result<Handout, CourseError> {
        // A course's tree may hold some of the labs only: every lab it holds has a manifest,
        // and the labs named must be there.
        let present = |lab: &Lab| root.join(lab.name()).join("Cargo.toml").exists();
        let chosen: Vec<Lab> = if labs.is_empty() {
            Lab::ALL.into_iter().filter(present).collect()
        } else {
            labs.to_vec()
        };
        let all: Vec<Manifest> = Lab::ALL
            .into_iter()
            .filter(|lab| chosen.contains(lab) || present(lab))
            .map(|lab| Manifest::read(root, lab))
            .collect::<Result<_, _>>()?;
        let handed: Vec<Manifest> = all
            .iter()
            .filter(|m| chosen.contains(&m.lab))
            .cloned()
            .collect();
        let files = tree::files(root).map_err(|e| CourseError::Io(root.to_owned(), e))?;
        let mut handout = Handout {
            root: root.to_owned(),
            files: BTreeMap::new(),
            solution: BTreeMap::new(),
            labs: handed,
        };
        for path in files {
            if handout.labs.iter().any(|m| m.is_staff_only(&path)) {
                continue;
            }
            let content = handout.content_of(&path, &all)?;
            handout.files.insert(path, content);
        }
        for lab in &handout.labs {
            let regions = lab
                .student_files
                .iter()
                .filter(|f| handout.solution.get(*f).is_some_and(|s| !s.is_empty()))
                .count();
            if regions == 0 {
                return Err(CourseError::NoRegions(lab.lab.name()));
            }
            let root_file = format!("{}/src/lib.rs", lab.lab.name());
            let text = match handout.files.get(&root_file) {
                Some(Content::Text(text)) => text.clone(),
                _ => read_text(root, &root_file)?,
            };
            handout
                .files
                .insert(root_file, Content::Text(allow_unused(&text)));
        }
        Ok(handout)
    }

    /// What the handout holds for `path`: a handed-out lab's student file cut, any other
    /// file as it is (a lab's Rust files checked for stray regions; files outside the labs,
    /// such as a test fixture with regions of its own, are not the labs' solution).
    fn content_of(&mut self, path: &str, all: &[Manifest]) -> Result<Content, CourseError> {
        let handed = self.labs.iter().any(|m| m.is_student_file(path));
        let student = all.iter().any(|m| m.is_student_file(path));
        let in_lab = all
            .iter()
            .any(|m| path.starts_with(&format!("{}/", m.lab.name())));
        if !path.ends_with(".rs") || !in_lab {
            return Ok(Content::Same);
        }
        let text = read_text(&self.root, path)?;
        let cut = regions::cut(&text).map_err(|e| CourseError::Region(path.to_owned(), e))?;
        if !student && let Some(&line) = cut.begins.first() {
            return Err(CourseError::RegionOutside(path.to_owned(), line));
        }
        if !handed {
            return Ok(Content::Same);
        }
        self.solution.insert(path.to_owned(), cut.solution);
        Ok(Content::Text(cut.handout))
    }

    /// Writes the handout into `out`, a new or empty directory outside the workspace.
    ///
    /// # Errors
    /// If `out` is not empty or is inside the workspace, or a file cannot be written.
    pub fn write(&self, out: &Path) -> Result<(), CourseError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |e| CourseError::Io(path, e)
        };
        if out.exists() {
            let mut entries = std::fs::read_dir(out).map_err(io(out))?;
            if entries.next().is_some() {
                return Err(CourseError::NotEmpty(out.to_owned()));
            }
        }
        std::fs::create_dir_all(out).map_err(io(out))?;
        let root = self.root.canonicalize().map_err(io(&self.root))?;
        if out.canonicalize().map_err(io(out))?.starts_with(&root) {
            let _ = std::fs::remove_dir(out);
            return Err(CourseError::InsideWorkspace(out.to_owned()));
        }
        for (path, content) in &self.files {
            let to = out.join(path);
            match content {
                Content::Same => tree::copy_file(&self.root.join(path), &to)
                    .map_err(|(path, e)| CourseError::Io(path, e))?,
                Content::Text(text) => {
                    if let Some(parent) = to.parent() {
                        std::fs::create_dir_all(parent).map_err(io(parent))?;
                    }
                    std::fs::write(&to, text).map_err(io(&to))?;
                }
            }
        }
        Ok(())
    }

    /// The solution lines found in the handout written at `out`: every line of a region
    /// that appears, trimmed, in some file of the handout, unless the same line also stands
    /// outside the regions in the staff's workspace (a `}` or an `Ok(())` gives nothing away).
    ///
    /// # Errors
    /// If a file cannot be read.
    pub fn leaks(&self, out: &Path) -> Result<Vec<String>, CourseError> {
        let mut common: BTreeSet<String> = BTreeSet::new();
        let mut written: BTreeSet<String> = BTreeSet::new();
        for (path, content) in &self.files {
            if !path.ends_with(".rs") && !path.ends_with(".md") {
                continue;
            }
            if self.solution.contains_key(path) {
                let cut = regions::cut(&read_text(&self.root, path)?)
                    .map_err(|e| CourseError::Region(path.clone(), e))?;
                common.extend(cut.outside.iter().map(|l| l.trim().to_owned()));
            } else if *content == Content::Same {
                common.extend(
                    read_text(&self.root, path)?
                        .lines()
                        .map(|l| l.trim().to_owned()),
                );
            }
            written.extend(read_text(out, path)?.lines().map(|l| l.trim().to_owned()));
        }
        let mut leaks = Vec::new();
        for (path, lines) in &self.solution {
            for (number, line) in lines {
                let line = line.trim();
                if !line.is_empty() && written.contains(line) && !common.contains(line) {
                    leaks.push(format!("{path}:{number}: {line}"));
                }
            }
        }
        Ok(leaks)
    }
}

/// `path` under `root`, as text.
fn read_text(root: &Path, path: &str) -> Result<String, CourseError> {
    let full = root.join(path);
    let bytes = std::fs::read(&full).map_err(|e| CourseError::Io(full, e))?;
    String::from_utf8(bytes).map_err(|_| CourseError::NotText(path.to_owned()))
}

/// `text` (a crate root) with [`ALLOW_UNUSED`] after its leading inner doc comments.
fn allow_unused(text: &str) -> String {
    let mut out = String::new();
    let mut inserted = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        let leading = trimmed.starts_with("//!") || trimmed.is_empty();
        if !inserted && !leading {
            out += ALLOW_UNUSED;
            inserted = true;
        }
        out += line;
    }
    if !inserted {
        out += ALLOW_UNUSED;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowance_goes_after_the_crate_docs() {
        let text = "//! The crate.\n//!\n//! More.\n\n#![forbid(unsafe_code)]\nmod a;\n";
        let out = allow_unused(text);
        assert!(
            out.starts_with(&format!(
                "//! The crate.\n//!\n//! More.\n\n{ALLOW_UNUSED}#![forbid"
            )),
            "{out}"
        );
    }
}
