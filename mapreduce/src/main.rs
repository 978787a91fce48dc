//! The `mapreduce` command: a master, a worker, or a whole local job in one command.
//!
//! ```text
//! mapreduce master --listen 127.0.0.1:7878 --app wc FILES...   # then start workers
//! mapreduce worker --master 127.0.0.1:7878                   # one task per core at a time
//! mapreduce wc FILES... --workers 2                           # master + 2 local workers
//! ```
//!
//! Beyond loopback, give the master and every worker the same `--secret-file`: a peer that
//! cannot prove it holds the secret can neither register nor be sent a task. A local job
//! makes a secret of its own for its workers.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use labrpc::tcp::{Secret, TcpOptions};
use mapreduce::real::{run_worker, start_master};
use mapreduce::{DirStore, Event, Exit, JobReport, JobSpec, MasterConfig, WorkerConfig};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "mapreduce",
    version,
    about = "MapReduce over TCP: a master, workers, or a local job"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a master: wait for workers, run one job on them, write the output, stop them.
    Master {
        /// Address to listen on for workers.
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// The application: wc (word count) or ii (inverted index).
        #[arg(long, default_value = "wc", value_parser = ["wc", "ii"])]
        app: String,
        #[command(flatten)]
        job: JobArgs,
        #[command(flatten)]
        tcp: TcpArgs,
    },
    /// Run a worker: register with the master and run its tasks until it says stop.
    Worker {
        /// The master's address.
        #[arg(long)]
        master: SocketAddr,
        /// Address to listen on for the master's calls (port 0: any free port). With several
        /// slots, slot i listens on port PORT+i (or on any free port if PORT is 0).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Tasks run at once (default: one per core): each slot registers with the master as
        /// a worker of its own, as a machine in the paper runs several tasks.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        slots: Option<u16>,
        /// Sleep this long before each task (to test failures on small inputs).
        #[arg(long, default_value_t = 0, hide = true)]
        task_delay_ms: u64,
        #[command(flatten)]
        tcp: TcpArgs,
    },
    /// Count words in FILES with a master and local worker processes.
    Wc(LocalArgs),
    /// Build an inverted index of FILES with a master and local worker processes.
    Ii(LocalArgs),
}

#[derive(Args)]
struct JobArgs {
    /// Input files (UTF-8 text).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Number of map tasks M (default: 8, and at least one per file).
    #[arg(short = 'm', long)]
    map_tasks: Option<usize>,
    /// Number of reduce tasks R.
    #[arg(short = 'r', long, default_value_t = 10)]
    reduce_tasks: usize,
    /// Write the output here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Where job directories are made (all workers must reach it by the same path).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Print every scheduling event on standard error.
    #[arg(short, long)]
    verbose: bool,
}

/// Who may talk to this process over TCP.
#[derive(Args)]
struct TcpArgs {
    /// The cluster secret, in FILE (at least 16 bytes; a trailing newline is ignored). The
    /// master and every worker must have the same: a peer without it can neither register
    /// nor be sent a task. Without a secret, only loopback addresses may be listened on.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Listen beyond loopback without a secret: anyone who reaches the port can then
    /// register as a worker and be sent tasks, with the inputs' paths.
    #[arg(long, conflicts_with = "secret_file")]
    insecure: bool,
}

impl TcpArgs {
    /// The TCP options these flags ask for: reads the secret file, if any.
    fn options(&self) -> Result<Arc<TcpOptions>, String> {
        let secret = match &self.secret_file {
            Some(path) => Some(Secret::from_file(path).map_err(|e| transport_detail(&e))?),
            None => None,
        };
        Ok(Arc::new(TcpOptions {
            secret,
            insecure: self.insecure,
            ..TcpOptions::default()
        }))
    }
}

/// A labrpc error's message without the "transport failed: " of its kind (nor that of an
/// error it wraps: a secret file's says "secret file F: transport failed: ...").
fn transport_detail(error: &labrpc::Error) -> String {
    match error {
        labrpc::Error::Transport(detail) => detail.replace("transport failed: ", ""),
        other => other.to_string(),
    }
}

