//! The deterministic simulator: the only place with a network, a clock and randomness.
//!
//! Kernels and the file server are sans-IO state machines; the simulator moves encoded
//! bytes between them over one FIFO channel per ordered pair of nodes, and a seeded
//! ChaCha generator picks the next event among every delivery and every operation that
//! may start. Messages between different pairs can therefore be reordered; messages on one
//! pair cannot (as on one RPC channel). Hosts can crash and reboot. Same seed, same run.

use crate::cost::Ledger;
use crate::fs::FileServer;
use crate::kernel::{Input, Kernel, KernelConfig, Note, Out, Pcb};
use crate::msg::{decode, encode, DecodeError, Envelope, Msg, Node};
use crate::policy::{Effect, IdleRule, Policy};
use crate::view::ClusterView;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use vocab::Witness;
use vocab::{ClusterEvent, Errno, FileName, HostId, Op, Outcome, Pid, Switches};

/// The migration version the file server speaks.
pub const SERVER_VERSION: u16 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostConfig {
    pub id: HostId,
    pub version: u16,
    pub clock_skew_ms: i64,
    pub owner_present: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcConfig {
    pub pid: Pid,
    /// Where it runs at the start, as if it had migrated there before (`None`: its home,
    /// `pid.home`).
    #[serde(default)]
    pub start_on: Option<HostId>,
    pub pages: u8,
    pub shares_memory: bool,
    pub maps_device: bool,
}

/// Whether a settled message ahead of others in its channel counts as delivered before
/// them in [`Cluster::settled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overtake {
    /// From anywhere in the channel: its effect commutes with what is ahead of it.
    Anywhere,
    /// Only once it is at the head of its channel.
    FromHead,
    /// After what is ahead of it, delivered first (in order): what is ahead is decided as
    /// well, and its receiver handles it first.
    AheadFirst,
}

/// A cluster to build: hosts, initial files, initial processes, design switches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterConfig {
    pub hosts: Vec<HostConfig>,
    pub files: Vec<(FileName, Vec<u8>)>,
    pub processes: Vec<ProcConfig>,
    pub switches: Switches,
    pub exec_args_bytes: u32,
    /// The arguments an `exec` starts its program with (`None`: `exec_args_bytes` of
    /// filler, recorded nowhere).
    #[serde(default)]
    pub exec_args: Option<Vec<String>>,
}

impl ClusterConfig {
    /// `n` hosts h0..h(n-1) with the same version, no skew, owners away, and one process
    /// per listed home with `pages` pages.
    pub fn simple(n: u8, procs: &[(Pid, u8)]) -> ClusterConfig {
        ClusterConfig {
            hosts: (0..n)
                .map(|i| HostConfig {
                    id: HostId(i),
                    version: SERVER_VERSION,
                    clock_skew_ms: 0,
                    owner_present: false,
                })
                .collect(),
            files: Vec::new(),
            processes: procs
                .iter()
                .map(|(pid, pages)| ProcConfig {
                    pid: *pid,
                    start_on: None,
                    pages: *pages,
                    shares_memory: false,
                    maps_device: false,
                })
                .collect(),
            switches: Switches::SPRITE,
            exec_args_bytes: 1024,
            exec_args: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    Config(String),
    UnknownHost(HostId),
    /// No quiescence within the step budget (a liveness failure, LIVE).
    NoProgress {
        steps: u64,
        seed: u64,
    },
    /// A host-selection call the simulator cannot carry (no policy layer, unknown client).
    Policy(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Config(s) => write!(f, "bad cluster: {s}"),
            SimError::UnknownHost(h) => write!(f, "no host {h} in the cluster"),
            SimError::NoProgress { steps, seed } => {
                write!(f, "no quiescence after {steps} steps (seed {seed})")
            }
            SimError::Policy(s) => write!(f, "host selection: {s}"),
        }
    }
}

impl std::error::Error for SimError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpState {
    Queued,
    Running,
    Done,
    /// The process died before the operation completed.
    Killed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    pub pid: Pid,
    pub op: Op,
    pub state: OpState,
    pub outcome: Option<Outcome>,
    pub started_at: Option<u64>,
    pub done_at: Option<u64>,
    /// A kernel or the server named the step at which the operation takes effect
    /// (`Witness::Run`); otherwise it takes effect where its result is decided, and the
    /// simulator names it when the result arrives.
    #[serde(default)]
    pub witnessed: bool,
}

/// Identifies a submitted operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId(pub usize);

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceEvent {
    Send {
        from: Node,
        to: Node,
        kind: String,
        bytes: usize,
        pid: Option<Pid>,
        reply: bool,
    },
    Dropped {
        from: Node,
        to: Node,
        kind: String,
        why: String,
    },
    Start {
        pid: Pid,
        op: String,
    },
    Done {
        pid: Pid,
        op: String,
        outcome: String,
    },
    Killed {
        pid: Pid,
    },
    Event {
        what: String,
    },
    Note {
        note: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceLine {
    pub t: u64,
    pub ev: TraceEvent,
}

impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6} ", self.t)?;
        match &self.ev {
            TraceEvent::Send {
                from,
                to,
                kind,
                bytes,
                pid,
                reply,
            } => {
                write!(
                    f,
                    "{from:>3} -> {to:<3} {kind}{} {bytes}B",
                    if *reply { " (reply)" } else { "" }
                )?;
                if let Some(p) = pid {
                    write!(f, " [{p}]")?;
                }
                Ok(())
            }
            TraceEvent::Dropped {
                from,
                to,
                kind,
                why,
            } => write!(f, "{from:>3} -x {to:<3} {kind} dropped: {why}"),
            TraceEvent::Start { pid, op } => write!(f, "{pid} starts {op}"),
            TraceEvent::Done { pid, op, outcome } => write!(f, "{pid} {op} = {outcome}"),
            TraceEvent::Killed { pid } => write!(f, "{pid} killed"),
            TraceEvent::Event { what } => write!(f, "event: {what}"),
            TraceEvent::Note { note } => write!(f, "note: {note}"),
        }
    }
}

