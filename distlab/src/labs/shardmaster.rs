//! The shard master under chaos: clients join, leave and move groups and query
//! configurations while partitions split the masters. The history is checked against a
//! sequential shard master whose state is every configuration made so far, so a query of an
//! old number, a lost or doubled join, or two masters that made different configurations
//! are all caught.
//!
//! The masters keep their configurations in memory only (no disk, no catch-up), so this
//! scenario has no crashes: [`Params::supported_by`](crate::scenario::Params::supported_by)
//! refuses `--crash-every`.

use labrpc::Network;
use linearizability::{Model, Recorder};
use rand::Rng;
use shardmaster::{Clerk, Config, ConfigError, Gid, NSHARDS, Shard, ShardMaster};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use tokio::time::Instant;

use super::{before, check_history, names, stuck_note, think, with_chaos};
use crate::chaos::{Cluster, DiskFate, Nodes};
use crate::scenario::{LabReport, Live, Params};

/// Group ids the clients join, leave and move shards to: a few, so that they collide.
const GIDS: Gid = 5;

/// The servers a client gives group `gid` when it joins it (no such servers run: the
/// masters only store the names).
pub fn group_servers(gid: Gid) -> Vec<String> {
    (0..3).map(|j| format!("g{gid}s{j}")).collect()
}

/// One call of a shard master clerk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmInput {
    /// `join(gid, group_servers(gid))`.
    Join(Gid),
    /// `leave(gid)`.
    Leave(Gid),
    /// `move_shard(shard, gid)`.
    Move(Shard, Gid),
    /// `query(num)`.
    Query(i64),
}

impl fmt::Display for SmInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmInput::Join(gid) => write!(f, "join({gid})"),
            SmInput::Leave(gid) => write!(f, "leave({gid})"),
            SmInput::Move(shard, gid) => write!(f, "move({shard}, {gid})"),
            SmInput::Query(num) => write!(f, "query({num})"),
        }
    }
}

/// What the clerk answered: the configuration made (or asked for), or why it was refused.
pub type SmOutput = Result<Config, ConfigError>;

/// Every configuration made so far, newest first, shared between the states of the search
/// (a state is one more link on its parent's chain, not a copy of it).
#[derive(Clone, Debug)]
pub struct Configs(Rc<Link>);

#[derive(Debug)]
struct Link {
    config: Config,
    before: Option<Configs>,
}

impl Configs {
    fn latest(&self) -> &Config {
        &self.0.config
    }

    /// Configuration `num`, or the latest for a negative number or one past it.
    fn get(&self, num: i64) -> &Config {
        let latest = self.latest();
        let Ok(num) = u64::try_from(num) else {
            return latest;
        };
        if num >= latest.num {
            return latest;
        }
        let mut at = self;
        // Numbers go down by one per link, from the latest to config 0.
        while at.latest().num > num {
            match &at.0.before {
                Some(before) => at = before,
                None => break,
            }
        }
        at.latest()
    }

    fn then(&self, config: Config) -> Configs {
        Configs(Rc::new(Link {
            config,
            before: Some(self.clone()),
        }))
    }
}

impl PartialEq for Configs {
    fn eq(&self, other: &Configs) -> bool {
        let (mut a, mut b) = (self, other);
        loop {
            if Rc::ptr_eq(&a.0, &b.0) {
                return true;
            }
            if a.latest() != b.latest() {
                return false;
            }
            match (&a.0.before, &b.0.before) {
                (Some(x), Some(y)) => (a, b) = (x, y),
                (None, None) => return true,
                _ => return false,
            }
        }
    }
}

impl Eq for Configs {}

/// The newest configuration stands for the chain: equal chains have equal newest ones.
impl Hash for Configs {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let latest = self.latest();
        latest.num.hash(state);
        latest.shards.hash(state);
        latest.groups.hash(state);
    }
}

/// The sequential shard master: each join, leave and move makes the next configuration as
/// [`Config`]'s own rules do; a refused operation changes nothing; a query answers the
/// configuration it names.
pub struct ShardMasterModel;

impl Model for ShardMasterModel {
    type State = Configs;
    type Input = SmInput;
    type Output = SmOutput;

    fn init(&self) -> Configs {
        Configs(Rc::new(Link {
            config: Config::default(),
            before: None,
        }))
    }

    fn step(&self, state: &Configs, input: &SmInput, output: Option<&SmOutput>) -> Option<Configs> {
        let latest = state.latest();
        let made = match input {
            SmInput::Query(num) => {
                let asked = state.get(*num);
                return match output {
                    None => Some(state.clone()),
                    Some(Ok(config)) if config == asked => Some(state.clone()),
                    Some(_) => None,
                };
            }
            SmInput::Join(gid) => latest.join(*gid, group_servers(*gid)),
            SmInput::Leave(gid) => Ok(latest.leave(*gid)),
            SmInput::Move(shard, gid) => latest.moved(*shard, *gid),
        };
        match (made, output) {
            (Ok(next), Some(Ok(told))) if &next == told => Some(state.then(next)),
            (Ok(next), None) => Some(state.then(next)),
            (Err(_), None) => Some(state.clone()),
            (Err(why), Some(Err(told))) if &why == told => Some(state.clone()),
            _ => None,
        }
    }

