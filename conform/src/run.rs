//! The runner: one scenario on the implementation and, in lockstep, on the model.
//!
//! For each step of the scenario the runner submits the operation to the implementation
//! (and appends it to the process's script in the model), then lets the implementation
//! run, one step at a time (a message delivered, or an operation started), by its seed or
//! by the scenario's scheduling choice, until it is quiescent. After **every**
//! implementation step:
//! 1. the implementation's state is mapped onto a model state (`crate::abs::map`, taken of
//!    the settled copy, see `crate::abs`) and observed (`crate::abs::obs`);
//! 2. the model follows (`crate::lockstep::follow_witnessed`): it takes exactly the model
//!    steps the implementation named for this step (its refinement witnesses, see
//!    `vocab::witness`), and its observation must then be the implementation's and every
//!    result the implementation returned so far the model's; the model checks each of its
//!    own results against the ghost one-machine Unix (TR), so the implementation's results
//!    are compared with both;
//! 3. every invariant of the catalogue is evaluated on the mapped state.
//!
//! Results are compared without time values (TIME compares their order per process, on the
//! implementation's results) and without refusal reasons. A `wait` that blocks blocks on
//! both sides. Events apply between scenario steps, when the implementation is quiescent.

use crate::abs;
use crate::gen::{Crashes, Scenario, Step, Who, CLOCKS};
use crate::lockstep::{self, Cand, ImplOps, Miss, Results};
use model::config::{Config, HostSpec, ProcSpec, Script};
use model::state::{State, Status};
use model::{Action, SpriteModel};
use sprite::msg::Node;
use sprite::sim::OpState;
use sprite::{Cluster, ClusterConfig, Enabled, HostConfig, OpId, ProcConfig};
use std::collections::{BTreeMap, BTreeSet};
use vocab::{ClusterEvent, HostId, InvariantId, Op, Outcome, Pid, Switches, Value, Witness};

/// How to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Design switches for the implementation only (the model keeps the scenario's, but
    /// for `remote-to-remote`, which changes which migrations are refused: a scenario's
    /// `remote-to-remote` is dropped on both sides when this is set).
    pub impl_switches: Option<Switches>,
}

impl Options {
    /// The options the fuzz targets take from the environment, read once:
    /// `CONFORM_IMPL_SWITCHES=<switch>` turns a design switch on in the implementation only
    /// (to measure detection). Panics, naming the value, if it is not a switch: a fuzzing
    /// campaign must not run with a setting it ignores.
    pub fn from_env() -> &'static Options {
        static OPTS: std::sync::OnceLock<Options> = std::sync::OnceLock::new();
        OPTS.get_or_init(|| Options {
            impl_switches: std::env::var("CONFORM_IMPL_SWITCHES").ok().map(|s| {
                s.parse()
                    .unwrap_or_else(|_| panic!("CONFORM_IMPL_SWITCHES={s}: not a switch name"))
            }),
        })
    }
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
        /// What one Unix machine returns, when known (the model's result, when the model
        /// agreed with it).
        ghost: Option<Outcome>,
    },
    /// An invariant fails on the implementation's mapped state.
    Invariant(InvariantId, String),
    /// The implementation took a step the model has no action for.
    State,
    /// The model itself flagged an invariant (expected only with a design switch on).
    Model(Vec<InvariantId>, Vec<String>),
    /// The implementation did not become quiescent.
    Liveness(String),
    /// The implementation named model steps (its refinement witnesses) that do not lead
    /// the model to its state, although other model steps do: a wrong witness.
    Witness {
        /// The steps the implementation named.
        named: Vec<String>,
        /// Why the model could not follow them.
        why: String,
        /// The model steps a search finds that would have matched.
        matched: Vec<String>,
    },
}

/// A disagreement, with everything needed to understand and replay it.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// Index of the step in the scenario.
    pub step: usize,
    pub step_text: String,
    /// The implementation's step at which it showed (its number within the run, and what
    /// it was), if it happened at one.
    pub impl_step: Option<(usize, String)>,
    pub kind: Kind,
    /// Differences between the implementation's observation and the nearest model state.
    pub diff: Vec<String>,
    /// The model actions that lead to that nearest state.
    pub model_path: Vec<String>,
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
            Kind::Witness { .. } => self.diff.first().map(|d| of_key(d)),
            Kind::State => self
                .invariants
                .first()
                .map(|(id, _)| *id)
                .or_else(|| self.diff.first().map(|d| of_key(d))),
        }
    }
}

/// The invariant a difference in an observed field speaks to.
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
    /// Situations reached (bits in the order of [`crate::stats::names`]).
    pub reached: u32,
    /// Operations compared.
    pub ops: usize,
    /// Implementation steps the model followed.
    pub impl_steps: usize,
    /// Of those, the steps that named model steps (or changed what the model observes)
    /// and that the model followed by taking exactly the named steps; and those whose named
    /// steps did not lead the model to the implementation's state (the run then ends with
    /// a mismatch, after a diagnostic search).
    pub witness_hits: usize,
    pub witness_misses: usize,
    /// Mapped states the invariants were evaluated on (every invariant on each).
    pub states_checked: usize,
}