/// The process whose operation in progress a reply of the file server answers: the
/// server decides the call when it sends the reply (its linearisation point). Replies of
/// the home (FORK_PID, WAIT_REQUEST, FORWARD) are not always the decision of the call they
/// answer (a fork still pages in after its pid arrives); those calls are named where they
/// are decided, or where their result returns.
fn answers(m: &Msg) -> Option<Pid> {
    match *m {
        Msg::FileOpReply { pid, .. } => Some(pid),
        _ => None,
    }
}

/// A simulated Sprite cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub cfg: ClusterConfig,
    /// Shared until written (`Arc::make_mut`): a copy of the cluster (a harness's settled
    /// copy, once per step) copies only the kernels its own steps change.
    kernels: BTreeMap<HostId, Arc<Kernel>>,
    down: BTreeSet<HostId>,
    server: FileServer,
    chans: BTreeMap<(Node, Node), VecDeque<Vec<u8>>>,
    rng: ChaCha8Rng,
    seed: u64,
    now: u64,
    ops: Vec<OpRecord>,
    queued: BTreeMap<Pid, VecDeque<OpId>>,
    running: BTreeMap<Pid, OpId>,
    /// Operations going on in the background (a migrate pre-copying while its process runs).
    detached: BTreeMap<Pid, OpId>,
    tracing: bool,
    /// Print the trace when dropped (`SPRITE_DEBUG_TRACE`); never for a settled copy.
    dump_trace: bool,
    trace: Vec<TraceLine>,
    pub ledger: Ledger,
    /// Bound on the number of steps of one `run_until_quiescent`.
    pub step_budget: u64,
    scratch: Vec<Choice>,
    schedule: VecDeque<usize>,
    /// Load daemons and migd, once [`Cluster::enable_policy`] started them.
    policy: Option<Policy>,
    /// Cluster events due at a simulated time (see [`Cluster::run_until`]).
    timed: BTreeMap<u64, Vec<ClusterEvent>>,
    /// The model steps the last step performed, as the kernels and the server named them
    /// (see [`vocab::witness`]); cleared when the next step starts.
    witnessed: Vec<Witness>,
}

impl Cluster {
    /// Builds a cluster; every choice later is drawn from `seed`.
    pub fn new(cfg: &ClusterConfig, seed: u64) -> Result<Cluster, SimError> {
        let hosts: BTreeSet<HostId> = cfg.hosts.iter().map(|h| h.id).collect();
        if hosts.len() != cfg.hosts.len() {
            return Err(SimError::Config("a host is listed twice".into()));
        }
        if hosts.is_empty() {
            return Err(SimError::Config("no hosts".into()));
        }
        // The scenario parser says where; these guard the API.
        if cfg.exec_args_bytes > crate::migrate::MAX_EXEC_ARGS {
            return Err(SimError::Config(format!(
                "exec_args_bytes {} is more than {}",
                cfg.exec_args_bytes,
                crate::migrate::MAX_EXEC_ARGS
            )));
        }
        if let Some(h) = cfg
            .hosts
            .iter()
            .find(|h| h.clock_skew_ms.unsigned_abs() > u64::from(u32::MAX))
        {
            return Err(SimError::Config(format!(
                "host {}: clock skew {} ms is more than a u32 clock",
                h.id, h.clock_skew_ms
            )));
        }
        if let Some(args) = &cfg.exec_args {
            let n = crate::migrate::encode_args(args).len();
            if n > crate::migrate::MAX_EXEC_ARGS as usize {
                return Err(SimError::Config(format!(
                    "exec_args take {n} bytes, more than {}",
                    crate::migrate::MAX_EXEC_ARGS
                )));
            }
        }
        let mut kernels = BTreeMap::new();
        for h in &cfg.hosts {
            let mut k = Kernel::new(KernelConfig {
                host: h.id,
                version: h.version,
                clock_skew_ms: h.clock_skew_ms,
                switches: cfg.switches,
                hosts: hosts.clone(),
                exec_args_bytes: cfg.exec_args_bytes,
                exec_args: cfg.exec_args.clone(),
                precopy_runs: false,
            });
            k.owner_present = h.owner_present;
            kernels.insert(h.id, Arc::new(k));
        }
        let mut server = FileServer::new(cfg.switches);
        let mut names = BTreeSet::new();
        for (name, data) in &cfg.files {
            if !names.insert(*name) {
                return Err(SimError::Config(format!("file {name} is listed twice")));
            }
            if data.len() > vocab::MAX_FILE_LEN as usize {
                return Err(SimError::Config(format!(
                    "file {name} has {} symbols, more than {}",
                    data.len(),
                    vocab::MAX_FILE_LEN
                )));
            }
            server.add_file(*name, data.clone());
        }
        let mut pids = BTreeSet::new();
        for p in &cfg.processes {
            if !pids.insert(p.pid) {
                return Err(SimError::Config(format!(
                    "process {} is listed twice",
                    p.pid
                )));
            }
            let at = p.start_on.unwrap_or(p.pid.home);
            for h in [p.pid.home, at] {
                if !kernels.contains_key(&h) {
                    return Err(SimError::Config(format!("process {}: no host {h}", p.pid)));
                }
            }
            let mut pcb = Pcb::new(p.pid, p.pages);
            pcb.shares_memory = p.shares_memory;
            pcb.maps_device = p.maps_device;
            if let Some(k) = kernels.get_mut(&p.pid.home).map(Arc::make_mut) {
                k.record_home(p.pid, at);
            }
            if let Some(k) = kernels.get_mut(&at).map(Arc::make_mut) {
                k.adopt(pcb);
            }
        }
        Ok(Cluster {
            cfg: cfg.clone(),
            kernels,
            down: BTreeSet::new(),
            server,
            chans: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
            now: 0,
            ops: Vec::new(),
            queued: BTreeMap::new(),
            running: BTreeMap::new(),
            detached: BTreeMap::new(),
            tracing: false,
            dump_trace: false,
            trace: Vec::new(),
            ledger: Ledger::default(),
            step_budget: 100_000,
            scratch: Vec::new(),
            schedule: VecDeque::new(),
            policy: None,
            timed: BTreeMap::new(),
            witnessed: Vec::new(),
        })
        .map(|mut c| {
            c.tracing = std::env::var("SPRITE_DEBUG_TRACE").is_ok();
            c.dump_trace = c.tracing;
            c
        })
    }

