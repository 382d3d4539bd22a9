//! Shared helpers: run the same operations on the cluster and on the one-machine Unix.
#![allow(dead_code)]

use sprite::msg::Node;
use sprite::{Cluster, ClusterConfig, Enabled, OpId};
use unix::Unix;
use vocab::{ClusterEvent, MsgKind, Op, Outcome, Pid};

#[derive(Clone, Debug)]
pub enum Step {
    Op(Pid, Op),
    Ev(ClusterEvent),
}

/// Runs `steps` one at a time (each to quiescence) on a cluster built from `cfg` and on the
/// ghost; panics with the seed and the step on the first difference (TR). Besides every
/// result, the signals each live process has received are compared after every step (no
/// result shows them: SIG for kill and killpg).
pub fn check_tr(cfg: &ClusterConfig, seed: u64, steps: &[Step]) -> Cluster {
    let mut c = Cluster::new(cfg, seed).expect("valid cluster");
    let mut u = Unix::new();
    for (name, data) in &cfg.files {
        u.add_file(*name, data.clone());
    }
    for p in &cfg.processes {
        u.add_process(p.pid, p.pages);
    }
    // Operations blocked in the ghost (wait) and their cluster ids.
    let mut blocked: Vec<(Pid, OpId)> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Ev(e) => {
                c.event(*e).expect("event");
                c.run_until_quiescent()
                    .unwrap_or_else(|e| panic!("seed {seed} step {i}: {e}"));
            }
            Step::Op(pid, op) => {
                // A process blocked in wait issues nothing (the ghost would say ESRCH; the
                // cluster would queue the operation until the wait returns).
                if u.procs
                    .get(pid)
                    .is_some_and(|p| p.state == unix::ProcState::Waiting)
                {
                    continue;
                }
                let id = c.submit(*pid, *op);
                c.run_until_quiescent()
                    .unwrap_or_else(|e| panic!("seed {seed} step {i}: {e}"));
                let before = op.moves().then(|| u.clone());
                let step = u.apply(*pid, op);
                let got = c.outcome(id);
                if let (Some(before), Some(Err(vocab::Errno::Refused(_)))) = (before, got) {
                    // Refused (REFUSE): the process went on untouched, so one Unix machine
                    // must not have done the operation either.
                    u = before;
                    continue;
                }
                compare(seed, i, *pid, op, step.outcome, got, steps);
                if step.outcome.is_none() {
                    blocked.push((*pid, id));
                }
                if let Some((w, want)) = step.woke {
                    let idx = blocked
                        .iter()
                        .position(|(p, _)| *p == w)
                        .expect("woken waiter was blocked");
                    let (_, wid) = blocked.remove(idx);
                    compare(seed, i, w, &Op::Wait, Some(want), c.outcome(wid), steps);
                }
                compare_signals(seed, i, &c, &u, steps);
            }
        }
    }
    c
}

/// Every live process has received as many signals as on one Unix machine.
fn compare_signals(seed: u64, i: usize, c: &Cluster, u: &Unix, steps: &[Step]) {
    let v = c.view();
    for (pid, g) in u.live() {
        let got = v.process(*pid).map(|p| p.signals.min(255) as u8);
        if got.is_some_and(|n| n != g.signals) {
            panic!(
                "SIG violated (seed {seed}) at step {i}: {pid} received {got:?} signals, \
                 on one Unix machine {}\nscript:\n  {}",
                g.signals,
                script(steps, i).join("\n  ")
            );
        }
    }
}

fn script(steps: &[Step], i: usize) -> Vec<String> {
    steps[..=i]
        .iter()
        .map(|s| match s {
            Step::Op(p, o) => format!("{p}: {o}"),
            Step::Ev(e) => format!("event: {e}"),
        })
        .collect()
}

fn compare(
    seed: u64,
    i: usize,
    pid: Pid,
    op: &Op,
    want: Option<Outcome>,
    got: Option<Outcome>,
    steps: &[Step],
) {
    let equal = match (want, got) {
        (Some(w), Some(g)) => vocab::outcome::transparent(op, &g, &w),
        (w, g) => w == g,
    };
    if !equal {
        let script = script(steps, i);
        panic!(
            "TR violated (seed {seed}) at step {i}: {pid} {op}: unix {want:?}, cluster {got:?}\nscript:\n  {}",
            script.join("\n  ")
        );
    }
}

/// Performs message deliveries (or, when none is possible, the first enabled event) until
/// `done` holds of the cluster and what it may do next; panics after 100 steps.
pub fn drive_until(c: &mut Cluster, what: &str, done: impl Fn(&Cluster, &[Enabled]) -> bool) {
    for _ in 0..100 {
        let en = c.enabled();
        if done(c, &en) {
            return;
        }
        let e = en
            .iter()
            .find(|e| matches!(e, Enabled::Deliver { .. }))
            .or(en.first())
            .copied()
            .unwrap_or_else(|| panic!("quiescent before {what}"));
        assert!(c.perform(&e));
    }
    panic!("no {what} after 100 steps");
}

/// Drives the cluster (as [`drive_until`]) until a message of `kind` to `to` can be
/// delivered, and stops there.
pub fn deliver_until(c: &mut Cluster, kind: MsgKind, to: Node) {
    drive_until(c, kind.name(), |_, en| {
        en.iter().any(|e| {
            matches!(e, Enabled::Deliver { kind: Some(k), to: t, .. } if *k == kind && *t == to)
        })
    });
}

/// Seeds a randomised test runs: `SPRITE_SEEDS=N` for long runs, else `default`.
pub fn seeds(default: u64) -> u64 {
    std::env::var("SPRITE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
