//! The runner: one scenario on the implementation and on the model, operation by
//! operation, compared at every quiescent point.
//!
//! For each step: the operation is appended to the process's model script and the model
//! takes `Action::Run(pid)`, then every internal action that becomes enabled (migration
//! steps, signal deliveries, page flushes) until none is left, in the order the
//! scenario's scheduling choice picks (first enabled by default); the implementation gets
//! `submit(pid, op)` and runs until quiescent (by its seed, or by the scheduling choice
//! through `enabled`/`perform`). Then:
//! 1. the operation's outcome is compared between implementation, model and the ghost
//!    one-machine Unix (time values are not compared, only their order per process;
//!    refusal reasons are not compared when both refuse; the ghost is not consulted for a
//!    refused migration);
//! 2. the implementation's state is mapped onto a model state (`crate::abs::map`) and every
//!    invariant of the catalogue is evaluated on it;
//! 3. the mapped state is diffed against the model's state (`crate::abs::summary`).
//!
//! This is the quiescent-point version of the lockstep the issue asks for: states are
//! compared after each operation has run to completion, not after each internal message.

use crate::abs;
use crate::gen::{Scenario, Step, Who, CLOCKS};
use model::config::{Config, HostSpec, ProcSpec, Script};
use model::log::Log;
use model::state::{State, Status};
use model::{Action, SpriteModel};
use sprite::msg::Node;
use sprite::{Cluster, ClusterConfig, Enabled, HostConfig, OpId, ProcConfig};
use std::collections::BTreeMap;
use vocab::{ClusterEvent, Errno, HostId, InvariantId, Op, Outcome, Pid, Switches, Value};

/// How to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Design switches for the implementation only (the model keeps the scenario's).
    pub impl_switches: Option<Switches>,
    /// Do not tolerate the known divergences that the harness can mask.
    pub strict: bool,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An operation returned different results.
    Outcome {
        pid: Pid,
        op: Op,
        implementation: Option<Outcome>,
        model: Option<Outcome>,
        ghost: Option<Outcome>,
    },
    /// An invariant fails on the implementation's mapped state.
    Invariant(InvariantId, String),
    /// The mapped state differs from the model's.
    State,
    /// The model itself flagged an invariant (expected only with a design switch on).
    Model(Vec<InvariantId>, Vec<String>),
    /// The implementation did not become quiescent.
    Liveness(String),
}

/// A disagreement, with everything needed to understand and replay it.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// Index of the step in the scenario.
    pub step: usize,
    pub step_text: String,
    pub kind: Kind,
    /// Field-by-field differences between the mapped implementation state and the model's.
    pub diff: Vec<String>,
    /// Invariants that fail on the mapped implementation state.
    pub invariants: Vec<(InvariantId, String)>,
}

impl Mismatch {
    /// The invariant this mismatch speaks for.
    pub fn invariant(&self) -> Option<InvariantId> {
        match &self.kind {
            Kind::Invariant(id, _) => Some(*id),
            Kind::Outcome { op, .. } => Some(specific(op)),
            Kind::Liveness(_) => Some(InvariantId::LIVE),
            Kind::Model(ids, _) => ids.first().copied(),
            Kind::State => self
                .invariants
                .first()
                .map(|(id, _)| *id)
                .or_else(|| self.diff.first().map(|d| of_key(d))),
        }
    }
}

/// The invariant a difference in a state field speaks to.
fn of_key(d: &str) -> InvariantId {
    let k = d.split(':').next().unwrap_or("");
    if k.contains("cacheable") {
        InvariantId::CACHE
    } else if k.contains("position") {
        InvariantId::OFF
    } else if k.contains("memory") {
        InvariantId::MEM
    } else if k.contains("latest data") {
        InvariantId::CONS
    } else if k.contains("linked") || k.starts_with("name") || k.starts_with("file") {
        InvariantId::DEL
    } else if k.contains("signals") {
        InvariantId::SIG
    } else if k.starts_with("zombie") || k.contains("status") {
        InvariantId::WAIT
    } else if k.starts_with("home table") || k.ends_with("host") {
        InvariantId::HOME
    } else {
        InvariantId::TR
    }
}

