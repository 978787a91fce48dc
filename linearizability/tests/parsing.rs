//! The readers of Jepsen and EDN logs: what porcupine's readers accept, ours accept, and a
//! log with no operation is an error rather than a linearizable empty history.

use linearizability::parse::{parse_any, parse_etcd, parse_kv};

#[test]
fn etcd_fields_may_be_separated_by_any_run_of_blanks() {
    let tabs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/etcd/etcd_000.log"
    ))
    .expect("a porcupine log");
    // The same log with each tab replaced by a run of spaces, as some of porcupine's are.
    let spaces = tabs.replace('\t', "   ");
    let from_tabs = parse_etcd(&tabs).expect("the tab-separated log parses");
    let from_spaces = parse_etcd(&spaces).expect("the space-separated log parses");
    assert!(!from_tabs.is_empty());
    assert_eq!(from_tabs, from_spaces, "the separator changed the history");
}

#[test]
fn an_etcd_value_keeps_its_inner_spaces() {
    let log = "INFO  jepsen.util - 3  :invoke  :cas  [3   0]\n\
               INFO  jepsen.util - 3 \t:ok\t :cas  [3 0]  \n";
    let history = parse_etcd(log).expect("a CAS with spaces in its value parses");
    assert_eq!(history.len(), 1);
    let bad = parse_etcd("INFO  jepsen.util - 3 :invoke :cas [3 0 1]\n")
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        bad,
        Err("line 1: expected [from to], found \"[3 0 1]\"".to_owned())
    );
}

#[test]
fn a_log_without_operations_says_so() {
    for (log, what) in [
        ("", "no `jepsen.util -` line"),
        (
            "INFO  other.logger - starting\n\n",
            "no `jepsen.util -` line",
        ),
    ] {
        let err = parse_etcd(log).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            err.as_ref()
                .is_err_and(|e| e.starts_with("the log holds no operation") && e.contains(what)),
            "{log:?}: {err:?}"
        );
    }
    let err = parse_kv("").map(|_| ()).map_err(|e| e.to_string());
    assert!(
        err.as_ref()
            .is_err_and(|e| e.starts_with("the log holds no operation")),
        "{err:?}"
    );
    assert!(
        parse_any("\n\n").is_err(),
        "an empty file read as a history"
    );
}