#[derive(Args)]
struct LocalArgs {
    #[command(flatten)]
    job: JobArgs,
    /// Number of local worker processes.
    #[arg(short, long, default_value_t = 2)]
    workers: usize,
    /// Tasks each worker process runs at once (default: the cores shared out among the
    /// workers, at least one each).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    slots: Option<u16>,
    /// The cluster secret, in FILE, for the master and its workers (default: a fresh one,
    /// made for this job).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
}

/// Local worker processes for a master to start.
struct LocalWorkers {
    /// How many.
    count: usize,
    /// Slots of each.
    slots: u16,
    /// The file with the master's secret.
    secret_file: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, async move {
        match cli.command {
            Command::Master {
                listen,
                app,
                job,
                tcp,
            } => master(listen, &app, job, tcp.options()?, None).await,
            Command::Worker {
                master,
                listen,
                slots,
                task_delay_ms,
                tcp,
            } => worker(master, listen, slots, task_delay_ms, tcp.options()?).await,
            Command::Wc(args) => local_job("wc", args).await,
            Command::Ii(args) => local_job("ii", args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("mapreduce: error: {message}");
    ExitCode::FAILURE
}

/// Runs a worker process: `slots` workers (default: one per core), each with its own address
/// and registration, so that the master keeps every core busy.
async fn worker(
    master: SocketAddr,
    listen: SocketAddr,
    slots: Option<u16>,
    task_delay_ms: u64,
    options: Arc<TcpOptions>,
) -> Result<(), String> {
    let config = WorkerConfig {
        task_time: Duration::from_millis(task_delay_ms),
        ..WorkerConfig::real()
    };
    let slots = slots.map_or_else(default_slots, usize::from);
    let runs = (0..slots).map(|slot| {
        let mut listen = listen;
        if listen.port() != 0 {
            let port = usize::from(listen.port()) + slot;
            let port = u16::try_from(port).map_err(|_| {
                format!(
                    "slot {slot} would listen on port {port}, past 65535: pick a lower \
                     --listen port"
                )
            })?;
            listen.set_port(port);
        }
        Ok(run_worker(master, listen, config.clone(), options.clone()))
    });
    let runs: Vec<_> = runs.collect::<Result<_, String>>()?;
    for (me, exit, done) in futures::future::try_join_all(runs)
        .await
        .map_err(|e| e.to_string())?
    {
        match exit {
            Exit::MasterGone => {
                eprintln!("worker {me}: master {master} is gone; {done} tasks done")
            }
            _ => eprintln!("worker {me}: shut down by the master; {done} tasks done"),
        }
    }
    Ok(())
}

/// One slot per core, as far as the system says.
fn default_slots() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Runs a master for one job; with `local`, also starts its worker processes.
async fn master(
    listen: SocketAddr,
    app: &str,
    args: JobArgs,
    options: Arc<TcpOptions>,
    local: Option<LocalWorkers>,
) -> Result<(), String> {
    let inputs = check_inputs(&args.files)?;
    let spec = JobSpec {
        app: app.into(),
        map_tasks: args.map_tasks.unwrap_or(8).max(inputs.len()),
        reduce_tasks: args.reduce_tasks,
        inputs,
    };
    let work_dir = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let store = DirStore::new(work_dir);
    let (mut master, server) = start_master(listen, store, MasterConfig::real(), options)
        .await
        .map_err(|e| e.to_string())?;
    let addr = server.local_addr();
    eprintln!("listening on {addr}");
    let mut children = Vec::new();
    if let Some(local) = local {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find my own program: {e}"))?;
        for _ in 0..local.count {
            let child = Process::new(&exe)
                .args(["worker", "--master", &addr.to_string()])
                .arg(format!("--slots={}", local.slots))
                .arg("--secret-file")
                .arg(&local.secret_file)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start a worker process: {e}"))?;
            children.push(child);
        }
    }
    let mut progress = Progress::new(args.verbose);
    let result = master.run(&spec, &mut |event| progress.show(event)).await;
    progress.finish();
    master.shutdown_workers().await;
    // After a failed job, workers that never registered would wait for tasks in vain.
    reap(children, result.is_ok()).await;
    let report = result.map_err(|e| e.to_string())?;
    write_output(&report, args.output.as_deref())?;
    eprintln!(
        "done: {} keys in {:.2?}; {} task executions, {} failed, {} backups",
        report.output.len(),
        report.elapsed,
        report.attempts,
        report.failed_attempts,
        report.backups
    );
    Ok(())
}

async fn local_job(app: &str, args: LocalArgs) -> Result<(), String> {
    if args.workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
    // The local workers share this machine: more slots than cores only makes tasks compete.
    let slots = args.slots.unwrap_or_else(|| {
        let share = (default_slots() / args.workers).max(1);
        u16::try_from(share).unwrap_or(u16::MAX)
    });
    // Even on loopback, other users of the machine could register and be sent tasks: the
    // job's workers prove a secret, the user's or one made for the job (removed after it).
    let made;
    let secret_file = match args.secret_file {
        Some(path) => path,
        None => {
            made = fresh_secret_file()?;
            made.path().to_owned()
        }
    };
    let secret = Secret::from_file(&secret_file).map_err(|e| transport_detail(&e))?;
    let local = LocalWorkers {
        count: args.workers,
        slots,
        secret_file,
    };
    let options = Arc::new(TcpOptions::with_secret(secret));
    master(listen, app, args.job, options, Some(local)).await
}

/// A temporary file (readable by its owner only) holding a fresh random secret.
fn fresh_secret_file() -> Result<tempfile::NamedTempFile, String> {
    #[allow(clippy::disallowed_methods)] // a real secret comes from the OS, not a seed
    let bytes: [u8; 32] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = tempfile::Builder::new()
        .prefix("mapreduce-secret-")
        .tempfile()
        .map_err(|e| format!("cannot make a secret file for the local workers: {e}"))?;
    (file.write_all(hex.as_bytes()).and_then(|()| file.flush()))
        .map_err(|e| format!("cannot write the local workers' secret file: {e}"))?;
    Ok(file)
}

/// Absolute paths of the inputs, each checked to be a readable file.
fn check_inputs(files: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut inputs = Vec::new();
    for file in files {
        let path = std::fs::canonicalize(file)
            .map_err(|e| format!("cannot read input {}: {e}", file.display()))?;
        if !path.is_file() {
            return Err(format!("input {} is not a regular file", file.display()));
        }
        std::fs::File::open(&path)
            .map_err(|e| format!("cannot read input {}: {e}", file.display()))?;
        let text = path
            .to_str()
            .ok_or_else(|| format!("input path {} is not UTF-8", file.display()))?;
        inputs.push(text.to_owned());
    }
    Ok(inputs)
}

fn write_output(report: &JobReport, output: Option<&Path>) -> Result<(), String> {
    let text = report.output_text();
    match output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write the output to {}: {e}", path.display())),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write the output: {e}")),
    }
}