/// The invariant a wrong result of an operation speaks to (the vocabulary's rule).
pub fn specific(op: &Op) -> InvariantId {
    InvariantId::of_result(op)
}

/// The result of a run.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// Steps executed (skipped steps excluded).
    pub executed: usize,
    pub mismatch: Option<Mismatch>,
    /// Situations reached (bits of [`crate::stats::SITUATIONS`]).
    pub reached: u32,
    /// Operations compared.
    pub ops: usize,
}

/// Normalises an outcome for comparison: time values are compared by order elsewhere.
fn norm(o: Option<Outcome>) -> Option<Outcome> {
    match o {
        Some(Ok(Value::Time(_))) => Some(Ok(Value::Time(0))),
        Some(Err(Errno::Refused(_))) => Some(Err(Errno::Refused(vocab::Refusal::SameHost))),
        x => x,
    }
}

fn refused(o: &Option<Outcome>) -> bool {
    matches!(o, Some(Err(Errno::Refused(_))))
}

/// The model configuration of a scenario (scripts start empty: the runner appends each
/// operation to its process's script just before the process runs it).
pub fn model_config(sc: &Scenario) -> Config {
    let mut procs = vec![ProcSpec {
        pid: Pid::new(0, 0),
        script: 0,
        shares_memory: sc.pinned,
        maps_device: false,
    }];
    if sc.second_proc {
        procs.push(ProcSpec::new(Pid::new(1, 0), 1));
    }
    Config {
        name: "conform",
        about: "a generated conformance scenario",
        hosts: sc
            .hosts
            .iter()
            .map(|h| HostSpec {
                version: h.version,
                clock: CLOCKS[h.clock as usize % CLOCKS.len()],
                owner: h.owner,
            })
            .collect(),
        files: files(sc),
        scripts: procs.iter().map(|_| Script::new(Vec::new())).collect(),
        procs,
        pages: sc.pages,
        events: Vec::new(),
        switches: sc.switches,
    }
}

fn files(sc: &Scenario) -> Vec<(vocab::FileName, Vec<u8>)> {
    let mut out: Vec<(vocab::FileName, Vec<u8>)> = Vec::new();
    for (n, d) in &sc.files {
        if out.iter().all(|(m, _)| m != n) {
            let mut d = d.clone();
            d.truncate(vocab::MAX_FILE_LEN as usize);
            out.push((*n, d));
        }
    }
    out
}

/// The implementation's configuration of a scenario.
pub fn impl_config(sc: &Scenario, switches: Switches) -> ClusterConfig {
    let mut processes = vec![ProcConfig {
        pid: Pid::new(0, 0),
        pages: sc.pages,
        shares_memory: sc.pinned,
        maps_device: false,
    }];
    if sc.second_proc {
        processes.push(ProcConfig {
            pid: Pid::new(1, 0),
            pages: sc.pages,
            shares_memory: false,
            maps_device: false,
        });
    }
    ClusterConfig {
        hosts: sc
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| HostConfig {
                id: HostId(i as u8),
                version: h.version as u16,
                clock_skew_ms: CLOCKS[h.clock as usize % CLOCKS.len()] as i64,
                owner_present: h.owner,
            })
            .collect(),
        files: files(sc),
        processes,
        switches,
        exec_args_bytes: 1024,
    }
}

/// A scenario in progress on both sides.
pub struct Runner {
    steps: Vec<Step>,
    nhosts: u8,
    seed: u64,
    pub model: SpriteModel,
    pub ms: State,
    pub cluster: Cluster,
    forked: Vec<Pid>,
    pending_waits: BTreeMap<Pid, OpId>,
    last_time: BTreeMap<Pid, u32>,
    impl_flags: u16,
    sched: Option<u8>,
    sched_n: usize,
    pub reached: u32,
    strict: bool,
    /// During a `Pipe` step: messages from this host to the file server are delivered
    /// only when nothing else can happen (a slow channel), so that the second operation
    /// can overtake what the first left in flight.
    starve: Option<HostId>,
}

