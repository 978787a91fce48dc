//! The search for a linearization of one part: Wing & Gong's algorithm with Lowe's memoization.
//!
//! The history is a list of call and return events in time order. The search walks that list
//! from the front, keeping the operations linearized so far off the list:
//!
//! - at a **call**, it tries to make that operation the next one to take effect: if the model
//!   accepts it, the operation (call and return) is lifted out of the list and the walk starts
//!   again from the front;
//! - at a **return**, the operation returning there has not taken effect yet although its
//!   reply was already sent, so the current order is a dead end: undo the last choice
//!   (backtrack) and try the next candidate after it.
//!
//! Only calls before the first remaining return are candidates, which is exactly the
//! real-time order rule of linearizability. Lowe's memoization: two search paths that have
//! linearized the same set of operations and reached the same state have the same future, so
//! each (set, state) pair is explored once.

use std::time::Instant;

use crate::checker::Verdict;
use crate::history::{Operation, Time};
use crate::memo::{self, Memo};
use crate::model::Model;

/// The search limits shared by all parts of one check.
pub(crate) struct Budget {
    steps_left: Option<u64>,
    /// Memoized configurations that may still be added, over all parts.
    memo_left: Option<usize>,
    deadline: Option<Instant>,
}

impl Budget {
    pub(crate) fn new(steps: Option<u64>, memo: Option<usize>, deadline: Option<Instant>) -> Self {
        Budget {
            steps_left: steps,
            memo_left: memo,
            deadline,
        }
    }

    /// Charges `added` new memo entries; false once the cap is passed.
    fn add_memo(&mut self, added: usize) -> bool {
        match &mut self.memo_left {
            None => true,
            Some(left) if *left >= added => {
                *left -= added;
                true
            }
            Some(left) => {
                *left = 0;
                false
            }
        }
    }

    /// Gives back the entries of a memo that was freed.
    fn free_memo(&mut self, entries: usize) {
        if let Some(left) = &mut self.memo_left {
            *left = left.saturating_add(entries);
        }
    }

    /// Grants up to `want` steps (all of them when steps are not limited): `None` once the
    /// steps or the time are spent.
    #[expect(
        clippy::disallowed_methods,
        reason = "the checker's wall-clock limit, never used by simulated code"
    )]
    fn take(&mut self, want: u64) -> Option<u64> {
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return None;
        }
        match &mut self.steps_left {
            None => Some(want),
            Some(0) => None,
            Some(left) => {
                let granted = want.min(*left);
                *left -= granted;
                Some(granted)
            }
        }
    }

    /// Gives back steps granted but not used (a part that finished inside its grant).
    fn refund(&mut self, steps: u64) {
        if let Some(left) = &mut self.steps_left {
            *left += steps;
        }
    }
}

/// How many steps run between two looks at the budget (reading the clock is not free).
const STEPS_PER_BUDGET_CHECK: u64 = 1024;

/// "No node": the end of the event list.
const NIL: usize = usize::MAX;
/// The list's head sentinel; events are nodes `1..=2n`.
const HEAD: usize = 0;

/// The events of one part as a doubly linked list over indices, so that lifting an operation
/// out and putting it back are O(1) and leave the order intact.
struct Events {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// For each node: the operation (index into the part) it belongs to.
    op: Vec<usize>,
    /// For each call node: its return node; `NIL` for return nodes.
    ret: Vec<usize>,
}

