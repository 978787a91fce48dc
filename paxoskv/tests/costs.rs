//! What one operation costs on a reliable network with one clerk: its request to a server and
//! one uncontested Paxos agreement among the three (prepare, accept and decided to each of
//! the two others): 7 RPCs.

use labrpc::{Network, sim};
use paxoskv::{Clerk, KvServer};

#[test]
fn an_operation_takes_seven_rpcs() {
    sim::run(|net: Network| async move {
        let names: Vec<String> = (0..3).map(|i| format!("kv{i}")).collect();
        let _servers: Vec<KvServer> = (0..3).map(|i| KvServer::start(&net, &names, i)).collect();
        let mut ck = Clerk::new(&net, "clerk", &names);
        for n in 0..20 {
            let before = net.stats().rpcs;
            ck.put("k", &n.to_string()).await;
            let cost = net.stats().rpcs - before;
            assert_eq!(cost, 7, "Put {n}: {cost} RPCs");
        }
        let before = net.stats().rpcs;
        assert_eq!(ck.get("k").await, "19");
        assert_eq!(net.stats().rpcs - before, 7, "a Get goes through Paxos too");
    });
}

/// A late copy of a clerk's old request (the clerk has gone on since) gets `Superseded` at
/// once: no new Paxos instance for an operation already applied.
#[test]
fn a_late_copy_of_an_old_request_costs_no_agreement() {
    use paxoskv::{ClientOp, KvError, KvPaxosClient, OpKind};
    sim::run(|net: Network| async move {
        let names: Vec<String> = (0..3).map(|i| format!("kv{i}")).collect();
        let servers: Vec<KvServer> = (0..3).map(|i| KvServer::start(&net, &names, i)).collect();
        let kv0 = KvPaxosClient::from(net.client("raw", "kv0"));
        let put = |seq: u64, value: &str| ClientOp {
            client: 7,
            seq,
            kind: OpKind::Put {
                key: "k".into(),
                value: value.into(),
            },
        };
        for (seq, value) in [(1, "a"), (2, "b")] {
            let reply = kv0.execute(labrpc::context(), put(seq, value)).await;
            assert!(matches!(reply, Ok(Ok(_))), "{reply:?}");
        }
        let instances = servers[0].paxos().max();
        let reply = kv0.execute(labrpc::context(), put(1, "a")).await;
        assert!(matches!(reply, Ok(Err(KvError::Superseded))), "{reply:?}");
        assert_eq!(
            servers[0].paxos().max(),
            instances,
            "a new instance was started"
        );
        let mut ck = Clerk::new(&net, "reader", &names);
        assert_eq!(ck.get("k").await, "b");
    });
}

/// `held_bytes` counts the map and the values of the log Paxos has not forgotten: with one
/// server down nothing is forgotten (it has not applied anything), so a server holds each
/// value in its map and once in the log (a decided instance keeps its value's encoding, a
/// few bytes more than the value, and drops the accepted copy).
#[test]
fn held_bytes_counts_the_map_and_the_unforgotten_log() {
    const VALUES: usize = 10;
    const SIZE: usize = 1000;
    sim::run(|net: Network| async move {
        let names: Vec<String> = (0..3).map(|i| format!("kv{i}")).collect();
        let servers: Vec<KvServer> = (0..3).map(|i| KvServer::start(&net, &names, i)).collect();
        servers[2].kill();
        let mut ck = Clerk::new(&net, "clerk", &names[..2]);
        let value = "v".repeat(SIZE);
        for i in 0..VALUES {
            ck.put(&format!("k{i}"), &value).await;
        }
        let map: usize = servers[0]
            .data()
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        assert_eq!(map, VALUES * (2 + SIZE), "the map holds every value once");
        let held = servers[0].held_bytes();
        let (low, high) = (map + VALUES * SIZE, map + VALUES * (SIZE + 64));
        assert!(
            (low..=high).contains(&held),
            "held_bytes is {held}: the map ({map} bytes) and {VALUES} logged values of \
             {SIZE} bytes should come to between {low} and {high}"
        );
    });
}
