//! The checker as it was before the history was split into parts and searched without
//! recursion: one depth-first search over the whole history, on the whole ghost. Kept
//! only for the tests, which compare its verdicts with [`super::check`]'s.

use super::{Disagreement, Entry, Expect, GhostResult, STATE_BUDGET};
use std::collections::{BTreeMap, HashSet};
use unix::Unix;
use vocab::{Op, Outcome, Pid};

/// The old verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub ghost: Vec<Option<GhostResult>>,
    pub disagreement: Option<Disagreement>,
    pub undecided: bool,
    pub reordered: bool,
}

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
