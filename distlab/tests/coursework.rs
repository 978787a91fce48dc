//! Coursework end to end on the fixture course (`tests/fixtures/course`: a crate `paxos`
//! whose student file `src/solution.rs` holds one solution region, with a visible test, a
//! staff-only test and a given test): the handout and its check, the Gradescope bundle, and
//! `run_autograder` on a correct, a broken, a non-compiling and a tampering submission.

mod common;

use common::{copy_tree, distlab, fixture, tempdir};
use std::path::Path;

/// The fixture's solution line, which must never reach a student.
const SOLUTION_LINE: &str = "a.saturating_add(b)";

/// Runs distlab with `args`; returns its exit status, stdout and stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = distlab().args(args).output().expect("distlab runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn the_handout_cuts_the_solution_and_passes_its_check() {
    let dir = tempdir();
    let (staff, out, target) = (
        dir.path().join("staff"),
        dir.path().join("handout"),
        dir.path().join("target"),
    );
    fixture("course", &staff);
    let (code, stdout, stderr) = run(&[
        "handout",
        "--workspace",
        path(&staff),
        "--out",
        path(&out),
        "--check",
        "--target-dir",
        path(&target),
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let solution = std::fs::read_to_string(out.join("paxos/src/solution.rs")).expect("a stub");
    assert!(
        solution.contains("    todo!(\"lab 3A: add two numbers\")\n")
            && !solution.contains(SOLUTION_LINE),
        "{solution}"
    );
    assert!(
        !solution.contains("SOLUTION"),
        "markers left in: {solution}"
    );
    assert!(
        !out.join("paxos/tests/hidden.rs").exists(),
        "a staff-only test was handed out"
    );
    assert!(out.join("paxos/tests/suite.rs").exists() && out.join("Cargo.lock").exists());
    let lib = std::fs::read_to_string(out.join("paxos/src/lib.rs")).expect("the crate root");
    assert!(lib.contains("#![allow(unused)]"), "{lib}");
    assert!(
        stdout.contains("paxos (lab 3A): 1 tests fail until written, 1 given tests pass"),
        "{stdout}"
    );
    // A handout goes to a new or empty directory.
    let (code, _, stderr) = run(&["handout", "--workspace", path(&staff), "--out", path(&out)]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");
}

#[test]
fn a_stub_that_gives_the_solution_away_fails_the_check() {
    let dir = tempdir();
    let (staff, out) = (dir.path().join("staff"), dir.path().join("handout"));
    fixture("course", &staff);
    let file = staff.join("paxos/src/solution.rs");
    let text = std::fs::read_to_string(&file).expect("the solution");
    std::fs::write(
        &file,
        text.replace("todo!(\"lab 3A: add two numbers\")", SOLUTION_LINE),
    )
    .expect("written");
    let (code, _, stderr) = run(&["handout", "--workspace", path(&staff), "--out", path(&out)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "solution line in the handout: paxos/src/solution.rs:6: {SOLUTION_LINE}"
        )),
        "{stderr}"
    );
}

#[test]
fn a_region_outside_the_student_files_or_unclosed_is_an_error_naming_the_line() {
    let dir = tempdir();
    let staff = dir.path().join("staff");
    fixture("course", &staff);
    let lib = staff.join("paxos/src/lib.rs");
    let text = std::fs::read_to_string(&lib).expect("the crate root");
    std::fs::write(
        &lib,
        format!("{text}// BEGIN SOLUTION\nconst X: u8 = 1;\n// END SOLUTION\n"),
    )
    .expect("written");
    let out = dir.path().join("h1");
    let (code, _, stderr) = run(&["handout", "--workspace", path(&staff), "--out", path(&out)]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr
            .contains("paxos/src/lib.rs:7: a solution region in a file that is not a student file"),
        "{stderr}"
    );
    std::fs::write(&lib, text).expect("written");
    let file = staff.join("paxos/src/solution.rs");
    let solution = std::fs::read_to_string(&file).expect("the solution");
    std::fs::write(&file, solution.replace("    // END SOLUTION\n", "")).expect("written");
    let out = dir.path().join("h2");
    let (code, _, stderr) = run(&["handout", "--workspace", path(&staff), "--out", path(&out)]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "paxos/src/solution.rs: line 5: the region opened here has no `// END SOLUTION`"
        ),
        "{stderr}"
    );
}

/// Checks `json` against Gradescope's results.json format: the fields distlab writes, each
/// of the documented type, with a documented visibility.
fn check_gradescope_format(json: &serde_json::Value) {
    const VISIBILITIES: [&str; 4] = ["hidden", "after_due_date", "after_published", "visible"];
    assert!(json["score"].is_number(), "score: {json}");
    assert!(json["output"].is_string(), "output: {json}");
    assert!(
        VISIBILITIES.contains(&json["visibility"].as_str().unwrap_or("")),
        "{json}"
    );
    assert!(
        VISIBILITIES.contains(&json["stdout_visibility"].as_str().unwrap_or("")),
        "{json}"
    );
    for test in json["tests"].as_array().expect("a test list") {
        assert!(test["name"].is_string(), "{test}");
        assert!(
            test["score"].is_number() && test["max_score"].is_number(),
            "{test}"
        );
        assert!(test["output"].is_string(), "{test}");
        assert!(
            ["passed", "failed"].contains(&test["status"].as_str().unwrap_or("")),
            "{test}"
        );
        assert!(
            VISIBILITIES.contains(&test["visibility"].as_str().unwrap_or("")),
            "{test}"
        );
        let keys: Vec<&String> = test
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        for key in keys {
            assert!(
                [
                    "name",
                    "score",
                    "max_score",
                    "status",
                    "output",
                    "visibility"
                ]
                .contains(&key.as_str()),
                "a field Gradescope does not know: {key}"
            );
        }
    }
}

