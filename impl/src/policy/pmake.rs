//! pmake, a client of migd [SPE "Pmake and Mig"; TH §3.3.2, §7.2.2]: it runs a set of jobs
//! in parallel on the idle hosts migd grants, through the kernels' ordinary operations,
//! as a user program does through system calls.
//!
//! Each job is a child of the pmake process: pmake forks it at home, and the child execs
//! with the granted host as target (exec-time migration). The job then computes in steps
//! (simulated time); after each step it reads its memory (what the step before wrote) and
//! writes it; at the end it reads its memory back, writes that value to its own output
//! file `/fJ`, closes it and exits; pmake waits for it.
//! Hosts are asked for one at a time, as Sprite's clients did [TH §8.5.2], and kept for
//! the next job while there is work. When migd says a host was reclaimed (its owner came
//! back, or fairness gave it away), the kernel has sent the job there home (EVICT);
//! pmake then asks for another host and re-migrates the job once it is home, or lets it
//! finish at home if there is none. When migd has no host, pmake runs up to
//! `local_slots` jobs at home. Hosts it no longer needs go back with HOST_RELEASE; at the
//! end, after reading every output file, pmake closes its connection (MIGD_CLOSE).
//!
//! Two rules keep the run checkable against one Unix machine with no ambiguity: a job
//! exits only when no other job is between its exit and pmake's wait for it, and pmake
//! waits only after the exit completed. Every result is logged in completion order, and
//! [`check_tr`] replays the log on the one-machine Unix.
//!
//! pmake learns where a job runs from the process tables, as Sprite's user programs can
//! (the daemon's eviction code reads the process table the same way).

use crate::msg::{MigdError, Msg};
use crate::sim::{Cluster, ClusterConfig, OpId, OpState, SimError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use vocab::{Errno, Fd, FileName, HostId, Mode, Op, Outcome, PageNo, Pid, Value};

/// One job of a pmake run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Compute steps; after each, the job writes its memory.
    pub steps: u8,
    /// Simulated time of one step.
    pub step_ms: u64,
}

/// One completed operation, in the order operations completed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpLog {
    pub at_ms: u64,
    /// The operation's id (submission order in the cluster).
    pub id: usize,
    pub pid: Pid,
    pub op: Op,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmakeReport {
    pub completed: u32,
    /// Jobs that ended on a remote host / at home.
    pub ran_remotely: u32,
    pub ran_locally: u32,
    /// Jobs evicted from a host migd took back (owner returned, fairness, host down).
    pub evictions: u32,
    /// HOST_RECLAIM notices received (also for hosts with no job on them).
    pub reclaims: u32,
    /// Evicted jobs moved to another host.
    pub remigrations: u32,
    pub requests: u32,
    pub grants: u32,
    pub denials: u32,
    pub releases: u32,
    /// Per job: the hosts it ran on, in order (home included when it ran there).
    pub placements: Vec<Vec<HostId>>,
    /// Per job: the value it wrote to its output file, as pmake read it back.
    pub outputs: Vec<Option<u8>>,
    /// Simulated time when pmake closed its connection.
    pub finished_ms: u64,
    /// Results that differ from one Unix machine's (filled by [`run_spec`]).
    pub tr_mismatches: Vec<String>,
    /// Every operation's result, in completion order (for [`check_tr`]).
    pub log: Vec<OpLog>,
}

/// Why a pmake run could not finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PmakeError {
    /// The client or a job is not set up to run (unknown process, no memory page, too
    /// many jobs).
    Config(String),
    /// migd answered a call with an error.
    Migd(MigdError),
    /// The simulator refused a call or found no progress.
    Sim(SimError),
    /// An operation gave a result pmake cannot go on from (a failed fork, a killed job).
    Unexpected { pid: Pid, op: Op, got: String },
    /// Nothing left to happen, yet jobs remain (a bug, reported rather than looped on).
    Stuck(String),
}

impl fmt::Display for PmakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PmakeError::Config(s) => write!(f, "pmake: {s}"),
            PmakeError::Migd(e) => write!(f, "pmake: migd says: {e}"),
            PmakeError::Sim(e) => write!(f, "pmake: {e}"),
            PmakeError::Unexpected { pid, op, got } => {
                write!(f, "pmake: {pid} {op} gave {got}")
            }
            PmakeError::Stuck(s) => write!(f, "pmake stuck: {s}"),
        }
    }
}

