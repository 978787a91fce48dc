//! What a clerk relies on beyond Go's tests: an operation resent after it was applied makes no
//! second configuration (**S2**); a move that makes no sense is refused with its reason and
//! makes no configuration; a query past the latest, or negative, is the latest.

use labrpc::{Network, sim};
use shardmaster::{
    Clerk, ClientOp, ConfigError, NSHARDS, Request, ShardMaster, ShardMasterServiceClient, SmEnd,
};

fn start(net: &Network) -> Vec<String> {
    start_servers(net).0
}

fn start_servers(net: &Network) -> (Vec<String>, Vec<ShardMaster>) {
    let names: Vec<String> = (0..3).map(|i| format!("sm{i}")).collect();
    let servers = (0..3).map(|i| ShardMaster::start(net, &names, i)).collect();
    (names, servers)
}

#[test]
fn idle_servers_apply_what_was_decided_without_them() {
    sim::run(|net: Network| async move {
        let (names, servers) = start_servers(&net);
        let mut ck = Clerk::new(&net, "ck", &names[0..=0]);
        ck.join(4, &["a".to_owned()]).await.expect("a real group");
        // Servers 1 and 2 got no request; their ticker applies the decided join (S5).
        tokio::time::sleep(shardmaster::server::APPLY_INTERVAL * 3).await;
        for (i, server) in servers.iter().enumerate() {
            let latest = server.latest();
            assert_eq!(
                (latest.num, latest.shards[0]),
                (1, 4),
                "server {i}: {latest}"
            );
        }
    });
}

#[test]
fn a_killed_server_answers_nothing_and_the_others_go_on() {
    sim::run(|net: Network| async move {
        let (names, servers) = start_servers(&net);
        servers[0].kill();
        let raw = ShardMasterServiceClient::from(net.client::<_, _>("raw", &names[0]));
        let query = ClientOp {
            client: 1,
            seq: 1,
            request: Request::Query { num: -1 },
        };
        let reply = raw.execute(labrpc::context(), query).await;
        assert!(reply.is_err(), "a killed server answered: {reply:?}");
        let mut ck = Clerk::new(&net, "ck", &names);
        let config = ck.join(1, &["a".to_owned()]).await.expect("a real group");
        assert_eq!(config.num, 1, "two servers of three still agree");
    });
}

#[test]
fn a_resent_join_makes_one_configuration() {
    sim::run(|net: Network| async move {
        let names = start(&net);
        let end: SmEnd = net.client("raw", &names[0]);
        let raw = ShardMasterServiceClient::from(end);
        let join = ClientOp {
            client: 7,
            seq: 1,
            request: Request::Join {
                gid: 5,
                servers: vec!["a".into()],
            },
        };
        for _ in 0..3 {
            let reply = raw.execute(labrpc::context(), join.clone()).await;
            let config = reply.expect("a reliable network").expect("a real group");
            assert_eq!(config.num, 1, "a resend made another configuration");
        }
        // At another server too: the log holds the duplicates, applied once.
        let mut ck = Clerk::new(&net, "ck", &names[1..=1]);
        assert_eq!(ck.query(-1).await.num, 1);
    });
}

#[test]
fn a_move_that_makes_no_sense_is_refused_and_changes_nothing() {
    sim::run(|net: Network| async move {
        let names = start(&net);
        let mut ck = Clerk::new(&net, "ck", &names);
        ck.join(1, &["a".to_owned()]).await.expect("a real group");
        assert_eq!(
            ck.move_shard(0, 99).await,
            Err(ConfigError::NoSuchGroup(99))
        );
        assert_eq!(
            ck.move_shard(NSHARDS, 1).await,
            Err(ConfigError::NoSuchShard(NSHARDS))
        );
        assert_eq!(
            ck.join(0, &["z".to_owned()]).await,
            Err(ConfigError::ReservedGid)
        );
        assert_eq!(
            ck.query(-1).await.num,
            1,
            "a refused operation made a configuration"
        );
    });
}

#[test]
fn queries_past_the_latest_or_negative_are_the_latest() {
    sim::run(|net: Network| async move {
        let names = start(&net);
        let mut ck = Clerk::new(&net, "ck", &names);
        ck.join(1, &["a".to_owned()]).await.expect("a real group");
        ck.join(2, &["b".to_owned()]).await.expect("a real group");
        for num in [-1, -7, 2, 3, 1000] {
            assert_eq!(ck.query(num).await.num, 2, "query({num})");
        }
        assert_eq!(ck.query(0).await.groups.len(), 0);
        assert_eq!(ck.query(1).await.shards, [1; NSHARDS]);
    });
}
