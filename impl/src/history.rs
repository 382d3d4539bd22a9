//! Checks a run's results against the one-machine Unix (TR), whatever ran concurrently.
//!
//! The cluster records, for every operation, the simulator step at which it started and
//! the step at which its result came back. One Unix machine executes each operation
//! atomically, so the question is whether some order of the operations, one at a time on
//! the ghost ([`unix::Unix`]), gives every result the cluster gave, where that order
//! respects real time (an operation that completed before another started comes first)
//! and each process's own order. Each operation's place in such an order is its
//! linearization point.
//!
//! Where is that point? The natural candidate is the step at which the cluster completes
//! the operation, and the search below tries the completion order first, so a run whose
//! completion order explains every result is accepted without any other order being
//! looked at. But the implementation has no single moment at which every call takes
//! effect: a read or write through the file server takes effect when the server handles
//! it, and its reply may reach the client after the reply of a later server operation of
//! another process (replies to different hosts travel on different channels); a fork's
//! pid is allocated at the home before the reply; a wait is answered at the home's
//! rendezvous. Pinning the point to completion would flag such correct runs. So when the
//! completion order fails, other orders allowed by real time are searched (depth first,
//! remembering ghost states already known to fail), as a linearizability checker does;
//! only if no order explains the results is there a disagreement. In a sequential run
//! every operation ends before the next starts, so there is exactly one order, the
//! scenario's.
//!
//! Details that follow the sequential comparison (`vocab::outcome::transparent`):
//! gettimeofday values are not compared (only that a time came back); migrate has nothing
//! to do on one machine, its result (also a refusal) is not compared and it takes no place
//! in the order (a pre-copy migration overlaps its own process's later calls); a refused
//! exec-time migration had no effect, so it takes no place either; a wait still blocked
//! when the run is quiescent must block on the ghost too. After a crash the ghost has no counterpart
//! (it cannot lose a host), so only the history before the first crash is checked: the
//! operations that completed before it must be explained, and the ones still in progress
//! then (or killed) may be placed anywhere after their start, or nowhere, with any result.
//!
//! ## Independent parts are checked apart
//!
//! Linearizability is local (Herlihy and Wing, 1990): a history is linearizable if and only
//! if each object's part of it is, when every operation touches one object. The one-machine
//! Unix is not one object per process, but it splits into parts that no operation of
//! another part reads or writes, so the same argument applies. [`partition`] joins
//! operations (union-find) through what they may touch:
//!
//! - every operation of a process stays with its process (so program order stays inside
//!   one part);
//! - `open` and `unlink` join the file they name; descriptor operations (read, write,
//!   lseek, close, dup) need nothing more, since a process reaches only streams it opened,
//!   made (pipe) or inherited at fork, and the parent is in the same part;
//! - fork joins the child it returned and its home's *pid space*; exit and wait join the
//!   pid space of their process's home (they free or reap pids, wake or orphan family);
//!   setpgid and killpg join the pid spaces of the caller's and the group's homes (group
//!   names keep pids in use, membership is read across the home); kill joins its target;
//! - a fork whose result is not known (in progress at a crash) may have made any free
//!   pid of its home: every process of that home joins that home's pid space.
//!
//! Each part runs on its own ghost, the initial ghost cut down to its processes (and every
//! initial process of a home whose pid space it holds, since those occupy pids there) and
//! its files; stream, inode and pid numbers a part allocates are not results (only a fork's
//! child pid is, and forks of one home share a part), unless they run out: a history
//! whose opens and pipes could use up the 256 stream or inode numbers is one part. Ops of other parts leave a part's
//! ghost untouched, so each operation's result is the same in the whole order as in its
//! part's order (one direction), and part orders that each respect real time merge into one
//! that does, since real time is an interval order (the other direction, Herlihy and Wing's
//! proof; a wait answered later counts from its start to the exit that answers it).
//! Operations of a process that never forks, exits, waits or changes group, on files no
//! other process opens, are then a part of their own, however many such processes run:
//! 10,000 processes each calling getpid are 10,000 parts of one operation.
//!
//! ## The search, and its bounds
//!
//! Each part is searched depth first without recursion (an explicit stack: a part may have
//! 100,000 operations). The ghost of each level is not kept: checkpoints are, every
//! `stride`-th level, with the stride doubled whenever they would pass [`KEEP_CELLS`];
//! going back to a level copies the checkpoint below it and replays at most `stride`
//! operations. Failed states are remembered up to [`MEMO_CELLS`] and not beyond (a
//! forgotten state is only searched again). The states searched, over all parts, are at
//! most [`STATE_BUDGET`] plus the number of operations. When the budget runs out, or the
//! one machine has no room for an operation (its stream, inode and pid numbers are bytes),
//! the verdict is *undecided*, with the reason: never an agreement.

#[cfg(test)]
mod reference;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use unix::Unix;
use vocab::{FileName, HostId, Op, Outcome, Pid, Value};

/// What an operation must give on the ghost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// It completed with this result.
    Result(Outcome),
    /// It never completed although the cluster came to rest: a wait that still blocks.
    Blocked,
    /// It was in progress at the crash, or killed: any result, or no effect at all.
    Any,
}

/// One operation of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub pid: Pid,
    pub op: Op,
    /// Simulator step at which it started.
    pub start: u64,
    /// Step at which its result came back (`None`: never, before the cut).
    pub end: Option<u64>,
    pub expect: Expect,
}

/// The ghost's answer to an operation placed in the order: a result, or `None` if it
/// blocks (a wait no child has answered).
pub type GhostResult = Option<Outcome>;

/// Why no order explains the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The entry that could not be placed with its result, in the order that went
    /// furthest.
    pub entry: usize,
    /// What the ghost gives there (`None`: the ghost blocks).
    pub ghost: GhostResult,
}

