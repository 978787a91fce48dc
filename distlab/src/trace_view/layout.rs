//! From events to what the picture draws: lanes, arrows, bands and marks.
//!
//! Events of one call share its number: a `send` and its `deliver` make a request arrow, a
//! `send` and its `request_lost` a lost one; a `reply` is an arrow of its own (from the server
//! to the caller, arriving after its delay). Bands span time: a partition until the network
//! heals, a crash until the node's server starts again, a cut link until it is restored. Every
//! other event is a mark on its node's lane (or across every lane, for the whole network).

use super::parse::Event;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

/// How an arrow is drawn (the numbers are the viewer's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowStyle {
    /// A request that reached its server: send → deliver.
    Request = 0,
    /// A reply on its way back: reply → its arrival.
    Reply = 1,
    /// A request lost on the way: send → request_lost.
    RequestLost = 2,
    /// A reply lost on the way back (at the reply_lost event).
    ReplyLost = 3,
    /// A target that could not be reached: the caller fails after the delay.
    Unreachable = 4,
    /// A message refused as malformed, unknown or too large.
    Rejected = 5,
    /// A request with no later event in the trace (dropped by the server, or the run ended).
    Unanswered = 6,
}

/// One arrow: from its first event to its last (`end`), or to its first event's delay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// How to draw it.
    pub style: ArrowStyle,
    /// The event it starts at (an index into the events).
    pub start: usize,
    /// The event it ends at, if the trace has one.
    pub end: Option<usize>,
}

/// What a band means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BandKind {
    /// The network was partitioned (across every lane).
    Partition = 0,
    /// The node was killed and not yet started again.
    Crash = 1,
    /// The node heard nothing (deaf).
    Deaf = 2,
    /// The link from the node to `to` was cut.
    Cut = 3,
    /// The server dropped requests and replies at random (unreliable).
    Unreliable = 4,
}

/// A span of time, on one lane or on all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    /// What it means.
    pub kind: BandKind,
    /// Its lane (`None`: every lane).
    pub lane: Option<usize>,
    /// The event that began it.
    pub start: usize,
    /// The event that ended it (`None`: it lasts to the end of the trace).
    pub end: Option<usize>,
    /// For a partition, each lane's side (its group's number), `None` for a lane not named.
    pub groups: Vec<Option<usize>>,
}

/// The picture of a trace, before encoding.
#[derive(Debug, Default)]
pub struct Layout {
    /// The lanes: every node that sends, receives or is concerned by an event, sorted.
    pub nodes: Vec<String>,
    /// The arrows, in the order of their start.
    pub arrows: Vec<Arrow>,
    /// The bands, in the order of their start.
    pub bands: Vec<Band>,
    /// The events drawn as marks (indices), in time order.
    pub marks: Vec<usize>,
}

