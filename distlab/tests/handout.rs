//! The self-check of this workspace's handout, as a course runs it before handing the labs
//! out: `distlab handout --check` over every lab. No solution line may be left in it; it must
//! build and pass `cargo clippy -D warnings`; every lab test must fail with "not yet
//! implemented", but the given ones, which must pass. (That the solution passes every test is
//! the rest of `cargo test --workspace`.) Builds in `target/handout-check`, kept between runs.

mod common;

use common::{distlab, tempdir};
use std::path::Path;

#[test]
fn the_handout_of_every_lab_is_clean_and_waits_for_student_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let dir = tempdir();
    let out = dir.path().join("handout");
    let output = distlab()
        .args(["handout", "--check", "--workspace"])
        .arg(root)
        .arg("--out")
        .arg(&out)
        .arg("--target-dir")
        .arg(root.join("target").join("handout-check"))
        .output()
        .expect("distlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the handout check failed:\n{stdout}\n{stderr}"
    );
    for lab in [
        "mapreduce",
        "viewservice",
        "pbkv",
        "paxos",
        "paxoskv",
        "shardmaster",
        "shardkv",
    ] {
        assert!(
            stdout.contains(&format!("  {lab} (lab ")),
            "{lab} was not checked:\n{stdout}"
        );
        assert!(
            out.join(lab).join("HANDOUT.md").exists(),
            "{lab} has no HANDOUT.md"
        );
    }
    assert!(!out.join(".git").exists() && !out.join("target").exists());
}