impl std::error::Error for PmakeError {}

impl From<SimError> for PmakeError {
    fn from(e: SimError) -> Self {
        PmakeError::Sim(e)
    }
}

/// What the next thing a job does is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Compute(u64),
    Op(Op),
    /// Write the value the last MemRead returned.
    WriteResult,
}

#[derive(Clone, Debug)]
struct JobRun {
    child: Option<Pid>,
    /// The granted host reserved for the job (None: it runs at home).
    host: Option<HostId>,
    script: VecDeque<Item>,
    computing_until: Option<u64>,
    op: Option<OpId>,
    /// A re-migration in flight, to this host.
    moving: Option<(OpId, HostId)>,
    /// Sent home by an eviction, and wants another host.
    evicted: bool,
    refused_moves: u32,
    last_read: Option<u8>,
    started: bool,
    exited: bool,
    reap_submitted: bool,
    done: bool,
    placements: Vec<HostId>,
}

/// Who an outstanding operation belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Fork(usize),
    Job(usize),
    Move(usize),
    Reap(usize),
    Output(usize),
}

/// Most refused re-migrations of one job before pmake lets it finish at home.
const MAX_REFUSED_MOVES: u32 = 8;

/// A pmake run: the client process, its jobs and its hosts.
#[derive(Clone, Debug)]
pub struct Pmake {
    me: Pid,
    jobs: Vec<JobRun>,
    /// Hosts migd granted, with the job using each.
    held: BTreeMap<HostId, Option<usize>>,
    local_slots: usize,
    outstanding: BTreeMap<OpId, Owner>,
    connected: bool,
    requesting: bool,
    denied: bool,
    releasing: u32,
    closing: bool,
    closed: bool,
    /// A job between its exit and pmake's wait for it.
    reaping: Option<usize>,
    /// Job `j` writes file `/f(first_file + j)`.
    first_file: u8,
    /// When pmake starts (simulated ms); `None` once it has.
    starts_at: Option<u64>,
    /// Hosts pmake owes migd a HOST_RELEASE for.
    to_release: Vec<HostId>,
    outputs_submitted: bool,
    report: PmakeReport,
}

/// The host where `pid` runs, read from the process tables; `None` while it moves (the
/// source's frozen copy and the target's arriving one both exist then).
fn running_on(c: &Cluster, pid: Pid) -> Option<HostId> {
    c.kernels()
        .filter(|(h, _)| c.is_up(**h))
        .find(|(_, k)| {
            k.procs
                .get(&pid)
                .is_some_and(|p| p.status == crate::kernel::ProcStatus::Running)
        })
        .map(|(h, _)| *h)
}

fn job_file(first: u8, j: usize) -> FileName {
    FileName(u8::try_from(first as usize + j).unwrap_or(u8::MAX))
}

fn script(j: usize, job: &Job, file: FileName) -> VecDeque<Item> {
    let mut s = VecDeque::new();
    for step in 0..job.steps {
        // Read what the last step wrote, then write: memory must survive every move (MEM).
        s.push_back(Item::Compute(job.step_ms));
        s.push_back(Item::Op(Op::MemRead { page: PageNo(0) }));
        s.push_back(Item::Op(Op::MemWrite {
            page: PageNo(0),
            sym: step_value(j, step),
        }));
    }
    s.push_back(Item::Op(Op::MemRead { page: PageNo(0) }));
    s.push_back(Item::Op(Op::Open {
        name: file,
        mode: Mode::Write,
        create: true,
    }));
    s.push_back(Item::WriteResult);
    s.push_back(Item::Op(Op::Close { fd: Fd(0) }));
    s.push_back(Item::Op(Op::Exit {
        status: (j % 200) as u8,
    }));
    s
}

/// The value job `j` writes at `step` (distinct per job and step, never 0).
fn step_value(j: usize, step: u8) -> u8 {
    ((j * 7 + step as usize) % 250 + 1) as u8
}

