//! The parser of the master's `--verbose` log that `tests/processes.rs` reads
//! (`describe` in `src/main.rs` writes the lines).

#[path = "common/processes.rs"]
mod processes;
use processes::{Line, parse};

#[test]
fn log_lines_parse() {
    let at = "127.0.0.1:4000".to_string();
    assert_eq!(
        parse("map task 3 started on 127.0.0.1:4000 (backup)"),
        Some((Line::Started, "map 3".into(), at.clone()))
    );
    assert_eq!(
        parse("reduce task 0 done by 127.0.0.1:4000"),
        Some((Line::Done, "reduce 0".into(), at.clone()))
    );
    assert_eq!(
        parse("map task 7 failed on 127.0.0.1:4000: connection reset"),
        Some((Line::Failed, "map 7".into(), at))
    );
    assert_eq!(parse("worker 127.0.0.1:4000 joined"), None);
}
