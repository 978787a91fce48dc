//! The key/value workload shared by pbkv and paxoskv: clients Get, Put and Append on a few
//! shared keys, every operation is recorded with its simulated call and return times, and
//! the history is checked for linearizability against the key/value model.

use labrpc::Network;
use linearizability::Recorder;
use linearizability::models::{KvInput, KvMap, KvOp, KvOutput};
use rand::Rng;
use tokio::time::Instant;

use super::{before, check_history, stuck_note, think, with_chaos};
use crate::chaos::Cluster;
use crate::scenario::{LabReport, Live, Params};

/// Keys the clients share, at least: few, so that operations on one key overlap often.
const MIN_KEYS: usize = 3;

/// Keys for `clients` clients: about two clients per key beyond `at_least`, since the
/// checker's search grows exponentially with the operations that overlap on one key.
fn keys(clients: usize, at_least: usize) -> usize {
    at_least.max(clients / 2)
}

/// The operations of a key/value clerk, as pbkv's, paxoskv's and shardkv's clerks offer them.
pub trait KvClerk {
    /// Keys the clients share, at least.
    const MIN_KEYS: usize = MIN_KEYS;
    /// The name of shared key `i`.
    fn key(i: usize) -> String {
        format!("k{i}")
    }
    /// The value of `key`, "" if none.
    async fn get(&mut self, key: &str) -> String;
    /// Sets `key` to `value`.
    async fn put(&mut self, key: &str, value: &str);
    /// Appends `value` to `key`'s value.
    async fn append(&mut self, key: &str, value: &str);
}

impl KvClerk for pbkv::Clerk {
    async fn get(&mut self, key: &str) -> String {
        pbkv::Clerk::get(self, key).await
    }
    async fn put(&mut self, key: &str, value: &str) {
        pbkv::Clerk::put(self, key, value).await
    }
    async fn append(&mut self, key: &str, value: &str) {
        pbkv::Clerk::append(self, key, value).await
    }
}

impl KvClerk for paxoskv::Clerk {
    async fn get(&mut self, key: &str) -> String {
        paxoskv::Clerk::get(self, key).await
    }
    async fn put(&mut self, key: &str, value: &str) {
        paxoskv::Clerk::put(self, key, value).await
    }
    async fn append(&mut self, key: &str, value: &str) {
        paxoskv::Clerk::append(self, key, value).await
    }
}

impl KvClerk for shardkv::Clerk {
    /// One key per shard, at least.
    const MIN_KEYS: usize = shardmaster::NSHARDS;
    /// A key's shard is its first byte's (`key2shard`): keys `0k0` to `9k0` fall on ten
    /// different shards.
    fn key(i: usize) -> String {
        format!("{}k{}", i % 10, i / 10)
    }
    async fn get(&mut self, key: &str) -> String {
        shardkv::Clerk::get(self, key).await
    }
    async fn put(&mut self, key: &str, value: &str) {
        shardkv::Clerk::put(self, key, value).await
    }
    async fn append(&mut self, key: &str, value: &str) {
        shardkv::Clerk::append(self, key, value).await
    }
}

/// Runs the workload with clerks made by `clerk(i)` (client `i` on node `client_names[i]`)
/// under the faults of `cluster`, and checks the history.
pub async fn run<C: KvClerk + 'static>(
    net: &Network,
    params: &Params,
    live: &Live,
    cluster: &dyn Cluster,
    clerk: impl Fn(usize) -> C,
) -> LabReport {
    let recorder: Recorder<KvInput, KvOutput> = Recorder::new();
    let deadline = Instant::now() + params.duration;
    let keys = keys(params.clients, C::MIN_KEYS);
    let results = with_chaos(net, params, live, cluster, |i| {
        let (net, live, recorder, mut ck) = (net.clone(), live.clone(), recorder.clone(), clerk(i));
        async move {
            let mut n = 0u64;
            while before(deadline) {
                let key = C::key(net.rng().random_range(0..keys));
                let input = match net.rng().random_range(0..10) {
                    0..5 => KvInput::get(key),
                    5..7 => KvInput::put(key, format!("{i}.{n}")),
                    _ => KvInput::append(key, format!("[{i}.{n}]")),
                };
                n += 1;
                let started = net.now();
                let id = recorder.call(i, input.clone(), started);
                let output = match &input.op {
                    KvOp::Get => KvOutput::Value(ck.get(&input.key).await),
                    KvOp::Put(value) => {
                        ck.put(&input.key, value).await;
                        KvOutput::Done
                    }
                    KvOp::Append(value) => {
                        ck.append(&input.key, value).await;
                        KvOutput::Done
                    }
                };
                // Ids come from this recorder and each is returned once: cannot fail.
                let _ = recorder.returned(id, output, net.now());
                live.op_done(net.now() - started);
                think(&net).await;
            }
        }
    })
    .await;
    let history = recorder.history();
    check_history(
        &KvMap,
        &history,
        "key/value history",
        &stuck_note(&results),
        net.seed(),
    )
}
