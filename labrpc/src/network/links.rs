//! The links between nodes: partitions, one-way cuts, deaf nodes and unreliable servers, and
//! the checks a message makes against them (see the [parent module](super)).

use std::time::Duration;

use super::{Inner, Network, NodeId, WHOLE_NETWORK};
use crate::trace::EventKind;

impl Network {
    /// Splits the nodes into groups that only talk within themselves. A node named in no
    /// group talks to nobody but itself until [`Network::heal`].
    pub fn partition(&self, groups: &[&[&str]]) {
        let mut inner = self.inner.lock();
        for node in &mut inner.nodes {
            node.group = None;
        }
        for (group, names) in groups.iter().enumerate() {
            for name in *names {
                let id = inner.node(name);
                inner.nodes[id].group = Some(group as u32);
            }
        }
        inner.partitioned = true;
        let what = format!("partition {groups:?}");
        inner.event(
            EventKind::Links,
            0,
            WHOLE_NETWORK,
            None,
            &what,
            0,
            Duration::ZERO,
        );
    }

    /// Ends a partition, restores every cut and makes every deaf node hear again (deaf to
    /// some nodes or to all).
    pub fn heal(&self) {
        let mut inner = self.inner.lock();
        inner.partitioned = false;
        inner.cuts.clear();
        inner.deaf_to.clear();
        for node in &mut inner.nodes {
            node.deaf = false;
        }
        inner.event(
            EventKind::Links,
            0,
            WHOLE_NETWORK,
            None,
            "heal",
            0,
            Duration::ZERO,
        );
    }

    /// Cuts the link from `from` to `to` one way: requests and replies from `from` no longer
    /// reach `to`; the other direction is untouched.
    pub fn cut(&self, from: &str, to: &str) {
        self.set_cut(from, to, true);
    }

    /// Restores a link cut with [`Network::cut`].
    pub fn restore(&self, from: &str, to: &str) {
        self.set_cut(from, to, false);
    }

    fn set_cut(&self, from: &str, to: &str, cut: bool) {
        let mut inner = self.inner.lock();
        let (from, to) = (inner.node(from), inner.node(to));
        let what = if cut {
            inner.cuts.insert((from, to));
            "cut"
        } else {
            inner.cuts.remove(&(from, to));
            "restore"
        };
        inner.event(EventKind::Links, 0, from, Some(to), what, 0, Duration::ZERO);
    }

    /// Makes the server on node `name` unreliable, as Go's `setunreliable` does in the
    /// pbservice and kvpaxos tests, or reliable again: it drops
    /// [`fault::UNRELIABLE_SERVER_REQUEST_DROP`](crate::fault::UNRELIABLE_SERVER_REQUEST_DROP)
    /// of the requests that reach it and discards the reply of
    /// [`fault::UNRELIABLE_SERVER_REPLY_DROP`](crate::fault::UNRELIABLE_SERVER_REPLY_DROP) of
    /// the others after executing them, whatever the network's own faults. Survives restarts
    /// of the server (it is the node's).
    pub fn set_unreliable_server(&self, name: &str, unreliable: bool) {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        inner.nodes[id].unreliable = unreliable;
        let what = if unreliable { "unreliable" } else { "reliable" };
        inner.event(EventKind::Links, 0, id, None, what, 0, Duration::ZERO);
    }

    /// Makes node `name` deaf to node `from` only (no request of `from` reaches it; replies
    /// to its own calls to `from` still do), or lets it hear `from` again. Go's shard master
    /// test renames a server's socket so that its peers, who know the old name, can no longer
    /// reach it while a clerk given the new name can: that is this, for each peer.
    /// [`Network::heal`] ends it too.
    pub fn set_deaf_to(&self, name: &str, from: &str, deaf: bool) {
        let mut inner = self.inner.lock();
        let (id, from) = (inner.node(name), inner.node(from));
        let what = if deaf {
            inner.deaf_to.insert((id, from));
            "deaf to"
        } else {
            inner.deaf_to.remove(&(id, from));
            "hears again"
        };
        inner.event(EventKind::Links, 0, id, Some(from), what, 0, Duration::ZERO);
    }

    /// Makes node `name` deaf (no request reaches it; as in Go's Paxos tests, replies to its
    /// own calls still do) or lets it hear again.
    pub fn set_deaf(&self, name: &str, deaf: bool) {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        inner.nodes[id].deaf = deaf;
        let what = if deaf { "deaf" } else { "hears" };
        inner.event(EventKind::Links, 0, id, None, what, 0, Duration::ZERO);
    }
}

impl Inner {
    /// Can a request go from `from` to `to` now? The link must be open and `to` not deaf.
    pub(super) fn request_link(&self, from: NodeId, to: NodeId) -> bool {
        !self.nodes[to].deaf && !self.deaf_to.contains(&(to, from)) && self.link(from, to)
    }

    /// Can a reply go from server `from` back to `to` now? A deaf node still hears replies.
    pub(super) fn reply_link(&self, from: NodeId, to: NodeId) -> bool {
        self.link(from, to)
    }

    /// Is the one-way link from `from` to `to` open: both alive, in the same partition group
    /// (while partitioned), and not cut?
    fn link(&self, from: NodeId, to: NodeId) -> bool {
        let (a, b) = (&self.nodes[from], &self.nodes[to]);
        if !a.alive || !b.alive {
            return false;
        }
        from == to
            || ((!self.partitioned || (a.group.is_some() && a.group == b.group))
                && !self.cuts.contains(&(from, to)))
    }
}
