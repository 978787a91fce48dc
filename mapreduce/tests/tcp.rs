//! Real mode in one process, over TCP on loopback: a registration naming an address that
//! never answers neither stalls the master nor makes it wait longer than its connect timeout.

use mapreduce::protocol::{MasterEnd, MasterServiceClient};
use mapreduce::real::{ConnectError, connect_worker, run_worker, start_master};
use mapreduce::{DirStore, Event, Exit, JobSpec, MasterConfig, WorkerConfig};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tokio::time::Instant;

/// An address that takes connections but never completes a new one: a listener with a
/// backlog of 0 whose queue is full (Linux then drops further SYNs, and a connect waits for
/// the operating system's limit, about two minutes). Keep it alive while it is in use.
struct Blackhole {
    addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _queued: Vec<TcpStream>,
}

impl Blackhole {
    fn new() -> Blackhole {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .expect("bind to loopback");
        let listener = socket.listen(0).expect("listen");
        let addr = listener.local_addr().expect("its address");
        let mut queued = Vec::new();
        // Fill the accept queue until a connect hangs.
        for _ in 0..16 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(stream) => queued.push(stream),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Blackhole {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    };
                }
                Err(e) => panic!("cannot fill the listener's queue: {e}"),
            }
        }
        panic!("this system completes every connection to a full listener: no blackhole");
    }
}

fn in_real_time<F: Future<Output = ()>>(body: F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, body);
}

/// The connect timeout holds: a connection to the blackhole is given up after it.
#[test]
fn connecting_to_an_address_that_never_answers_times_out() {
    in_real_time(async {
        let blackhole = Blackhole::new();
        let begun = Instant::now();
        let result = connect_worker(blackhole.addr, Duration::from_millis(200)).await;
        assert!(
            matches!(result, Err(ConnectError::TimedOut(_))),
            "{:?}",
            result.err()
        );
        assert!(
            begun.elapsed() < Duration::from_secs(5),
            "{:?}",
            begun.elapsed()
        );
    });
}

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