/// Internal actions the runner drives itself (not script operations, not events).
fn internal(a: &Action) -> bool {
    !matches!(a, Action::Run(_) | Action::Event(_))
}

impl Runner {
    pub fn new(sc: &Scenario, opts: &Options) -> Result<Runner, String> {
        let sw = opts.impl_switches.unwrap_or(sc.switches);
        let mut r = Runner::from_parts(
            model_config(sc),
            impl_config(sc, sw),
            sc.seed,
            sc.steps.clone(),
        )?;
        r.strict = opts.strict;
        Ok(r)
    }

    /// A runner for explicit configurations (the model's scripts must be empty, one per
    /// initial process: the runner appends each operation as it runs it).
    pub fn from_parts(
        cfg: Config,
        icfg: ClusterConfig,
        seed: u64,
        steps: Vec<Step>,
    ) -> Result<Runner, String> {
        let model = SpriteModel::new(cfg);
        let ms = model.initial();
        let mut cluster = Cluster::new(&icfg, seed).map_err(|e| e.to_string())?;
        cluster.step_budget = 20_000;
        Ok(Runner {
            nhosts: icfg.hosts.len() as u8,
            seed,
            steps,
            model,
            ms,
            cluster,
            forked: Vec::new(),
            pending_waits: BTreeMap::new(),
            last_time: BTreeMap::new(),
            impl_flags: 0,
            sched: None,
            sched_n: 0,
            reached: 0,
            strict: false,
            starve: None,
        })
    }

    fn resolve(&self, w: Who) -> Option<Pid> {
        let live: Vec<Pid> = self.ms.procs.keys().copied().collect();
        if live.is_empty() {
            return None;
        }
        match w {
            Who::Slot(i) => Some(live[i as usize % live.len()]),
            Who::Pid(p) => Some(p),
            Who::Newest => self
                .forked
                .iter()
                .rev()
                .find(|p| self.ms.procs.contains_key(p))
                .copied()
                .or(Some(live[0])),
        }
    }

    fn ready(&self, pid: Pid) -> bool {
        self.ms
            .procs
            .get(&pid)
            .is_some_and(|p| p.status == Status::Ready && self.ms.hosts[p.host.0 as usize].up)
    }

    fn pick(&mut self, n: usize) -> usize {
        match self.sched {
            None => 0,
            Some(b) => {
                self.sched_n += 1;
                (b as usize + self.sched_n * 7) % n
            }
        }
    }

    /// The model runs `op` as `pid`'s next operation.
    fn model_run(&mut self, pid: Pid, op: Op, log: &mut Log) -> bool {
        let Some(p) = self.ms.procs.get(&pid) else {
            return false;
        };
        let si = p.script as usize;
        let scripts = &mut self.model.cfg.scripts;
        scripts[si].ops.push(op);
        if op == Op::Fork {
            let new = scripts.len() as u8;
            scripts.push(Script::new(Vec::new()));
            scripts[si].children.push(new);
        }
        let before: Vec<Pid> = self.ms.procs.keys().copied().collect();
        match self.model.apply(&self.ms, Action::Run(pid), log) {
            Some(next) => {
                self.ms = next;
                for p in self.ms.procs.keys() {
                    if !before.contains(p) {
                        self.forked.push(*p);
                    }
                }
                self.observe();
                true
            }
            None => false,
        }
    }

    /// The model takes up to `limit` internal actions.
    fn model_drain(&mut self, log: &mut Log, limit: usize) {
        let mut acts = Vec::new();
        for _ in 0..limit {
            acts.clear();
            self.model.enabled(&self.ms, &mut acts);
            acts.retain(internal);
            if acts.is_empty() {
                return;
            }
            let i = self.pick(acts.len());
            match self.model.apply(&self.ms, acts[i], log) {
                Some(next) => self.ms = next,
                None => return,
            }
            self.observe();
        }
    }