impl Events {
    fn new<I, O>(history: &[Operation<I, O>], ops: &[usize]) -> Self {
        // (time, is_return, op): calls sort before returns at equal times, so operations that
        // touch at one instant count as overlapping. Unknown outcomes return "never".
        let mut events: Vec<(Time, bool, usize)> = Vec::with_capacity(2 * ops.len());
        for (local, &index) in ops.iter().enumerate() {
            let op = &history[index];
            events.push((op.call, false, local));
            events.push((op.outcome.returned_at().unwrap_or(Time::MAX), true, local));
        }
        events.sort_unstable();

        let nodes = events.len() + 1;
        let mut list = Events {
            next: (1..=nodes)
                .map(|n| if n == nodes { NIL } else { n })
                .collect(),
            prev: (0..nodes)
                .map(|n| if n == 0 { NIL } else { n - 1 })
                .collect(),
            op: vec![NIL; nodes],
            ret: vec![NIL; nodes],
        };
        let mut call_node = vec![NIL; ops.len()];
        for (i, &(_, is_return, local)) in events.iter().enumerate() {
            let node = i + 1;
            list.op[node] = local;
            if is_return {
                list.ret[call_node[local]] = node;
            } else {
                call_node[local] = node;
            }
        }
        list
    }

    fn is_call(&self, node: usize) -> bool {
        node != NIL && self.ret[node] != NIL
    }

    fn unlink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = next;
        if next != NIL {
            self.prev[next] = prev;
        }
    }

    fn relink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = node;
        if next != NIL {
            self.prev[next] = node;
        }
    }

    /// Takes a call and its return out of the list.
    fn lift(&mut self, call: usize) {
        self.unlink(call);
        self.unlink(self.ret[call]);
    }

    /// Puts back what `lift(call)` took out (in reverse order, so the links are restored).
    fn unlift(&mut self, call: usize) {
        self.relink(self.ret[call]);
        self.relink(call);
    }
}

/// The set of linearized operations, with an incrementally kept hash (Zobrist hashing: the XOR
/// of a fixed pseudo-random word per member), so hashing costs nothing per step.
#[derive(Clone, PartialEq, Eq)]
struct OpSet {
    words: Vec<u64>,
    hash: u64,
}

impl OpSet {
    fn new(n: usize) -> Self {
        OpSet {
            words: vec![0; n.div_ceil(64)],
            hash: 0,
        }
    }

    fn toggle(&mut self, op: usize) {
        self.words[op / 64] ^= 1 << (op % 64);
        self.hash ^= mix(op as u64);
    }
}

/// SplitMix64's finalizer: a fixed pseudo-random word per operation.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The search for one part, resumable: the checker runs the parts in turns with growing
/// slices of steps, so that one hard part cannot hide a violation that another part shows
/// quickly (porcupine gets the same effect by searching all parts in parallel).
pub(crate) struct Search<'a, M: Model> {
    model: &'a M,
    history: &'a [Operation<M::Input, M::Output>],
    /// The operations of this part, as indices into `history`.
    ops: &'a [usize],
    events: Events,
    linearized: OpSet,
    /// Also holds every state the search is in: each is the state of a configuration
    /// recorded there, so a step moves its new state in once and never clones it.
    cache: Memo<M::State>,
    /// The choices made so far: the call node linearized and the memo entry holding the
    /// state after it.
    chosen: Vec<(usize, usize)>,
    /// The state before any choice.
    init: M::State,
    /// The next event to look at.
    node: usize,
    /// The deepest dead end seen: the prefix linearized there and the operation returning.
    longest: Vec<usize>,
    breaking_op: Option<usize>,
    steps: u64,
    verdict: Option<Verdict>,
}

impl<'a, M: Model> Search<'a, M> {
    /// A search over the operations `ops` (indices into `history`), not started yet.
    pub(crate) fn new(
        model: &'a M,
        history: &'a [Operation<M::Input, M::Output>],
        ops: &'a [usize],
    ) -> Self {
        let events = Events::new(history, ops);
        let node = events.next[HEAD];
        Search {
            model,
            history,
            ops,
            events,
            linearized: OpSet::new(ops.len()),
            cache: Memo::new(ops.len().div_ceil(64)),
            chosen: Vec::new(),
            init: model.init(),
            node,
            longest: Vec::new(),
            breaking_op: None,
            steps: 0,
            verdict: None,
        }
    }