/// The outcome of the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Per entry, the ghost's answer in the order found (or, on a disagreement, in the
    /// order that went furthest); `None` for an entry not placed.
    pub ghost: Vec<Option<GhostResult>>,
    /// Some part of the history has no order that explains it (then the whole has none).
    pub disagreement: Option<Disagreement>,
    /// Nothing was decided: no part disagrees, and some part could not be decided
    /// ([`Verdict::undecided_why`] says why).
    pub undecided: bool,
    /// Why the check is undecided: the budget ran out, or the one machine had no room.
    pub undecided_why: Option<String>,
    /// The order found is not the completion order (some operation took effect before
    /// one that completed earlier).
    pub reordered: bool,
    /// How many independent parts the history was checked in.
    pub parts: usize,
}

impl Verdict {
    pub fn agrees(&self) -> bool {
        self.disagreement.is_none() && !self.undecided
    }
}

/// Most search states explored, over all parts, beyond one per operation (each
/// operation placed once in the first order tried). Each process has at most one
/// operation in progress, so the orders to try are few unless many operations overlap.
pub const STATE_BUDGET: usize = 1_000_000;

/// Most ghost "cells" (processes, streams, inodes and names, plus one per state) kept as
/// checkpoints of one part's search; about 100 bytes each.
pub const KEEP_CELLS: usize = 1 << 20;

/// Most cells kept in remembered failed states, over the whole check.
pub const MEMO_CELLS: usize = 1 << 20;

/// Whether the cluster's result `got` stands for the ghost's (TR's one rule).
fn same(op: &Op, ghost: &Outcome, got: &Outcome) -> bool {
    vocab::outcome::transparent(op, got, ghost)
}

/// The size of a ghost, in the cells the bounds above count.
fn cells(g: &Unix) -> usize {
    1 + g.procs.len() + g.streams.len() + g.inodes.len() + g.dir.len()
}

/// Why the one machine cannot run `op` of `pid` in state `g`: `unix` numbers streams,
/// inodes and a home's pids with bytes and has no error for running out of them (the
/// implementation answers EMFILE or EAGAIN; the ghost has nothing to compare with).
fn no_room(g: &Unix, pid: Pid, op: &Op) -> Option<&'static str> {
    const IDS: usize = 256;
    let p = g.procs.get(&pid)?;
    if p.state != unix::ProcState::Running {
        return None; // ESRCH, nothing allocated
    }
    let fds = p.fds.len();
    let streams_full = |n: usize| g.streams.len() + n > IDS;
    match op {
        Op::Open { name, create, .. } if fds < unix::MAX_FDS as usize => {
            if *create && !g.dir.contains_key(name) && g.inodes.len() >= IDS {
                Some("256 inodes")
            } else if streams_full(1) && (g.dir.contains_key(name) || *create) {
                Some("256 streams")
            } else {
                None
            }
        }
        Op::Pipe if fds + 2 <= unix::MAX_FDS as usize => {
            if g.inodes.len() >= IDS {
                Some("256 inodes")
            } else if streams_full(2) {
                Some("256 streams")
            } else {
                None
            }
        }
        Op::Fork => {
            let home = pid.home;
            let mut used: BTreeSet<u8> = home_procs(g, home).map(|(q, _)| q.index).collect();
            used.extend(
                g.live()
                    .filter(|(_, q)| q.pgrp.home == home)
                    .map(|(_, q)| q.pgrp.index),
            );
            (used.len() >= IDS).then_some("256 pids on one home")
        }
        _ => None,
    }
}

/// The ghost's processes whose home is `home`.
fn home_procs(
    g: &Unix,
    home: HostId,
) -> impl Iterator<Item = (&Pid, &vocab::shared::Shared<unix::Proc>)> {
    g.procs.range(
        Pid::with_gen(home, 0, 0)..=Pid {
            home,
            index: u8::MAX,
            gen: u8::MAX,
        },
    )
}

/// What operations are joined through (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Node {
    Proc(Pid),
    File(FileName),
    /// A home's pid space: which of its pids are in use, by processes and by groups.
    Home(HostId),
}

/// Union-find over nodes, numbered as they are first seen.
#[derive(Default)]
struct Joins {
    ids: HashMap<Node, usize>,
    parent: Vec<usize>,
}