    fn describe_operation(&self, input: &SmInput, output: Option<&SmOutput>) -> String {
        match output {
            Some(Ok(config)) => format!("{input} -> {} {:?}", config.num, config.shards),
            Some(Err(why)) => format!("{input} -> refused: {why}"),
            None => format!("{input} -> ?"),
        }
    }

    fn describe_state(&self, state: &Configs) -> String {
        state.latest().to_string()
    }
}

struct MasterCluster {
    nodes: Nodes,
    masters: Vec<ShardMaster>,
}

impl Cluster for MasterCluster {
    fn nodes(&self) -> &Nodes {
        &self.nodes
    }
    fn crash(&self, i: usize) {
        self.masters[i].kill();
    }
    fn restart(&self, i: usize, _: DiskFate) {
        crate::chaos::no_restart("shardmaster", &self.nodes.servers[i]);
    }
}

/// Runs the shard master workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let names = names("sm", params.servers);
    let clients = super::names("client", params.clients);
    let cluster = MasterCluster {
        nodes: Nodes::new(&names, &clients, &[]),
        masters: (0..params.servers)
            .map(|i| ShardMaster::start(net, &names, i))
            .collect(),
    };
    let recorder: Recorder<SmInput, SmOutput> = Recorder::new();
    let deadline = Instant::now() + params.duration;
    let results = with_chaos(net, params, live, &cluster, |i| {
        let (net, live, recorder) = (net.clone(), live.clone(), recorder.clone());
        let mut ck = Clerk::new(&net, &clients[i], &names);
        async move {
            // The newest configuration number this client was told: old ones to query.
            let mut seen: i64 = 0;
            while before(deadline) {
                let gid = net.rng().random_range(1..=GIDS);
                let input = match net.rng().random_range(0..10) {
                    0..2 => SmInput::Join(gid),
                    2..3 => SmInput::Leave(gid),
                    3..5 => SmInput::Move(net.rng().random_range(0..NSHARDS), gid),
                    5..8 => SmInput::Query(-1),
                    _ => SmInput::Query(net.rng().random_range(0..=seen + 1)),
                };
                let started = net.now();
                let id = recorder.call(i, input.clone(), started);
                let output = match input {
                    SmInput::Join(gid) => ck.join(gid, &group_servers(gid)).await,
                    SmInput::Leave(gid) => Ok(ck.leave(gid).await),
                    SmInput::Move(shard, gid) => ck.move_shard(shard, gid).await,
                    SmInput::Query(num) => Ok(ck.query(num).await),
                };
                if let Ok(config) = &output {
                    seen = seen.max(i64::try_from(config.num).unwrap_or(i64::MAX));
                }
                // Ids come from this recorder and each is returned once: cannot fail.
                let _ = recorder.returned(id, output, net.now());
                live.op_done(net.now() - started);
                think(&net).await;
            }
        }
    })
    .await;
    check_history(
        &ShardMasterModel,
        &recorder.history(),
        "shard master history",
        &stuck_note(&results),
        net.seed(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use linearizability::{Operation, Verdict, check};

    fn op(call: u64, ret: u64, input: SmInput, output: SmOutput) -> Operation<SmInput, SmOutput> {
        Operation::returned(0, call, ret, input, output)
    }

    #[test]
    fn the_model_accepts_a_sequential_run_and_refuses_a_stale_query() {
        let c0 = Config::default();
        let c1 = c0.join(1, group_servers(1)).expect("a real gid");
        let c2 = c1.join(2, group_servers(2)).expect("a real gid");
        let good = vec![
            op(0, 1, SmInput::Join(1), Ok(c1.clone())),
            op(2, 3, SmInput::Join(2), Ok(c2.clone())),
            op(4, 5, SmInput::Query(1), Ok(c1.clone())),
            op(6, 7, SmInput::Move(3, 9), Err(ConfigError::NoSuchGroup(9))),
            op(8, 9, SmInput::Query(-1), Ok(c2.clone())),
        ];
        let report = check(&ShardMasterModel, &good).expect("well formed");
        assert_eq!(report.verdict, Verdict::Linearizable);
        // A query after the second join that still sees the first: not linearizable.
        let mut stale = good.clone();
        stale[4] = op(8, 9, SmInput::Query(-1), Ok(c1));
        let report = check(&ShardMasterModel, &stale).expect("well formed");
        assert_eq!(report.verdict, Verdict::Violation);
        // A join answered with a configuration the rules would not make.
        let mut wrong = good;
        let mut c2_wrong = c2;
        c2_wrong.shards.swap(0, 9);
        wrong[1] = op(2, 3, SmInput::Join(2), Ok(c2_wrong));
        let report = check(&ShardMasterModel, &wrong).expect("well formed");
        assert_eq!(report.verdict, Verdict::Violation);
    }
}
