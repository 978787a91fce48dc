//! Real mode in one process, over TCP on loopback: a registration naming an address that
//! never answers does not stall the master (that its connect gives up after the timeout is
//! `tests/connect.rs`).

#[path = "common/blackhole.rs"]
mod blackhole;

use blackhole::{Blackhole, in_real_time};
use mapreduce::protocol::{MasterEnd, MasterServiceClient};
use mapreduce::real::{run_worker, start_master};
use mapreduce::{DirStore, Event, Exit, JobSpec, MasterConfig, WorkerConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A bogus registration (the blackhole's address) arrives before a real worker's: the real
/// worker still gets every task at once, although connecting to the blackhole would take
/// a minute (the test's connect timeout) or two (the operating system's).
#[test]
fn a_registration_that_never_answers_does_not_stall_the_job() {
    in_real_time(async {
        let blackhole = Blackhole::new();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let input = dir.path().join("input.txt");
        std::fs::write(&input, "one two two\nthree three three\n").expect("write the input");
        let config = MasterConfig {
            connect_timeout: Duration::from_secs(60),
            ..MasterConfig::real()
        };
        let (mut master, server) = start_master(
            ([127, 0, 0, 1], 0).into(),
            DirStore::new(dir.path()),
            config,
            Arc::default(),
        )
        .await
        .expect("a master");
        let master_addr = server.local_addr();
        let bogus = MasterServiceClient::from(
            MasterEnd::connect_tcp(master_addr)
                .await
                .expect("connect to the master"),
        );
        bogus
            .register(labrpc::context(), blackhole.addr.to_string())
            .await
            .expect("a registration");
        let worker = tokio::task::spawn_local(run_worker(
            master_addr,
            ([127, 0, 0, 1], 0).into(),
            WorkerConfig::real(),
            Arc::default(),
        ));
        let spec = JobSpec {
            app: "wc".into(),
            inputs: vec![input.display().to_string()],
            map_tasks: 3,
            reduce_tasks: 2,
        };
        let mut joined = Vec::new();
        let mut observe = |event: &Event| {
            if let Event::WorkerJoined { worker } = event {
                joined.push(worker.clone());
            }
        };
        let begun = Instant::now();
        let report = tokio::time::timeout(Duration::from_secs(20), master.run(&spec, &mut observe))
            .await
            .unwrap_or_else(|_| panic!("the job stalled for {:?}", begun.elapsed()))
            .expect("the job succeeded");
        let pairs = [("one", "1"), ("three", "3"), ("two", "2")];
        let want: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(report.output, want);
        assert_eq!(joined.len(), 1, "{joined:?}");
        assert_ne!(joined[0], blackhole.addr.to_string());
        master.shutdown_workers().await;
        let (_, exit, done) = worker
            .await
            .expect("the worker task")
            .expect("the worker ran");
        assert_eq!(exit, Exit::Shutdown);
        assert_eq!(done, 5);
    });
}