impl Joins {
    fn id(&mut self, n: Node) -> usize {
        let next = self.parent.len();
        let id = *self.ids.entry(n).or_insert(next);
        if id == next {
            self.parent.push(id);
        }
        id
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn join(&mut self, a: Node, b: Node) {
        let (a, b) = (self.id(a), self.id(b));
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}

/// One independent part: its entries (indices into the history, in history order) and
/// its ghost.
pub struct Part {
    pub entries: Vec<usize>,
    pub ghost: Unix,
}

/// Whether `g` is a ghost as `run` builds one: named files and processes added before
/// anything ran (no streams, no families, no groups joined). Only then is cutting it into
/// parts as simple as the module documentation says; any other ghost is one part.
fn pristine(g: &Unix) -> bool {
    g.streams.is_empty()
        && g.inodes.len() == g.dir.len()
        && g.inodes.values().all(|i| i.linked && !i.pipe)
        && g.procs.iter().all(|(pid, p)| {
            p.parent.is_none()
                && p.fds.is_empty()
                && p.state == unix::ProcState::Running
                && p.pgrp == *pid
        })
}

/// Splits the history into independent parts (see the module documentation), in the
/// order of their first entries.
pub fn partition(ghost: &Unix, entries: &[Entry]) -> Vec<Part> {
    // Stream and inode numbers are not results, unless they run out (the implementation
    // then answers EMFILE): a history that could use up either is one part.
    let (mut streams, mut inodes) = (0usize, ghost.inodes.len());
    for e in entries {
        match e.op {
            Op::Open { create, .. } => {
                streams += 1;
                inodes += usize::from(create);
            }
            Op::Pipe => {
                streams += 2;
                inodes += 1;
            }
            _ => {}
        }
    }
    let may_run_out = streams > 256 || inodes > 256;
    if may_run_out || !pristine(ghost) || entries.is_empty() {
        return vec![Part {
            entries: (0..entries.len()).collect(),
            ghost: ghost.clone(),
        }];
    }
    let mut j = Joins::default();
    let mut unknown_child: BTreeSet<HostId> = BTreeSet::new();
    for e in entries {
        let me = Node::Proc(e.pid);
        j.id(me);
        match e.op {
            Op::Open { name, .. } | Op::Unlink { name } | Op::Stat { name } => {
                j.join(me, Node::File(name))
            }
            Op::Fork => {
                j.join(me, Node::Home(e.pid.home));
                match e.expect {
                    Expect::Result(Ok(Value::Pid(c))) => {
                        j.join(me, Node::Proc(c));
                        j.join(me, Node::Home(c.home));
                    }
                    Expect::Result(Err(_)) => {}
                    _ => {
                        unknown_child.insert(e.pid.home);
                    }
                }
            }
            Op::Exit { .. } | Op::Wait => j.join(me, Node::Home(e.pid.home)),
            Op::Setpgid { pgrp } => {
                j.join(me, Node::Home(e.pid.home));
                j.join(me, Node::Home(pgrp.home));
            }
            Op::Killpg { pgrp } => j.join(me, Node::Home(pgrp.home)),
            Op::Kill { pid } => j.join(me, Node::Proc(pid)),
            _ => {}
        }
    }
    if !unknown_child.is_empty() {
        let named: Vec<Pid> = entries
            .iter()
            .flat_map(|e| {
                let target = match e.op {
                    Op::Kill { pid } => Some(pid),
                    _ => None,
                };
                std::iter::once(e.pid).chain(target)
            })
            .collect();
        for p in named {
            if unknown_child.contains(&p.home) {
                j.join(Node::Proc(p), Node::Home(p.home));
            }
        }
    }
    // Parts numbered by their first entry.
    let mut part_of_root: HashMap<usize, usize> = HashMap::new();
    let mut parts: Vec<Part> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let id = j.id(Node::Proc(e.pid));
        let root = j.find(id);
        let k = *part_of_root.entry(root).or_insert_with(|| {
            parts.push(Part {
                entries: Vec::new(),
                ghost: Unix::new(),
            });
            parts.len() - 1
        });
        parts[k].entries.push(i);
    }
    // Each part's ghost: its nodes' share of the initial ghost.
    let mut nodes_of: Vec<Vec<Node>> = vec![Vec::new(); parts.len()];
    let all: Vec<(Node, usize)> = j.ids.iter().map(|(n, id)| (*n, *id)).collect();
    for (n, id) in all {
        let root = j.find(id);
        if let Some(k) = part_of_root.get(&root) {
            nodes_of[*k].push(n);
        }
    }
    for (part, nodes) in parts.iter_mut().zip(nodes_of) {
        let g = &mut part.ghost;
        for n in nodes {
            match n {
                Node::Proc(p) => {
                    if let Some(q) = ghost.procs.get(&p) {
                        g.procs.insert(p, q.clone());
                    }
                    if let Some(gen) = ghost.generations.get(&(p.home, p.index)) {
                        g.generations.insert((p.home, p.index), *gen);
                    }
                }
                Node::File(name) => {
                    if let Some(ino) = ghost.dir.get(&name) {
                        g.dir.insert(name, *ino);
                        g.inodes.insert(*ino, ghost.inodes[ino].clone());
                    }
                }
                Node::Home(h) => {
                    for (p, q) in home_procs(ghost, h) {
                        g.procs.insert(*p, q.clone());
                    }
                    // The slots' generations decide the pids the home gives next.
                    for (slot, gen) in ghost.generations.iter().filter(|(s, _)| s.0 == h) {
                        g.generations.insert(*slot, *gen);
                    }
                }
            }
        }
    }
    parts
}

/// The budgets shared by the parts of one check.
struct Budget {
    states: usize,
    memo_cells: usize,
    /// Per part (see [`KEEP_CELLS`]).
    keep_cells: usize,
}

/// One part's result.
enum Decision {
    /// An order explains every result.
    Found {
        reordered: bool,
    },
    Refuted(Disagreement),
    Unknown(String),
}

/// Searches for an order of `entries` on a ghost starting as `ghost` that gives every
/// expected result. Entries of one process must be listed in that process's order.
pub fn check(ghost: &Unix, entries: &[Entry]) -> Verdict {
    check_within(ghost, entries, STATE_BUDGET, KEEP_CELLS, MEMO_CELLS)
}

/// [`check`] with other bounds (the tests make them small).
fn check_within(
    ghost: &Unix,
    entries: &[Entry],
    states: usize,
    keep_cells: usize,
    memo_cells: usize,
) -> Verdict {
    let mut verdict = Verdict {
        ghost: vec![None; entries.len()],
        disagreement: None,
        undecided: false,
        undecided_why: None,
        reordered: false,
        parts: 0,
    };
    let mut budget = Budget {
        states: states.saturating_add(entries.len()),
        memo_cells,
        keep_cells,
    };
    let mut unknown = None;
    for part in partition(ghost, entries) {
        verdict.parts += 1;
        let sub: Vec<Entry> = part.entries.iter().map(|i| entries[*i].clone()).collect();
        let (ghosts, decision) = Search::new(&part.ghost, &sub).run(&mut budget);
        for (local, g) in ghosts.into_iter().enumerate() {
            if g.is_some() {
                verdict.ghost[part.entries[local]] = g;
            }
        }
        match decision {
            Decision::Found { reordered } => verdict.reordered |= reordered,
            Decision::Refuted(d) => {
                verdict.disagreement.get_or_insert(Disagreement {
                    entry: part.entries[d.entry],
                    ghost: d.ghost,
                });
            }
            Decision::Unknown(why) => {
                unknown.get_or_insert(why);
            }
        }
    }
    if verdict.disagreement.is_none() {
        verdict.undecided = unknown.is_some();
        verdict.undecided_why = unknown;
    }
    verdict
}

/// A search state for the memo: how far each process got, the waits blocked on the
/// ghost, the ghost.
type State = (Vec<usize>, Vec<(Pid, usize)>, Unix);

/// An order (so far): (entry, the ghost's answer).
type Order = Vec<(usize, GhostResult)>;

/// What one level changed, to undo it.
struct Move {
    /// The process that advanced, and the entry placed.
    k: usize,
    i: usize,
    /// A wait that blocked (now in `waiting`).
    blocked: bool,
    /// A waiting entry this step answered (removed from `waiting`).
    woke: Option<(Pid, usize)>,
}

/// One level of the search.
struct Frame {
    /// Candidates (process, entry), the completion order first; `next` is the next to try.
    cands: Vec<(usize, usize)>,
    next: usize,
    /// `path.len()` when the level was entered.
    path_len: usize,
    /// How the level was reached from the one below (`None` at the bottom).
    came: Option<Move>,
    /// The ghost at this level, if it is a checkpoint.
    ghost: Option<Unix>,
}

/// What entering a level gave.
enum Entered {
    Done,
    /// Known to fail (remembered), or nothing to do: nothing pushed.
    Failed,
    Pushed,
    OutOfBudget,
}

struct Search<'a> {
    entries: &'a [Entry],
    start: &'a Unix,
    /// Per process, its entries in its own order.
    seqs: Vec<Vec<usize>>,
    pos: Vec<usize>,
    waiting: BTreeMap<Pid, usize>,
    /// Required entries not yet placed.
    required_left: usize,
    /// The ghost at the top level.
    cur: Unix,
    frames: Vec<Frame>,
    /// Checkpoints at levels that are multiples of `stride`; their cells.
    stride: usize,
    kept_cells: usize,
    failed: HashSet<State>,
    path: Order,
    /// The order that went furthest before a result could not be explained: its first
    /// `best_shared` entries are `path`'s (copied into `best_order` only when `path`
    /// drops them, so a failure deeper than the last costs what is new), the rest are
    /// `best_order`'s own.
    best_order: Order,
    best_shared: usize,
    best_why: Option<Disagreement>,
}