    /// Sets strict mode (no tolerated divergence).
    pub fn strict(mut self, on: bool) -> Runner {
        self.strict = on;
        self
    }

    /// Whether `pid` is mid-migration and holds the file `name` open.
    fn holds_while_moving(&self, pid: Pid, name: vocab::FileName) -> bool {
        let Some(ino) = self.ms.server.dir.get(&name) else {
            return false;
        };
        self.ms.migrations.contains_key(&pid)
            && self.ms.procs[&pid].fds.values().any(|sid| {
                self.ms
                    .server
                    .streams
                    .get(sid)
                    .is_some_and(|st| st.ino == *ino)
            })
    }

    fn observe(&mut self) {
        self.reached |= crate::stats::situations(&self.model, &self.ms);
    }

    fn impl_drain(&mut self, limit: Option<u64>) -> Result<(), String> {
        match (self.sched.or(self.starve.map(|_| 0)), limit) {
            (None, None) => self
                .cluster
                .run_until_quiescent()
                .map(|_| ())
                .map_err(|e| e.to_string()),
            (_, limit) => {
                let budget = limit.unwrap_or(self.cluster.step_budget);
                for _ in 0..budget {
                    let en = self.cluster.enabled();
                    if en.is_empty() {
                        return Ok(());
                    }
                    let e = match self.starve {
                        // Deliver on the starved channel only when nothing else can happen.
                        Some(h) => en
                            .iter()
                            .find(|e| {
                                !matches!(e, Enabled::Deliver { from: Node::Host(f), to: Node::Server, .. } if *f == h)
                            })
                            .copied()
                            .unwrap_or(en[0]),
                        None => en[self.pick(en.len())],
                    };
                    self.cluster.perform(&e);
                }
                if limit.is_some() {
                    Ok(())
                } else {
                    Err(format!(
                        "no quiescence after {budget} steps (seed {})",
                        self.seed
                    ))
                }
            }
        }
    }

    fn mismatch(&self, step: usize, kind: Kind) -> Mismatch {
        let mapped = abs::map(&self.cluster, &self.ms, self.impl_flags);
        Mismatch {
            step,
            step_text: crate::report::step_text(&self.steps[step]),
            kind,
            diff: abs::diff(&mapped, &self.ms, self.strict),
            invariants: abs::broken_invariants(&self.model, &mapped),
        }
    }