/// Orders node names with their numbers as numbers: `px2` before `px10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (da, db) = (digits(a), digits(b));
                let (na, nb) = (
                    a[..da].trim_start_matches('0'),
                    b[..db].trim_start_matches('0'),
                );
                let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (&a[da..], &b[db..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

/// The groups of a `partition [["a", "b"], ["c"]]` change, if it is one.
pub fn partition_groups(what: &str) -> Option<Vec<Vec<String>>> {
    serde_json::from_str(what.strip_prefix("partition ")?).ok()
}

/// The bands still open: (kind, lane, the other lane) -> index into the layout's bands.
#[derive(Default)]
struct OpenBands(HashMap<BandKey, usize>);

type BandKey = (BandKind, Option<usize>, Option<usize>);

impl OpenBands {
    /// Opens a band at event `start`, ending the one of the same key still open.
    fn begin(&mut self, out: &mut Layout, key: BandKey, start: usize, groups: Vec<Option<usize>>) {
        self.end(out, key, start);
        self.0.insert(key, out.bands.len());
        out.bands.push(Band {
            kind: key.0,
            lane: key.1,
            start,
            end: None,
            groups,
        });
    }

    /// Ends the band of `key` at event `end`; false if none was open.
    fn end(&mut self, out: &mut Layout, key: BandKey, end: usize) -> bool {
        match self.0.remove(&key) {
            Some(band) => {
                out.bands[band].end = Some(end);
                true
            }
            None => false,
        }
    }
}

/// Lays out `events`, which must be in time order.
pub fn layout(events: &[Event]) -> Layout {
    let names: BTreeSet<&str> = events
        .iter()
        .flat_map(|e| [e.from.as_str(), e.to.as_str()])
        .filter(|n| !n.is_empty())
        .collect();
    let mut nodes: Vec<String> = names.into_iter().map(str::to_owned).collect();
    nodes.sort_by(|a, b| natural_cmp(a, b));
    let lane: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let lane_of = |name: &str| lane.get(name).copied();

    let mut out = Layout::default();
    let mut sends: HashMap<u64, usize> = HashMap::new();
    let mut open = OpenBands::default();
    for (i, e) in events.iter().enumerate() {
        let from = lane_of(&e.from);
        let arrow = |style, end| Arrow {
            style,
            start: i,
            end,
        };
        match e.kind.as_str() {
            "send" => {
                if let Some(previous) = sends.insert(e.call, i) {
                    out.arrows.push(Arrow {
                        style: ArrowStyle::Unanswered,
                        start: previous,
                        end: None,
                    });
                }
            }
            "deliver" | "request_lost" => {
                let style = if e.kind == "deliver" {
                    ArrowStyle::Request
                } else {
                    ArrowStyle::RequestLost
                };
                match sends.remove(&e.call) {
                    Some(send) => out.arrows.push(Arrow {
                        style,
                        start: send,
                        end: Some(i),
                    }),
                    None if style == ArrowStyle::RequestLost => out.arrows.push(arrow(style, None)),
                    None => out.marks.push(i),
                }
            }
            "reply" => out.arrows.push(arrow(ArrowStyle::Reply, None)),
            "reply_lost" => out.arrows.push(arrow(ArrowStyle::ReplyLost, None)),
            "unreachable" => out.arrows.push(arrow(ArrowStyle::Unreachable, None)),
            "rejected" => {
                sends.remove(&e.call);
                out.arrows.push(arrow(ArrowStyle::Rejected, None))
            }
            "killed" if from.is_some() => {
                open.begin(&mut out, (BandKind::Crash, from, None), i, vec![])
            }
            "server_started" | "revived" if from.is_some() => {
                open.end(&mut out, (BandKind::Crash, from, None), i);
                out.marks.push(i);
            }
            "links" => {
                let to = lane_of(&e.to);
                let ended = match e.what.as_str() {
                    "heal" => open.end(&mut out, (BandKind::Partition, None, None), i),
                    "hears" => open.end(&mut out, (BandKind::Deaf, from, None), i),
                    "restore" => open.end(&mut out, (BandKind::Cut, from, to), i),
                    "reliable" => open.end(&mut out, (BandKind::Unreliable, from, None), i),
                    "deaf" if from.is_some() => {
                        open.begin(&mut out, (BandKind::Deaf, from, None), i, vec![]);
                        true
                    }
                    "cut" if from.is_some() => {
                        open.begin(&mut out, (BandKind::Cut, from, to), i, vec![]);
                        true
                    }
                    "unreliable" if from.is_some() => {
                        open.begin(&mut out, (BandKind::Unreliable, from, None), i, vec![]);
                        true
                    }
                    what => match partition_groups(what) {
                        Some(groups) => {
                            let mut side = vec![None; nodes.len()];
                            for (g, group) in groups.iter().enumerate() {
                                for name in group {
                                    if let Some(l) = lane_of(name) {
                                        side[l] = Some(g);
                                    }
                                }
                            }
                            open.begin(&mut out, (BandKind::Partition, None, None), i, side);
                            true
                        }
                        None => false,
                    },
                };
                if !ended {
                    out.marks.push(i);
                }
            }
            _ => out.marks.push(i),
        }
    }
    let mut unanswered: Vec<usize> = sends.into_values().collect();
    unanswered.sort_unstable();
    out.arrows.extend(unanswered.into_iter().map(|start| Arrow {
        style: ArrowStyle::Unanswered,
        start,
        end: None,
    }));
    out.arrows.sort_by_key(|a| a.start);
    out.nodes = nodes;
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    fn lay(text: &str) -> (Vec<Event>, Layout) {
        let events = parse(text).expect("a trace");
        let layout = layout(&events);
        (events, layout)
    }

    #[test]
    fn sorts_lanes_with_numbers_as_numbers() {
        let mut names = vec!["px10", "px2", "client1", "px1", "a01", "a1b"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["a01", "a1b", "client1", "px1", "px2", "px10"]);
    }

    #[test]
    fn pairs_the_events_of_a_call() {
        let (_, l) = lay(concat!(
            r#"{"at_us":0,"kind":"send","call":1,"from":"b","to":"a","delay_us":5}"#,
            "\n",
            r#"{"at_us":1,"kind":"send","call":2,"from":"b","to":"c","delay_us":5}"#,
            "\n",
            r#"{"at_us":2,"kind":"send","call":3,"from":"a","to":"c","delay_us":5}"#,
            "\n",
            r#"{"at_us":5,"kind":"deliver","call":1,"from":"b","to":"a"}"#,
            "\n",
            r#"{"at_us":6,"kind":"reply","call":1,"from":"a","to":"b"}"#,
            "\n",
            r#"{"at_us":6,"kind":"request_lost","call":2,"from":"b","to":"c"}"#,
            "\n",
            r#"{"at_us":7,"kind":"unreachable","call":4,"from":"a","to":"c","delay_us":9}"#,
            "\n",
        ));
        assert_eq!(l.nodes, ["a", "b", "c"]);
        let got: Vec<_> = l.arrows.iter().map(|a| (a.style, a.start, a.end)).collect();
        assert_eq!(
            got,
            [
                (ArrowStyle::Request, 0, Some(3)),
                (ArrowStyle::RequestLost, 1, Some(5)),
                (ArrowStyle::Unanswered, 2, None),
                (ArrowStyle::Reply, 4, None),
                (ArrowStyle::Unreachable, 6, None),
            ]
        );
        assert!(l.marks.is_empty());
    }

    #[test]
    fn partitions_and_crashes_are_bands() {
        let (_, l) = lay(concat!(
            r#"{"at_us":0,"kind":"server_started","from":"p0"}"#,
            "\n",
            r#"{"at_us":1,"kind":"links","what":"partition [[\"p1\", \"p0\"], [\"p2\"]]"}"#,
            "\n",
            r#"{"at_us":2,"kind":"killed","from":"p2"}"#,
            "\n",
            r#"{"at_us":3,"kind":"links","what":"heal"}"#,
            "\n",
            r#"{"at_us":4,"kind":"server_started","from":"p2"}"#,
            "\n",
            r#"{"at_us":5,"kind":"links","from":"p0","to":"p1","what":"cut"}"#,
            "\n",
            r#"{"at_us":6,"kind":"log","from":"p1","what":"decided","fields":{"seq":1}}"#,
            "\n",
            r#"{"at_us":7,"kind":"killed","from":"p1"}"#,
            "\n",
        ));
        assert_eq!(l.nodes, ["p0", "p1", "p2"]);
        let got: Vec<_> = l
            .bands
            .iter()
            .map(|b| (b.kind, b.lane, b.start, b.end))
            .collect();
        assert_eq!(
            got,
            [
                (BandKind::Partition, None, 1, Some(3)),
                (BandKind::Crash, Some(2), 2, Some(4)),
                (BandKind::Cut, Some(0), 5, None),
                (BandKind::Crash, Some(1), 7, None),
            ]
        );
        assert_eq!(l.bands[0].groups, [Some(0), Some(0), Some(1)]);
        assert_eq!(l.marks, [0, 4, 6]);
    }

    #[test]
    fn a_new_partition_ends_the_last_one() {
        let (_, l) = lay(concat!(
            r#"{"at_us":1,"kind":"links","what":"partition [[\"a\"], [\"b\"]]"}"#,
            "\n",
            r#"{"at_us":2,"kind":"links","what":"partition [[\"a\", \"b\"]]"}"#,
            "\n",
            r#"{"at_us":3,"kind":"links","what":"heal"}"#,
            "\n",
            r#"{"at_us":4,"kind":"links","what":"heal"}"#,
            "\n",
        ));
        let got: Vec<_> = l.bands.iter().map(|b| (b.start, b.end)).collect();
        assert_eq!(got, [(0, Some(1)), (1, Some(2))]);
        // The second heal ends nothing: a mark.
        assert_eq!(l.marks, [3]);
        assert!(l.nodes.is_empty(), "partition names alone make no lanes");
    }
}
