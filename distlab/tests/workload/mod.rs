#![allow(clippy::disallowed_methods)] // real servers: real time
//! The client workload of the tests that run real servers under faults (`multihost.rs`,
//! `deploy.rs`): clerks in this process append unique tokens to and read a few keys while the
//! test's faults go on, recording the history; then a final read of every key checks that
//! each acknowledged append is in it exactly once, and the linearizability checker checks the
//! whole history. Also [`healthz`], the probe of a server's readiness.

use linearizability::models::{KvInput, KvMap, KvOutput};
use linearizability::{Recorder, check};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Clerks at once.
pub const CLIENTS: usize = 3;
/// Keys they share.
pub const KEYS: usize = 3;
/// Clients must finish within this time once the faults are healed.
pub const SETTLE: Duration = Duration::from_secs(60);

/// The store the clerks talk to, by the addresses this process reaches it at.
#[derive(Clone, Debug)]
pub enum Store {
    /// paxoskv servers (each clerk tries them in turn).
    PaxosKv(Vec<String>),
    /// A pbkv store's view service (its servers must be reachable by the names they give it,
    /// so `deploy.rs`, whose servers are named in the containers' network only, has no use
    /// for it).
    #[allow(dead_code)]
    PbKv(String),
}

/// The history the clients record.
type History = Recorder<KvInput, KvOutput>;

/// An acknowledged append: the key and the token appended.
pub type Acked = (String, String);

/// One workload: its store, its secret, its seed (which fixes each client's operations) and
/// the history recorded so far.
pub struct Workload {
    store: Store,
    secret_file: PathBuf,
    seed: u64,
    history: History,
    start: Instant,
    runtime: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
}

enum Clerk {
    PaxosKv(paxoskv::Clerk),
    PbKv(pbkv::Clerk),
}

impl Clerk {
    async fn get(&mut self, key: &str) -> String {
        match self {
            Clerk::PaxosKv(clerk) => clerk.get(key).await,
            Clerk::PbKv(clerk) => clerk.get(key).await,
        }
    }

    async fn append(&mut self, key: &str, value: &str) {
        match self {
            Clerk::PaxosKv(clerk) => clerk.append(key, value).await,
            Clerk::PbKv(clerk) => clerk.append(key, value).await,
        }
    }
}

impl Workload {
    /// A workload on `store`, whose servers hold the secret in `secret_file`.
    pub fn new(store: Store, secret_file: PathBuf, seed: u64) -> Result<Workload, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
        labrpc::tcp::Secret::from_file(&secret_file)
            .map_err(|e| format!("the cluster secret: {e}"))?;
        Ok(Workload {
            store,
            secret_file,
            seed,
            history: History::new(),
            start: Instant::now(),
            runtime,
            local: tokio::task::LocalSet::new(),
        })
    }

    /// A clerk on a real node that listens nowhere.
    fn clerk(&self) -> Clerk {
        // Read in `new` already.
        let secret = labrpc::tcp::Secret::from_file(&self.secret_file).expect("the secret");
        let node =
            labrpc::Node::real_client("client", labrpc::tcp::TcpOptions::with_secret(secret));
        match &self.store {
            Store::PaxosKv(servers) => Clerk::PaxosKv(paxoskv::Clerk::on(node, servers)),
            Store::PbKv(viewservice) => Clerk::PbKv(pbkv::Clerk::on(node, viewservice)),
        }
    }

    /// Runs [`CLIENTS`] clients for `duration`, then waits at most [`SETTLE`] for each to
    /// finish its last operation: the appends they saw acknowledged.
    pub fn drive(&self, duration: Duration) -> Result<Vec<Acked>, String> {
        let stop = Arc::new(AtomicBool::new(false));
        self.local.block_on(&self.runtime, async {
            let clients: Vec<_> = (0..CLIENTS)
                .map(|me| {
                    let (clerk, stop) = (self.clerk(), stop.clone());
                    let (history, start) = (self.history.clone(), self.start);
                    let seed = self.seed.wrapping_add(me as u64);
                    tokio::task::spawn_local(client(clerk, me, seed, history, start, stop))
                })
                .collect();
            tokio::time::sleep(duration).await;
            stop.store(true, Ordering::Relaxed);
            // The faults are healed at about this time; then each client's last operation
            // must finish within SETTLE.
            tokio::time::timeout(SETTLE, async {
                let mut acked = Vec::new();
                for client in clients {
                    acked.extend(client.await.expect("a client task"));
                }
                acked
            })
            .await
            .map_err(|_| format!("clients still blocked {SETTLE:?} after the faults healed"))
        })
    }

    /// Reads every key once more, checks that each of `acked` is in its key's value exactly
    /// once and that the whole history is linearizable: the number of operations checked.
    pub fn check(&self, acked: &[Acked]) -> Result<usize, String> {
        let finals = self.local.block_on(&self.runtime, async {
            tokio::time::timeout(SETTLE, async {
                let mut clerk = self.clerk();
                let mut finals = Vec::new();
                for k in 0..KEYS {
                    let key = format!("k{k}");
                    let id = (self.history).call(CLIENTS, KvInput::get(&key), self.elapsed());
                    let value = clerk.get(&key).await;
                    let output = KvOutput::Value(value.clone());
                    (self.history.returned(id, output, self.elapsed())).expect("one return");
                    finals.push((key, value));
                }
                finals
            })
            .await
        });
        let finals =
            finals.map_err(|_| format!("the final gets did not finish within {SETTLE:?}"))?;
        for (key, token) in acked {
            let value = &finals
                .iter()
                .find(|(k, _)| k == key)
                .ok_or_else(|| format!("an append to {key}, which is no key of the workload"))?
                .1;
            let times = value.matches(token.as_str()).count();
            if times != 1 {
                return Err(format!(
                    "acknowledged append {token} to {key} is in it {times} times"
                ));
            }
        }
        let ops = self.history.history();
        let report = check(&KvMap, &ops).map_err(|e| format!("{e}"))?;
        if !report.is_linearizable() {
            return Err(format!(
                "the history of {} operations is {:?}",
                ops.len(),
                report.verdict
            ));
        }
        Ok(ops.len())
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

/// One client: appends of unique tokens and gets on a few keys, until `stop`.
async fn client(
    mut clerk: Clerk,
    me: usize,
    seed: u64,
    history: History,
    start: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<Acked> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut acked = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("k{}", rng.random_range(0..KEYS));
        if rng.random_bool(0.7) {
            let token = format!("c{me}.{n};");
            n += 1;
            let id = history.call(me, KvInput::append(&key, &token), start.elapsed());
            clerk.append(&key, &token).await;
            history
                .returned(id, KvOutput::Done, start.elapsed())
                .expect("one return");
            acked.push((key, token));
        } else {
            let id = history.call(me, KvInput::get(&key), start.elapsed());
            let value = clerk.get(&key).await;
            (history.returned(id, KvOutput::Value(value), start.elapsed())).expect("one return");
        }
    }
    acked
}

/// Whether `GET /healthz` at `addr` answers 200.
pub fn healthz(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"GET /healthz HTTP/1.1\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}