    /// Runs one step; `Ok(false)` if it was skipped (nobody to run it).
    #[allow(clippy::result_large_err)] // a mismatch ends the run: its size does not matter
    pub fn step(&mut self, i: usize) -> Result<bool, Mismatch> {
        let step = self.steps[i].clone();
        let mut log = Log::on();
        // (pid, op, impl op id, ghost outcome)
        let mut submitted: Vec<(Pid, Op, OpId, Option<Outcome>)> = Vec::new();
        let mut ghost = self.ms.ghost.clone();
        match step {
            Step::Sched(b) => {
                self.sched = Some(b);
                return Ok(false);
            }
            Step::Event(e) => {
                let known = self.model.cfg.events.contains(&e);
                if !known {
                    if self.model.cfg.events.len() >= 8 {
                        return Ok(false);
                    }
                    self.model.cfg.events.push(e);
                }
                let Some(next) = self.model.apply(&self.ms, Action::Event(e), &mut log) else {
                    return Ok(false);
                };
                self.ms = next;
                self.observe();
                self.model_drain(&mut log, 1000);
                self.cluster
                    .event(e)
                    .map_err(|err| self.mismatch(i, Kind::Liveness(err.to_string())))?;
                if matches!(e, ClusterEvent::Crash(_)) {
                    self.pending_waits
                        .retain(|p, _| self.ms.procs.contains_key(p));
                }
            }
            Step::Op { who, op } => {
                let Some(pid) = self.resolve(who).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                let g = ghost.apply(pid, &op).outcome;
                let id = self.cluster.submit(pid, op);
                submitted.push((pid, op, id, g));
                self.model_run(pid, op, &mut log);
                self.model_drain(&mut log, 1000);
            }
            Step::Pipe { who, first, second } => {
                let Some(pid) = self.resolve(who).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                self.starve = self.ms.procs.get(&pid).map(|p| p.host);
                if matches!(first, Op::Exit { .. } | Op::Wait) {
                    return Ok(false);
                }
                let g = ghost.apply(pid, &first).outcome;
                let id = self.cluster.submit(pid, first);
                submitted.push((pid, first, id, g));
                self.model_run(pid, first, &mut log);
                self.model_drain(&mut log, 1000);
                if self.ready(pid) {
                    let g2 = ghost.apply(pid, &second).outcome;
                    let id2 = self.cluster.submit(pid, second);
                    submitted.push((pid, second, id2, g2));
                    self.model_run(pid, second, &mut log);
                    self.model_drain(&mut log, 1000);
                }
            }
            Step::Kill { who, target } => {
                let (Some(pid), Some(t)) = (self.resolve(who), self.resolve(target)) else {
                    return Ok(false);
                };
                if !self.ready(pid) {
                    return Ok(false);
                }
                let op = Op::Kill { pid: t };
                let g = ghost.apply(pid, &op).outcome;
                let id = self.cluster.submit(pid, op);
                submitted.push((pid, op, id, g));
                self.model_run(pid, op, &mut log);
                self.model_drain(&mut log, 1000);
            }
            Step::During {
                mover,
                target,
                exec,
                after,
                other,
                op,
            } => {
                let Some(m) = self.resolve(mover).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                let target = HostId(target.0 % self.nhosts);
                let mop = if exec {
                    Op::Exec {
                        target: Some(target),
                    }
                } else {
                    Op::Migrate { target }
                };
                let g = ghost.apply(m, &mop).outcome;
                let id = self.cluster.submit(m, mop);
                submitted.push((m, mop, id, g));
                self.model_run(m, mop, &mut log);
                self.model_drain(&mut log, after as usize);
                let o = self.resolve(other).filter(|p| *p != m && self.ready(*p));
                let oop = op.unwrap_or(Op::Kill { pid: m });
                if let Some(o) = o {
                    if let Op::Unlink { name } = oop {
                        if self.holds_while_moving(m, name) {
                            self.reached |= crate::stats::UNLINK_WHILE_MOVING;
                        }
                    }
                    // The implementation takes a few internal steps before the second
                    // operation starts, as the model did.
                    let _ = self.impl_drain(Some(after as u64 * 2));
                    let g2 = ghost.apply(o, &oop).outcome;
                    let id2 = self.cluster.submit(o, oop);
                    submitted.push((o, oop, id2, g2));
                    self.model_run(o, oop, &mut log);
                }
                self.model_drain(&mut log, 1000);
            }
        }
        let drained = self.impl_drain(None);
        self.starve = None;
        if let Err(e) = drained {
            return Err(self.mismatch(i, Kind::Liveness(e)));
        }
        if self.ms.violated != 0 {
            let ids = InvariantId::ALL
                .into_iter()
                .filter(|id| self.ms.flagged(*id))
                .collect();
            let alarms = log
                .into_lines()
                .into_iter()
                .filter_map(|l| match l {
                    model::log::Line::Alarm { at, text } => Some(format!("at {at}: {text}")),
                    _ => None,
                })
                .collect();
            return Err(self.mismatch(i, Kind::Model(ids, alarms)));
        }
        // 1. Outcomes.
        let mut outcomes = log.outcomes();
        for (pid, op, id, g) in &submitted {
            let pos = outcomes.iter().position(|(p, o, _)| p == pid && o == op);
            let m = pos.map(|k| outcomes.remove(k).2);
            let im = self.cluster.outcome(*id);
            if let Some(Ok(Value::Time(t))) = im {
                let last = self.last_time.insert(*pid, t);
                if last.is_some_and(|l| t < l) {
                    self.impl_flags |= InvariantId::TIME.bit();
                }
            }
            if matches!(op, Op::Exit { .. }) {
                continue;
            }
            if *op == Op::Wait && m.is_none() && im.is_none() {
                self.pending_waits.insert(*pid, *id);
                continue;
            }
            let bad_model = norm(im) != norm(m);
            let bad_ghost = !refused(&im) && g.is_some() && norm(im) != norm(*g);
            if bad_model || bad_ghost {
                if bad_ghost {
                    self.impl_flags |= InvariantId::TR.bit();
                }
                return Err(self.mismatch(
                    i,
                    Kind::Outcome {
                        pid: *pid,
                        op: *op,
                        implementation: im,
                        model: m,
                        ghost: *g,
                    },
                ));
            }
        }
        // Wakeups of waits that blocked at an earlier step.
        for (pid, op, out) in outcomes {
            if op != Op::Wait {
                continue;
            }
            if let Some(id) = self.pending_waits.remove(&pid) {
                let im = self.cluster.outcome(id);
                if norm(im) != norm(Some(out)) {
                    return Err(self.mismatch(
                        i,
                        Kind::Outcome {
                            pid,
                            op,
                            implementation: im,
                            model: Some(out),
                            ghost: None,
                        },
                    ));
                }
            }
        }
        let early: Vec<(Pid, OpId)> = self
            .pending_waits
            .iter()
            .filter(|(_, id)| self.cluster.outcome(**id).is_some())
            .map(|(p, id)| (*p, *id))
            .collect();
        if let Some((pid, id)) = early.first() {
            return Err(self.mismatch(
                i,
                Kind::Outcome {
                    pid: *pid,
                    op: Op::Wait,
                    implementation: self.cluster.outcome(*id),
                    model: None,
                    ghost: None,
                },
            ));
        }
        // 2. Invariants on the mapped state, 3. the state diff.
        let mapped = abs::map(&self.cluster, &self.ms, self.impl_flags);
        let broken = abs::broken_invariants(&self.model, &mapped);
        if let Some((id, why)) = broken.first().cloned() {
            return Err(self.mismatch(i, Kind::Invariant(id, why)));
        }
        if !abs::diff(&mapped, &self.ms, self.strict).is_empty() {
            return Err(self.mismatch(i, Kind::State));
        }
        Ok(true)
    }
}

