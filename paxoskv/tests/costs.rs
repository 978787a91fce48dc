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