    /// The verdict, once the search has finished.
    pub(crate) fn verdict(&self) -> Option<Verdict> {
        self.verdict
    }

    /// Steps taken so far.
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    /// Runs at most `slice` steps, taken from `budget`. Returns false if the budget ran out.
    /// Steps are charged exactly: a grant not used up is given back, and seeing that the
    /// search is complete costs none, so a budget of N steps decides every part that needs N.
    pub(crate) fn run(&mut self, slice: u64, budget: &mut Budget) -> bool {
        let mut left = slice;
        loop {
            if self.verdict.is_none() && self.events.next[HEAD] == NIL {
                self.verdict = Some(Verdict::Linearizable);
            }
            if self.verdict.is_some() {
                // Decided: its memo is no longer needed.
                budget.free_memo(self.cache.len());
                self.cache.clear();
                return true;
            }
            if left == 0 {
                return true;
            }
            // Each step adds at most one entry: stop before the memo's index would overflow,
            // as at the cap of `Limits::memo` (unknown, not a panic).
            if self.cache.len() + STEPS_PER_BUDGET_CHECK as usize > memo::CAPACITY {
                return false;
            }
            let Some(granted) = budget.take(left.min(STEPS_PER_BUDGET_CHECK)) else {
                return false;
            };
            let (before, memo_before) = (self.steps, self.cache.len());
            while self.verdict.is_none() && self.steps - before < granted {
                if let Some(verdict) = self.step() {
                    self.verdict = Some(verdict);
                }
            }
            let used = self.steps - before;
            budget.refund(granted - used);
            left -= used;
            if !budget.add_memo(self.cache.len() - memo_before) {
                return false;
            }
        }
    }

    /// One step of the search: try the operation at `node`, or backtrack at a return.
    fn step(&mut self) -> Option<Verdict> {
        if self.events.next[HEAD] == NIL {
            return Some(Verdict::Linearizable);
        }
        self.steps += 1;
        let node = self.node;
        if self.events.is_call(node) {
            let local = self.events.op[node];
            let op = &self.history[self.ops[local]];
            let state = match self.chosen.last() {
                Some(&(_, entry)) => self.cache.state(entry),
                None => &self.init,
            };
            if let Some(next_state) = self.model.step(state, &op.input, op.output()) {
                self.linearized.toggle(local);
                if let Some(entry) =
                    self.cache
                        .insert(&self.linearized.words, self.linearized.hash, next_state)
                {
                    self.chosen.push((node, entry));
                    self.events.lift(node);
                    self.node = self.events.next[HEAD];
                    return None;
                }
                // Explored before from this very configuration: nothing new down there.
                self.linearized.toggle(local);
            }
            self.node = self.events.next[node];
        } else {
            // A return of an operation not yet linearized: dead end. Remember the deepest
            // dead end; it is the most informative place to show where the history breaks.
            if self.chosen.len() > self.longest.len() || self.breaking_op.is_none() {
                self.longest = self.chosen_ops();
                self.breaking_op = (node != NIL).then(|| self.ops[self.events.op[node]]);
            }
            let Some((call, _)) = self.chosen.pop() else {
                return Some(Verdict::Violation);
            };
            self.linearized.toggle(self.events.op[call]);
            self.events.unlift(call);
            self.node = self.events.next[call];
        }
        None
    }

    /// The operations chosen so far, as indices into the history.
    fn chosen_ops(&self) -> Vec<usize> {
        self.chosen
            .iter()
            .map(|&(node, _)| self.ops[self.events.op[node]])
            .collect()
    }

    /// The longest linearization found (complete if linearizable) and the breaking operation.
    pub(crate) fn into_result(self) -> (Vec<usize>, Option<usize>) {
        match self.verdict {
            Some(Verdict::Linearizable) => (self.chosen_ops(), None),
            _ if self.chosen.len() > self.longest.len() => (self.chosen_ops(), None),
            _ => (self.longest, self.breaking_op),
        }
    }
}
