//! Running cargo for grading: one command at a time, its output kept in order, killed with
//! its test binaries past a time limit.

use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::error::GradeError;

/// What a cargo command printed, and how it ended.
#[derive(Clone, Debug, Default)]
pub(crate) struct CargoRun {
    /// Cargo's and libtest's output, interleaved as printed.
    pub(crate) output: String,
    /// Whether cargo exited successfully.
    pub(crate) success: bool,
    /// Whether it ran out of time and was killed.
    pub(crate) timed_out: bool,
}

/// How often a run is checked for having ended or run out of time.
const POLL: Duration = Duration::from_millis(20);
/// How long the output may go on after cargo exited (or was killed) before distlab stops
/// reading it: a process that escaped cargo's group could hold the pipe open forever.
const GRACE: Duration = Duration::from_secs(5);

/// How grading runs cargo: in which workspace, with which target directory, for how long.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cargo<'a> {
    /// The workspace cargo runs in.
    pub workspace: &'a Path,
    /// The target directory, if not the workspace's own.
    pub target_dir: Option<&'a Path>,
    /// The time limit of each command.
    pub timeout: Duration,
    /// Whether panics print backtraces (`RUST_BACKTRACE=1`; off otherwise).
    pub backtraces: bool,
}

impl Cargo<'_> {
    /// Runs `cargo test -p LAB --no-fail-fast -- LIBTEST_ARGS` under one seed.
    pub(crate) fn test(
        &self,
        lab: &str,
        libtest_args: &[&str],
        seed: u64,
    ) -> Result<CargoRun, GradeError> {
        let mut args = vec![
            "test",
            "-p",
            lab,
            "--no-fail-fast",
            "--color",
            "never",
            "--",
        ];
        args.extend_from_slice(libtest_args);
        self.run(&args, Some(seed))
    }

    /// Runs `cargo ARGS` (with `LABRPC_SEED` set if `seed` is given).
    pub(crate) fn run(&self, args: &[&str], seed: Option<u64>) -> Result<CargoRun, GradeError> {
        run_cargo(self, args, seed)
    }
}

/// Runs `cargo ARGS` and returns cargo's and libtest's output, interleaved as printed: cargo
/// names each test binary on stderr before libtest reports its tests on stdout, so both must
/// go through one pipe to keep that order.
///
/// Cargo leads a process group of its own, with the test binaries it starts: past the time
/// limit the whole group is killed. (Its own group also keeps a terminal's Ctrl-C from
/// reaching it, so a watchdog kills the group if distlab dies first.)
// Grading runs real processes in real time, not simulated code: the wall clock, sleeping and a
// thread that reads the pipe are what it needs.
#[allow(clippy::disallowed_methods)]
fn run_cargo(how: &Cargo<'_>, args: &[&str], seed: Option<u64>) -> Result<CargoRun, GradeError> {
    let timeout = how.timeout;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let (mut reader, writer) = std::io::pipe().map_err(GradeError::Cargo)?;
    let mut command = Command::new(cargo);
    command
        .current_dir(how.workspace)
        .args(args)
        .env("RUST_BACKTRACE", if how.backtraces { "1" } else { "0" })
        .env_remove("LABRPC_SEED")
        .env_remove("LABRPC_SEEDS")
        .env_remove("LABRPC_TRACE")
        .stdin(Stdio::null())
        .stdout(writer.try_clone().map_err(GradeError::Cargo)?)
        .stderr(writer);
    if let Some(seed) = seed {
        command.env("LABRPC_SEED", seed.to_string());
    }
    if let Some(dir) = how.target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(GradeError::Cargo)?;
    // The command holds copies of the pipe's writing end: drop them, or reading never ends.
    drop(command);
    let _watchdog = Watchdog::start(&child);
    let output: Arc<Mutex<Vec<u8>>> = Arc::default();
    let (done, finished) = mpsc::channel::<()>();
    {
        let output = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => output
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = done.send(());
        });
    }
    let start = std::time::Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                kill_group(&mut child);
                return Err(GradeError::Cargo(e));
            }
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            kill_group(&mut child);
            break child.wait().ok();
        }
        std::thread::sleep(POLL);
    };
    // The output ends when every process holding the pipe is gone; one still holding it
    // after cargo ended is a leftover of its group.
    if finished.recv_timeout(GRACE).is_err() {
        kill_group(&mut child);
        let _ = finished.recv_timeout(GRACE);
    }
    let bytes = output
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    Ok(CargoRun {
        output: String::from_utf8_lossy(&bytes).into_owned(),
        success: !timed_out && status.is_some_and(|s| s.success()),
        timed_out,
    })
}

/// Kills `child` and (on Unix) the process group it leads: cargo and its test binaries.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        // std has no way to signal a group, and the crate forbids unsafe code (libc::kill):
        // the shell's `kill` does it.
        let _ = Command::new("sh")
            .args([
                "-c",
                "kill -s KILL -- \"-$0\" 2>/dev/null",
                &child.id().to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// A process that kills cargo's process group if distlab dies before the run ends (a Ctrl-C
/// in a terminal signals distlab's group only); killed itself when dropped.
struct Watchdog(Option<Child>);

impl Watchdog {
    /// Starts watching over the group led by `cargo`.
    fn start(cargo: &Child) -> Watchdog {
        #[cfg(unix)]
        {
            // It ignores the signals that stop distlab, checks every second that distlab is
            // alive, and kills the group when it no longer is.
            let script = "trap '' INT HUP TERM QUIT; \
                 while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; \
                 kill -s KILL -- \"-$1\" 2>/dev/null";
            let watchdog = Command::new("sh")
                .args([
                    "-c",
                    script,
                    &std::process::id().to_string(),
                    &cargo.id().to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok();
            Watchdog(watchdog)
        }
        #[cfg(not(unix))]
        {
            let _ = cargo;
            Watchdog(None)
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(watchdog) = &mut self.0 {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}