    /// Makes the next steps take these indices into [`Cluster::enabled`] (modulo its
    /// length) instead of drawing from the seed; the seed resumes when they run out.
    pub fn set_schedule(&mut self, indices: Vec<usize>) {
        self.schedule = indices.into();
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// With `precopy-vm`, lets processes run while their pages are pre-copied (V); off by
    /// default, since the reference model freezes them (`KernelConfig::precopy_runs`).
    pub fn set_precopy_runs(&mut self, on: bool) {
        for k in self.kernels.values_mut() {
            Arc::make_mut(k).cfg.precopy_runs = on;
        }
    }
    pub fn now(&self) -> u64 {
        self.now
    }
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }
    /// The model steps the last step (or, for a settled copy, every delivery that settled
    /// it) performed, in the order the kernels and the server named them.
    pub fn witnessed(&self) -> &[Witness] {
        &self.witnessed
    }

    pub fn trace(&self) -> &[TraceLine] {
        &self.trace
    }
    pub fn kernel(&self, h: HostId) -> Option<&Kernel> {
        self.kernels.get(&h).map(|k| &**k)
    }
    pub fn kernels(&self) -> impl Iterator<Item = (&HostId, &Kernel)> {
        self.kernels.iter().map(|(h, k)| (h, &**k))
    }
    pub fn is_up(&self, h: HostId) -> bool {
        self.kernels.contains_key(&h) && !self.down.contains(&h)
    }
    pub fn server(&self) -> &FileServer {
        &self.server
    }
    pub fn ops(&self) -> &[OpRecord] {
        &self.ops
    }
    pub fn op(&self, id: OpId) -> Option<&OpRecord> {
        self.ops.get(id.0)
    }
    /// The operation's result, once it completed.
    pub fn outcome(&self, id: OpId) -> Option<Outcome> {
        self.ops.get(id.0).and_then(|r| r.outcome)
    }
    /// A read-only snapshot of the whole cluster, for the harness and `--json`.
    pub fn view(&self) -> ClusterView {
        ClusterView::of(self)
    }
    /// The host a process currently runs on (or is frozen on, mid-migration).
    pub fn host_of(&self, pid: Pid) -> Option<HostId> {
        self.kernels
            .iter()
            .filter(|(h, _)| !self.down.contains(h))
            .find(|(_, k)| {
                k.procs
                    .get(&pid)
                    .is_some_and(|p| p.status != crate::kernel::ProcStatus::Incoming)
            })
            .map(|(h, _)| *h)
    }
    /// Records a trace event; the event is only built when tracing is on (formatting
    /// operations and notes costs more than the step itself).
    fn log(&mut self, ev: impl FnOnce() -> TraceEvent) {
        if self.tracing {
            let ev = ev();
            self.trace.push(TraceLine { t: self.now, ev });
        }
    }

    /// Queues an operation for a process; it starts when the process is idle.
    pub fn submit(&mut self, pid: Pid, op: Op) -> OpId {
        let id = OpId(self.ops.len());
        self.ops.push(OpRecord {
            pid,
            op,
            state: OpState::Queued,
            outcome: None,
            started_at: None,
            done_at: None,
            witnessed: false,
        });
        self.queued.entry(pid).or_default().push_back(id);
        id
    }

    /// Submits one operation and runs until quiescent; returns its outcome (`None` if it
    /// blocks, like a wait, or its process died).
    pub fn run_op(&mut self, pid: Pid, op: Op) -> Result<Option<Outcome>, SimError> {
        let id = self.submit(pid, op);
        self.run_until_quiescent()?;
        Ok(self.outcome(id))
    }

