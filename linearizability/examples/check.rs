//! Checks history files given on the command line and prints each verdict.
//!
//! ```text
//! cargo run --release -p linearizability --example check -- tests/data/etcd/etcd_000.log
//! cargo run --release -p linearizability --example check -- --html pictures/ tests/data/kv/*.txt
//! ```
//!
//! Formats: Jepsen etcd logs (a register) and key/value EDN lines (see the `parse` module).
//! Options: `--html DIR` writes `DIR/<file>.html`, a picture of each history;
//! `--time SECONDS` gives up with "unknown" after that long per file; `--memo N` keeps at most
//! about N memoized configurations at once (the memory bound; "unknown" past it); `--all-parts` keeps
//! searching the other parts after a violation; `-v` prints every part's result.
//! Exit status: 0 if every file is linearizable, 1 if any is a violation, 2 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use linearizability::models::KvMap;
use linearizability::parse::{AnyHistory, EtcdRegister, parse_any};
use linearizability::{Limits, Model, Operation, Report, Verdict, check_with, html};

struct Options {
    files: Vec<PathBuf>,
    html_dir: Option<PathBuf>,
    limits: Limits,
    verbose: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        files: Vec::new(),
        html_dir: None,
        limits: Limits::none(),
        verbose: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--html" => {
                let dir = args.next().ok_or("--html needs a directory")?;
                options.html_dir = Some(dir.into());
            }
            "--time" => {
                let secs = args.next().ok_or("--time needs a number of seconds")?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("--time: not a number: {secs}"))?;
                let time =
                    Duration::try_from_secs_f64(secs).map_err(|e| format!("--time {secs}: {e}"))?;
                // Only the time: options compose in any order (`--all-parts --time 20`).
                options.limits.time = Some(time);
            }
            "--memo" => {
                let n = args
                    .next()
                    .ok_or("--memo needs a number of configurations")?;
                let n: usize = n
                    .parse()
                    .map_err(|_| format!("--memo: not a whole number: {n}"))?;
                options.limits.memo = Some(n);
            }
            "--all-parts" => options.limits.all_parts = true,
            "-v" | "--verbose" => options.verbose = true,
            "-h" | "--help" => {
                return Err(
                    "usage: check [--html DIR] [--time SECONDS] [--memo N] [--all-parts] [-v] FILE...".into(),
                );
            }
            _ => options.files.push(arg.into()),
        }
    }
    if options.files.is_empty() {
        return Err(
            "usage: check [--html DIR] [--time SECONDS] [--memo N] [--all-parts] [-v] FILE..."
                .into(),
        );
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &options.html_dir
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::from(2);
    }

    let mut verdicts = Vec::new();
    let mut failed = false;
    for file in &options.files {
        match check_file(file, &options) {
            Ok(verdict) => verdicts.push(verdict),
            Err(message) => {
                eprintln!("{}: error: {message}", file.display());
                failed = true;
            }
        }
    }
    if verdicts.contains(&Verdict::Violation) {
        ExitCode::from(1)
    } else if failed || verdicts.contains(&Verdict::Unknown) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn check_file(file: &Path, options: &Options) -> Result<Verdict, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    match parse_any(&text).map_err(|e| e.to_string())? {
        AnyHistory::Etcd(history) => report(file, &EtcdRegister::new(None), &history, options),
        AnyHistory::Kv(history) => report(file, &KvMap, &history, options),
    }
}

fn report<M: Model>(
    file: &Path,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &Options,
) -> Result<Verdict, String> {
    let report: Report = check_with(model, history, options.limits).map_err(|e| e.to_string())?;
    println!(
        "{}: {} ({} operations, {} parts, {} search steps)",
        file.display(),
        report.verdict,
        history.len(),
        report.parts.len(),
        report.steps()
    );
    if options.verbose {
        for (index, part) in report.parts.iter().enumerate() {
            println!(
                "  part {index}: {} ({} operations, {} steps, linearization of {})",
                part.verdict,
                part.ops.len(),
                part.steps,
                part.linearization.len()
            );
        }
    }
    for part in report.violations() {
        let breaks = part
            .breaking_op
            .and_then(|op| history.get(op))
            .map(|op| model.describe_operation(&op.input, op.output()))
            .unwrap_or_else(|| "?".into());
        println!(
            "  part of {} operations: longest linearizable prefix {} operations, breaks at {breaks}",
            part.ops.len(),
            part.linearization.len()
        );
    }
    if let Some(dir) = &options.html_dir {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let path = dir.join(format!("{}.html", name.unwrap_or_else(|| "history".into())));
        let title = file.display().to_string();
        std::fs::write(&path, html::render(&title, model, history, &report))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("  picture: {}", path.display());
    }
    Ok(report.verdict)
}