/// Lays out `root` as Gradescope's `/autograder` with `submission`, runs the bundle's
/// `run_autograder` there, and returns its results.json.
fn autograde(bundle: &Path, root: &Path, submission: &Path) -> serde_json::Value {
    let _ = std::fs::remove_dir_all(root.join("submission"));
    let _ = std::fs::remove_dir_all(root.join("results"));
    copy_tree(submission, &root.join("submission"));
    let status = std::process::Command::new(bundle.join("run_autograder"))
        .current_dir(root)
        .env("AUTOGRADER_ROOT", root)
        .env("DISTLAB", env!("CARGO_BIN_EXE_distlab"))
        .status()
        .expect("run_autograder runs");
    assert!(status.success(), "run_autograder failed: {status}");
    let text = std::fs::read_to_string(root.join("results/results.json")).expect("results.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    check_gradescope_format(&json);
    json
}

/// The score and output of test `name` ("paxos adds") in `json`.
fn test_result<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["tests"]
        .as_array()
        .and_then(|tests| tests.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no test {name}: {json}"))
}

#[test]
fn the_autograder_scores_each_kind_of_submission_as_it_deserves() {
    let dir = tempdir();
    let (staff, bundle, root) = (
        dir.path().join("staff"),
        dir.path().join("autograder/source"),
        dir.path().join("autograder"),
    );
    fixture("course", &staff);
    let (code, stdout, stderr) = run(&[
        "grade",
        "paxos",
        "--runs",
        "2",
        "--workspace",
        path(&staff),
        "--gradescope-bundle",
        path(&bundle),
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for file in ["setup.sh", "run_autograder", "staff/paxos/tests/hidden.rs"] {
        assert!(bundle.join(file).exists(), "the bundle has no {file}");
    }
    let handout = dir.path().join("handout");
    let (code, _, stderr) = run(&[
        "handout",
        "--workspace",
        path(&staff),
        "--out",
        path(&handout),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let student = |name: &str, solution: &str| {
        let sub = dir.path().join(name);
        copy_tree(&handout, &sub);
        std::fs::write(sub.join("paxos/src/solution.rs"), solution).expect("written");
        sub
    };
    let correct = student(
        "correct",
        "pub fn add(a: u64, b: u64) -> u64 {\n    a.saturating_add(b)\n}\n",
    );
    let json = autograde(&bundle, &root, &correct);
    assert_eq!(json["score"].as_f64(), Some(3.0), "{json}");
    assert_eq!(
        test_result(&json, "paxos saturates")["visibility"],
        "after_published"
    );
    assert_eq!(test_result(&json, "paxos adds")["visibility"], "visible");
    assert_eq!(test_result(&json, "paxos adds")["status"], "passed");

    let broken = student(
        "broken",
        "pub fn add(a: u64, b: u64) -> u64 {\n    a.wrapping_add(b)\n}\n",
    );
    let json = autograde(&bundle, &root, &broken);
    assert_eq!(json["score"].as_f64(), Some(2.0), "{json}");
    let failed = test_result(&json, "paxos saturates");
    assert_eq!(failed["status"], "failed");
    let output = failed["output"].as_str().expect("its output");
    assert!(
        output.starts_with("thread 'saturates'")
            && output
                .lines()
                .next()
                .is_some_and(|l| l.contains("panicked at paxos/tests/hidden.rs:")),
        "the report does not open with the assertion, or names the grader's paths: {output}"
    );
    assert!(output.contains("MAX + 1"), "{output}");
    assert!(
        output.contains("failed 2 of 2 runs, with seeds 1, 2; replay: LABRPC_SEED=1 cargo test -p paxos --test hidden -- saturates --exact"),
        "{output}"
    );
    assert!(
        !output.contains(path(dir.path())),
        "an absolute path: {output}"
    );

    let uncompilable = student(
        "uncompilable",
        "pub fn add(a: u64, b: u64) -> u64 {\n    a +\n}\n",
    );
    let json = autograde(&bundle, &root, &uncompilable);
    assert_eq!(json["score"].as_f64(), Some(0.0), "{json}");
    let output = json["output"].as_str().expect("an output");
    assert!(
        output.contains("paxos: the tests did not build"),
        "{output}"
    );
    assert!(
        output.contains("error") && output.contains("paxos/src/solution.rs"),
        "{output}"
    );
    assert!(
        !output.contains(path(dir.path())),
        "an absolute path: {output}"
    );

    // A broken solution whose author also emptied the visible test, added a free test and
    // made the given constant wrong: only the student file counts.
    let tampering = student(
        "tampering",
        "pub fn add(a: u64, b: u64) -> u64 {\n    a.wrapping_add(b)\n}\n",
    );
    std::fs::write(
        tampering.join("paxos/tests/suite.rs"),
        "#[test]\nfn adds() {}\n",
    )
    .expect("written");
    std::fs::write(
        tampering.join("paxos/tests/free.rs"),
        "#[test]\nfn free() {}\n",
    )
    .expect("written");
    let json = autograde(&bundle, &root, &tampering);
    assert_eq!(json["score"].as_f64(), Some(2.0), "{json}");
    assert_eq!(json["tests"].as_array().map(Vec::len), Some(3), "{json}");
    let output = json["output"].as_str().expect("an output");
    assert!(
        output.contains("ignored (changed outside the student files; grading uses the staff's): paxos/tests/free.rs, paxos/tests/suite.rs"),
        "{output}"
    );
}
