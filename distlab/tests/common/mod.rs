//! What the distlab tests share: the binary, temporary directories, fixture workspaces.
#![allow(dead_code)] // each test file uses part of it

use assert_cmd::Command;
use std::path::Path;

/// The `distlab` binary of this build.
pub fn distlab() -> Command {
    match Command::cargo_bin("distlab") {
        Ok(cmd) => cmd,
        Err(e) => panic!("the distlab binary is not built: {e}"),
    }
}

/// What `cmd` printed, asserting that it succeeded.
pub fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().expect("distlab runs");
    assert!(
        output.status.success(),
        "distlab failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A new temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Copies the fixture workspace `name` (under `tests/fixtures`) to `to`.
pub fn fixture(name: &str, to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    copy_tree(&from, to);
}

/// Copies the files of the tree `from` into `to`, but version control and build output.
pub fn copy_tree(from: &Path, to: &Path) {
    if let Err((path, e)) = distlab::coursework::tree::copy(from, to) {
        panic!("cannot copy {}: {e}", path.display());
    }
}
