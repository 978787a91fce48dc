//! The `distlab` command. See `distlab --help`, and the crate docs for what each command does.

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

use distlab::cli::{
    Cli, Command, GradeArgs, HandoutArgs, Lab, ReplayArgs, RunArgs, ScenarioArgs, SoakArgs,
    SweepArgs,
};
use distlab::coursework::{Handout, check};
use distlab::output::{OutDir, verdict};
use distlab::scenario::{self, Check, Outcome, Params};
use distlab::{exit, grade, soak, sweep};
use std::path::Path;

fn main() -> ExitCode {
    // clap exits with code 2 (exit::USAGE) and names the argument on bad input.
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Replay(args) => replay(&args),
        Command::Sweep(args) => sweep_command(&args),
        Command::Soak(args) => soak_command(&args),
        Command::Grade(args) => grade_command(&args),
        Command::Handout(args) => handout_command(&args),
        Command::Serve(args) => return real("serve", distlab::real::serve::serve(&args)),
        Command::Kv(args) => return real("kv", distlab::real::kv::kv(&args)),
        Command::Status(args) => return real("status", distlab::real::kv::status(&args)),
        Command::Trace(args) => trace_command(&args),
    };
    match result {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            eprintln!("distlab: {message}");
            ExitCode::from(code)
        }
    }
}

/// The exit of a command that runs the labs for real: its error as `distlab COMMAND: ...`.
fn real(command: &str, result: Result<(), distlab::real::Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("distlab {command}: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Why a command stopped before its verdict: what to print, and the exit status.
struct Failure {
    /// One of [`exit`]'s statuses.
    code: u8,
    /// The message, without the `distlab: ` prefix.
    message: String,
}

/// A message about options that do not go together: exit 2.
fn usage(message: String) -> Failure {
    Failure {
        code: exit::USAGE,
        message,
    }
}

/// A bare message is an operational error (a file not written, cargo not started): exit 3.
impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            code: exit::ERROR,
            message,
        }
    }
}

/// Exit status 0 if `good`, else 1 (a check or a test failed).
fn verdict_code(good: bool) -> ExitCode {
    if good {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::FAILED)
    }
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// Prints the end of a run and writes its files; the exit code says whether the run passed.
/// `extra_options` end the replay command (the options that are not settings).
fn finish(
    outcome: &Outcome,
    out: &OutDir,
    lab: &str,
    extra_options: &str,
) -> Result<ExitCode, Failure> {
    let mut latencies = outcome.latencies_us.clone();
    latencies.sort_unstable();
    let p = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q) as usize)
            .map_or(0.0, |&us| us as f64 / 1000.0)
    };
    println!(
        "{lab}: {} ops in {:.1} s simulated, {} faults, {} RPCs; latency p50 {:.1} ms, p99 {:.1} ms",
        outcome.ops,
        outcome.simulated.as_secs_f64(),
        outcome.faults,
        outcome.rpcs,
        p(0.5),
        p(0.99)
    );
    let text = match (&outcome.aborted, &outcome.check) {
        (Some(aborted), _) => format!("run FAILED: {aborted}"),
        (None, Check::Passed(what)) => format!("history check passed: {what}"),
        (None, Check::Violation(why)) => format!("history check FAILED: {why}"),
        (None, Check::Unknown) => "history check: unknown (checker out of time)".to_owned(),
    };
    println!("{}", verdict(&text, !outcome.check.is_violation()));
    // A liveness failure, apart from the safety check's verdict.
    if !outcome.blocked.is_empty() {
        let text = format!("liveness FAILED: {}:", outcome.blocked_summary());
        println!("{}", verdict(&text, false));
        for client in &outcome.blocked {
            println!("  {client}");
        }
    }
    let mut trace = String::new();
    for event in &outcome.events {
        trace.push_str(&serde_json::to_string(event).map_err(|e| e.to_string())?);
        trace.push('\n');
    }
    let path = out.write("trace.jsonl", trace)?;
    println!(
        "trace:   {} ({} events, hash {:016x})",
        path.display(),
        outcome.events.len(),
        outcome.trace_hash
    );
    if let Some(html) = &outcome.history_html {
        println!("history: {}", out.write("history.html", html)?.display());
    }
    let view = out.path("trace.html");
    distlab::trace_view::view_file(&path, Some(&view)).map_err(|e| e.to_string())?;
    println!("view:    {}", view.display());
    println!(
        "replay:  distlab replay {lab} {}{extra_options}",
        outcome.params.command_line()
    );
    Ok(verdict_code(!outcome.verdict().is_failure()))
}

