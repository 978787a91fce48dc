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
