//! Real mode with a cluster secret, over TCP on loopback: master and workers that share the
//! secret run a job; a worker with a wrong secret or none cannot register and is told why
//! at once; a registration naming a server that cannot prove the secret gets it no task; a
//! job across processes with `--secret-file`. (Refusals that need no student code are in
//! `secret_refusals.rs`.)
#![allow(clippy::disallowed_methods)] // real processes and wall-clock time, no simulation

#[path = "common/blackhole.rs"]
mod blackhole;
#[path = "common/processes.rs"]
mod processes;
#[path = "common/secret.rs"]
mod secret;

use blackhole::in_real_time;
use labrpc::tcp::{Secret, TcpOptions, TcpServer};
use mapreduce::protocol::{MasterEnd, MasterServiceClient, WorkerService};
use mapreduce::real::{ConnectError, RealError, connect_worker, run_worker};
use mapreduce::{
    DirStore, Event, Exit, JobReport, JobSpec, Master, Worker, WorkerConfig, builtin_apps,
};
use secret::{Job, KEY, LOOPBACK, OTHER_KEY, PROCESS_TIMEOUT, run_cli, spawn_cli, with_secret};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

fn check_output(report: &JobReport) {
    let want: Vec<(String, String)> = [("one", "1"), ("three", "3"), ("two", "2")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(report.output, want);
}

/// Runs `job` on `master`, failing the test after 20 s; returns the report and the workers
/// that joined.
async fn run_job(
    master: &mut Master,
    spec: &JobSpec,
    also: impl Future<Output = ()>,
) -> (JobReport, Vec<String>) {
    let mut joined = Vec::new();
    let mut observe = |event: &Event| {
        if let Event::WorkerJoined { worker } = event {
            joined.push(worker.clone());
        }
    };
    let job = tokio::time::timeout(Duration::from_secs(20), master.run(spec, &mut observe));
    let (report, ()) = tokio::join!(job, also);
    let report = report
        .expect("the job ended in time")
        .expect("the job succeeded");
    (report, joined)
}

/// How many connections `server` closed for `reason` (its status report's `refused`).
fn refused(server: &TcpServer, reason: &str) -> u64 {
    server.status()["refused"][reason].as_u64().unwrap_or(0)
}

/// How many connections `server` closed for any reason.
fn refused_in_all(server: &TcpServer) -> u64 {
    let status = server.status();
    let Some(reasons) = status["refused"].as_object() else {
        return 0;
    };
    reasons.values().filter_map(|n| n.as_u64()).sum()
}

/// Master and workers holding the same secret run a job; every connection, the workers' to
/// the master and the master's back to them, proved the secret.
#[test]
fn master_and_workers_with_the_same_secret_complete_a_job() {
    in_real_time(async {
        let job = Job::new();
        let (mut master, server) = job.master(with_secret(KEY)).await;
        assert_eq!(server.status()["secret"], true);
        let workers: Vec<_> = (0..2)
            .map(|_| {
                tokio::task::spawn_local(run_worker(
                    server.local_addr(),
                    LOOPBACK.into(),
                    WorkerConfig::real(),
                    with_secret(KEY),
                ))
            })
            .collect();
        let (report, joined) = run_job(&mut master, &job.spec, async {}).await;
        check_output(&report);
        assert!(!joined.is_empty(), "no worker joined");
        assert_eq!(refused_in_all(&server), 0, "{}", server.status());
        master.shutdown_workers().await;
        let mut done = 0;
        for worker in workers {
            let (_, exit, tasks) = (worker.await)
                .expect("the worker task")
                .expect("the worker ran");
            assert_eq!(exit, Exit::Shutdown);
            done += tasks;
        }
        // In real time the master may hand a task out again (a late reply), as MapReduce
        // allows; the output above is what must be exact.
        assert!(
            done >= 5,
            "3 maps and 2 reduces, each at least once: {done}"
        );
    });
}

/// Workers with a wrong secret, or none, fail at once (not after the 10 s of patience for a
/// master that is not up yet) with an error that names the secret; no call of theirs reaches
/// the master's service, and the job then runs on a worker with the right secret alone.
#[test]
fn a_worker_with_a_wrong_secret_or_none_cannot_register() {
    in_real_time(async {
        let job = Job::new();
        let (mut master, server) = job.master(with_secret(KEY)).await;
        let addr = server.local_addr();
        let rogues = [
            (Some(OTHER_KEY), "wrong secret"),
            (
                None,
                "requires the cluster secret (give it with --secret-file)",
            ),
        ];
        for (key, why) in rogues {
            let options = key.map_or_else(Arc::default, with_secret);
            let begun = Instant::now();
            let result = run_worker(addr, LOOPBACK.into(), WorkerConfig::real(), options).await;
            let Err(error @ RealError::NoMaster { .. }) = result else {
                panic!("a rogue with {key:?} ran: {result:?}");
            };
            let message = error.to_string();
            assert!(message.contains(why), "{message}");
            assert!(
                message.starts_with(&format!("cannot reach the master at {addr}: the server")),
                "{message}"
            );
            assert!(
                begun.elapsed() < Duration::from_secs(5),
                "{:?}",
                begun.elapsed()
            );
        }
        assert_eq!(server.rpc_count(), 0, "a rogue's call reached the master");
        // Each rogue gave up on the handshake itself (the master's proof did not check out, or
        // it asked for a secret the rogue lacks), which the server counts as it closes.
        // (The server may see the second close a moment after the rogue gave up.)
        let begun = Instant::now();
        while refused_in_all(&server) < 2 && begun.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(refused_in_all(&server), 2, "{}", server.status());
        assert!(master.workers().is_empty());

        let good = tokio::task::spawn_local(run_worker(
            addr,
            LOOPBACK.into(),
            WorkerConfig::real(),
            with_secret(KEY),
        ));
        let (report, joined) = run_job(&mut master, &job.spec, async {}).await;
        check_output(&report);
        assert_eq!(joined.len(), 1, "{joined:?}");
        master.shutdown_workers().await;
        let (me, exit, done) = good.await.expect("the worker task").expect("it ran");
        assert_eq!(
            (joined[0].clone(), exit, done),
            (me.to_string(), Exit::Shutdown, 5)
        );
    });
}

/// A worker's server listening on loopback with `options`.
async fn rogue_worker(options: TcpOptions) -> (Worker, TcpServer) {
    let store = Arc::new(DirStore::new(std::env::temp_dir()));
    let worker = Worker::new(builtin_apps(), store, WorkerConfig::real());
    let server = TcpServer::bind(LOOPBACK.into(), options)
        .await
        .expect("a rogue server");
    server.set_service(worker.clone().serve());
    (worker, server)
}

/// Registrations (made by a peer that holds the secret) name two worker servers that cannot
/// prove it: one with no secret, one with another. The master's connections back to them
/// use its secret and fail, so neither joins, neither receives a single call (a task, with
/// its paths, above all), and the job runs on the genuine worker. The master's own connect
/// says why.
#[test]
fn no_task_goes_to_a_worker_that_cannot_prove_the_secret() {
    in_real_time(async {
        let job = Job::new();
        let (mut master, server) = job.master(with_secret(KEY)).await;
        let addr = server.local_addr();
        let (open_worker, open_server) = rogue_worker(TcpOptions::default()).await;
        let (wrong_worker, wrong_server) = rogue_worker(TcpOptions::with_secret(
            Secret::new(OTHER_KEY).expect("long"),
        ))
        .await;
        let insider =
            MasterServiceClient::from(MasterEnd::tcp(&addr.to_string(), with_secret(KEY)));
        for rogue in [&open_server, &wrong_server] {
            (insider
                .register(labrpc::context(), rogue.local_addr().to_string())
                .await)
                .expect("a registration by a peer with the secret");
        }
        let mut good = None;
        let start_good_worker = async {
            // Only once the master has tried the rogue with the wrong secret (its server
            // counts the handshake that failed) may a genuine worker join.
            let begun = Instant::now();
            while refused(&wrong_server, "bad_handshake") == 0 {
                assert!(begun.elapsed() < Duration::from_secs(10), "never tried");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            good = Some(tokio::task::spawn_local(run_worker(
                addr,
                LOOPBACK.into(),
                WorkerConfig::real(),
                with_secret(KEY),
            )));
        };
        let (report, joined) = run_job(&mut master, &job.spec, start_good_worker).await;
        check_output(&report);
        let rogues = [open_server.local_addr(), wrong_server.local_addr()].map(|a| a.to_string());
        assert!(
            joined.iter().all(|worker| !rogues.contains(worker)),
            "{joined:?}"
        );
        for (worker, server) in [(&open_worker, &open_server), (&wrong_worker, &wrong_server)] {
            assert_eq!(server.rpc_count(), 0, "{}", server.status());
            assert_eq!(worker.tasks_done(), 0);
        }
        master.shutdown_workers().await;
        let good = good.expect("the genuine worker was started");
        let (_, exit, done) = good.await.expect("the worker task").expect("it ran");
        assert_eq!((exit, done), (Exit::Shutdown, 5));

        // The master's connect, alone: refused, with the reason.
        let connect = |to: SocketAddr| connect_worker(to, Duration::from_secs(5), with_secret(KEY));
        for (to, why) in [
            (open_server.local_addr(), "cannot prove who it is"),
            (wrong_server.local_addr(), "wrong secret"),
        ] {
            match connect(to).await {
                Err(ConnectError::Failed(error)) => {
                    assert!(error.to_string().contains(why), "{error}")
                }
                other => panic!("connected to {to}: {:?}", other.map(|_| ())),
            }
        }
        assert_eq!(open_server.rpc_count() + wrong_server.rpc_count(), 0);
    });
}

/// Across processes: a master and a worker given the same `--secret-file` run a job; a
/// worker given another fails at once, saying why.
#[test]
fn processes_with_the_same_secret_file_run_a_job() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cwd = dir.path();
    std::fs::write(cwd.join("in.txt"), "b a b\n").expect("write");
    std::fs::write(cwd.join("key"), [KEY, b"\n"].concat()).expect("write");
    std::fs::write(cwd.join("other"), OTHER_KEY).expect("write");
    let mut master = spawn_cli(
        &[
            "master",
            "--listen",
            "127.0.0.1:0",
            "--secret-file",
            "key",
            "-m",
            "2",
            "-r",
            "2",
            "-o",
            "out.txt",
            "in.txt",
        ],
        cwd,
    );
    let stderr = master.0.stderr.take().expect("the master's stderr");
    let (lines, _reader) = processes::stream_lines(stderr);
    let first = (lines.recv_timeout(Duration::from_secs(30))).expect("the master's first line");
    let addr = processes::master_addr(&first);
    // On a failure, the master's own words say why (a stub not yet written, say).
    let master_said = || {
        std::thread::sleep(Duration::from_millis(500));
        lines.try_iter().collect::<Vec<_>>().join("\n")
    };

    let (ok, err) = run_cli(
        &[
            "worker",
            "--master",
            &addr,
            "--secret-file",
            "other",
            "--slots",
            "1",
        ],
        cwd,
    );
    let wrong = "the server does not hold our cluster secret: wrong secret";
    let told = format!("cannot reach the master at {addr}: {wrong}");
    assert!(
        !ok && err.contains(&told),
        "{err}\nthe master said: {}",
        master_said()
    );

    let (ok, err) = run_cli(
        &[
            "worker",
            "--master",
            &addr,
            "--secret-file",
            "key",
            "--slots",
            "1",
        ],
        cwd,
    );
    assert!(
        ok,
        "the worker failed: {err}\nthe master said: {}",
        master_said()
    );
    assert!(err.contains("shut down by the master; "), "{err}");
    let began = std::time::Instant::now();
    let status = loop {
        if let Some(status) = master.0.try_wait().expect("wait for the master") {
            break status;
        }
        assert!(began.elapsed() < PROCESS_TIMEOUT, "the master did not exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    let log: Vec<String> = lines.try_iter().collect();
    assert!(status.success(), "{log:?}");
    let output = std::fs::read_to_string(cwd.join("out.txt")).expect("the output");
    assert_eq!(output, "a: 1\nb: 2\n");
}
