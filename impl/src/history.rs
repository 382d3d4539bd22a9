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

use std::collections::{BTreeMap, HashSet};
use unix::Unix;
use vocab::{Op, Outcome, Pid};

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
    pub disagreement: Option<Disagreement>,
    /// The search gave up (more than [`STATE_BUDGET`] states): nothing was decided.
    pub undecided: bool,
    /// The order found is not the completion order (some operation took effect before
    /// one that completed earlier).
    pub reordered: bool,
}

impl Verdict {
    pub fn agrees(&self) -> bool {
        self.disagreement.is_none() && !self.undecided
    }
}

/// Most search states explored before giving up. Each process has at most one operation
/// in progress, so the orders to try are few unless many operations overlap.
pub const STATE_BUDGET: usize = 1_000_000;

/// Whether the cluster's result `got` stands for the ghost's (TR's one rule).
fn same(op: &Op, ghost: &Outcome, got: &Outcome) -> bool {
    vocab::outcome::transparent(op, got, ghost)
}

/// A search state: how far each process got, the waits blocked on the ghost, the ghost.
type State = (Vec<usize>, Vec<(Pid, usize)>, Unix);

/// An order (so far): (entry, the ghost's answer).
type Order = Vec<(usize, GhostResult)>;

/// The order that went furthest before a result could not be explained.
struct Best {
    order: Order,
    why: Disagreement,
}

struct Search<'a> {
    entries: &'a [Entry],
    /// Per process, its entries in its own order.
    seqs: Vec<Vec<usize>>,
    failed: HashSet<State>,
    states: usize,
    path: Order,
    best: Option<Best>,
}

/// Searches for an order of `entries` on a ghost starting as `ghost` that gives every
/// expected result. Entries of one process must be listed in that process's order.
pub fn check(ghost: &Unix, entries: &[Entry]) -> Verdict {
    let mut pids: Vec<Pid> = entries.iter().map(|e| e.pid).collect();
    pids.sort();
    pids.dedup();
    let seqs = pids
        .iter()
        .map(|p| {
            (0..entries.len())
                .filter(|i| entries[*i].pid == *p)
                .collect()
        })
        .collect();
    let mut s = Search {
        entries,
        seqs,
        failed: HashSet::new(),
        states: 0,
        path: Vec::new(),
        best: None,
    };
    let pos = vec![0; pids.len()];
    let found = s.go(&pos, &BTreeMap::new(), ghost);
    let mut ghost_of = vec![None; entries.len()];
    let undecided = found.is_none();
    let mut reordered = false;
    let disagreement = match found {
        Some(true) => {
            // (A wait placed where it blocked counts where it was answered.)
            let ends: Vec<u64> = s
                .path
                .iter()
                .filter(|(i, g)| g.is_some() || entries[*i].expect == Expect::Blocked)
                .filter_map(|(i, _)| entries[*i].end)
                .collect();
            reordered = ends.windows(2).any(|w| w[0] > w[1]);
            for (i, g) in &s.path {
                ghost_of[*i] = Some(*g);
            }
            None
        }
        _ => match s.best.take() {
            Some(Best { order, why }) => {
                for (i, g) in order {
                    ghost_of[i] = Some(g);
                }
                ghost_of[why.entry] = Some(why.ghost);
                (!undecided).then_some(why)
            }
            None => None,
        },
    };
    Verdict {
        ghost: ghost_of,
        disagreement,
        undecided,
        reordered,
    }
}

impl Search<'_> {
    fn fail(&mut self, entry: usize, ghost: GhostResult) {
        if self
            .best
            .as_ref()
            .is_none_or(|b| self.path.len() > b.order.len())
        {
            self.best = Some(Best {
                order: self.path.clone(),
                why: Disagreement { entry, ghost },
            });
        }
    }

    fn required(&self, i: usize) -> bool {
        self.entries[i].expect != Expect::Any
    }

    /// `Some(true)`: an order was found (left in `path`); `Some(false)`: none from here;
    /// `None`: out of budget.
    fn go(&mut self, pos: &[usize], waiting: &BTreeMap<Pid, usize>, ghost: &Unix) -> Option<bool> {
        let unplaced = |k: usize, p: usize| self.seqs[k][p..].iter().copied();
        let done = (0..pos.len()).all(|k| unplaced(k, pos[k]).all(|i| !self.required(i)))
            && waiting
                .values()
                .all(|i| !matches!(self.entries[*i].expect, Expect::Result(_)));
        if done {
            return Some(true);
        }
        let key: State = (
            pos.to_vec(),
            waiting.iter().map(|(p, i)| (*p, *i)).collect::<Vec<_>>(),
            ghost.clone(),
        );
        if self.failed.contains(&key) {
            return Some(false);
        }
        self.states += 1;
        if self.states > STATE_BUDGET {
            return None;
        }
        // Real time: nothing may go before an operation that ended earlier than its start.
        let first_end = (0..pos.len())
            .filter_map(|k| self.seqs[k].get(pos[k]))
            .chain(waiting.values())
            .filter(|i| self.required(**i))
            .filter_map(|i| self.entries[*i].end)
            .min();
        let mut cands: Vec<(usize, usize)> = (0..pos.len())
            .filter_map(|k| self.seqs[k].get(pos[k]).map(|i| (k, *i)))
            .filter(|(_, i)| !waiting.contains_key(&self.entries[*i].pid))
            .filter(|(_, i)| first_end.is_none_or(|t| self.entries[*i].start <= t))
            .collect();
        // The completion order first.
        cands.sort_by_key(|(_, i)| (self.entries[*i].end.unwrap_or(u64::MAX), *i));
        if cands.is_empty() {
            // Stuck: a wait the cluster answered never gets an answer here.
            if let Some(i) = waiting
                .values()
                .find(|i| matches!(self.entries[**i].expect, Expect::Result(_)))
            {
                self.fail(*i, None);
            }
        }
        for (k, i) in cands {
            let e = &self.entries[i];
            let mut g = ghost.clone();
            let step = g.apply(e.pid, &e.op);
            let mut w = waiting.clone();
            let ok = match (e.expect, step.outcome) {
                (Expect::Result(want), Some(got)) => same(&e.op, &got, &want),
                (Expect::Result(_), None) | (Expect::Blocked, None) | (Expect::Any, None) => {
                    w.insert(e.pid, i);
                    true
                }
                (Expect::Blocked, Some(_)) => false,
                (Expect::Any, Some(_)) => true,
            };
            if !ok {
                self.fail(i, step.outcome);
                continue;
            }
            self.path.push((i, step.outcome));
            let mut woke_ok = true;
            if let Some((pid, out)) = step.woke {
                if let Some(j) = w.remove(&pid) {
                    let fine = match self.entries[j].expect {
                        Expect::Result(want) => same(&Op::Wait, &out, &want),
                        Expect::Blocked => false,
                        Expect::Any => true,
                    };
                    if fine {
                        self.path.push((j, Some(out)));
                    } else {
                        self.fail(j, Some(out));
                        woke_ok = false;
                    }
                }
            }
            if woke_ok {
                let mut next = pos.to_vec();
                next[k] += 1;
                match self.go(&next, &w, &g) {
                    Some(true) => return Some(true),
                    None => return None,
                    Some(false) => {}
                }
            }
            // Undo this choice (and the wait it answered, if any).
            while self.path.last().is_some_and(|(j, _)| *j != i) {
                self.path.pop();
            }
            self.path.pop();
        }
        self.failed.insert(key);
        Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vocab::{Fd, FileName, Mode, Value};

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
}
