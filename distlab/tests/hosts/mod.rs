#![allow(clippy::disallowed_methods)] // real processes on real hosts: real time and threads
//! Test hosts in Linux network namespaces: one namespace per host, each with its own address
//! on a bridge, server processes started inside them, partitions made with packet filters.
//! Everything made is undone on drop, also when the test fails.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::workload::healthz;

/// The port every server listens on, on its host's own address.
pub const PORT: u16 = 7000;

/// Runs a command; `Err` with its output when it fails.
pub fn sh(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Why hosts cannot be made here, if they cannot (not root, no `ip` or `iptables`).
pub fn unavailable(net: u8) -> Option<String> {
    let probe = format!("dlprobe{net}");
    let _ = sh("ip", &["netns", "delete", &probe]);
    if let Err(e) = sh("ip", &["netns", "add", &probe]) {
        return Some(format!("network namespaces cannot be made here ({e})"));
    }
    let filter = sh(
        "ip",
        &["netns", "exec", &probe, "iptables", "-L", "INPUT", "-n"],
    );
    let _ = sh("ip", &["netns", "delete", &probe]);
    filter
        .err()
        .map(|e| format!("iptables does not work in a namespace ({e})"))
}

/// A set of hosts on one bridge, subnet `10.77.<net>.0/24`; host `i` is `10.77.<net>.<i+1>`
/// and the machine itself (where the test's clients run) is `10.77.<net>.254`.
pub struct Hosts {
    net: u8,
    count: usize,
    bridge: String,
    forward_rule: bool,
    servers: Vec<Option<Child>>,
    /// Where data directories, logs and the secret live.
    pub dir: tempfile::TempDir,
}

impl Hosts {
    /// Makes `count` hosts on subnet `net` (distinct per concurrent test).
    pub fn new(net: u8, count: usize) -> Result<Hosts, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut hosts = Hosts {
            net,
            count: 0,
            bridge: format!("dlbr{net}"),
            forward_rule: false,
            servers: Vec::new(),
            dir,
        };
        let _ = sh("ip", &["link", "delete", &hosts.bridge]); // left by a killed earlier run
        sh("ip", &["link", "add", &hosts.bridge, "type", "bridge"])?;
        let gateway = format!("10.77.{net}.254/24");
        sh("ip", &["addr", "add", &gateway, "dev", &hosts.bridge])?;
        sh("ip", &["link", "set", &hosts.bridge, "up"])?;
        // Docker's FORWARD policy drops bridged traffic when br_netfilter is loaded.
        let rule = ["-i", &hosts.bridge, "-o", &hosts.bridge, "-j", "ACCEPT"];
        sh("iptables", &[&["-I", "FORWARD"][..], &rule].concat())?;
        hosts.forward_rule = true;
        for i in 0..count {
            let ns = hosts.ns(i);
            let (outer, inner) = (format!("dl{net}h{i}"), format!("dl{net}n{i}"));
            let _ = sh("ip", &["netns", "delete", &ns]);
            let _ = sh("ip", &["link", "delete", &outer]);
            sh("ip", &["netns", "add", &ns])?;
            hosts.count = i + 1;
            sh(
                "ip",
                &[
                    "link", "add", &outer, "type", "veth", "peer", "name", &inner,
                ],
            )?;
            sh("ip", &["link", "set", &inner, "netns", &ns])?;
            sh("ip", &["link", "set", &outer, "master", &hosts.bridge])?;
            sh("ip", &["link", "set", &outer, "up"])?;
            let addr = format!("{}/24", hosts.ip(i));
            sh("ip", &["-n", &ns, "addr", "add", &addr, "dev", &inner])?;
            sh("ip", &["-n", &ns, "link", "set", &inner, "up"])?;
            sh("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
            hosts.servers.push(None);
        }
        fs::write(
            hosts.secret_file(),
            "a cluster secret for the multi-host test\n",
        )
        .map_err(|e| e.to_string())?;
        Ok(hosts)
    }

    fn ns(&self, i: usize) -> String {
        format!("dl{}h{i}", self.net)
    }

    /// Host `i`'s address.
    pub fn ip(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.net, i as u8 + 1)
    }

    /// Host `i`'s server address, `ip:PORT`.
    pub fn addr(&self, i: usize) -> String {
        format!("{}:{PORT}", self.ip(i))
    }

    /// The cluster secret's file.
    pub fn secret_file(&self) -> PathBuf {
        self.dir.path().join("secret")
    }

    fn log(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("host{i}.log"))
    }

    /// Starts `distlab <args>` on host `i` (its log appended to `host<i>.log`), and waits until
    /// its `/healthz` answers.
    pub fn start(&mut self, i: usize, args: &[String]) -> Result<(), String> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(i), env!("CARGO_BIN_EXE_distlab")])
            .args(args)
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot start a server on host {i}: {e}"))?;
        self.servers[i] = Some(child);
        self.wait_healthy(i, Duration::from_secs(10))
    }

    fn wait_healthy(&self, i: usize, within: Duration) -> Result<(), String> {
        let addr: SocketAddr = self.addr(i).parse().map_err(|e| format!("{e}"))?;
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if healthz(addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "host {i}'s server was not healthy within {within:?}:\n{}",
            self.logs()
        ))
    }

    /// SIGKILLs host `i`'s server.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.servers[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Cuts every host of `a` off from every host of `b`, both ways (packets dropped).
    pub fn partition(&self, a: &[usize], b: &[usize]) -> Result<(), String> {
        for (side, other) in [(a, b), (b, a)] {
            for &i in side {
                for &j in other {
                    let from = self.ip(j).to_string();
                    sh(
                        "ip",
                        &[
                            "netns",
                            "exec",
                            &self.ns(i),
                            "iptables",
                            "-A",
                            "INPUT",
                            "-s",
                            &from,
                            "-j",
                            "DROP",
                        ],
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Whether host `i` can open a TCP connection to host `j`'s server within half a second:
    /// to check that a partition really cuts.
    pub fn reaches(&self, i: usize, j: usize) -> bool {
        let probe = format!("exec 3<>/dev/tcp/{}/{PORT}", self.ip(j));
        let ns = self.ns(i);
        let args = ["netns", "exec", &ns, "timeout", "0.5", "bash", "-c", &probe];
        sh("ip", &args).is_ok()
    }

    /// Removes every partition.
    pub fn heal(&self) -> Result<(), String> {
        for i in 0..self.count {
            sh(
                "ip",
                &["netns", "exec", &self.ns(i), "iptables", "-F", "INPUT"],
            )?;
        }
        Ok(())
    }

    /// Every host's log, for a failure message.
    pub fn logs(&self) -> String {
        (0..self.count)
            .map(|i| {
                let text = fs::read_to_string(self.log(i)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!(
                    "--- host {i} ({}), last lines:\n{}\n",
                    self.addr(i),
                    tail.join("\n")
                )
            })
            .collect()
    }

    /// A data directory for host `i`'s server.
    pub fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("data{i}"))
    }

    /// Arguments common to every server: its data directory and the secret.
    pub fn common_args(&self, i: usize) -> Vec<String> {
        let path = |p: &Path| p.display().to_string();
        vec![
            "--data-dir".into(),
            path(&self.data_dir(i)),
            "--secret-file".into(),
            path(&self.secret_file()),
        ]
    }
}

/// What clients need of the hosts: their addresses and the secret. Cheap to clone.
#[derive(Clone, Debug)]
pub struct View {
    net: u8,
    dir: PathBuf,
}

impl View {
    /// Host `i`'s server address.
    pub fn addr(&self, i: usize) -> String {
        format!("10.77.{}.{}:{PORT}", self.net, i + 1)
    }

    /// The cluster secret's file.
    pub fn secret_file(&self) -> PathBuf {
        self.dir.join("secret")
    }
}

impl Hosts {
    /// The clients' view of these hosts.
    pub fn view(&self) -> View {
        View {
            net: self.net,
            dir: self.dir.path().to_owned(),
        }
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for i in 0..self.servers.len() {
            self.kill(i);
        }
        for i in 0..self.count {
            // Deleting one end of a veth pair deletes both, at once (a namespace's deletion
            // would take its end along, but later).
            let _ = sh("ip", &["link", "delete", &format!("dl{}h{i}", self.net)]);
            let _ = sh("ip", &["netns", "delete", &self.ns(i)]);
        }
        if self.forward_rule {
            let rule = ["-i", &self.bridge, "-o", &self.bridge, "-j", "ACCEPT"];
            let _ = sh("iptables", &[&["-D", "FORWARD"][..], &rule].concat());
        }
        let _ = sh("ip", &["link", "delete", &self.bridge]);
    }
}