    /// Applies a cluster event now.
    pub fn event(&mut self, ev: ClusterEvent) -> Result<(), SimError> {
        self.witnessed.clear();
        let was_down = |h: &HostId| self.down.contains(h);
        let restarts = matches!(ev, ClusterEvent::Reboot(h) if was_down(&h));
        self.log(|| TraceEvent::Event {
            what: ev.to_string(),
        });
        match ev {
            ClusterEvent::OwnerReturns(h) => self.input(h, Input::OwnerReturns)?,
            ClusterEvent::OwnerLeaves(h) => self.input(h, Input::OwnerLeaves)?,
            ClusterEvent::Crash(h) => self.crash(h)?,
            ClusterEvent::Reboot(h) => self.reboot(h)?,
            ClusterEvent::ClockTick(h) => self.clock_tick(h)?,
        }
        // The host's load daemon hears of it too (a down host runs none).
        let now = self.now;
        let owner = |h: HostId| self.kernels.get(&h).is_some_and(|k| k.owner_present);
        let rebooted_owner = match ev {
            ClusterEvent::Reboot(h) => owner(h),
            _ => false,
        };
        let effects = match (&mut self.policy, ev) {
            (Some(p), ClusterEvent::OwnerReturns(h)) => p.owner(now, h, true),
            (Some(p), ClusterEvent::OwnerLeaves(h)) => p.owner(now, h, false),
            (Some(p), ClusterEvent::Crash(h)) => p.host_down(h),
            (Some(p), ClusterEvent::Reboot(h)) => {
                if restarts {
                    p.host_up(now, h, rebooted_owner);
                }
                Vec::new()
            }
            (Some(_), ClusterEvent::ClockTick(_)) | (None, _) => Vec::new(),
        };
        self.apply_policy(effects);
        Ok(())
    }

    fn input(&mut self, h: HostId, input: Input) -> Result<(), SimError> {
        if !self.kernels.contains_key(&h) {
            return Err(SimError::UnknownHost(h));
        }
        if self.down.contains(&h) {
            return Ok(());
        }
        let now = self.now;
        let outs = match self.kernels.get_mut(&h).map(Arc::make_mut) {
            Some(k) => k.handle(now, input),
            None => Vec::new(),
        };
        self.apply(Node::Host(h), outs);
        Ok(())
    }

    fn crash(&mut self, h: HostId) -> Result<(), SimError> {
        if !self.kernels.contains_key(&h) {
            return Err(SimError::UnknownHost(h));
        }
        if !self.down.insert(h) {
            return Ok(());
        }
        // Everything running there dies with the host; its pending operations never end.
        let dead: Vec<Pid> = self.kernels[&h].procs.keys().copied().collect();
        for pid in dead {
            self.killed(pid);
        }
        // Requests on their way to h fail at their senders, like those that reach it
        // after the crash (a kept death notice, for one, must not vanish in flight).
        let mut failed = Vec::new();
        for ((from, to), q) in &self.chans {
            if let (Node::Host(x), Node::Host(y)) = (*from, *to) {
                if y == h && x != h && !self.down.contains(&x) {
                    let reqs = q.iter().filter_map(|b| decode(b).ok());
                    failed.extend(reqs.filter(|(_, e)| !e.msg.is_reply()).map(|(_, e)| (x, e)));
                }
            }
        }
        self.chans
            .retain(|(a, b), _| *a != Node::Host(h) && *b != Node::Host(h));
        let others: Vec<HostId> = self
            .kernels
            .keys()
            .filter(|x| !self.down.contains(x))
            .copied()
            .collect();
        for x in others {
            self.input(x, Input::HostDown(h))?;
        }
        let outs = self.server.host_down(h);
        self.apply_server(outs);
        for (x, env) in failed {
            self.input(
                x,
                Input::Bounced {
                    to: env.to,
                    msg: env.msg,
                },
            )?;
        }
        Ok(())
    }

    /// The host's clock advances one second (a down host's clock keeps time too, and a
    /// reboot keeps it: the kernel comes back with this configuration).
    fn clock_tick(&mut self, h: HostId) -> Result<(), SimError> {
        let k = self.kernels.get_mut(&h).ok_or(SimError::UnknownHost(h))?;
        let cfg = &mut Arc::make_mut(k).cfg;
        cfg.clock_skew_ms = cfg.clock_skew_ms.saturating_add(1000);
        Ok(())
    }

    fn reboot(&mut self, h: HostId) -> Result<(), SimError> {
        let Some(k) = self.kernels.get(&h) else {
            return Err(SimError::UnknownHost(h));
        };
        if self.down.remove(&h) {
            // The kernel comes back with empty tables; the owner at the console is a person,
            // not kernel state, and is still there or away as before the crash (as in the
            // model).
            let mut fresh = Kernel::new(k.cfg.clone());
            fresh.owner_present = k.owner_present;
            // Slot generations survive, so that no pid from before the crash can name a
            // process created after it (the model keeps them too).
            fresh.generations = k.generations.clone();
            self.kernels.insert(h, Arc::new(fresh));
            self.server.host_up(h);
            // The others learn that it is back (Sprite's recovery module notices reboots).
            let others: Vec<HostId> = self
                .kernels
                .keys()
                .filter(|x| **x != h && !self.down.contains(x))
                .copied()
                .collect();
            for x in others {
                self.input(x, Input::HostUp(h))?;
            }
        }
        Ok(())
    }

    fn killed(&mut self, pid: Pid) {
        for id in [self.running.remove(&pid), self.detached.remove(&pid)]
            .into_iter()
            .flatten()
        {
            self.ops[id.0].state = OpState::Killed;
        }
        self.log(|| TraceEvent::Killed { pid });
    }

