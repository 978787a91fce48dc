//! Refusals that need no student code: a raw call to a master without the cluster secret, and
//! the `mapreduce` command's errors about `--secret-file` and `--insecure`.
#![allow(clippy::disallowed_methods)] // real processes and wall-clock time, no simulation

#[path = "common/blackhole.rs"]
mod blackhole;
#[path = "common/processes.rs"]
mod processes;
#[path = "common/secret.rs"]
mod secret;

use blackhole::in_real_time;
use mapreduce::protocol::{MasterEnd, MasterServiceClient};
use secret::{Job, KEY, OTHER_KEY, run_cli, with_secret};
use std::sync::Arc;

/// A peer calling the master's service directly without the secret (or with another) gets
/// an error naming the secret, and its call never reaches the service.
#[test]
fn a_raw_call_without_the_secret_is_refused() {
    in_real_time(async {
        let job = Job::new();
        let (master, server) = job.master(with_secret(KEY)).await;
        let addr = server.local_addr().to_string();
        for (options, why) in [
            (Arc::default(), "the server requires the cluster secret"),
            (with_secret(OTHER_KEY), "wrong secret"),
        ] {
            let rogue = MasterServiceClient::from(MasterEnd::tcp(&addr, options));
            let error = (rogue
                .register(labrpc::context(), "127.0.0.1:1".into())
                .await)
                .map_err(labrpc::Error::from)
                .expect_err("a registration without the secret");
            assert!(error.to_string().contains(why), "{error}");
        }
        let error = MasterEnd::connect_tcp(server.local_addr())
            .await
            .expect_err("a connection without the secret");
        assert!(error.to_string().contains("secret"), "{error}");
        assert_eq!(server.rpc_count(), 0, "{}", server.status());
        assert!(master.workers().is_empty());
    });
}

/// The command's errors about the secret: a missing or short secret file, a non-loopback
/// address without a secret, `--insecure` beside a secret. Each is one clear line, no panic.
#[test]
fn command_line_secret_errors_are_clear() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cwd = dir.path();
    std::fs::write(cwd.join("ok.txt"), "fine\n").expect("write");
    std::fs::write(cwd.join("short"), "too short\n").expect("write");
    std::fs::write(cwd.join("key"), KEY).expect("write");

    let (ok, err) = run_cli(&["master", "--secret-file", "missing", "ok.txt"], cwd);
    assert!(!ok);
    assert!(err.contains("cannot read the secret file missing"), "{err}");
    let (ok, err) = run_cli(
        &[
            "worker",
            "--master",
            "127.0.0.1:1",
            "--secret-file",
            "short",
        ],
        cwd,
    );
    assert!(!ok);
    assert!(
        err.contains("secret file short: a cluster secret needs at least 16 bytes, this one has 9"),
        "{err}"
    );
    let (ok, err) = run_cli(&["wc", "ok.txt", "--secret-file", "short"], cwd);
    assert!(!ok);
    assert!(err.contains("at least 16 bytes"), "{err}");

    for args in [
        &["master", "--listen", "0.0.0.0:0", "ok.txt"][..],
        &["worker", "--master", "127.0.0.1:1", "--listen", "0.0.0.0:0"],
    ] {
        let (ok, err) = run_cli(args, cwd);
        assert!(!ok);
        assert!(
            err.contains(
                "refusing to listen on 0.0.0.0:0 without a cluster secret: anyone who reaches \
                 it could call this server; give a secret (--secret-file), listen on loopback, \
                 or pass --insecure"
            ),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    let (ok, err) = run_cli(
        &["master", "--secret-file", "key", "--insecure", "ok.txt"],
        cwd,
    );
    assert!(!ok);
    assert!(err.contains("cannot be used with"), "{err}");
}
