//! Draws the picture of a small violation: three clients, a register, and a read that misses
//! a write that had already finished.
//!
//! ```text
//! cargo run -p linearizability --example picture -- violation.html
//! ```
//! Open the file in a browser (no network needed); hover over a bar to see its times.

use linearizability::models::{Register, RegisterInput as In, RegisterOutput as Out};
use linearizability::{Recorder, check, html};
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "violation.html".into());

    // Record a history the way a test harness does: call, then return, with the times of the
    // (here made-up) clock in milliseconds.
    let recorder = Recorder::new();
    let ms = Duration::from_millis;
    let w1 = recorder.call(0, In::Write(1), ms(0));
    let cas = recorder.call(1, In::Cas { from: 0, to: 5 }, ms(2));
    recorder.returned(w1, Out::Written, ms(10))?;
    let r1 = recorder.call(2, In::Read, ms(12));
    recorder.returned(cas, Out::Cas(false), ms(14))?;
    recorder.returned(r1, Out::Read(1), ms(18))?;
    let w2 = recorder.call(0, In::Write(2), ms(20));
    recorder.returned(w2, Out::Written, ms(26))?;
    // Client 1 crashes during this write: its outcome stays unknown.
    recorder.call(1, In::Write(3), ms(27));
    let r2 = recorder.call(2, In::Read, ms(30));
    recorder.returned(r2, Out::Read(1), ms(36))?; // stale: 2 was written before this read began

    let history = recorder.history();
    let model = Register::new(0);
    let report = check(&model, &history)?;
    println!("verdict: {}", report.verdict);
    for part in report.violations() {
        println!(
            "longest linearizable prefix: {:?}, breaks at operation {:?}",
            part.linearization, part.breaking_op
        );
    }
    // The recorder stamps nanoseconds: the time axis says so. A fault band for the crash.
    let options = html::Options {
        faults: vec![html::FaultBand::new(
            27_000_000,
            40_000_000,
            "crash client1",
        )],
        time_unit: html::TimeUnit::Nanoseconds,
    };
    std::fs::write(
        &path,
        html::render_with("a stale read", &model, &history, &report, &options),
    )?;
    println!("picture written to {path}");
    Ok(())
}