impl<'a> Search<'a> {
    fn new(start: &'a Unix, entries: &'a [Entry]) -> Search<'a> {
        let mut proc_of = BTreeMap::new();
        for e in entries {
            let n = proc_of.len();
            proc_of.entry(e.pid).or_insert(n);
        }
        // Processes numbered in pid order, as the recursive search had them.
        for (k, v) in proc_of.values_mut().enumerate() {
            *v = k;
        }
        let mut seqs = vec![Vec::new(); proc_of.len()];
        for (i, e) in entries.iter().enumerate() {
            seqs[proc_of[&e.pid]].push(i);
        }
        Search {
            entries,
            start,
            pos: vec![0; seqs.len()],
            seqs,
            waiting: BTreeMap::new(),
            required_left: entries.iter().filter(|e| e.expect != Expect::Any).count(),
            cur: start.clone(),
            frames: Vec::new(),
            stride: 1,
            kept_cells: 0,
            failed: HashSet::new(),
            path: Vec::new(),
            best_order: Vec::new(),
            best_shared: 0,
            best_why: None,
        }
    }

    fn required(&self, i: usize) -> bool {
        self.entries[i].expect != Expect::Any
    }

    fn fail(&mut self, entry: usize, ghost: GhostResult) {
        if self.best_why.is_none() || self.path.len() > self.best_order.len() {
            self.best_order.truncate(self.best_shared);
            self.best_order
                .extend_from_slice(&self.path[self.best_shared..]);
            self.best_shared = self.path.len();
            self.best_why = Some(Disagreement { entry, ghost });
        }
    }

    fn truncate_path(&mut self, len: usize) {
        if len < self.best_shared {
            self.best_order[len..self.best_shared]
                .copy_from_slice(&self.path[len..self.best_shared]);
            self.best_shared = len;
        }
        self.path.truncate(len);
    }

    fn state(&self) -> State {
        (
            self.pos.clone(),
            self.waiting.iter().map(|(p, i)| (*p, *i)).collect(),
            self.cur.clone(),
        )
    }

    /// Enters a level at the current state (the recursive search's call).
    fn enter(&mut self, came: Option<Move>, budget: &mut Budget) -> Entered {
        let done = self.required_left == 0
            && self
                .waiting
                .values()
                .all(|i| !matches!(self.entries[*i].expect, Expect::Result(_)));
        if done {
            return Entered::Done;
        }
        if !self.failed.is_empty() && self.failed.contains(&self.state()) {
            return Entered::Failed;
        }
        if budget.states == 0 {
            return Entered::OutOfBudget;
        }
        budget.states -= 1;
        // Real time: nothing may go before an operation that ended earlier than its start.
        let first_end = (0..self.pos.len())
            .filter_map(|k| self.seqs[k].get(self.pos[k]))
            .chain(self.waiting.values())
            .filter(|i| self.required(**i))
            .filter_map(|i| self.entries[*i].end)
            .min();
        let mut cands: Vec<(usize, usize)> = (0..self.pos.len())
            .filter_map(|k| self.seqs[k].get(self.pos[k]).map(|i| (k, *i)))
            .filter(|(_, i)| !self.waiting.contains_key(&self.entries[*i].pid))
            .filter(|(_, i)| first_end.is_none_or(|t| self.entries[*i].start <= t))
            .collect();
        // The completion order first.
        cands.sort_by_key(|(_, i)| (self.entries[*i].end.unwrap_or(u64::MAX), *i));
        if cands.is_empty() {
            // Stuck: a wait the cluster answered never gets an answer here.
            if let Some(i) = self
                .waiting
                .values()
                .copied()
                .find(|i| matches!(self.entries[*i].expect, Expect::Result(_)))
            {
                self.fail(i, None);
            }
        }
        self.frames.push(Frame {
            cands,
            next: 0,
            path_len: self.path.len(),
            came,
            ghost: None,
        });
        Entered::Pushed
    }

    /// Makes `cur` the ghost of level `d` again: the checkpoint at or below it, then the
    /// entries placed since.
    fn restore(&mut self, d: usize) {
        let (from, mut g) = match (0..=d)
            .rev()
            .find_map(|e| self.frames[e].ghost.as_ref().map(|g| (e, g.clone())))
        {
            Some(x) => x,
            None => (0, self.start.clone()),
        };
        for f in &self.frames[from + 1..=d] {
            let i = f
                .came
                .as_ref()
                .expect("levels above the bottom were reached")
                .i;
            let e = &self.entries[i];
            g.apply(e.pid, &e.op);
        }
        self.cur = g;
    }

    /// Keeps `g`, the ghost of level `d`, as a checkpoint if `d` is a multiple of the
    /// stride, doubling the stride while the checkpoints would pass [`KEEP_CELLS`].
    fn keep(&mut self, d: usize, g: Unix, limit: usize) {
        if d == 0 || self.frames[d].ghost.is_some() {
            return;
        }
        let c = cells(&g);
        while self.kept_cells + c > limit && self.stride <= self.frames.len() {
            self.stride *= 2;
            let stride = self.stride;
            let mut kept = 0;
            for (e, f) in self.frames.iter_mut().enumerate() {
                if !e.is_multiple_of(stride) {
                    f.ghost = None;
                }
                kept += f.ghost.as_ref().map_or(0, cells);
            }
            self.kept_cells = kept;
        }
        if d.is_multiple_of(self.stride) && self.kept_cells + c <= limit {
            self.kept_cells += c;
            self.frames[d].ghost = Some(g);
        }
    }

    /// Undoes the move that reached the top level and drops it.
    fn pop(&mut self) {
        let f = self.frames.pop().expect("a level to pop");
        if let Some(g) = &f.ghost {
            self.kept_cells -= cells(g);
        }
        let Some(m) = f.came else { return };
        self.pos[m.k] -= 1;
        if self.required(m.i) {
            self.required_left += 1;
        }
        if m.blocked {
            self.waiting.remove(&self.entries[m.i].pid);
        }
        if let Some((pid, j)) = m.woke {
            self.waiting.insert(pid, j);
        }
        // The path as the level below had it.
        let below = self.frames.last().map_or(0, |b| b.path_len);
        self.truncate_path(below);
    }

    /// Runs the search: each entry's ghost answer, and the decision.
    fn run(mut self, budget: &mut Budget) -> (Vec<Option<GhostResult>>, Decision) {
        let mut outcome = self.enter(None, budget);
        loop {
            match outcome {
                Entered::Done => return self.finish(Decision::Found { reordered: false }),
                Entered::OutOfBudget => {
                    let why = "gave up: the search's state budget ran out".to_string();
                    return self.finish(Decision::Unknown(why));
                }
                Entered::Failed | Entered::Pushed => {}
            }
            // The top level's next candidate, with `cur` its ghost.
            let d = self.frames.len() - 1;
            let top = &mut self.frames[d];
            let Some(&(k, i)) = top.cands.get(top.next) else {
                // Every candidate failed here: remember the state, go down a level.
                if d == 0 {
                    return self.finish(Decision::Refuted(Disagreement {
                        entry: usize::MAX,
                        ghost: None,
                    }));
                }
                let st = self.state();
                let c = cells(&st.2) + st.0.len() / 8 + st.1.len();
                if c <= budget.memo_cells {
                    budget.memo_cells -= c;
                    self.failed.insert(st);
                }
                self.pop();
                self.restore(self.frames.len() - 1);
                outcome = Entered::Failed;
                continue;
            };
            top.next += 1;
            let entries = self.entries;
            let e = &entries[i];
            if let Some(what) = no_room(&self.cur, e.pid, &e.op) {
                let why = format!(
                    "the one-machine Unix has room for at most {what}, and the history \
                     needs more"
                );
                return self.finish(Decision::Unknown(why));
            }
            let mut g = self.cur.clone();
            let step = g.apply(e.pid, &e.op);
            let mut blocked = false;
            let ok = match (e.expect, step.outcome) {
                (Expect::Result(want), Some(got)) => same(&e.op, &got, &want),
                (Expect::Result(_), None) | (Expect::Blocked, None) | (Expect::Any, None) => {
                    blocked = true;
                    true
                }
                (Expect::Blocked, Some(_)) => false,
                (Expect::Any, Some(_)) => true,
            };
            if !ok {
                self.fail(i, step.outcome);
                continue;
            }
            let path_len = self.path.len();
            self.path.push((i, step.outcome));
            let mut woke = None;
            let mut woke_ok = true;
            if let Some((pid, out)) = step.woke {
                // (Only an exit wakes a waiter, and never its own process.)
                if let Some(j) = self.waiting.get(&pid).copied() {
                    let fine = match self.entries[j].expect {
                        Expect::Result(want) => same(&Op::Wait, &out, &want),
                        Expect::Blocked => false,
                        Expect::Any => true,
                    };
                    if fine {
                        self.path.push((j, Some(out)));
                        woke = Some((pid, j));
                    } else {
                        self.fail(j, Some(out));
                        woke_ok = false;
                    }
                }
            }
            if !woke_ok {
                self.truncate_path(path_len);
                continue;
            }
            // Go up a level: the move, then the new level's ghost.
            self.pos[k] += 1;
            if self.required(i) {
                self.required_left -= 1;
            }
            if blocked {
                self.waiting.insert(e.pid, i);
            }
            if let Some((pid, _)) = woke {
                self.waiting.remove(&pid);
            }
            let here = std::mem::replace(&mut self.cur, g);
            let m = Move {
                k,
                i,
                blocked,
                woke,
            };
            outcome = self.enter(Some(m), budget);
            match outcome {
                // Known to fail: undo the move, this level's ghost is `here`.
                Entered::Failed => {
                    self.undo_unentered(k, i, blocked, woke, path_len);
                    self.cur = here;
                }
                Entered::Pushed => self.keep(d, here, budget.keep_cells),
                Entered::Done | Entered::OutOfBudget => {}
            }
        }
    }

    /// Undoes a move whose level was never pushed (its state was known to fail).
    fn undo_unentered(
        &mut self,
        k: usize,
        i: usize,
        blocked: bool,
        woke: Option<(Pid, usize)>,
        path_len: usize,
    ) {
        self.pos[k] -= 1;
        if self.required(i) {
            self.required_left += 1;
        }
        if blocked {
            self.waiting.remove(&self.entries[i].pid);
        }
        if let Some((pid, j)) = woke {
            self.waiting.insert(pid, j);
        }
        self.truncate_path(path_len);
    }

    /// Each entry's ghost answer in the order found (or the one that went furthest).
    fn finish(mut self, decision: Decision) -> (Vec<Option<GhostResult>>, Decision) {
        let mut ghost_of = vec![None; self.entries.len()];
        match decision {
            Decision::Found { .. } => {
                // (A wait placed where it blocked counts where it was answered.)
                let ends: Vec<u64> = self
                    .path
                    .iter()
                    .filter(|(i, g)| g.is_some() || self.entries[*i].expect == Expect::Blocked)
                    .filter_map(|(i, _)| self.entries[*i].end)
                    .collect();
                let reordered = ends.windows(2).any(|w| w[0] > w[1]);
                for (i, g) in &self.path {
                    ghost_of[*i] = Some(*g);
                }
                (ghost_of, Decision::Found { reordered })
            }
            other => {
                let why = self.best_why.take();
                if let Some(why) = &why {
                    let shared = self.best_shared;
                    let mut order = self.path[..shared].to_vec();
                    order.extend_from_slice(&self.best_order[shared..]);
                    for (i, g) in order {
                        ghost_of[i] = Some(g);
                    }
                    ghost_of[why.entry] = Some(why.ghost);
                }
                let decision = match (other, why) {
                    (Decision::Refuted(_), Some(why)) => Decision::Refuted(why),
                    // No order and no failure recorded: every required entry was
                    // unplaceable by real time alone (cannot happen: the earliest end
                    // is always a candidate); say so rather than agree.
                    (Decision::Refuted(_), None) => {
                        Decision::Unknown("no order found and no entry to blame".into())
                    }
                    (other, _) => other,
                };
                (ghost_of, decision)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vocab::{Fd, FileName, Mode, PageNo, Value};

    const A: Pid = Pid::new(0, 0);
    const B: Pid = Pid::new(1, 0);
    const F: FileName = FileName(0);

    fn e(pid: Pid, op: Op, start: u64, end: u64, out: Outcome) -> Entry {
        Entry {
            pid,
            op,
            start,
            end: Some(end),
            expect: Expect::Result(out),
        }
    }

    fn ghost() -> Unix {
        let mut u = Unix::new();
        u.add_file(F, vec![1]);
        u.add_process(A, 1);
        u.add_process(B, 1);
        u
    }

    fn open(pid: Pid, mode: Mode, t: u64) -> Entry {
        e(
            pid,
            Op::Open {
                name: F,
                mode,
                create: false,
            },
            t,
            t,
            Ok(Value::Fd(Fd(0))),
        )
    }

    #[test]
    fn overlapping_operations_may_take_effect_in_either_order() {
        // B's read saw A's write although B's reply came back first: the write took
        // effect at the server before the read; the intervals overlap, so it is fine.
        let h = vec![
            open(A, Mode::Write, 0),
            open(B, Mode::Read, 1),
            e(A, Op::Write { fd: Fd(0), sym: 9 }, 2, 6, Ok(Value::Unit)),
            e(B, Op::Read { fd: Fd(0) }, 3, 5, Ok(Value::Data(Some(9)))),
        ];
        let v = check(&ghost(), &h);
        assert!(v.agrees(), "{v:?}");
        assert!(
            v.reordered,
            "the write goes before the read that completed first"
        );
        assert_eq!(v.ghost[3], Some(Some(Ok(Value::Data(Some(9))))));
    }

    #[test]
    fn real_time_order_is_kept() {
        // The read ended before the write started: it cannot see it.
        let h = vec![
            open(A, Mode::Write, 0),
            open(B, Mode::Read, 1),
            e(B, Op::Read { fd: Fd(0) }, 2, 3, Ok(Value::Data(Some(9)))),
            e(A, Op::Write { fd: Fd(0), sym: 9 }, 4, 6, Ok(Value::Unit)),
        ];
        let v = check(&ghost(), &h);
        let d = v.disagreement.expect("no order explains it");
        assert_eq!(d.entry, 2);
        assert_eq!(d.ghost, Some(Ok(Value::Data(Some(1)))));
    }

    #[test]
    fn a_wait_is_answered_by_the_exit_that_wakes_it() {
        let child = Pid::new(0, 1);
        let exit = Op::Exit { status: 3 };
        let h = vec![
            e(A, Op::Fork, 0, 1, Ok(Value::Pid(child))),
            e(
                A,
                Op::Wait,
                2,
                9,
                Ok(Value::Child {
                    pid: child,
                    status: 3,
                }),
            ),
            e(child, exit, 3, 8, Ok(Value::Unit)),
        ];
        assert!(check(&ghost(), &h).agrees());
        // A wait the cluster never answered must block on the ghost too.
        let mut blocked = h.clone();
        blocked[1].expect = Expect::Blocked;
        blocked[1].end = None;
        let v = check(&ghost(), &blocked);
        assert_eq!(v.disagreement.map(|d| d.entry), Some(1));
    }

    #[test]
    fn operations_in_progress_at_a_crash_may_or_may_not_have_happened() {
        let h = vec![
            open(A, Mode::Write, 0),
            open(B, Mode::Read, 1),
            Entry {
                pid: A,
                op: Op::Write { fd: Fd(0), sym: 9 },
                start: 2,
                end: None,
                expect: Expect::Any,
            },
            e(B, Op::Read { fd: Fd(0) }, 3, 5, Ok(Value::Data(Some(9)))),
        ];
        assert!(check(&ghost(), &h).agrees());
        let mut h2 = h.clone();
        h2[3].expect = Expect::Result(Ok(Value::Data(Some(1))));
        assert!(check(&ghost(), &h2).agrees(), "or it never took effect");
    }

    /// A random history of a few processes, with results from one real order on the ghost
    /// (some changed, so that some histories have no order), overlapping in time.
    fn random_history(rng: &mut rand_chacha::ChaCha8Rng) -> (Unix, Vec<Entry>) {
        use rand::Rng;
        let mut u = Unix::new();
        for f in 0..2 {
            u.add_file(FileName(f), vec![1]);
        }
        let initial = [A, B, Pid::new(0, 1), Pid::new(2, 0)];
        let nprocs = rng.gen_range(1..=4);
        for p in &initial[..nprocs] {
            u.add_process(*p, 1);
        }
        let start = u.clone();
        // Processes that may act: the initial ones and children they may fork.
        let actors = [
            A,
            B,
            Pid::new(0, 1),
            Pid::new(2, 0),
            Pid::new(0, 2),
            Pid::new(1, 1),
        ];
        let pick = |rng: &mut rand_chacha::ChaCha8Rng| actors[rng.gen_range(0..actors.len())];
        let op = |rng: &mut rand_chacha::ChaCha8Rng| -> Op {
            let fd = Fd(rng.gen_range(0..2));
            let name = FileName(rng.gen_range(0..3));
            match rng.gen_range(0..21) {
                0..=2 => Op::Open {
                    name,
                    mode: Mode::ReadWrite,
                    create: rng.gen_bool(0.5),
                },
                3..=4 => Op::Read { fd },
                5..=6 => Op::Write {
                    fd,
                    sym: rng.gen_range(1..4),
                },
                7 => Op::Lseek { fd, pos: 0 },
                8 => Op::Close { fd },
                9 => Op::Unlink { name },
                10 => Op::Fork,
                11 => Op::Exit {
                    status: rng.gen_range(0..3),
                },
                12 => Op::Wait,
                13 => Op::Getpid,
                14 => Op::MemWrite {
                    page: PageNo(0),
                    sym: rng.gen_range(1..4),
                },
                15 => Op::MemRead { page: PageNo(0) },
                16 => Op::Kill { pid: pick(rng) },
                17 => Op::Setpgid { pgrp: pick(rng) },
                18 => Op::Killpg { pgrp: pick(rng) },
                19 => Op::Stat { name },
                _ => Op::Pipe,
            }
        };
        // Run one random order on the ghost; t is the linearization time.
        struct Run {
            pid: Pid,
            op: Op,
            t: u64,
            end: Option<u64>,
            out: Option<Outcome>,
        }
        let mut runs: Vec<Run> = Vec::new();
        let mut waiting: BTreeMap<Pid, usize> = BTreeMap::new();
        let mut g = start.clone();
        let n = rng.gen_range(1..14);
        for t in 0..n {
            let pid = pick(rng);
            if waiting.contains_key(&pid) {
                continue;
            }
            let o = op(rng);
            let step = g.apply(pid, &o);
            let t = 10 * t as u64 + 10;
            if let Some((w, out)) = step.woke {
                if let Some(r) = waiting.remove(&w) {
                    runs[r].out = Some(out);
                    runs[r].end = Some(t);
                }
            }
            if step.outcome.is_none() {
                waiting.insert(pid, runs.len());
            }
            runs.push(Run {
                pid,
                op: o,
                t,
                end: step.outcome.map(|_| t),
                out: step.outcome,
            });
        }
        // Intervals around each t, one operation at a time per process.
        let mut entries = Vec::new();
        let mut last_end: BTreeMap<Pid, u64> = BTreeMap::new();
        let mut order: Vec<usize> = (0..runs.len()).collect();
        order.sort_by_key(|i| (runs[*i].pid, runs[*i].t));
        for (n, &r) in order.iter().enumerate() {
            let run = &runs[r];
            let next_t = order
                .get(n + 1)
                .filter(|x| runs[**x].pid == run.pid)
                .map(|x| runs[*x].t);
            let lo = last_end.get(&run.pid).map_or(0, |e| e + 1);
            let start = rng.gen_range(lo.min(run.t)..=run.t);
            let end = run.end.map(|e| {
                let hi = next_t.map_or(e + 30, |n| n - 1).max(e);
                rng.gen_range(e..=hi)
            });
            last_end.insert(run.pid, end.unwrap_or(u64::MAX - 1));
            let mut expect = match run.out {
                Some(o) => Expect::Result(o),
                None => Expect::Blocked,
            };
            if rng.gen_bool(0.1) {
                expect = Expect::Result(match rng.gen_range(0..3) {
                    0 => Ok(Value::Data(Some(rng.gen_range(0..4)))),
                    1 => Err(vocab::Errno::EBADF),
                    _ => Ok(Value::Fd(Fd(rng.gen_range(0..2)))),
                });
            }
            let last = next_t.is_none();
            let expect = if last && rng.gen_bool(0.15) {
                Expect::Any
            } else {
                expect
            };
            entries.push(Entry {
                pid: run.pid,
                op: run.op,
                start,
                end: if expect == Expect::Any || expect == Expect::Blocked {
                    None
                } else {
                    end
                },
                expect,
            });
        }
        (start, entries)
    }

    #[test]
    fn parts_decide_as_the_whole_history_search_did() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let (mut agree, mut refuted, mut split) = (0, 0, 0);
        for case in 0..4000 {
            let (g, h) = random_history(&mut rng);
            let old = reference::check(&g, &h);
            let new = check(&g, &h);
            // With almost nothing kept (checkpoints every few levels, replays between
            // them; few failed states remembered): the same verdict.
            for keep in [6, 30] {
                let lean = check_within(&g, &h, STATE_BUDGET, keep, 40);
                assert_eq!(
                    (lean.disagreement.is_some(), lean.undecided),
                    (new.disagreement.is_some(), false),
                    "case {case}"
                );
            }
            assert!(!old.undecided && !new.undecided, "case {case}");
            assert_eq!(
                old.disagreement.is_some(),
                new.disagreement.is_some(),
                "case {case}: {h:#?}\nold {old:?}\nnew {new:?}"
            );
            if new.disagreement.is_none() {
                agree += 1;
                assert!(new.agrees());
                // Every decided entry has its ghost answer.
                for (e, gh) in h.iter().zip(&new.ghost) {
                    if matches!(e.expect, Expect::Result(_)) {
                        assert!(gh.is_some(), "case {case}");
                    }
                }
            } else {
                refuted += 1;
            }
            split += usize::from(new.parts > 1);
        }
        // Both kinds of verdict, and histories in several parts, were exercised.
        assert!(
            agree > 1000 && refuted > 500 && split > 1000,
            "{agree} {refuted} {split}"
        );
    }

    #[test]
    fn long_histories_need_no_recursion_and_independent_processes_are_parts() {
        // 100,000 operations of one process: one part, searched 100,000 levels deep.
        let h: Vec<Entry> = (0..100_000u64)
            .map(|t| e(A, Op::Getpid, 2 * t, 2 * t + 1, Ok(Value::Pid(A))))
            .collect();
        let v = check(&ghost(), &h);
        assert!(v.agrees() && v.parts == 1 && !v.reordered);
        // 10,000 processes each calling getpid at once: 10,000 parts of one operation.
        let mut g = Unix::new();
        let pids: Vec<Pid> = (0..10_000u32)
            .map(|i| Pid::new((i / 200) as u8, (i % 200) as u8))
            .collect();
        for p in &pids {
            g.add_process(*p, 0);
        }
        let h: Vec<Entry> = pids
            .iter()
            .map(|p| e(*p, Op::Getpid, 0, 1, Ok(Value::Pid(*p))))
            .collect();
        let v = check(&g, &h);
        assert!(v.agrees());
        assert_eq!(v.parts, 10_000);
        // One wrong result among them is found, and named.
        let mut bad = h.clone();
        bad[7_777].expect = Expect::Result(Ok(Value::Pid(A)));
        let v = check(&g, &bad);
        assert_eq!(v.disagreement.map(|d| d.entry), Some(7_777));
    }

    #[test]
    fn shared_files_and_families_stay_in_one_part() {
        let c = Pid::new(0, 1);
        let h = vec![
            open(A, Mode::Write, 0),
            open(B, Mode::Read, 1),
            e(A, Op::Fork, 2, 3, Ok(Value::Pid(c))),
            e(c, Op::Getpid, 4, 5, Ok(Value::Pid(c))),
            e(Pid::new(2, 0), Op::Getpid, 0, 9, Err(vocab::Errno::ESRCH)),
        ];
        let parts = partition(&ghost(), &h);
        let of: Vec<Vec<usize>> = parts.iter().map(|p| p.entries.clone()).collect();
        assert_eq!(of, vec![vec![0, 1, 2, 3], vec![4]]);
        assert!(check(&ghost(), &h).agrees());
    }

    #[test]
    fn an_undecided_check_says_why_and_never_agrees() {
        // Two processes with three overlapping writes each, and a read no order explains,
        // with no budget for any order but the first.
        let mut h = vec![open(A, Mode::Write, 0), open(B, Mode::ReadWrite, 0)];
        for k in 0..3 {
            h.push(e(
                A,
                Op::Write {
                    fd: Fd(0),
                    sym: 2 + k,
                },
                10,
                20,
                Ok(Value::Unit),
            ));
        }
        h.push(e(
            B,
            Op::Read { fd: Fd(0) },
            10,
            20,
            Ok(Value::Data(Some(7))),
        ));
        let v = check_within(&ghost(), &h, 0, KEEP_CELLS, MEMO_CELLS);
        assert!(
            v.undecided && !v.agrees() && v.disagreement.is_none(),
            "{v:?}"
        );
        assert!(v.undecided_why.expect("a reason").contains("budget"));
        assert!(
            check(&ghost(), &h).disagreement.is_some(),
            "decided with the budget"
        );
        // More streams than the one machine numbers: undecided, not a crash.
        let mut g = Unix::new();
        g.add_file(F, vec![1]);
        let pids: Vec<Pid> = (0..70u8).map(|i| Pid::new(0, i)).collect();
        for p in &pids {
            g.add_process(*p, 0);
        }
        let h: Vec<Entry> = pids
            .iter()
            .flat_map(|p| (0..4u8).map(move |k| (*p, k)))
            .enumerate()
            .map(|(t, (p, k))| {
                let t = t as u64;
                let op = Op::Open {
                    name: F,
                    mode: Mode::Read,
                    create: false,
                };
                e(p, op, t, t, Ok(Value::Fd(Fd(k))))
            })
            .collect();
        let v = check(&g, &h);
        assert!(v.undecided && !v.agrees(), "{v:?}");
        assert!(v.undecided_why.expect("a reason").contains("256 streams"));
    }
}