    fn send(&mut self, from: Node, to: Node, msg: Msg) {
        let version = match from {
            Node::Host(h) => self
                .kernels
                .get(&h)
                .map(|k| k.cfg.version)
                .unwrap_or(SERVER_VERSION),
            Node::Server | Node::Migd => SERVER_VERSION,
        };
        let env = Envelope { from, to, msg };
        let bytes = encode(version, &env);
        self.ledger.on_send(from, to, &env.msg, bytes.len());
        if self.tracing {
            let ev = TraceEvent::Send {
                from,
                to,
                kind: env.msg.kind().name().to_string(),
                bytes: bytes.len(),
                pid: env.msg.pid(),
                reply: env.msg.is_reply(),
            };
            self.log(|| ev);
        }
        self.chans.entry((from, to)).or_default().push_back(bytes);
    }

    fn apply(&mut self, from: Node, outs: Vec<Out>) {
        let strategy = self.cfg.switches.vm();
        for o in outs {
            match o {
                Out::Send(to, msg) => {
                    if let Some(pid) = answers(&msg) {
                        self.decided(pid);
                    }
                    self.send(from, to, msg)
                }
                Out::Detached(pid) => {
                    if let Some(id) = self.running.remove(&pid) {
                        self.detached.insert(pid, id);
                    }
                }
                Out::Done(pid, outcome) | Out::DetachedDone(pid, outcome) => {
                    let id = match o {
                        Out::Done(..) => self.running.remove(&pid),
                        _ => None,
                    };
                    if let Some(id) = id.or_else(|| self.detached.remove(&pid)) {
                        if !std::mem::replace(&mut self.ops[id.0].witnessed, true) {
                            // Decided here, where the result is returned.
                            self.witnessed.push(Witness::Run(pid));
                        }
                        let r = &mut self.ops[id.0];
                        r.state = OpState::Done;
                        r.outcome = Some(outcome);
                        r.done_at = Some(self.now);
                        let op = r.op;
                        self.log(|| TraceEvent::Done {
                            pid,
                            op: op.to_string(),
                            outcome: vocab::outcome::show(&outcome),
                        });
                    }
                }
                Out::Killed(pid) => self.killed(pid),
                Out::Witness(Witness::Run(pid)) => self.decided(pid),
                Out::Witness(w) => self.witnessed.push(w),
                Out::Note(n) => {
                    self.ledger.on_note(self.now, strategy, &n);
                    if self.tracing && !matches!(n, Note::Touch { .. }) {
                        self.log(|| TraceEvent::Note {
                            note: n.to_string(),
                        });
                    }
                }
            }
        }
    }

    /// The operation `pid` is running takes effect now (see [`vocab::witness`]): named
    /// once, at the first of the points that decide it (a kernel or the server naming it,
    /// the reply that carries its result being sent, the result returned).
    fn decided(&mut self, pid: Pid) {
        let id = self.running.get(&pid).or_else(|| self.detached.get(&pid));
        if let Some(id) = id.copied() {
            if !std::mem::replace(&mut self.ops[id.0].witnessed, true) {
                self.witnessed.push(Witness::Run(pid));
            }
        }
    }

    fn apply_server(&mut self, outs: Vec<(Node, Msg)>) {
        // The server names a call it answers (`Run`) only before a step that follows from
        // it (a write's write-back): the call's `Run` goes through `decided`, so it is
        // named once, and the step after it is dropped with it when no call of that
        // process is running (its process died while the request was on its way).
        let mut orphan = false;
        for w in std::mem::take(&mut self.server.witnessed) {
            match w {
                Witness::Run(pid) => {
                    orphan = !self.running.contains_key(&pid) && !self.detached.contains_key(&pid);
                    self.decided(pid);
                }
                _ if std::mem::take(&mut orphan) => {}
                w => self.witnessed.push(w),
            }
        }
        for (to, msg) in outs {
            if let Some(pid) = answers(&msg) {
                self.decided(pid);
            }
            self.send(Node::Server, to, msg);
        }
    }

    /// Everything that may happen next, in a deterministic order.
    fn choices(&self) -> Vec<Choice> {
        let mut c = Vec::new();
        self.choices_into(&mut c);
        c
    }

    fn choices_into(&self, c: &mut Vec<Choice>) {
        c.clear();
        c.extend(
            self.chans
                .iter()
                .filter(|(_, q)| !q.is_empty())
                .map(|(k, _)| Choice::Deliver(*k)),
        );
        let waiting =
            |pid: &Pid, q: &VecDeque<OpId>| !q.is_empty() && !self.running.contains_key(pid);
        // Where each waiting process is (on the last host up that can start its next
        // operation, if any): looked up host by host for each process, or, when that is
        // more work (thousands of processes queued at once), found in one pass over the
        // process tables. Both give the same answer, in host order.
        let live: Vec<(&HostId, &Kernel)> = self
            .kernels()
            .filter(|(h, _)| !self.down.contains(h))
            .collect();
        let queued = self.queued.iter().filter(|(p, q)| waiting(p, q)).count();
        let procs: usize = live.iter().map(|(_, k)| k.procs.len()).sum();
        let index: Option<BTreeMap<Pid, (bool, Option<HostId>)>> =
            (queued.saturating_mul(live.len()) > procs).then(|| {
                let mut at = BTreeMap::new();
                for (h, k) in &live {
                    for pid in k.procs.keys() {
                        let Some(q) = self.queued.get(pid).filter(|q| waiting(pid, q)) else {
                            continue;
                        };
                        let e = at.entry(*pid).or_insert((false, None));
                        e.0 = true;
                        if k.can_start(*pid, &self.ops[q[0].0].op) {
                            e.1 = Some(**h);
                        }
                    }
                }
                at
            });
        for (pid, q) in &self.queued {
            if !waiting(pid, q) {
                continue;
            }
            let (present, idle_on) = match &index {
                Some(at) => at.get(pid).copied().unwrap_or((false, None)),
                None => {
                    let mut present = false;
                    let mut idle_on = None;
                    let op = &self.ops[q[0].0].op;
                    for (h, k) in &live {
                        if k.procs.contains_key(pid) {
                            present = true;
                            if k.can_start(*pid, op) {
                                idle_on = Some(**h);
                            }
                        }
                    }
                    (present, idle_on)
                }
            };
            match (present, idle_on) {
                (_, Some(h)) => c.push(Choice::Start(*pid, Some(h))),
                (false, None) => c.push(Choice::Start(*pid, None)),
                (true, None) => {}
            }
        }
    }