impl Pmake {
    /// A pmake run by process `me` (it must exist, with at least one memory page, and run
    /// at its home) over `jobs`, running at most `local_slots` jobs at home when migd has
    /// no host; job `j` writes file `/f(first_file + j)` (at most file 255).
    pub fn new(
        c: &Cluster,
        me: Pid,
        jobs: &[Job],
        local_slots: usize,
        first_file: u8,
    ) -> Result<Pmake, PmakeError> {
        let Some(p) = c.cfg.processes.iter().find(|p| p.pid == me) else {
            return Err(PmakeError::Config(format!(
                "no process {me} in the cluster"
            )));
        };
        if p.pages == 0 {
            return Err(PmakeError::Config(format!(
                "{me} has no memory page for its jobs to write"
            )));
        }
        if c.host_of(me) != Some(me.home) {
            return Err(PmakeError::Config(format!("{me} does not run at its home")));
        }
        if first_file as usize + jobs.len() > 256 {
            return Err(PmakeError::Config(format!(
                "{} jobs from file {first_file}: more than 256 output files",
                jobs.len()
            )));
        }
        Ok(Pmake {
            me,
            jobs: jobs
                .iter()
                .enumerate()
                .map(|(j, job)| JobRun {
                    child: None,
                    host: None,
                    script: script(j, job, job_file(first_file, j)),
                    computing_until: None,
                    op: None,
                    moving: None,
                    evicted: false,
                    refused_moves: 0,
                    last_read: None,
                    started: false,
                    exited: false,
                    reap_submitted: false,
                    done: false,
                    placements: Vec::new(),
                })
                .collect(),
            held: BTreeMap::new(),
            local_slots,
            outstanding: BTreeMap::new(),
            connected: false,
            requesting: false,
            denied: false,
            releasing: 0,
            closing: false,
            closed: false,
            reaping: None,
            first_file,
            starts_at: Some(0),
            to_release: Vec::new(),
            outputs_submitted: false,
            report: PmakeReport {
                outputs: vec![None; jobs.len()],
                placements: vec![Vec::new(); jobs.len()],
                ..PmakeReport::default()
            },
        })
    }

    /// Makes pmake start only at simulated time `t` (when run with others).
    pub fn starting_at(mut self, t: u64) -> Pmake {
        self.starts_at = Some(t);
        self
    }

    /// Runs every job to completion on `c` (whose policy layer must be enabled).
    pub fn run(self, c: &mut Cluster) -> Result<PmakeReport, PmakeError> {
        let mut reports = run_all(c, vec![self])?;
        reports
            .pop()
            .ok_or_else(|| PmakeError::Stuck("no report".into()))
    }

    /// Opens the connection to migd.
    fn start(&mut self, c: &mut Cluster) -> Result<(), PmakeError> {
        c.client_send(self.me, Msg::MigdOpen { client: self.me })?;
        Ok(())
    }

    /// One turn: finished operations, migd's mail, then what to do next.
    fn turn(&mut self, c: &mut Cluster) -> Result<(), PmakeError> {
        match self.starts_at {
            Some(t) if c.now() < t => return Ok(()),
            Some(_) => {
                self.starts_at = None;
                self.start(c)?;
            }
            None => {}
        }
        self.collect(c)?;
        for m in c.client_mail(self.me) {
            self.on_mail(m)?;
        }
        self.plan(c)?;
        if self.closed && self.report.finished_ms == 0 {
            self.report.finished_ms = c.now();
        }
        Ok(())
    }

    fn awaiting_migd(&self) -> bool {
        !self.connected || self.requesting || self.releasing > 0 || self.closing
    }

