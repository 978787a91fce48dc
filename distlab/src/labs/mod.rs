//! One chaos workload per lab: the cluster, its clients, what the injector may break, and the
//! check of what the clients saw.
//!
//! Every workload has the same shape: start the servers, start `clients` client tasks that
//! issue operations until the scenario's duration is over, run [`chaos::inject`] meanwhile,
//! let the clients finish once everything has healed (or give up on them after
//! [`DRAIN`]), then check the history.

mod kv;
mod mapreduce;
mod paxos;
mod paxoskv;
mod pbkv;
mod shardkv;
mod shardmaster;
mod viewservice;

use labrpc::Network;
use linearizability::{Limits, Model, Operation, Verdict, check_with, html};
use rand::Rng;
use std::time::Duration;
use tokio::time::{Instant, sleep};

use crate::chaos;
use crate::cli::Lab;
use crate::scenario::{Check, LabReport, Live, Params};

/// How long clients may take, after the faults have healed, to finish their last operation.
/// An operation still running then counts as never returned.
pub const DRAIN: Duration = Duration::from_secs(60);

/// Search steps the linearizability checker may take: a deterministic bound (a time limit
/// would make the verdict depend on the machine). Histories of minutes of simulated time need
/// far fewer.
const CHECK_STEPS: u64 = 20_000_000;

/// The most time between two operations of one client (uniform from zero).
const THINK_TIME_MAX: Duration = Duration::from_millis(20);

tokio::task_local! {
    /// The running workload's [`Live`], for [`check_history`], which records there the
    /// operations that never returned (those of blocked clients). A task-local rather than a
    /// parameter so that each lab's call of `check_history` stays as it is; [`run`] sets it.
    static LIVE: Live;
}

/// Runs `lab`'s workload on `net` with `params`, counting into `live`.
pub async fn run(lab: Lab, net: &Network, params: &Params, live: &Live) -> LabReport {
    let workload = async {
        match lab {
            Lab::Mapreduce => mapreduce::run(net, params, live).await,
            Lab::Viewservice => viewservice::run(net, params, live).await,
            Lab::Pbkv => pbkv::run(net, params, live).await,
            Lab::Paxos => paxos::run(net, params, live).await,
            Lab::Paxoskv => paxoskv::run(net, params, live).await,
            Lab::Shardmaster => shardmaster::run(net, params, live).await,
            Lab::Shardkv => shardkv::run(net, params, live).await,
        }
    };
    LIVE.scope(live.clone(), workload).await
}

/// Runs `client(i)` for every client and the fault injector on `cluster` at once; returns the
/// clients' results, `None` for a client that did not finish within [`DRAIN`] after the
/// injector stopped, which it also records in `live` as blocked.
async fn with_chaos<T: 'static, F: Future<Output = T> + 'static>(
    net: &Network,
    params: &Params,
    live: &Live,
    cluster: &dyn chaos::Cluster,
    client: impl Fn(usize) -> F,
) -> Vec<Option<T>> {
    let tasks: Vec<_> = (0..params.clients)
        .map(|i| tokio::task::spawn_local(client(i)))
        .collect();
    chaos::inject(net.clone(), params.clone(), live.clone(), cluster).await;
    let drain_end = Instant::now() + DRAIN;
    let mut results = Vec::new();
    for task in tasks {
        let left = drain_end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, task).await {
            Ok(Ok(result)) => results.push(Some(result)),
            Ok(Err(panic)) => std::panic::resume_unwind(panic.into_panic()),
            Err(_) => {
                live.client_blocked(results.len());
                results.push(None);
            }
        }
    }
    results
}

/// Whether a client should start another operation: the scenario's duration has not passed.
fn before(deadline: Instant) -> bool {
    Instant::now() < deadline
}

/// A client's pause between operations, drawn from the simulation's generator.
async fn think(net: &Network) {
    let ms = THINK_TIME_MAX.as_millis() as u64;
    sleep(Duration::from_millis(net.rng().random_range(0..=ms))).await;
}

/// The names `prefix0`, `prefix1`, ... of `n` nodes.
fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// A text for "n of m clients never finished", or nothing when all did.
fn stuck_note<T>(results: &[Option<T>]) -> String {
    match results.iter().filter(|r| r.is_none()).count() {
        0 => String::new(),
        n => format!(
            "; {n} of {} clients still blocked {} s after the faults healed",
            results.len(),
            DRAIN.as_secs()
        ),
    }
}

/// Checks `history` against `model` within [`CHECK_STEPS`] and draws it, titled `what`;
/// `note` ends the verdict's text. Every operation without a reply is recorded as pending in
/// the workload's [`Live`] (see [`LIVE`]): the report of a blocked client names it.
fn check_history<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    what: &str,
    note: &str,
    seed: u64,
) -> LabReport {
    // Outside `run` (a unit test of a lab's check) there is no workload to tell.
    let _ = LIVE.try_with(|live| record_pending(live, model, history));
    let limits = Limits {
        steps: Some(CHECK_STEPS),
        ..Limits::none()
    };
    let report = match check_with(model, history, limits) {
        Ok(report) => report,
        // A recorder stamps strictly increasing times, so its history is well formed.
        Err(e) => {
            return LabReport {
                check: Check::Violation(format!("malformed history: {e}")),
                history_html: None,
            };
        }
    };
    let unknown = history.iter().filter(|op| op.output().is_none()).count();
    let check = match report.verdict {
        Verdict::Linearizable => Check::Passed(format!(
            "linearizable ({} operations, {unknown} without a reply{note})",
            history.len()
        )),
        Verdict::Violation => {
            let parts: Vec<String> = report
                .violations()
                .map(|part| match part.breaking_op {
                    Some(op) => format!(
                        "breaks at operation {op} ({})",
                        model.describe_operation(&history[op].input, history[op].output())
                    ),
                    None => "no linearization".to_owned(),
                })
                .collect();
            Check::Violation(format!("not linearizable: {}{note}", parts.join("; ")))
        }
        Verdict::Unknown => Check::Unknown,
    };
    let title = format!("{what}, seed {seed}");
    // Recorders stamp nanoseconds of simulated time; so do the fault bands.
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let faults = LIVE
        .try_with(Live::fault_spans)
        .unwrap_or_default()
        .into_iter()
        .map(|f| html::FaultBand::new(nanos(f.start), nanos(f.end), f.label))
        .collect();
    let options = html::Options {
        faults,
        time_unit: html::TimeUnit::Nanoseconds,
    };
    LabReport {
        check,
        history_html: Some(html::render_with(&title, model, history, &report, &options)),
    }
}

/// Records in `live` every operation of `history` that has no reply: in a workload's history
/// (taken once the drain is over) those are the operations of the blocked clients.
fn record_pending<M: Model>(live: &Live, model: &M, history: &[Operation<M::Input, M::Output>]) {
    for op in history.iter().filter(|op| op.output().is_none()) {
        // Recorders stamp nanoseconds of simulated time.
        let since = Duration::from_nanos(op.call);
        live.operation_pending(op.client, model.describe_operation(&op.input, None), since);
    }
}
