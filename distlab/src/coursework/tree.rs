//! The files of a workspace, as a copy takes them: everything but version control and
//! build output.

use std::path::Path;

/// Directory names never copied, at any depth: git's, cargo's build output, and
/// `cargo mutants`' output.
const SKIPPED: &[&str] = &[".git", "target", "mutants.out", "mutants.out.old"];

/// The files under `root`, as sorted relative paths with `/`. Symbolic links are not
/// followed (a workspace has none; a submission's could point anywhere).
///
/// # Errors
/// If a directory cannot be read.
pub fn files(root: &Path) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    walk(root, "", &mut found)?;
    found.sort();
    Ok(found)
}

/// Copies the files of the workspace `from` (as [`files`] lists them) into `to`, keeping
/// their permissions (scripts stay executable).
///
/// # Errors
/// If a file cannot be read or written; the error names the path.
pub fn copy(from: &Path, to: &Path) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    for path in files(from).map_err(|e| (from.to_owned(), e))? {
        copy_file(&from.join(&path), &to.join(&path))?;
    }
    Ok(())
}

/// Copies one file, making the folders it goes into.
///
/// # Errors
/// If it cannot be read or written; the error names the path.
pub fn copy_file(from: &Path, to: &Path) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| (parent.to_owned(), e))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| (to.to_owned(), e))
}

fn walk(dir: &Path, prefix: &str, found: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not UTF-8: no file of a workspace
        };
        let kind = entry.file_type()?;
        let relative = format!("{prefix}{name}");
        if kind.is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                walk(&entry.path(), &format!("{relative}/"), found)?;
            }
        } else if kind.is_file() {
            found.push(relative);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_and_git_are_left_out() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for file in [
            "a/src/lib.rs",
            "target/debug/x",
            ".git/HEAD",
            "a/target/y",
            "README.md",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
            std::fs::write(path, "x").expect("a file");
        }
        assert_eq!(
            files(dir.path()).expect("readable"),
            vec!["README.md".to_owned(), "a/src/lib.rs".to_owned()]
        );
    }
}