    /// Everything that may happen next, in a fixed order.
    pub fn enabled(&self) -> Vec<Enabled> {
        self.choices()
            .into_iter()
            .map(|c| self.describe(c))
            .collect()
    }

    fn describe(&self, c: Choice) -> Enabled {
        match c {
            Choice::Deliver((from, to)) => {
                let kind = self
                    .chans
                    .get(&(from, to))
                    .and_then(|q| q.front())
                    .and_then(|b| decode(b).ok())
                    .map(|(_, env)| env.msg.kind());
                Enabled::Deliver { from, to, kind }
            }
            Choice::Start(pid, host) => Enabled::Start { pid, host },
        }
    }

    /// Performs one event the caller chose from [`Cluster::enabled`]. Returns false (and
    /// does nothing) if it is not enabled.
    pub fn perform(&mut self, e: &Enabled) -> bool {
        let c = match *e {
            Enabled::Deliver { from, to, .. } => Choice::Deliver((from, to)),
            Enabled::Start { pid, host } => Choice::Start(pid, host),
        };
        if !self.choices().contains(&c) {
            return false;
        }
        self.witnessed.clear();
        self.now += 1;
        match c {
            Choice::Deliver(key) => {
                self.deliver(key);
            }
            Choice::Start(pid, host) => self.start(pid, host),
        }
        true
    }

    /// Performs one event chosen by the seed. Returns false when quiescent.
    pub fn step(&mut self) -> bool {
        self.step_chosen().is_some()
    }

    /// Performs one event chosen by the seed (as [`Cluster::step`]) and says which it
    /// was; `None` when quiescent.
    pub fn step_chosen(&mut self) -> Option<Enabled> {
        let mut choices = std::mem::take(&mut self.scratch);
        self.choices_into(&mut choices);
        if choices.is_empty() {
            self.scratch = choices;
            return None;
        }
        let i = match self.schedule.pop_front() {
            // An explicit schedule: indices into the enabled list (modulo its length).
            Some(k) => k % choices.len(),
            None => self.rng.gen_range(0..choices.len()),
        };
        let chosen = choices[i];
        self.scratch = choices;
        self.witnessed.clear();
        self.now += 1;
        // Described from the delivery itself: decoding the message a second time only to
        // name its kind cost a sixth of a simulated step.
        Some(match chosen {
            Choice::Deliver((from, to)) => {
                let kind = self.deliver((from, to));
                Enabled::Deliver { from, to, kind }
            }
            Choice::Start(pid, host) => {
                self.start(pid, host);
                Enabled::Start { pid, host }
            }
        })
    }

    /// Steps until nothing is left to do.
    pub fn run_until_quiescent(&mut self) -> Result<u64, SimError> {
        self.run_until_quiescent_with(|_, _| Ok(()))
    }

    /// Steps until nothing is left to do, calling `after` after each step with the step
    /// taken (a scenario's events that happen at a given moment use it).
    pub fn run_until_quiescent_with(
        &mut self,
        mut after: impl FnMut(&mut Cluster, &Enabled) -> Result<(), SimError>,
    ) -> Result<u64, SimError> {
        let mut n = 0;
        while let Some(taken) = self.step_chosen() {
            after(self, &taken)?;
            n += 1;
            if n > self.step_budget {
                return Err(SimError::NoProgress {
                    steps: n,
                    seed: self.seed,
                });
            }
        }
        Ok(n)
    }

    fn start(&mut self, pid: Pid, host: Option<HostId>) {
        let Some(id) = self.queued.get_mut(&pid).and_then(|q| q.pop_front()) else {
            return;
        };
        let op = self.ops[id.0].op;
        self.ops[id.0].started_at = Some(self.now);
        self.log(|| TraceEvent::Start {
            pid,
            op: op.to_string(),
        });
        match host {
            None => {
                // No kernel knows the process: like the ghost, ESRCH.
                let r = &mut self.ops[id.0];
                r.state = OpState::Done;
                r.outcome = Some(Err(Errno::ESRCH));
                r.done_at = Some(self.now);
                self.log(|| TraceEvent::Done {
                    pid,
                    op: op.to_string(),
                    outcome: "ESRCH".into(),
                });
            }
            Some(h) => {
                self.ops[id.0].state = OpState::Running;
                self.running.insert(pid, id);
                let _ = self.input(h, Input::Op(pid, op));
            }
        }
    }

    /// Delivers the oldest message on a channel; returns its kind when it decodes.
    fn deliver(&mut self, key: (Node, Node)) -> Option<vocab::MsgKind> {
        let bytes = self.chans.get_mut(&key).and_then(|q| q.pop_front())?;
        self.deliver_bytes(key, bytes)
    }