/// Waits a little (if `patient`) for worker processes to exit after their shutdown, then
/// kills any left.
async fn reap(mut children: Vec<Child>, patient: bool) {
    for _ in 0..if patient { 500 } else { 0 } {
        children.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
        if children.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A progress bar per phase (drawn only on a terminal), or one line per event.
struct Progress {
    verbose: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(verbose: bool) -> Progress {
        Progress { verbose, bar: None }
    }

    fn show(&mut self, event: &Event) {
        if self.verbose {
            eprintln!("{}", describe(event));
        }
        match event {
            Event::PhaseStarted { phase, tasks } => {
                self.finish();
                let bar = ProgressBar::new(*tasks as u64);
                if let Ok(style) =
                    ProgressStyle::with_template("{msg:>6} [{bar:40}] {pos}/{len} tasks {elapsed}")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(phase.to_string());
                self.bar = Some(bar);
            }
            Event::TaskDone { .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::PhaseStarted { phase, tasks } => format!("{phase} phase: {tasks} tasks"),
        Event::WorkerJoined { worker } => format!("worker {worker} joined"),
        Event::WorkerLost { worker } => format!("worker {worker} lost"),
        Event::TaskStarted {
            phase,
            task,
            worker,
            backup,
        } => format!(
            "{phase} task {task} started on {worker}{}",
            if *backup { " (backup)" } else { "" }
        ),
        Event::TaskDone {
            phase,
            task,
            worker,
        } => format!("{phase} task {task} done by {worker}"),
        Event::AttemptFailed {
            phase,
            task,
            worker,
            reason,
        } => format!("{phase} task {task} failed on {worker}: {reason}"),
    }
}