/// Runs a whole scenario; stops at the first mismatch.
pub fn run(sc: &Scenario, opts: &Options) -> RunResult {
    run_with(Runner::new(sc, opts))
}

/// Runs every step of a runner; stops at the first mismatch.
pub fn run_with(r: Result<Runner, String>) -> RunResult {
    let mut r = match r {
        Ok(r) => r,
        Err(e) => {
            return RunResult {
                mismatch: Some(Mismatch {
                    step: 0,
                    step_text: "build the cluster".into(),
                    kind: Kind::Liveness(e),
                    diff: Vec::new(),
                    invariants: Vec::new(),
                }),
                ..Default::default()
            }
        }
    };
    let mut res = RunResult::default();
    // The initial states must agree before anything runs.
    let mapped = abs::map(&r.cluster, &r.ms, 0);
    let d = abs::diff(&mapped, &r.ms, r.strict);
    if !d.is_empty() {
        res.mismatch = Some(Mismatch {
            step: 0,
            step_text: "initial state".into(),
            kind: Kind::State,
            diff: d,
            invariants: Vec::new(),
        });
        return res;
    }
    for i in 0..r.steps.len() {
        match r.step(i) {
            Ok(true) => {
                res.executed += 1;
                if !matches!(r.steps[i], Step::Event(_)) {
                    res.ops += 1;
                }
            }
            Ok(false) => {}
            Err(m) => {
                res.mismatch = Some(m);
                break;
            }
        }
    }
    res.reached = r.reached;
    res
}
