#![allow(clippy::disallowed_methods)] // real processes on this machine: real time
//! The labs as real processes on 127.0.0.1: `distlab serve` servers, `distlab kv` and
//! `distlab status` clients, a server SIGKILLed and restarted from its data directory, the
//! listening and secret rules. Every server started is killed when its test ends, failed or
//! not.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const DISTLAB: &str = env!("CARGO_BIN_EXE_distlab");

/// `n` ports free a moment ago on 127.0.0.1 (bound at once, so distinct, then released).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("a bound address").port())
        .collect()
}

/// Servers started by a test, each logging to a file of the test's directory; all killed on
/// drop.
struct Servers {
    dir: tempfile::TempDir,
    children: Vec<(String, Option<Child>)>,
}

impl Servers {
    fn new() -> Servers {
        Servers {
            dir: tempfile::tempdir().expect("a temporary directory"),
            children: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `distlab serve ARGS` as server `name` (its log is `name.log`) and waits until
    /// `addr` answers `/healthz` with 200. Returns the server's index.
    fn start(&mut self, name: &str, addr: &str, args: &[&str]) -> usize {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(&format!("{name}.log")))
            .expect("a log file");
        let child = Command::new(DISTLAB)
            .arg("serve")
            .args(args)
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("distlab starts");
        let index = match self.children.iter().position(|(n, _)| n == name) {
            Some(i) => {
                self.children[i].1 = Some(child);
                i
            }
            None => {
                self.children.push((name.to_owned(), Some(child)));
                self.children.len() - 1
            }
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while healthz(addr) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "{name} was not healthy within 10 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        index
    }

    /// SIGKILLs server `index`.
    fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].1.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM to server `index` and returns its exit status.
    fn terminate(&mut self, index: usize) -> std::process::ExitStatus {
        let mut child = self.children[index].1.take().expect("a running server");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM failed");
        child.wait().expect("the server exits")
    }

    /// Every server's log.
    fn logs(&self) -> String {
        (self.children.iter())
            .map(|(name, _)| {
                let log = std::fs::read_to_string(self.path(&format!("{name}.log")));
                format!("--- {name}:\n{}", log.unwrap_or_default())
            })
            .collect()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }
}

/// The HTTP status of `GET /healthz` at `addr`, if it answers.
fn healthz(addr: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}

/// Runs `distlab ARGS` to its end, in `dir`.
fn distlab(dir: &Path, args: &[&str]) -> Output {
    Command::new(DISTLAB)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("distlab runs")
}

/// `distlab kv ARGS`'s standard output, asserting it succeeded.
fn kv(servers: &Servers, args: &[&str]) -> String {
    let out = distlab(servers.dir.path(), &[&["kv"], args].concat());
    assert!(
        out.status.success(),
        "distlab kv {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        servers.logs()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn paxoskv_processes_survive_a_sigkill_and_the_restarted_one_catches_up_from_its_disk() {
    let mut servers = Servers::new();
    let addrs: Vec<String> = (free_ports(3).iter())
        .map(|port| format!("127.0.0.1:{port}"))
        .collect();
    let peers = addrs.join(",");
    let args = |i: usize| {
        let me = i.to_string();
        let data = format!("data{i}");
        [&[
            "paxoskv",
            "--me",
            &me,
            "--peers",
            &peers,
            "--data-dir",
            &data,
        ][..]]
        .concat()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<String>>()
    };
    let start = |servers: &mut Servers, i: usize| {
        let args = args(i);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        servers.start(&format!("server{i}"), &addrs[i], &args)
    };
    for i in 0..3 {
        start(&mut servers, i);
    }
    assert_eq!(
        kv(&servers, &["--servers", &peers, "put", "k", "a"]),
        "ok\n"
    );
    assert_eq!(
        kv(&servers, &["--servers", &peers, "append", "k", "b"]),
        "ok\n"
    );
    assert_eq!(kv(&servers, &["--servers", &peers, "get", "k"]), "ab\n");
    assert_eq!(kv(&servers, &["--servers", &addrs[2], "get", "none"]), "\n");

    let status = distlab(servers.dir.path(), &["status", &addrs[0]]);
    let report: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("distlab status prints JSON");
    assert_eq!(report["lab"], "paxoskv", "{report}");
    assert_eq!(report["role"], "replica", "{report}");
    assert!(report["applied_instances"].as_i64() > Some(0), "{report}");

    servers.kill(2);
    assert_eq!(
        kv(&servers, &["--servers", &peers, "append", "k", "c"]),
        "ok\n"
    );
    for addr in &addrs[..2] {
        assert_eq!(kv(&servers, &["--servers", addr, "get", "k"]), "abc\n");
    }
    let dead = distlab(
        servers.dir.path(),
        &["kv", "--servers", &addrs[2], "--timeout", "1s", "get", "k"],
    );
    assert_eq!(dead.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&dead.stderr);
    assert!(
        stderr.contains("no server answered within 1s") && stderr.contains("cannot connect"),
        "{stderr}"
    );

    let restarted = start(&mut servers, 2);
    assert!(
        servers.logs().contains("files)"),
        "the restart did not find its data directory:\n{}",
        servers.logs()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = distlab(
            servers.dir.path(),
            &["kv", "--servers", &addrs[2], "--timeout", "2s", "get", "k"],
        );
        if out.status.success() && out.stdout == b"abc\n" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted server did not catch up: {:?} {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            servers.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let status = servers.terminate(restarted);
    assert!(status.success(), "SIGTERM: {status}\n{}", servers.logs());
    assert!(servers.logs().contains("stopping (SIGTERM)"));
}

#[test]
fn a_pbkv_cluster_of_processes_puts_and_gets() {
    let mut servers = Servers::new();
    let addrs: Vec<String> = (free_ports(3).iter())
        .map(|port| format!("127.0.0.1:{port}"))
        .collect();
    let vs = addrs[0].as_str();
    servers.start("viewservice", vs, &["viewservice", "--listen", vs]);
    for (i, addr) in addrs[1..].iter().enumerate() {
        let name = format!("pbkv{i}");
        let args = ["pbkv", "--listen", addr, "--viewservice", vs];
        servers.start(&name, addr, &args);
    }
    assert_eq!(
        kv(&servers, &["--viewservice", vs, "put", "k", "x"]),
        "ok\n"
    );
    assert_eq!(
        kv(&servers, &["--viewservice", vs, "append", "k", "y"]),
        "ok\n"
    );
    assert_eq!(kv(&servers, &["--viewservice", vs, "get", "k"]), "xy\n");
    let status = distlab(servers.dir.path(), &["status", vs]);
    let report: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("distlab status prints JSON");
    assert_eq!(report["lab"], "viewservice", "{report}");
    let primary = report["view"]["primary"].as_str();
    assert!(
        addrs[1..].iter().any(|a| Some(a.as_str()) == primary),
        "{report}"
    );
}

#[test]
fn a_server_refuses_to_listen_beyond_loopback_without_a_secret() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let port = free_ports(1)[0];
    let me = format!("127.0.0.1:{port}");
    let listen = format!("0.0.0.0:{port}");
    let out = distlab(
        dir.path(),
        &[
            "serve", "paxoskv", "--me", "0", "--peers", &me, "--listen", &listen,
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "distlab serve: refusing to listen on {listen} without a cluster secret"
        )),
        "{stderr}"
    );
}

#[test]
fn a_client_with_the_wrong_secret_or_none_is_told_so() {
    let mut servers = Servers::new();
    let addr = format!("127.0.0.1:{}", free_ports(1)[0]);
    let (right, wrong) = (servers.path("right.key"), servers.path("wrong.key"));
    std::fs::write(&right, "a secret of the cluster, long enough\n").expect("a secret file");
    std::fs::write(&wrong, "another secret, long enough too\n").expect("a secret file");
    let right = right.to_string_lossy().into_owned();
    let wrong = wrong.to_string_lossy().into_owned();
    let args = [
        "paxoskv",
        "--me",
        "0",
        "--peers",
        &addr,
        "--secret-file",
        &right,
    ];
    servers.start("server", &addr, &args);

    let with = |secret: Option<&str>| {
        let mut args = vec!["kv", "--servers", &addr, "--timeout", "1s"];
        if let Some(secret) = secret {
            args.extend(["--secret-file", secret]);
        }
        args.extend(["put", "k", "v"]);
        distlab(servers.dir.path(), &args)
    };
    for (secret, says) in [
        (Some(wrong.as_str()), "wrong secret"),
        (None, "requires the cluster secret"),
    ] {
        let out = with(secret);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("no server answered within 1s") && stderr.contains(says),
            "{stderr}"
        );
    }
    let out = with(Some(&right));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(healthz(&addr), Some(200), "/healthz needs no secret");
    let status = distlab(
        servers.dir.path(),
        &["status", &addr, "--secret-file", &wrong],
    );
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stderr).contains("wrong secret"));
}