fn run(args: &RunArgs) -> Result<ExitCode, Failure> {
    scenario_command("run", args.lab, &args.scenario, &args.out)
}

fn replay(args: &ReplayArgs) -> Result<ExitCode, Failure> {
    let Some(test) = &args.test else {
        return scenario_command("replay", args.lab, &args.scenario, &args.out);
    };
    // Rerun one test of the lab's suite (in the workspace of the current directory) under
    // the seed, writing its trace.
    let out = OutDir::create(&args.out)?;
    let trace = out.path("trace.jsonl");
    let trace = std::path::absolute(&trace).unwrap_or(trace);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "test",
            "-p",
            args.lab.name(),
            "--",
            test.as_str(),
            "--exact",
            "--nocapture",
        ])
        .env("LABRPC_SEED", args.scenario.seed.to_string())
        .env("LABRPC_TRACE", &trace)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    println!("trace: {}", trace.display());
    Ok(verdict_code(status.success()))
}

/// `run` and `replay` of a scenario: the same run, announced by `verb`.
fn scenario_command(
    verb: &str,
    lab: Lab,
    scenario: &ScenarioArgs,
    out: &Path,
) -> Result<ExitCode, Failure> {
    let params = Params::from(scenario);
    params.supported_by(lab).map_err(usage)?;
    let out = OutDir::create(out)?;
    println!(
        "distlab {verb} {} {}{}",
        lab.name(),
        params.command_line(),
        scenario.time_limit_option()
    );
    let outcome = scenario::run_within(lab, &params, true, true, scenario.time_limit());
    finish(&outcome, &out, lab.name(), &scenario.time_limit_option())
}

fn sweep_command(args: &SweepArgs) -> Result<ExitCode, Failure> {
    let base = Params::from(&args.scenario);
    for &value in &args.param.values {
        sweep::with_value(&base, args.param.name, value)
            .supported_by(args.lab)
            .map_err(usage)?;
    }
    let out = OutDir::create(&args.out)?;
    let bar = progress_bar(args.param.values.len() as u64 * args.seeds, "sweep");
    let mut points = Vec::new();
    for &value in &args.param.values {
        let outcomes: Vec<Outcome> = (1..=args.seeds)
            .map(|seed| {
                let params = sweep::with_value(
                    &Params {
                        seed,
                        ..base.clone()
                    },
                    args.param.name,
                    value,
                );
                let limit = args.scenario.time_limit();
                let outcome = scenario::run_within(args.lab, &params, false, false, limit);
                bar.inc(1);
                outcome
            })
            .collect();
        points.push(sweep::aggregate(value, &outcomes));
    }
    bar.finish_and_clear();
    let csv = sweep::csv(&args.param, &points);
    print!("{csv}");
    let csv_path = out.write("sweep.csv", &csv)?;
    let svg_path = out.path("sweep.svg");
    let figure = sweep::Figure {
        lab: args.lab.name(),
        param: &args.param,
        base: &base,
        seeds: args.seeds,
        log_scale: args.log_scale,
    };
    sweep::plot(&svg_path, &figure, &points).map_err(|e| format!("cannot draw the plot: {e}"))?;
    println!("wrote {} and {}", csv_path.display(), svg_path.display());
    let failures: u64 = points.iter().map(sweep::Point::failures).sum();
    Ok(verdict_code(failures == 0))
}