/// The model configuration of a scenario (scripts start empty: the runner appends each
/// operation to its process's script when it submits it).
pub fn model_config(sc: &Scenario) -> Config {
    let mut procs = vec![ProcSpec {
        pid: Pid::new(0, 0),
        script: 0,
        start_on: None,
        shares_memory: sc.pinned,
        maps_device: false,
    }];
    if sc.second_proc {
        procs.push(ProcSpec::new(Pid::new(1, 0), 1));
    }
    Config {
        name: "conform".into(),
        about: "a generated conformance scenario".into(),
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
        // The implementation names its write-backs outside the model's steps (KNOWN-10).
        delayed_writes: true,
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

/// What is left waiting in a quiescent cluster (no message on the wire, nothing to run):
/// a request the file server suspended for callbacks (a stream exchange among them), a
/// migration a kernel has in progress, or a call a process waits on, other than `wait`
/// (which may wait for ever). Nothing can end them any more: a deadlock. LIVE's bound
/// says every migration ends; this says every started exchange and call does, on the
/// implementation, where they are many steps (`None` if nothing is stuck).
pub fn stuck(c: &Cluster) -> Option<String> {
    if c.server().is_busy() {
        return Some(
            "deadlock: the file server still waits for callbacks, with no message on the \
             way (a stream exchange or a call it suspended never ends)"
                .into(),
        );
    }
    for (h, k) in c.kernels().filter(|(h, _)| c.is_up(**h)) {
        if let Some(pid) = k.outgoing.keys().chain(k.incoming.keys()).next() {
            return Some(format!(
                "deadlock: {h} still has the migration of {pid} in progress, with no message \
                 on the way"
            ));
        }
        for (pid, p) in &k.procs {
            match &p.pending {
                None | Some(sprite::kernel::Pending::Wait) => {}
                Some(w) => {
                    return Some(format!(
                        "deadlock: {pid} on {h} still waits in a call ({w:?}), with no \
                         message on the way"
                    ))
                }
            }
        }
    }
    None
}

/// The implementation's configuration of a scenario.
pub fn impl_config(sc: &Scenario, switches: Switches) -> ClusterConfig {
    let mut processes = vec![ProcConfig {
        pid: Pid::new(0, 0),
        start_on: None,
        pages: sc.pages,
        shares_memory: sc.pinned,
        maps_device: false,
    }];
    if sc.second_proc {
        processes.push(ProcConfig {
            pid: Pid::new(1, 0),
            start_on: None,
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
        exec_args: None,
    }
}

/// A scenario in progress on both sides.
pub struct Runner {
    steps: Vec<Step>,
    nhosts: u8,
    seed: u64,
    pub model: SpriteModel,
    /// The model states consistent with everything the implementation showed (never
    /// empty while the run goes on; the first is the one reports and choices use).
    pub frontier: Vec<Cand>,
    pub cluster: Cluster,
    forked: Vec<Pid>,
    /// The processes alive at the last look (a new one is a child: `Who::Newest`).
    live: BTreeSet<Pid>,
    /// Operations submitted to the implementation and not yet returned or killed.
    submitted: Vec<(OpId, Pid, Op)>,
    /// The implementation's results so far, per process.
    done: Results,
    last_time: BTreeMap<Pid, u32>,
    impl_flags: u16,
    sched: Option<u8>,
    sched_n: usize,
    pub reached: u32,
    /// During a `Pipe` step: messages from this host to the file server are delivered
    /// only when nothing else can happen (a slow channel), so that the second operation
    /// can overtake what the first left in flight.
    starve: Option<HostId>,
    /// Implementation steps taken so far.
    impl_steps: usize,
    /// What the model last matched: the observation and the results.
    last_seen: Option<(abs::Obs, Results)>,
    /// A host crashed during the run: from then on where a position lives is not compared
    /// (a crash of the target in the middle of a stream exchange leaves the released
    /// position at the server, where the model, whose exchange never began, has it on the
    /// source's client; the value is still compared).
    crashed: bool,
    /// The mapped state whose invariants were checked last.
    last_mapped: Option<State>,
    /// The witnesses the settled copy's deliveries named at the last look (counted as
    /// taken: see [`new_witnesses`]).
    settled_ws: Vec<Witness>,
    /// Implementation steps whose witnesses the model followed exactly, and those it
    /// could not (see [`RunResult::witness_hits`]).
    pub witness_hits: usize,
    pub witness_misses: usize,
    /// See [`RunResult::states_checked`].
    pub states_checked: usize,
    /// `CONFORM_DEBUG_WITNESS`: print each implementation step with the model steps it
    /// named.
    debug_witness: bool,
}

impl Runner {
    pub fn new(sc: &Scenario, opts: &Options) -> Result<Runner, String> {
        let sw = opts.impl_switches.unwrap_or(sc.switches);
        let mut cfg = model_config(sc);
        if opts.impl_switches.is_some() {
            cfg.switches = cfg.switches.without(vocab::Switch::RemoteToRemote);
        }
        Runner::from_parts(cfg, impl_config(sc, sw), sc.seed, sc.steps.clone())
    }

    /// A runner for explicit configurations (the model's scripts must be empty, one per
    /// initial process: the runner appends each operation as it submits it).
    pub fn from_parts(
        cfg: Config,
        icfg: ClusterConfig,
        seed: u64,
        steps: Vec<Step>,
    ) -> Result<Runner, String> {
        let model = SpriteModel::new(cfg);
        let initial = model.initial();
        let mut cluster = Cluster::new(&icfg, seed).map_err(|e| e.to_string())?;
        cluster.step_budget = 20_000;
        Ok(Runner {
            nhosts: icfg.hosts.len() as u8,
            seed,
            steps,
            model,
            live: initial.procs.keys().copied().collect(),
            frontier: vec![Cand::new(initial)],
            cluster,
            forked: Vec::new(),
            submitted: Vec::new(),
            done: Results::new(),
            last_time: BTreeMap::new(),
            impl_flags: 0,
            sched: None,
            sched_n: 0,
            reached: 0,
            starve: None,
            impl_steps: 0,
            last_seen: None,
            crashed: false,
            last_mapped: None,
            settled_ws: Vec::new(),
            witness_hits: 0,
            states_checked: 0,
            witness_misses: 0,
            debug_witness: std::env::var_os("CONFORM_DEBUG_WITNESS").is_some(),
        })
    }

    /// The model state reports and choices use.
    pub fn ms(&self) -> &State {
        &self.frontier[0].s
    }

    fn resolve(&self, w: Who) -> Option<Pid> {
        let live: Vec<Pid> = self.ms().procs.keys().copied().collect();
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
                .find(|p| self.ms().procs.contains_key(p))
                .copied()
                .or(Some(live[0])),
        }
    }

    /// Whether `pid` can run an operation now: ready in the model (on an up host) and
    /// idle in the implementation (no operation of its own queued or running).
    fn ready(&self, pid: Pid) -> bool {
        let s = self.ms();
        s.procs
            .get(&pid)
            .is_some_and(|p| p.status == Status::Ready && s.hosts[p.host.0 as usize].up)
            && !self.submitted.iter().any(|(_, p, _)| *p == pid)
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

    /// Submits `op` for `pid` on both sides.
    fn submit(&mut self, pid: Pid, op: Op) {
        let Some(p) = self.ms().procs.get(&pid) else {
            return;
        };
        let si = p.script as usize;
        let scripts = &mut self.model.cfg.scripts;
        scripts[si].ops.push(op);
        if op == Op::Fork {
            let new = scripts.len() as u8;
            scripts.push(Script::new(Vec::new()));
            scripts[si].children.push(new);
        }
        let id = self.cluster.submit(pid, op);
        self.submitted.push((id, pid, op));
    }

    fn observe(&mut self) {
        for c in &self.frontier {
            self.reached |= crate::stats::situations(&self.model, &c.s);
        }
        let live: BTreeSet<Pid> = self.ms().procs.keys().copied().collect();
        self.forked
            .extend(live.iter().filter(|p| !self.live.contains(p)).copied());
        self.live = live;
    }

    /// Records the results the implementation returned since the last look; checks TIME.
    fn collect(&mut self) {
        let mut still = Vec::new();
        for (id, pid, op) in std::mem::take(&mut self.submitted) {
            let rec = self.cluster.op(id).map(|r| (r.state, r.outcome));
            match rec {
                Some((OpState::Done, Some(o))) => {
                    if let Ok(Value::Time(t)) = o {
                        let last = self.last_time.insert(pid, t);
                        if last.is_some_and(|l| t < l) {
                            self.impl_flags |= InvariantId::TIME.bit();
                        }
                    }
                    if !matches!(op, Op::Exit { .. }) {
                        self.done.entry(pid).or_default().push((op, o));
                    }
                }
                Some((OpState::Killed, _)) => {}
                _ => still.push((id, pid, op)),
            }
        }
        self.submitted = still;
    }

    fn mismatch(&self, step: usize, kind: Kind) -> Mismatch {
        let settled = abs::settled(&self.cluster);
        let mapped = abs::with_hidden(abs::map(&settled, self.ms(), self.impl_flags), self.ms());
        Mismatch {
            step,
            step_text: crate::report::step_text(&self.steps[step]),
            impl_step: None,
            kind,
            diff: abs::diff(&abs::obs(&mapped), &abs::obs(self.ms())),
            model_path: Vec::new(),
            invariants: abs::broken_invariants(&self.model, &mapped),
        }
    }

    /// After one implementation step (described by `what`): the model follows, and every
    /// invariant is checked on the mapped state.
    #[allow(clippy::result_large_err)] // a mismatch ends the run: its size does not matter
    fn sync(&mut self, i: usize, what: Did) -> Result<(), Mismatch> {
        self.collect();
        let settled = abs::settled(&self.cluster);
        let mapped = abs::map(&settled, self.ms(), self.impl_flags);
        let target = abs::obs(&mapped);
        let imp = impl_ops(&settled);
        let settled_ws = match &settled {
            std::borrow::Cow::Owned(c) => c.witnessed().to_vec(),
            std::borrow::Cow::Borrowed(_) => Vec::new(),
        };
        drop(settled);
        let ws = new_witnesses(self.cluster.witnessed(), &settled_ws, &self.settled_ws);
        self.settled_ws = settled_ws;
        let at = (self.impl_steps, what);
        // A step that changed nothing the model sees, and returned nothing: the frontier
        // matched exactly this already.
        let seen = (target, imp.done);
        if ws.is_empty() && self.last_seen.as_ref() == Some(&seen) {
            return self.check_invariants(i, mapped, at);
        }
        let (target, done) = seen;
        let imp = ImplOps {
            done,
            running: imp.running,
        };
        if self.debug_witness {
            let named: Vec<String> = ws.iter().map(|w| w.to_string()).collect();
            eprintln!("{}: {} => [{}]", at.0, at.1, named.join(", "));
        }
        let witness_miss =
            match lockstep::follow_witnessed(&self.model, &mut self.frontier, &ws, &target, &imp) {
                Ok(()) => {
                    self.witness_hits += 1;
                    self.last_seen = Some((target, imp.done));
                    self.observe();
                    return self.check_invariants(i, mapped, at);
                }
                Err(miss) => {
                    self.witness_misses += 1;
                    Some(miss)
                }
            };
        // The witnesses do not lead the model to the implementation's state. The search
        // (a diagnostic, never run on the success path) says whether any model steps do:
        // if so the witness is wrong; if not, the behaviours differ, reported as such.
        let frontier = std::mem::take(&mut self.frontier);
        match lockstep::follow(&self.model, frontier.clone(), &target, &imp) {
            Ok(next) => {
                let p = &next[0].path;
                let base = frontier[0].path.len().min(p.len());
                let matched = p[base..].iter().map(|a| a.to_string()).collect();
                self.frontier = frontier;
                let (why, diff) = match witness_miss {
                    Some(lockstep::WitnessMiss::NotEnabled(w)) => {
                        (format!("the model has no step {w} now"), Vec::new())
                    }
                    Some(lockstep::WitnessMiss::Model(w)) => (
                        format!("the model's step {w} breaks its own checks"),
                        Vec::new(),
                    ),
                    Some(lockstep::WitnessMiss::Differs(d)) => (
                        "after those steps the model's state differs from the \
                         implementation's"
                            .to_string(),
                        d,
                    ),
                    None => (String::new(), Vec::new()),
                };
                let mut m = self.mismatch(i, Kind::State);
                m.impl_step = Some((at.0, at.1.to_string()));
                m.kind = Kind::Witness {
                    named: ws.iter().map(|w| w.to_string()).collect(),
                    why,
                    matched,
                };
                m.diff = diff;
                m.model_path.clear();
                Err(m)
            }
            Err(miss) => {
                self.frontier = frontier;
                let mut m = self.mismatch(i, Kind::State);
                m.impl_step = Some((at.0, at.1.to_string()));
                match miss {
                    Miss::NoAction { nearest, path } => {
                        m.diff = nearest;
                        m.model_path = path.iter().map(|a| a.to_string()).collect();
                    }
                    Miss::Result {
                        pid,
                        op,
                        implementation,
                        model,
                    } => {
                        self.impl_flags |= InvariantId::TR.bit();
                        m.kind = Kind::Outcome {
                            pid,
                            op,
                            implementation: Some(implementation),
                            model: Some(model),
                            ghost: Some(model),
                        };
                        m.diff.clear();
                    }
                    Miss::Model { state, path } => {
                        let ids = InvariantId::ALL
                            .into_iter()
                            .filter(|id| state.flagged(*id))
                            .collect();
                        let mut log = model::log::Log::on();
                        let mut c = Cand::new(self.ms().clone());
                        for a in &path {
                            let Some(s) = self.model.apply(&c.s, *a, &mut log) else {
                                break;
                            };
                            c.s = s;
                        }
                        let alarms = log
                            .into_lines()
                            .into_iter()
                            .filter_map(|l| match l {
                                model::log::Line::Alarm { at, text } => {
                                    Some(format!("at {at}: {text}"))
                                }
                                _ => None,
                            })
                            .collect();
                        m.kind = Kind::Model(ids, alarms);
                        m.model_path = path.iter().map(|a| a.to_string()).collect();
                    }
                }
                Err(m)
            }
        }
    }

    /// Every invariant of the catalogue on the mapped state, with what the implementation
    /// does not have taken from the model's state (`abs::with_hidden`), unless it is the
    /// state checked last time.
    #[allow(clippy::result_large_err)]
    fn check_invariants(
        &mut self,
        i: usize,
        mapped: State,
        at: (usize, Did),
    ) -> Result<(), Mismatch> {
        // MEM's clause on the implementation alone (the model's exec drops the image by
        // construction): no exec-time migration moved pages of the old address space.
        if let Some(why) = self
            .cluster
            .ledger
            .migrations
            .iter()
            .find_map(|r| r.exec_moved_pages())
        {
            let mut m = self.mismatch(i, Kind::Invariant(InvariantId::MEM, why));
            m.impl_step = Some((at.0, at.1.to_string()));
            m.diff.clear();
            return Err(m);
        }
        let mapped = abs::with_hidden(mapped, self.ms());
        if self.last_mapped.as_ref() == Some(&mapped) {
            return Ok(());
        }
        self.states_checked += 1;
        let broken = abs::broken_invariants(&self.model, &mapped);
        if let Some((id, why)) = broken.first().cloned() {
            let mut m = self.mismatch(i, Kind::Invariant(id, why));
            m.impl_step = Some((at.0, at.1.to_string()));
            m.diff.clear();
            return Err(m);
        }
        self.last_mapped = Some(mapped);
        Ok(())
    }

    /// One implementation step: by the seed, by the scenario's scheduling choice, or
    /// (during a `Pipe`) with the process's channel to the server starved. `None` when
    /// quiescent.
    fn impl_step(&mut self) -> Option<Did> {
        let en = self.cluster.enabled();
        if en.is_empty() {
            return None;
        }
        let e = match (self.starve, self.sched) {
            // Deliver on the starved channel only when nothing else can happen.
            (Some(h), _) => en
                .iter()
                .find(|e| {
                    !matches!(e, Enabled::Deliver { from: Node::Host(f), to: Node::Server, .. } if *f == h)
                })
                .copied()
                .unwrap_or(en[0]),
            (None, Some(_)) => en[self.pick(en.len())],
            (None, None) => {
                // The seed chooses, exactly as `Cluster::step` does.
                let e = self.cluster.step_chosen()?;
                self.impl_steps += 1;
                return Some(Did::Step(e));
            }
        };
        self.cluster.perform(&e);
        self.impl_steps += 1;
        Some(Did::Step(e))
    }

    /// Runs the implementation (the model following) until it is quiescent, or for at
    /// most `limit` steps.
    #[allow(clippy::result_large_err)]
    pub fn drain(&mut self, i: usize, limit: Option<usize>) -> Result<(), Mismatch> {
        let budget = limit.unwrap_or(self.cluster.step_budget as usize);
        for _ in 0..budget {
            let Some(what) = self.impl_step() else {
                return Ok(());
            };
            self.sync(i, what)?;
        }
        if limit.is_some() {
            return Ok(());
        }
        // What keeps the cluster busy: the messages still on the wire.
        let wire: Vec<String> = self
            .cluster
            .in_flight()
            .iter()
            .take(6)
            .map(|e| format!("{:?} -> {:?}: {:?}", e.from, e.to, e.msg))
            .collect();
        Err(self.mismatch(
            i,
            Kind::Liveness(format!(
                "no quiescence after {budget} steps (seed {}); on the wire: {}",
                self.seed,
                if wire.is_empty() {
                    "nothing".to_string()
                } else {
                    wire.join("; ")
                }
            )),
        ))
    }

    /// Whether `pid` is mid-migration and holds the file `name` open.
    fn holds_while_moving(&self, pid: Pid, name: vocab::FileName) -> bool {
        let s = self.ms();
        let Some(ino) = s.server.dir.get(&name) else {
            return false;
        };
        s.migrations.contains_key(&pid)
            && s.procs[&pid]
                .fds
                .values()
                .any(|sid| s.server.streams.get(sid).is_some_and(|st| st.ino == *ino))
    }

    /// The operation that starts a migration step's move: `migrate`, or `exec` on the
    /// target host (the host index taken modulo the cluster's size).
    fn migration_op(&self, target: HostId, exec: bool) -> Op {
        let target = HostId(target.0 % self.nhosts);
        if exec {
            Op::Exec {
                target: Some(target),
            }
        } else {
            Op::Migrate { target }
        }
    }

    /// Delivers settled messages at the heads of their channels (and those their
    /// deliveries send), until none is left, with the model following each delivery.
    #[allow(clippy::result_large_err)]
    fn deliver_settled(&mut self, i: usize, h: HostId) -> Result<usize, Mismatch> {
        self.deliver_each(i, |r| {
            // A settled message at the head of its channel; or, on a channel the crash
            // cuts (from or to `h`) or for a process the crash kills, anywhere in it: the
            // head goes first (the channel is first in, first out), whatever it is, until
            // the settled one has arrived (a SIGNAL hop ahead of the SIGNAL reply to a
            // killpg, say), since its process would otherwise never see the answer the
            // model gave it. Elsewhere a settled message behind others arrives after the
            // crash as well.
            let cut = |a: Node, b: Node| a == Node::Host(h) || b == Node::Host(h);
            let victims = model::properties::crash_victims(r.ms(), h);
            let holding: BTreeSet<(Node, Node)> = r
                .cluster
                .in_flight()
                .into_iter()
                .filter(|env| {
                    (cut(env.from, env.to)
                        || caller(&env.msg).is_some_and(|p| victims.contains(&p)))
                        && abs::settles(&r.cluster, &env.msg)
                })
                .map(|env| (env.from, env.to))
                .collect();
            r.cluster.enabled().into_iter().find(|e| match e {
                Enabled::Deliver { from, to, .. } => {
                    holding.contains(&(*from, *to))
                        || r.cluster
                            .front(*from, *to)
                            .is_some_and(|env| abs::settles(&r.cluster, &env.msg))
                }
                _ => false,
            })
        })
    }

    /// Before a crash of `h`: the calls of the processes the crash kills that are on their
    /// way between two other nodes (a FILE_OP from the host a process of `h` runs on to
    /// the file server, say) arrive first. The
    /// crash does not stop them, and they take effect even if their process is dead by
    /// then; the model's crash kills at once, so it can only follow if they land first, and
    /// linearizing them before the death is what one Unix machine allows (the call, then
    /// the kill). What races the crash: every message `h` sent, every message on its way to
    /// `h`, and the messages of the processes that survive it.
    #[allow(clippy::result_large_err)]
    fn deliver_victims_calls(&mut self, i: usize, h: HostId) -> Result<usize, Mismatch> {
        self.deliver_each(i, |r| {
            let victims = model::properties::crash_victims(r.ms(), h);
            let touches = |n: Node| n == Node::Host(h);
            r.cluster.enabled().into_iter().find(|e| match e {
                Enabled::Deliver { from, to, .. } => {
                    !touches(*from)
                        && !touches(*to)
                        && r.cluster
                            .front(*from, *to)
                            .and_then(|env| caller(&env.msg))
                            .is_some_and(|p| victims.contains(&p))
                }
                _ => false,
            })
        })
    }

    /// Takes the implementation step `next` picks, with the model following, until it picks
    /// none (at most 10 000); returns how many it took.
    #[allow(clippy::result_large_err)]
    fn deliver_each(
        &mut self,
        i: usize,
        next: impl Fn(&Self) -> Option<Enabled>,
    ) -> Result<usize, Mismatch> {
        for n in 0..10_000 {
            let Some(e) = next(self) else {
                return Ok(n);
            };
            if !self.cluster.perform(&e) {
                return Ok(n);
            }
            self.sync(i, Did::Step(e))?;
        }
        Ok(10_000)
    }

    /// Applies a cluster event to both sides; `Ok(false)` if the model cannot take it now
    /// (or took it before), in which case neither side does.
    #[allow(clippy::result_large_err)]
    fn event(&mut self, i: usize, e: ClusterEvent) -> Result<bool, Mismatch> {
        if !self.model.cfg.events.iter().any(|(x, _)| *x == e) {
            if self.model.cfg.events.len() >= 8 {
                return Ok(false);
            }
            self.model.cfg.events.push((e, 1));
        }
        if let ClusterEvent::Crash(_) = e {
            self.crashed = true;
            // The lockstep counts a settled message on the wire as delivered (see
            // `abs::settles`), but a crash drops what its host sent and stops what a
            // receiver would have done on its arrival. So the settled messages at the heads
            // of their channels arrive first, and then the host crashes: a legal schedule
            // (a crash is noticed by timeouts, after the wire has drained), and the one in
            // which the model's view of those messages is the truth.
            // Each may set off messages for the other (a victim's call whose answer is
            // settled, say): until neither has anything left.
            let h = e.host();
            for _ in 0..100 {
                if self.deliver_settled(i, h)? + self.deliver_victims_calls(i, h)? == 0 {
                    break;
                }
            }
        }
        let next: Vec<Cand> = self
            .frontier
            .iter()
            .filter_map(|c| lockstep::apply(&self.model, c, Action::Event(e)))
            .collect();
        if next.len() != self.frontier.len() {
            // Not possible in the model now (or already used): skipped on both sides.
            return Ok(false);
        }
        self.frontier = next;
        self.last_seen = None;
        if let ClusterEvent::Crash(h) = e {
            let at_h = |n: Node| n == Node::Host(h);
            if self
                .cluster
                .in_flight()
                .iter()
                .any(|env| at_h(env.from) || at_h(env.to))
            {
                self.reached |= crate::stats::crash_cuts_messages();
            }
        }
        self.cluster
            .event(e)
            .map_err(|err| self.mismatch(i, Kind::Liveness(err.to_string())))?;
        self.sync(i, Did::Event(e))?;
        if let ClusterEvent::Crash(h) = e {
            // What the crash settled (the killed processes' closes, which the model's crash
            // step made) arrives before anything else on the wire reaches the server: the
            // model cannot put another process's call between them.
            self.deliver_settled(i, h)?;
        }
        Ok(true)
    }

    /// Runs one step; `Ok(false)` if it was skipped (nobody to run it).
    #[allow(clippy::result_large_err)] // a mismatch ends the run: its size does not matter
    pub fn step(&mut self, i: usize) -> Result<bool, Mismatch> {
        let step = self.steps[i].clone();
        match step {
            Step::Sched(b) => {
                self.sched = Some(b);
                return Ok(false);
            }
            Step::Event(e) => {
                if !self.event(i, e)? {
                    return Ok(false);
                }
            }
            Step::Op { who, op } => {
                let Some(pid) = self.resolve(who).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                self.submit(pid, op);
            }
            Step::Pipe { who, first, second } => {
                let Some(pid) = self.resolve(who).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                if matches!(first, Op::Exit { .. } | Op::Wait) {
                    return Ok(false);
                }
                self.starve = self.ms().procs.get(&pid).map(|p| p.host);
                self.submit(pid, first);
                self.submit(pid, second);
            }
            Step::Kill { who, target } => {
                let (Some(pid), Some(t)) = (self.resolve(who), self.resolve(target)) else {
                    return Ok(false);
                };
                if !self.ready(pid) {
                    return Ok(false);
                }
                self.submit(pid, Op::Kill { pid: t });
            }
            Step::EventDuring {
                mover,
                target,
                exec,
                after,
                event,
            } => {
                let Some(m) = self.resolve(mover).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                let mop = self.migration_op(target, exec);
                self.submit(m, mop);
                // The first step starts the migration; a queued operation of a process
                // that the event kills would otherwise end in ESRCH, which no Unix sees.
                self.drain(i, Some(1 + after as usize * 2))?;
                self.event(i, event)?;
            }
            Step::EventAmid {
                who,
                away,
                op,
                after,
                crash,
            } => {
                let Some(pid) = self.resolve(who).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                // Away: from its home (Sprite moves a process between two remote hosts
                // only by way of the home), to the first host from `1 + away` hosts on that
                // would take it (up, no owner, the same migration version).
                let here = self.ms().procs.get(&pid).map(|p| p.host);
                if let (Some(k), Some(here)) = (away, here.filter(|h| *h == pid.home)) {
                    let hosts = &self.model.cfg.hosts;
                    let takes = |h: HostId| {
                        h != here
                            && self.ms().hosts[h.0 as usize].up
                            && !self.ms().hosts[h.0 as usize].owner
                            && hosts[h.0 as usize].version == hosts[here.0 as usize].version
                    };
                    let to = (0..self.nhosts)
                        .map(|j| HostId((here.0 + 1 + k + j) % self.nhosts))
                        .find(|h| takes(*h));
                    if let Some(to) = to {
                        self.submit(pid, Op::Migrate { target: to });
                        self.drain(i, None)?;
                    }
                }
                let Some(runs_on) = self
                    .ms()
                    .procs
                    .get(&pid)
                    .filter(|_| self.ready(pid))
                    .map(|p| p.host)
                else {
                    return Ok(true);
                };
                let h = match crash {
                    Crashes::Runner => runs_on,
                    Crashes::Home => pid.home,
                    Crashes::Host(h) => HostId(h.0 % self.nhosts),
                };
                self.submit(pid, op);
                // The first step starts the operation (as in `EventDuring`).
                self.drain(i, Some(1 + after as usize))?;
                self.event(i, ClusterEvent::Crash(h))?;
            }
            Step::During {
                mover,
                target,
                exec,
                after,
                other,
                op,
                then,
            } => {
                let Some(m) = self.resolve(mover).filter(|p| self.ready(*p)) else {
                    return Ok(false);
                };
                let mop = self.migration_op(target, exec);
                let o = self.resolve(other).filter(|p| *p != m && self.ready(*p));
                self.submit(m, mop);
                // The implementation takes a few steps of the migration before the second
                // operation starts.
                self.drain(i, Some(after as usize * 2))?;
                let oop = op.unwrap_or(Op::Kill { pid: m });
                if let Some(o) = o.filter(|o| self.ready(*o)) {
                    if let Op::Unlink { name } = oop {
                        if self.holds_while_moving(m, name) {
                            self.reached |= crate::stats::unlink_while_moving();
                        }
                    }
                    self.submit(o, oop);
                    // Back to back, as a program would issue them, unless the first may
                    // end, block or move the process (the generator puts none of those in
                    // `then` itself).
                    if !crate::gen::ends_a_sequence(&oop) {
                        for t in then {
                            self.submit(o, t);
                        }
                    }
                }
            }
        }
        let drained = self.drain(i, None);
        self.starve = None;
        drained?;
        self.settle_quiescent(i)?;
        Ok(true)
    }

    /// At quiescence the model must have run every operation the implementation
    /// returned, and nothing the implementation did not: keep the model states that
    /// agree exactly.
    #[allow(clippy::result_large_err)]
    fn settle_quiescent(&mut self, i: usize) -> Result<(), Mismatch> {
        self.collect();
        if let Some(why) = stuck(&self.cluster) {
            return Err(self.mismatch(i, Kind::Liveness(why)));
        }
        let done = &self.done;
        let exact = |c: &Cand| {
            c.results
                .iter()
                .all(|(p, v)| v.len() == done.get(p).map_or(0, |d| d.len()))
        };
        if !self.frontier.iter().any(exact) {
            // Every model state has returned a result the implementation has not.
            let c = &self.frontier[0];
            let extra = c.results.iter().find_map(|(p, v)| {
                let n = done.get(p).map_or(0, |d| d.len());
                v.get(n).map(|(op, o)| (*p, *op, *o))
            });
            let kind = match extra {
                Some((pid, op, model)) => Kind::Outcome {
                    pid,
                    op,
                    implementation: None,
                    model: Some(model),
                    ghost: None,
                },
                None => Kind::State,
            };
            return Err(self.mismatch(i, kind));
        }
        self.frontier.retain(exact);
        for c in &mut self.frontier {
            c.path.clear();
        }
        // Where each position lives (a client, or the server's shadow stream) is compared
        // at quiescence only: in the middle of a stream exchange the implementation's
        // server may hold a released position before the grant that the model's atomic
        // STREAM_MOVE makes at once.
        if self.crashed {
            return Ok(());
        }
        let mapped = abs::map(&self.cluster, self.ms(), self.impl_flags);
        let (ours, model) = (
            abs::position_places(&mapped),
            abs::position_places(self.ms()),
        );
        if ours != model {
            let mut m = self.mismatch(i, Kind::State);
            m.diff = abs::diff_places(&ours, &model);
            return Err(m);
        }
        Ok(())
    }
}

/// What an implementation's operations have done: the results returned, per process, in
/// order (`exit` has none; an operation of a process that died has none), and the
/// processes with an operation in progress (or an exit done).
fn impl_ops(c: &Cluster) -> ImplOps {
    let mut r = ImplOps::default();
    for rec in c.ops() {
        match (rec.state, rec.outcome) {
            (OpState::Done, Some(o)) if !matches!(rec.op, Op::Exit { .. }) => {
                r.done.entry(rec.pid).or_default().push((rec.op, o));
            }
            // An exit returns nothing: once done it stays "in progress" for the model,
            // which may still have to take it.
            (OpState::Running, _) | (OpState::Done, _) => {
                r.running.insert(rec.pid);
            }
            _ => {}
        }
    }
    r
}

/// The model steps an implementation step performed: those its own handlers named
/// (`real`), and those the deliveries of the settled copy named (`settled`, messages whose
/// effect is decided count as delivered: see `crate::abs`) that were not named at the last
/// look already (`before`). A settled message really delivered names its steps again in
/// `real`; it has left the settled copy, so the two cancel. Multisets, in order.
fn new_witnesses(real: &[Witness], settled: &[Witness], before: &[Witness]) -> Vec<Witness> {
    let mut out: Vec<Witness> = real.iter().chain(settled).copied().collect();
    for w in before {
        if let Some(i) = out.iter().position(|x| x == w) {
            out.remove(i);
        }
    }
    out
}

/// What the implementation did in one step: a delivery or an operation's start, or a
/// cluster event.
#[derive(Clone, Copy, Debug)]
enum Did {
    Step(Enabled),
    Event(vocab::ClusterEvent),
}

impl std::fmt::Display for Did {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Did::Step(Enabled::Deliver { from, to, kind }) => write!(
                f,
                "deliver {} {from} -> {to}",
                kind.map_or("(garbage)", |k| k.name())
            ),
            Did::Step(Enabled::Start { pid, host: Some(h) }) => {
                write!(f, "start the next operation of {pid} on {h}")
            }
            Did::Step(Enabled::Start { pid, host: None }) => {
                write!(f, "start the next operation of {pid} (no host has it)")
            }
            Did::Event(e) => write!(f, "event: {e}"),
        }
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
                    impl_step: None,
                    kind: Kind::Liveness(e),
                    diff: Vec::new(),
                    model_path: Vec::new(),
                    invariants: Vec::new(),
                }),
                ..Default::default()
            }
        }
    };
    let mut res = RunResult::default();
    // The initial states must agree before anything runs.
    let settled = abs::settled(&r.cluster);
    let mapped = abs::map(&settled, r.ms(), 0);
    let (a, b) = (abs::obs(&mapped), abs::obs(r.ms()));
    if a != b {
        let d = abs::diff(&a, &b);
        res.mismatch = Some(Mismatch {
            step: 0,
            step_text: "initial state".into(),
            impl_step: None,
            kind: Kind::State,
            diff: d,
            model_path: Vec::new(),
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
    res.impl_steps = r.impl_steps;
    res.witness_hits = r.witness_hits;
    res.witness_misses = r.witness_misses;
    res.states_checked = r.states_checked;
    res
}

/// The process whose call a message carries: a kill's or killpg's sender (the message
/// itself names the target), else the process the message is about.
fn caller(m: &sprite::msg::Msg) -> Option<Pid> {
    use sprite::msg::Msg;
    match m {
        Msg::Signal {
            sender: Some((_, p)),
            ..
        }
        | Msg::Killpg { sender: (_, p), .. } => Some(*p),
        other => other.pid(),
    }
}