    fn deliver_bytes(&mut self, key: (Node, Node), bytes: Vec<u8>) -> Option<vocab::MsgKind> {
        let decoded = decode(&bytes);
        let kind = decoded.as_ref().ok().map(|(_, env)| env.msg.kind());
        self.deliver_decoded(key, decoded);
        kind
    }

    fn deliver_decoded(
        &mut self,
        key: (Node, Node),
        decoded: Result<(u16, Envelope), DecodeError>,
    ) {
        let (version, env) = match decoded {
            Ok((_, env)) if (env.from, env.to) != key => {
                let kind = env.msg.kind().name().to_string();
                let why = format!("addressed {} -> {}", env.from, env.to);
                self.log(|| TraceEvent::Dropped {
                    from: key.0,
                    to: key.1,
                    kind,
                    why,
                });
                return;
            }
            Ok(x) => x,
            Err(e) => {
                self.log(|| TraceEvent::Dropped {
                    from: key.0,
                    to: key.1,
                    kind: "?".into(),
                    why: e.to_string(),
                });
                return;
            }
        };
        match env.to {
            Node::Server => {
                let outs = self.server.handle(env.from, env.msg);
                self.apply_server(outs);
            }
            Node::Migd => self.deliver_policy(env.from, env.to, env.msg),
            Node::Host(h) if self.down.contains(&h) || !self.kernels.contains_key(&h) => {
                let kind = env.msg.kind().name().to_string();
                self.log(|| TraceEvent::Dropped {
                    from: env.from,
                    to: env.to,
                    kind,
                    why: "host down".into(),
                });
                if !env.msg.is_reply() {
                    match env.from {
                        Node::Host(s) => {
                            let _ = self.input(
                                s,
                                Input::Bounced {
                                    to: env.to,
                                    msg: env.msg,
                                },
                            );
                        }
                        Node::Server => {
                            let outs = self.server.host_down(h);
                            self.apply_server(outs);
                        }
                        Node::Migd => {
                            let effects = self.policy.as_mut().map(|p| p.host_down(h));
                            self.apply_policy(effects.unwrap_or_default());
                        }
                    }
                }
            }
            Node::Host(_) if env.msg.is_policy() => self.deliver_policy(env.from, env.to, env.msg),
            Node::Host(h) => {
                let _ = self.input(
                    h,
                    Input::Msg {
                        from: env.from,
                        version,
                        msg: env.msg,
                    },
                );
            }
        }
    }

    /// Every message on the wire, oldest first per channel (channels in a fixed order).
    /// Bytes that do not decode (injected garbage) are skipped.
    /// The oldest message on the channel `from` -> `to`, if any (and if it decodes).
    pub fn front(&self, from: Node, to: Node) -> Option<Envelope> {
        let bytes = self.chans.get(&(from, to))?.front()?;
        decode(bytes).ok().map(|(_, env)| env)
    }

    /// Whether some message on the wire (that decodes) satisfies `f`, without collecting
    /// them.
    pub fn any_in_flight(&self, f: impl Fn(&Msg) -> bool) -> bool {
        self.chans
            .values()
            .flatten()
            .any(|b| decode(b).is_ok_and(|(_, env)| f(&env.msg)))
    }

    pub fn in_flight(&self) -> Vec<Envelope> {
        self.chans
            .values()
            .flatten()
            .filter_map(|b| decode(b).ok().map(|(_, env)| env))
            .collect()
    }

    /// A copy of the cluster in which every message on the wire that `settles` accepts
    /// (judged on the copy as it is at that moment) has been delivered, and then every such message those deliveries sent, and so on
    /// (at most `limit` deliveries), taken from anywhere in their channels but where
    /// `overtakes`, shown what is ahead, says otherwise: `FromHead`, delivered only from
    /// the head of the channel (their receiver would handle what is ahead of them first,
    /// and the two may not commute), or `AheadFirst`, after what is ahead, delivered too;
    /// no operation starts. A conformance harness uses it to see the effects of steps
    /// whose outcome is already decided (a reply on its way, say) as if they had arrived.
    /// The copy keeps no trace and prints none.
    pub fn settled(
        &self,
        settles: impl Fn(&Cluster, &Msg) -> bool,
        overtakes: impl Fn(&Msg, &[Msg]) -> Overtake,
        limit: usize,
    ) -> Cluster {
        let mut c = self.clone();
        c.witnessed.clear();
        c.tracing = false;
        c.dump_trace = false;
        c.trace.clear();
        for _ in 0..limit {
            let found = c.chans.iter().find_map(|(key, q)| {
                q.iter().enumerate().find_map(|(i, b)| {
                    let (_, env) = decode(b).ok()?;
                    if (env.from, env.to) != *key || !settles(&c, &env.msg) {
                        return None;
                    }
                    if i == 0 {
                        return Some((*key, 0));
                    }
                    // What is ahead of it in the channel, decoded only here.
                    let ahead: Vec<Msg> = q
                        .iter()
                        .take(i)
                        .filter_map(|b| decode(b).ok().map(|(_, e)| e.msg))
                        .collect();
                    match overtakes(&env.msg, &ahead) {
                        Overtake::Anywhere => Some((*key, i)),
                        Overtake::FromHead => None,
                        Overtake::AheadFirst => Some((*key, 0)),
                    }
                })
            });
            let Some((key, i)) = found else { break };
            let Some(bytes) = c.chans.get_mut(&key).and_then(|q| q.remove(i)) else {
                break;
            };
            let _ = c.deliver_bytes(key, bytes);
        }
        c
    }

    // ------------------------------------------------------------ host selection