fn soak_command(args: &SoakArgs) -> Result<ExitCode, Failure> {
    let base = Params::from(&args.scenario);
    base.supported_by(args.lab).map_err(usage)?;
    if base.seed.checked_add(args.seeds - 1).is_none() {
        return Err(Failure {
            code: exit::USAGE,
            message: format!(
                "--seed {} with --seeds {}: the last seed would pass 2^64 - 1",
                base.seed, args.seeds
            ),
        });
    }
    let jobs = match args.jobs {
        Some(jobs) => jobs as usize,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    println!(
        "distlab soak {} --seeds {} {}{}",
        args.lab.name(),
        args.seeds,
        base.command_line(),
        args.scenario.time_limit_option()
    );
    // Soak reports each panic with its seed: the default hook's message, printed from
    // whichever thread, would only scramble the output.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = std::thread::current().name().map(str::to_owned);
        if !name.is_some_and(|n| n.starts_with(soak::THREAD_PREFIX)) {
            default_hook(info);
        }
    }));
    let bar = progress_bar(args.seeds, &format!("soak {}", args.lab.name()));
    let mut failed = 0;
    let extra = args.scenario.time_limit_option();
    let results = soak::soak(
        args.lab,
        &base,
        args.seeds,
        jobs,
        args.scenario.time_limit(),
        |result| {
            failed += u64::from(result.verdict.is_failure());
            bar.set_message(format!("soak {} ({failed} failed)", args.lab.name()));
            bar.inc(1);
        },
        |result| {
            let text = soak::report(args.lab, result, &extra);
            if !text.is_empty() {
                bar.suspend(|| print!("{text}"));
            }
        },
    )
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let summary = soak::Summary::of(&results);
    println!("{}", verdict(&summary.to_string(), summary.failures() == 0));
    Ok(verdict_code(summary.failures() == 0))
}

fn grade_command(args: &GradeArgs) -> Result<ExitCode, Failure> {
    if let Some(out) = &args.gradescope_bundle {
        let staff = args.workspace.clone().unwrap_or_else(|| ".".into());
        let settings = grade::gradescope::BundleSettings {
            labs: args.labs.clone(),
            runs: args.runs,
            points: args.points,
            partial: args.partial,
            timeout: grade::report::show_duration(args.timeout),
        };
        grade::gradescope::write_bundle(&staff, out, &settings).map_err(|e| e.to_string())?;
        println!(
            "wrote the Gradescope autograder to {}: zip its contents (cd {} && zip -r \
             ../autograder.zip .) and upload the zip as the assignment's autograder",
            out.display(),
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let labs = if args.labs.is_empty() {
        5
    } else {
        args.labs.len() as u64
    };
    let bar = progress_bar(labs * args.runs, "grading");
    let grades = grade::grade(args, |what| {
        bar.set_message(what.to_owned());
        bar.inc(1);
    })
    .map_err(|e| {
        bar.finish_and_clear();
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    })?;
    bar.finish_and_clear();
    print!("{}", grades.table());
    for (lab, output) in &grades.build_failures {
        eprintln!(
            "distlab: the tests of {lab} did not build:\n{}",
            grade::report::relative(output, &grades.roots)
        );
    }
    if let Some(path) = &args.json {
        println!("wrote {}", path.display());
    }
    let (score, max) = grades.total();
    Ok(verdict_code(
        score == max && grades.build_failures.is_empty(),
    ))
}

fn handout_command(args: &HandoutArgs) -> Result<ExitCode, Failure> {
    let staff = args.workspace.clone().unwrap_or_else(|| ".".into());
    let handout = Handout::make(&staff, &args.labs).map_err(|e| e.to_string())?;
    handout.write(&args.out).map_err(|e| e.to_string())?;
    let labs: Vec<&str> = handout.labs.iter().map(|m| m.lab.name()).collect();
    println!(
        "wrote the handout of {} to {} ({} files)",
        labs.join(", "),
        args.out.display(),
        handout.files.len()
    );
    let report = if args.check {
        let target = args
            .target_dir
            .clone()
            .unwrap_or_else(|| staff.join("target").join("handout-check"));
        let target = std::path::absolute(&target).map_err(|e| e.to_string())?;
        check::check(&handout, &args.out, &target, args.timeout).map_err(|e| e.to_string())?
    } else {
        let leaks = handout.leaks(&args.out).map_err(|e| e.to_string())?;
        check::CheckReport {
            checked: vec![format!(
                "{} solution lines left in the handout",
                leaks.len()
            )],
            problems: leaks
                .into_iter()
                .map(|l| format!("solution line in the handout: {l}"))
                .collect(),
        }
    };
    for line in &report.checked {
        println!("  {line}");
    }
    for problem in &report.problems {
        eprintln!("distlab: {problem}");
    }
    println!(
        "{}",
        verdict(
            &format!("handout check: {} problems", report.problems.len()),
            report.problems.is_empty()
        )
    );
    Ok(verdict_code(report.problems.is_empty()))
}

fn trace_command(args: &distlab::cli::TraceArgs) -> Result<ExitCode, Failure> {
    let distlab::cli::TraceCommand::View(view) = &args.command;
    let (path, _) = distlab::trace_view::view_file(&view.file, view.out.as_deref())
        .map_err(|e| e.to_string())?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}
