//! Debugging from a trace: a recorded trace shows every view the view server moves to, as a
//! protocol event on its node (`new view`, with the view's number and roles and the ping or
//! tick that changed it), and every ping says who pinged with which view.

use labrpc::trace::{Event, EventKind};
use labrpc::{Network, sim};
use serde_json::Value;
use viewservice::{Clerk, PING_INTERVAL, ViewServer};

/// s1 becomes primary, s2 backup; then s1 stops pinging and s2 takes over.
fn failover(seed: u64) -> Vec<Event> {
    let report = sim::simulate(seed, true, |net: Network| async move {
        let _vs = ViewServer::start(&net, "vs");
        let (ck1, ck2) = (Clerk::new(&net, "s1", "vs"), Clerk::new(&net, "s2", "vs"));
        let mut known = (0, 0);
        for _ in 0..10 {
            known.0 = ck1.ping(known.0).await.map_or(known.0, |v| v.viewnum);
            known.1 = ck2.ping(known.1).await.map_or(known.1, |v| v.viewnum);
            tokio::time::sleep(PING_INTERVAL).await;
        }
        for _ in 0..20 {
            known.1 = ck2.ping(known.1).await.map_or(known.1, |v| v.viewnum);
            tokio::time::sleep(PING_INTERVAL).await;
        }
    });
    report.events
}

#[test]
fn view_changes_are_protocol_events_of_the_view_server() {
    let seed = 1;
    let events = failover(seed);
    let views: Vec<&Event> = (events.iter())
        .filter(|e| e.kind == EventKind::Log && e.what == "new view")
        .collect();
    let shown: Vec<String> = (views.iter())
        .map(|e| {
            let role = |r: &str| e.fields.get(r).and_then(Value::as_str).unwrap_or("-");
            format!(
                "{} {} {}",
                e.fields["view"],
                role("primary"),
                role("backup")
            )
        })
        .collect();
    // View 1: s1 alone; 2: s1 with backup s2; 3: s2 took over, alone.
    assert_eq!(
        shown,
        ["1 s1 -", "2 s1 s2", "3 s2 -"],
        "seed {seed}: {views:?}"
    );
    assert!(
        views.iter().all(|e| e.from == "vs"),
        "seed {seed}: {views:?}"
    );
    assert_eq!(views[0].fields["during"], Value::from("ping from s1"));
    assert_eq!(
        views[2].fields["during"],
        Value::from("tick"),
        "s1 died: a tick noticed"
    );
}

#[test]
fn pings_say_who_pinged_with_which_view() {
    let events = failover(1);
    let pings: Vec<&Event> = (events.iter())
        .filter(|e| e.kind == EventKind::Send && e.what == "ViewService.ping")
        .collect();
    assert!(!pings.is_empty());
    for ping in &pings {
        assert_eq!(
            ping.fields["server"],
            Value::from(ping.from.as_str()),
            "{ping:?}"
        );
        assert!(ping.fields["view"].is_u64(), "{ping:?}");
    }
    let replies =
        (events.iter()).filter(|e| e.kind == EventKind::Reply && e.msg.starts_with("view"));
    assert!(
        replies.count() >= pings.len() / 2,
        "replies name the view they return"
    );
}