    fn summary(&self) -> String {
        let left: Vec<String> = self
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| !j.done)
            .map(|(i, j)| format!("job {i}: {:?}", j.script.front()))
            .collect();
        format!("held {:?}, jobs left [{}]", self.held, left.join(", "))
    }

    fn next_deadline(&self) -> Option<u64> {
        let computing = self.jobs.iter().filter_map(|j| j.computing_until);
        computing.chain(self.starts_at).min()
    }

    fn submit(&mut self, c: &mut Cluster, pid: Pid, op: Op, owner: Owner) {
        let id = c.submit(pid, op);
        self.outstanding.insert(id, owner);
    }

    /// Feeds every finished operation to its owner, in completion order.
    fn collect(&mut self, c: &Cluster) -> Result<(), PmakeError> {
        let mut finished: Vec<(u64, OpId, Owner)> = Vec::new();
        for (id, owner) in &self.outstanding {
            match c.op(*id) {
                Some(r) if r.state == OpState::Done => {
                    finished.push((r.done_at.unwrap_or(0), *id, *owner));
                }
                Some(r) if r.state == OpState::Killed => {
                    return Err(PmakeError::Unexpected {
                        pid: r.pid,
                        op: r.op,
                        got: "killed".into(),
                    });
                }
                _ => {}
            }
        }
        finished.sort_by_key(|(t, id, _)| (*t, *id));
        for (at, id, owner) in finished {
            self.outstanding.remove(&id);
            let Some(r) = c.op(id) else { continue };
            let (pid, op) = (r.pid, r.op);
            let Some(outcome) = r.outcome else { continue };
            self.report.log.push(OpLog {
                at_ms: at,
                id: id.0,
                pid,
                op,
                outcome,
            });
            self.on_done(c, owner, pid, op, outcome)?;
        }
        Ok(())
    }

    fn unexpected(pid: Pid, op: Op, outcome: Outcome) -> PmakeError {
        PmakeError::Unexpected {
            pid,
            op,
            got: vocab::outcome::show(&outcome),
        }
    }

    fn on_done(
        &mut self,
        c: &Cluster,
        owner: Owner,
        pid: Pid,
        op: Op,
        outcome: Outcome,
    ) -> Result<(), PmakeError> {
        match owner {
            Owner::Fork(j) => match outcome {
                Ok(Value::Pid(child)) => {
                    let target = self.jobs[j].host;
                    self.jobs[j].child = Some(child);
                    self.jobs[j].op = None;
                    self.jobs[j]
                        .script
                        .push_front(Item::Op(Op::Exec { target }));
                }
                other => return Err(Self::unexpected(pid, op, other)),
            },
            Owner::Job(j) => {
                self.jobs[j].op = None;
                match (op, outcome) {
                    (Op::Exec { target }, Ok(_)) => {
                        let at = running_on(c, pid).unwrap_or(self.me.home);
                        self.jobs[j].placements.push(at);
                        if let (Some(h), true) = (target, at == self.me.home) {
                            // The host refused (its owner came back meanwhile): the job
                            // runs at home, and the host goes back.
                            self.jobs[j].host = None;
                            self.give_back(h);
                        }
                    }
                    (Op::MemRead { .. }, Ok(Value::Mem(v))) => self.jobs[j].last_read = Some(v),
                    (Op::Exit { .. }, Ok(_)) => {
                        self.jobs[j].exited = true;
                    }
                    (_, Ok(_)) => {}
                    (_, other) => return Err(Self::unexpected(pid, op, other)),
                }
            }
            Owner::Move(j) => {
                let Some((_, h)) = self.jobs[j].moving.take() else {
                    return Ok(());
                };
                match outcome {
                    Ok(_) => {
                        self.report.remigrations += 1;
                        self.jobs[j].placements.push(h);
                        // Unless migd took the host back while the job moved (then the job
                        // is evicted again and still wants a host).
                        if self.held.get(&h) == Some(&Some(j)) {
                            self.jobs[j].evicted = false;
                            self.jobs[j].host = Some(h);
                        }
                    }
                    Err(e @ (Errno::Refused(_) | Errno::ESRCH)) => {
                        // Still on its way home, or the host just became busy: try again
                        // later, a bounded number of times. (ESRCH: the job ended first.)
                        self.jobs[j].refused_moves += 1;
                        if self.jobs[j].refused_moves >= MAX_REFUSED_MOVES || e == Errno::ESRCH {
                            self.jobs[j].evicted = false;
                        }
                        if self.held.get(&h) == Some(&Some(j)) {
                            self.held.insert(h, None);
                        }
                    }
                    other => return Err(Self::unexpected(pid, op, other)),
                }
            }
            Owner::Reap(j) => match outcome {
                Ok(Value::Child { pid: child, .. }) if Some(child) == self.jobs[j].child => {
                    self.finish_job(j);
                }
                other => return Err(Self::unexpected(pid, op, other)),
            },
            Owner::Output(j) => match (op, outcome) {
                (Op::Read { .. }, Ok(Value::Data(v))) => self.report.outputs[j] = v,
                (_, Ok(_)) => {}
                (_, other) => return Err(Self::unexpected(pid, op, other)),
            },
        }
        Ok(())
    }

    fn finish_job(&mut self, j: usize) {
        self.reaping = None;
        let job = &mut self.jobs[j];
        job.done = true;
        self.report.completed += 1;
        let last = job.placements.last().copied().unwrap_or(self.me.home);
        if last == self.me.home {
            self.report.ran_locally += 1;
        } else {
            self.report.ran_remotely += 1;
        }
        self.report.placements[j] = job.placements.clone();
        if let Some(h) = job.host.take() {
            if self.held.get(&h) == Some(&Some(j)) {
                self.held.insert(h, None);
            }
        }
    }

    /// Gives a host back to migd now (pmake cannot use it).
    fn give_back(&mut self, h: HostId) {
        if self.held.remove(&h).is_some() {
            self.to_release.push(h);
        }
    }

    fn on_mail(&mut self, m: Msg) -> Result<(), PmakeError> {
        match m {
            Msg::MigdOpenReply { result, .. } => {
                result.map_err(PmakeError::Migd)?;
                self.connected = true;
            }
            Msg::HostGrant { result, .. } => {
                self.requesting = false;
                match result.map_err(PmakeError::Migd)? {
                    Some(h) => {
                        self.report.grants += 1;
                        self.held.insert(h, None);
                    }
                    None => {
                        self.report.denials += 1;
                        self.denied = true;
                    }
                }
            }
            Msg::HostAvailable { .. } => self.denied = false,
            Msg::HostReclaim { host, .. } => {
                self.report.reclaims += 1;
                if let Some(Some(j)) = self.held.remove(&host) {
                    // The kernel is sending the job home; it wants another host.
                    self.report.evictions += 1;
                    let job = &mut self.jobs[j];
                    job.host = None;
                    // (A job moving there is home already; the move's end records it.)
                    if job.started && !job.exited && job.moving.is_none() {
                        job.evicted = true;
                        job.refused_moves = 0;
                        job.placements.push(self.me.home);
                    }
                }
                self.denied = false;
            }
            Msg::HostReleaseReply { result, .. } => {
                self.releasing = self.releasing.saturating_sub(1);
                // A host reclaimed while its release was in flight is not held any more:
                // not an error for pmake.
                match result {
                    Ok(()) | Err(MigdError::NotHeld(_)) => {}
                    Err(e) => return Err(PmakeError::Migd(e)),
                }
            }
            Msg::MigdCloseReply { result, .. } => {
                result.map_err(PmakeError::Migd)?;
                self.closing = false;
                self.closed = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn idle_host(&self) -> Option<HostId> {
        self.held.iter().find(|(_, j)| j.is_none()).map(|(h, _)| *h)
    }

    /// Evicted jobs that still want a host.
    fn wanting(&self) -> impl Iterator<Item = usize> + '_ {
        self.jobs
            .iter()
            .enumerate()
            .filter(|(i, j)| {
                j.evicted && !j.exited && j.moving.is_none() && self.reaping != Some(*i)
            })
            .map(|(i, _)| i)
    }

    /// Decides what to do next: re-migrate evicted jobs, start jobs, move each job's
    /// script on, ask for or give back hosts, read the outputs, close.
    fn plan(&mut self, c: &mut Cluster) -> Result<(), PmakeError> {
        if !self.connected || self.closing || self.closed {
            return Ok(());
        }
        let (me, home, now) = (self.me, self.me.home, c.now());
        for h in std::mem::take(&mut self.to_release) {
            self.release(c, h)?;
        }
        // Evicted jobs that are home again go to a free host first.
        let ready: Vec<usize> = self
            .wanting()
            .filter(|j| {
                self.jobs[*j]
                    .child
                    .is_some_and(|p| running_on(c, p) == Some(home))
            })
            .collect();
        for j in ready {
            let (Some(h), Some(child)) = (self.idle_host(), self.jobs[j].child) else {
                break;
            };
            self.held.insert(h, Some(j));
            let id = c.submit(child, Op::Migrate { target: h });
            self.outstanding.insert(id, Owner::Move(j));
            self.jobs[j].moving = Some((id, h));
        }
        // New jobs: on a free host, or at home when migd has none.
        for j in 0..self.jobs.len() {
            if self.jobs[j].started {
                continue;
            }
            let local = self
                .jobs
                .iter()
                .filter(|x| x.started && !x.done && x.host.is_none() && !x.evicted)
                .count();
            let host = match self.idle_host() {
                Some(h) => Some(h),
                None if self.denied && local < self.local_slots => None,
                None => break,
            };
            if let Some(h) = host {
                self.held.insert(h, Some(j));
            }
            self.jobs[j].started = true;
            self.jobs[j].host = host;
            let id = c.submit(me, Op::Fork);
            self.outstanding.insert(id, Owner::Fork(j));
            self.jobs[j].op = Some(id);
        }
        for j in 0..self.jobs.len() {
            self.advance(c, j, now);
        }
        let unstarted = self.jobs.iter().filter(|j| !j.started).count();
        let wanting = self.wanting().count();
        let idle = self.held.values().filter(|j| j.is_none()).count();
        if unstarted + wanting > idle && !self.requesting && !self.denied {
            self.requesting = true;
            self.report.requests += 1;
            c.client_send(me, Msg::HostRequest { client: me })?;
        }
        if unstarted + wanting == 0 {
            let idle: Vec<HostId> = self
                .held
                .iter()
                .filter(|(_, j)| j.is_none())
                .map(|(h, _)| *h)
                .collect();
            for h in idle {
                self.held.remove(&h);
                self.release(c, h)?;
            }
        }
        if self.jobs.iter().all(|j| j.done) && !self.outputs_submitted {
            self.outputs_submitted = true;
            for j in 0..self.jobs.len() {
                let name = job_file(self.first_file, j);
                for op in [
                    Op::Open {
                        name,
                        mode: Mode::Read,
                        create: false,
                    },
                    Op::Read { fd: Fd(0) },
                    Op::Close { fd: Fd(0) },
                ] {
                    self.submit(c, me, op, Owner::Output(j));
                }
            }
        }
        if self.outputs_submitted
            && self.outstanding.is_empty()
            && self.releasing == 0
            && !self.requesting
        {
            self.closing = true;
            c.client_send(me, Msg::MigdClose { client: me })?;
        }
        Ok(())
    }

    fn release(&mut self, c: &mut Cluster, h: HostId) -> Result<(), PmakeError> {
        self.releasing += 1;
        self.report.releases += 1;
        c.client_send(
            self.me,
            Msg::HostRelease {
                client: self.me,
                host: h,
            },
        )?;
        Ok(())
    }

    /// Moves job `j`'s script on as far as it can go now.
    fn advance(&mut self, c: &mut Cluster, j: usize, now: u64) {
        let me = self.me;
        let job = &mut self.jobs[j];
        if !job.started || job.done || job.op.is_some() {
            return;
        }
        if job.exited {
            if !job.reap_submitted {
                job.reap_submitted = true;
                self.submit(c, me, Op::Wait, Owner::Reap(j));
            }
            return;
        }
        let Some(child) = job.child else { return };
        if let Some(t) = job.computing_until {
            if now < t {
                return;
            }
            job.computing_until = None;
        }
        let op = match job.script.front().copied() {
            None => return,
            Some(Item::Compute(ms)) => {
                job.script.pop_front();
                job.computing_until = Some(now + ms);
                return;
            }
            Some(Item::Op(Op::Exit { status })) => {
                if self.reaping.is_some_and(|r| r != j) {
                    return;
                }
                self.reaping = Some(j);
                Op::Exit { status }
            }
            Some(Item::Op(op)) => op,
            Some(Item::WriteResult) => Op::Write {
                fd: Fd(0),
                sym: job.last_read.unwrap_or(0),
            },
        };
        let job = &mut self.jobs[j];
        job.script.pop_front();
        let id = c.submit(child, op);
        job.op = Some(id);
        self.outstanding.insert(id, Owner::Job(j));
    }
}

/// Runs several pmakes side by side on `c` (its policy layer enabled) until each has
/// closed its connection. Each turn, every pmake reads what finished and its mail and
/// decides; then the cluster takes one step, or, when it is quiescent, time passes to the
/// earliest job deadline (daemons' timers and scheduled events fire on the way).
pub fn run_all(c: &mut Cluster, mut ps: Vec<Pmake>) -> Result<Vec<PmakeReport>, PmakeError> {
    if c.policy().is_none() {
        return Err(PmakeError::Config(
            "no migd runs (enable_policy first)".into(),
        ));
    }
    // A bound on the loop: every turn steps the cluster, lets time pass, or finishes.
    let budget = c.step_budget.saturating_mul(100);
    for _ in 0..budget {
        for p in ps.iter_mut() {
            p.turn(c)?;
        }
        if ps.iter().all(|p| p.closed) {
            return Ok(ps.into_iter().map(|p| p.report).collect());
        }
        if c.step() || c.policy().is_some_and(|p| p.has_mail()) {
            continue;
        }
        // Quiescent: an operation still outstanding can never start or finish.
        if let Some(p) = ps.iter().find(|p| !p.outstanding.is_empty()) {
            return Err(PmakeError::Stuck(format!(
                "{}: operations that cannot finish; {}",
                p.me,
                p.summary()
            )));
        }
        let deadline = ps.iter().filter_map(Pmake::next_deadline).min();
        match deadline {
            Some(t) if t > c.now() => {
                c.run_until(t)?;
            }
            Some(_) => {}
            None => {
                let p = ps.iter().find(|p| !p.closed);
                let what = p.map(|p| {
                    let migd = if p.awaiting_migd() {
                        "waiting for migd with nothing in flight; "
                    } else {
                        ""
                    };
                    format!("{}: {migd}{}", p.me, p.summary())
                });
                return Err(PmakeError::Stuck(what.unwrap_or_default()));
            }
        }
    }
    Err(PmakeError::Stuck(format!("no end after {budget} turns")))
}

/// The logs of several pmakes run side by side, merged in completion order.
pub fn merged_log(reports: &[PmakeReport]) -> Vec<OpLog> {
    let mut all: Vec<OpLog> = reports.iter().flat_map(|r| r.log.iter().cloned()).collect();
    all.sort_by_key(|l| (l.at_ms, l.id));
    all
}

/// Replays a pmake run's log on the one-machine Unix, in completion order, and lists
/// every result that differs (TR); migrate results are not compared, as elsewhere.
pub fn check_tr(cfg: &ClusterConfig, log: &[OpLog]) -> Vec<String> {
    let mut u = unix::Unix::new();
    for (name, data) in &cfg.files {
        u.add_file(*name, data.clone());
    }
    for p in &cfg.processes {
        u.add_process(p.pid, p.pages);
    }
    let mut bad = Vec::new();
    for (i, l) in log.iter().enumerate() {
        let want = u.apply(l.pid, &l.op).outcome;
        if matches!(l.op, Op::Migrate { .. }) {
            continue;
        }
        if want != Some(l.outcome) {
            bad.push(format!(
                "#{i} at {} ms: {} {} = {}, one Unix machine: {}",
                l.at_ms,
                l.pid,
                l.op,
                vocab::outcome::show(&l.outcome),
                want.map(|o| vocab::outcome::show(&o))
                    .unwrap_or_else(|| "blocked".into())
            ));
        }
    }
    bad
}

/// A pmake run as a user sets it up: who runs it, the jobs, how long the cluster runs
/// before pmake starts (hosts become idle only after 30 s without input), and cluster
/// events at times counted from pmake's start (an owner returning mid-run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmakeSpec {
    pub client: Pid,
    pub jobs: Vec<Job>,
    pub local_slots: usize,
    /// Job `j` writes `/f(first_file + j)`.
    pub first_file: u8,
    pub start_ms: u64,
    pub events: Vec<(u64, vocab::ClusterEvent)>,
}

