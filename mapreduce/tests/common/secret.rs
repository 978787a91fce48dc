//! What the tests of real mode with a cluster secret share: the secrets, a job over a small
//! input with its master, and the `mapreduce` command run as a child process.
#![allow(dead_code)] // each test file uses its own part

use labrpc::tcp::{Secret, TcpOptions, TcpServer};
use mapreduce::real::start_master;
use mapreduce::{DirStore, JobSpec, Master, MasterConfig};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::processes;

pub const EXE: &str = env!("CARGO_BIN_EXE_mapreduce");
pub const KEY: &[u8] = b"the cluster's secret, 32 bytes.";
pub const OTHER_KEY: &[u8] = b"somebody else's secret, 32 bytes";
pub const LOOPBACK: ([u8; 4], u16) = ([127, 0, 0, 1], 0);

pub fn with_secret(key: &[u8]) -> Arc<TcpOptions> {
    Arc::new(TcpOptions::with_secret(
        Secret::new(key).expect("a long enough secret"),
    ))
}

/// A job directory, an input and the job over it.
pub struct Job {
    pub dir: tempfile::TempDir,
    pub spec: JobSpec,
}

impl Job {
    pub fn new() -> Job {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let input = dir.path().join("input.txt");
        std::fs::write(&input, "one two two\nthree three three\n").expect("write the input");
        let spec = JobSpec {
            app: "wc".into(),
            inputs: vec![input.display().to_string()],
            map_tasks: 3,
            reduce_tasks: 2,
        };
        Job { dir, spec }
    }

    pub async fn master(&self, options: Arc<TcpOptions>) -> (Master, TcpServer) {
        start_master(
            LOOPBACK.into(),
            DirStore::new(self.dir.path()),
            MasterConfig::real(),
            options,
        )
        .await
        .expect("a master")
    }
}

/// How long a `mapreduce` process of these tests may run: many times what it takes.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// A child process, killed and reaped when the test ends however it ends (an orphan would
/// hold whatever its parent held, such as a build lock).
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `mapreduce ARGS` in `cwd`, its standard error piped.
pub fn spawn_cli(args: &[&str], cwd: &Path) -> Reaped {
    Reaped(
        Command::new(EXE)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the command"),
    )
}

/// Runs `mapreduce ARGS` in `cwd` to its end (failing the test after [`PROCESS_TIMEOUT`]):
/// whether it succeeded, and its standard error, which must not tell of a panic.
pub fn run_cli(args: &[&str], cwd: &Path) -> (bool, String) {
    let mut child = spawn_cli(args, cwd);
    let stderr = child.0.stderr.take().expect("its standard error");
    let (lines, reader) = processes::stream_lines(stderr);
    let began = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for the command") {
            break status;
        }
        if began.elapsed() > PROCESS_TIMEOUT {
            let log: Vec<String> = lines.try_iter().collect();
            panic!("`mapreduce {args:?}` still runs after {PROCESS_TIMEOUT:?}: {log:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = reader.join();
    let stderr = lines.try_iter().collect::<Vec<_>>().join("\n");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (status.success(), stderr)
}