    /// Starts the host-selection layer: migd and a load daemon on every host that is up,
    /// with their clock at the current time (see [`crate::policy`]).
    pub fn enable_policy(&mut self, rule: IdleRule) -> Result<(), SimError> {
        rule.check().map_err(SimError::Config)?;
        let hosts: Vec<(HostId, bool, bool)> = self
            .kernels
            .iter()
            .map(|(h, k)| (*h, !self.down.contains(h), k.owner_present))
            .collect();
        self.policy = Some(Policy::new(rule, self.now, &hosts));
        Ok(())
    }

    /// The host-selection layer, if started.
    pub fn policy(&self) -> Option<&Policy> {
        self.policy.as_ref()
    }

    /// A user-level client (the process `client`, e.g. a pmake) sends a host-selection
    /// call to migd from the host it runs on.
    pub fn client_send(&mut self, client: Pid, msg: Msg) -> Result<(), SimError> {
        if self.policy.is_none() {
            return Err(SimError::Policy(
                "no migd runs (enable_policy first)".into(),
            ));
        }
        if !msg.is_policy() || msg.pid() != Some(client) {
            return Err(SimError::Policy(format!(
                "{} is not a call of client {client}",
                msg.kind()
            )));
        }
        let Some(h) = self.host_of(client) else {
            return Err(SimError::Policy(format!("no process {client} runs")));
        };
        self.send(Node::Host(h), Node::Migd, msg);
        Ok(())
    }

    /// Takes the messages migd sent `client` (replies and notices), oldest first.
    pub fn client_mail(&mut self, client: Pid) -> Vec<Msg> {
        self.policy
            .as_mut()
            .map(|p| p.take_mail(client))
            .unwrap_or_default()
    }

    /// Schedules a cluster event at simulated time `at` (ms); [`Cluster::run_until`]
    /// applies it.
    pub fn schedule(&mut self, at: u64, ev: ClusterEvent) -> Result<(), SimError> {
        if !self.kernels.contains_key(&ev.host()) {
            return Err(SimError::UnknownHost(ev.host()));
        }
        self.timed.entry(at).or_default().push(ev);
        Ok(())
    }

    /// Lets simulated time pass until `t` (ms): runs to quiescence, then jumps the clock
    /// to the next timer (a daemon's sample, a scheduled event), fires it and runs to
    /// quiescence again, in time order. Returns early, with `true`, as soon as a client
    /// has mail to read. Every step still takes 1 ms; timers never fire inside
    /// [`Cluster::step`], so quiescence keeps its meaning.
    pub fn run_until(&mut self, t: u64) -> Result<bool, SimError> {
        loop {
            self.run_until_quiescent()?;
            if self.policy.as_ref().is_some_and(Policy::has_mail) {
                return Ok(true);
            }
            let daemons = self.policy.as_ref().and_then(Policy::deadline);
            let events = self.timed.keys().next().copied();
            let next = match (daemons, events) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > t {
                break;
            }
            self.now = self.now.max(next);
            while let Some(entry) = self.timed.first_entry() {
                if *entry.key() > self.now {
                    break;
                }
                for ev in entry.remove() {
                    self.event(ev)?;
                }
            }
            let now = self.now;
            let kernels = &self.kernels;
            let effects = match self.policy.as_mut() {
                Some(p) => p.tick(now, |h| {
                    kernels
                        .get(&h)
                        .map(|k| crate::policy::daemon::runnable(k))
                        .unwrap_or(0)
                }),
                None => Vec::new(),
            };
            self.apply_policy(effects);
        }
        self.now = self.now.max(t);
        Ok(false)
    }

    fn deliver_policy(&mut self, from: Node, to: Node, msg: Msg) {
        let now = self.now;
        let effects = match self.policy.as_mut() {
            Some(p) => p.deliver(now, from, to, msg),
            None => vec![Effect::Reject {
                at: to,
                kind: msg.kind(),
                why: "no host-selection layer runs".into(),
            }],
        };
        self.apply_policy(effects);
    }

    fn apply_policy(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Send(from, to, msg) => self.send(from, to, msg),
                Effect::Kernel(h, input) => {
                    let _ = self.input(h, input);
                }
                Effect::Reject { at, kind, why } => self.log(|| TraceEvent::Dropped {
                    from: at,
                    to: at,
                    kind: kind.name().to_string(),
                    why,
                }),
            }
        }
    }

    /// Delivers raw bytes to a node as if they came off the network (for fuzzing the
    /// codec path): garbage is dropped with a trace line, never a panic.
    pub fn inject_bytes(&mut self, from: Node, to: Node, bytes: Vec<u8>) {
        self.chans.entry((from, to)).or_default().push_back(bytes);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Deliver((Node, Node)),
    Start(Pid, Option<HostId>),
}

/// Something the simulator could do next, for a harness that chooses the schedule itself
/// (to follow the model's transitions one by one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Enabled {
    /// Deliver the oldest message on the channel `from` -> `to` (its kind, if it decodes).
    Deliver {
        from: Node,
        to: Node,
        kind: Option<vocab::MsgKind>,
    },
    /// Start the next queued operation of `pid` (on `host`; `None`: no host has it, so it
    /// completes at once with ESRCH).
    Start { pid: Pid, host: Option<HostId> },
}

/// Debugging aid for harness failures: with `SPRITE_DEBUG_TRACE` set, every cluster
/// records its trace and prints it to stderr when dropped (e.g. around a conform replay).
impl Drop for Cluster {
    fn drop(&mut self) {
        if self.dump_trace {
            for l in &self.trace {
                eprintln!("{l}");
            }
        }
    }
}