/// Runs `spec` on `c` (its policy layer enabled, nothing else running): lets time pass to
/// `start_ms`, schedules the events, runs pmake, and checks every result against one
/// Unix machine (`tr_mismatches`).
pub fn run_spec(c: &mut Cluster, spec: &PmakeSpec) -> Result<PmakeReport, PmakeError> {
    if c.policy().is_none() {
        return Err(PmakeError::Config(
            "no migd runs (enable_policy first)".into(),
        ));
    }
    c.run_until(spec.start_ms)?;
    let start = c.now();
    for (dt, ev) in &spec.events {
        c.schedule(start + dt, *ev)?;
    }
    let mut r = Pmake::new(
        c,
        spec.client,
        &spec.jobs,
        spec.local_slots,
        spec.first_file,
    )?
    .run(c)?;
    r.tr_mismatches = check_tr(&c.cfg, &r.log);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::IdleRule;

    fn standard(seed: u64) -> (Cluster, PmakeReport) {
        let (cfg, spec) = crate::report::pmake_spec();
        let mut c = Cluster::new(&cfg, seed).unwrap();
        c.enable_policy(IdleRule::default()).unwrap();
        let r = run_spec(&mut c, &spec).unwrap();
        (c, r)
    }

    #[test]
    fn the_evicted_job_goes_home_then_to_the_host_that_came_free() {
        let (c, r) = standard(7);
        assert_eq!(r.completed, 8);
        assert_eq!(r.tr_mismatches, Vec::<String>::new());
        assert_eq!((r.evictions, r.remigrations), (1, 1), "{r:?}");
        let moved: Vec<&Vec<HostId>> = r.placements.iter().filter(|p| p.len() > 1).collect();
        assert_eq!(moved, vec![&vec![HostId(1), HostId(0), HostId(5)]]);
        // Each job wrote the value of its last step, read back from its memory.
        let want: Vec<Option<u8>> = (0..8).map(|j| Some(step_value(j, 7))).collect();
        assert_eq!(r.outputs, want);
        let migd = &c.policy().unwrap().migd;
        assert!(migd.clients.is_empty(), "closed");
        assert!(migd.hosts.values().all(|h| h.granted_to.is_none()));
        assert_eq!(r.requests, r.grants + r.denials);
    }

    #[test]
    fn with_no_idle_host_yet_jobs_start_at_home_until_migd_has_one() {
        let (cfg, mut spec) = crate::report::pmake_spec();
        spec.start_ms = 0;
        spec.events.clear();
        let mut c = Cluster::new(&cfg, 3).unwrap();
        c.enable_policy(IdleRule::default()).unwrap();
        let r = run_spec(&mut c, &spec).unwrap();
        assert_eq!(r.completed, 8);
        assert!(r.tr_mismatches.is_empty(), "{:?}", r.tr_mismatches);
        // The first job runs at home (no host is idle before 30 s), the others remote
        // once migd told pmake that hosts came free.
        assert_eq!(r.placements[0], vec![HostId(0)]);
        assert!(r.denials >= 1);
        assert!(r.ran_remotely >= 5, "{r:?}");
    }

    #[test]
    fn bad_setups_are_errors() {
        let (cfg, spec) = crate::report::pmake_spec();
        let mut c = Cluster::new(&cfg, 1).unwrap();
        assert!(matches!(
            run_spec(&mut c, &spec),
            Err(PmakeError::Config(_))
        ));
        c.enable_policy(IdleRule::default()).unwrap();
        let jobs = spec.jobs.clone();
        let nobody = Pid::new(4, 9);
        assert!(matches!(
            Pmake::new(&c, nobody, &jobs, 1, 0),
            Err(PmakeError::Config(e)) if e.contains("no process p4.9")
        ));
        assert!(matches!(
            Pmake::new(&c, spec.client, &jobs, 1, 250),
            Err(PmakeError::Config(_))
        ));
        let mut cfg0 = cfg.clone();
        cfg0.processes[0].pages = 0;
        let c0 = Cluster::new(&cfg0, 1).unwrap();
        assert!(matches!(
            Pmake::new(&c0, spec.client, &jobs, 1, 0),
            Err(PmakeError::Config(_))
        ));
    }
}
