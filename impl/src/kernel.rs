//! One host's kernel as a sans-IO state machine: [`Kernel::handle`] takes one input (an
//! operation of a process, an arriving message, a host failure, the owner coming or going)
//! and returns what the kernel does: messages to send, operations completed, and notes for
//! the trace and the cost ledger. No clock, no network, no randomness inside: time comes in
//! as `now`.
//!
//! Where each call is handled follows `vocab::msg::disposition` (TH §4.3, Appendix A, and
//! the departures specs/kernel-calls.md lists): location-independent calls locally (pipe and
//! pipe I/O are file-system calls to the server; a plain exec too, as there is no program
//! name for the home to record), gettimeofday, kill and the process-group calls through a
//! home, fork, exit and wait jointly with the home.

mod groups;

use crate::fs::{Blocks, FileId};
use crate::migrate;
use crate::msg::{FileReq, FileResp, Forwarded, Grant, MigKind, Msg, Node, PosGrant};
use crate::vm::{Page, PageClass, Vm};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use vocab::{
    Errno, Fd, FileName, HostId, Mode, Op, Outcome, PageNo, Pid, Refusal, StreamId, Switch,
    Switches, Value, Witness, KILLED_STATUS, MAX_FILE_LEN,
};

/// Most descriptors a process may hold (the ghost's bound).
pub const MAX_FDS: usize = 4;

/// Static facts about a host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelConfig {
    pub host: HostId,
    /// Sprite's migration version number: hosts that differ refuse each other.
    pub version: u16,
    /// This host's clock minus the simulator's time, in ms (clocks are not synchronised).
    pub clock_skew_ms: i64,
    pub switches: Switches,
    /// Every workstation in the cluster.
    pub hosts: BTreeSet<HostId>,
    /// Size of the exec arguments and environment an exec-time migration carries.
    pub exec_args_bytes: u32,
    /// The arguments an `exec` starts the new program with, when the scenario gives them
    /// (`exec_args`); else an exec carries `exec_args_bytes` of filler and records none.
    pub exec_args: Option<Vec<String>>,
    /// With `precopy-vm`: the process runs during the copy rounds, as in V (see
    /// `migrate/vm.rs`). Off, the rounds run with the process frozen, which is the
    /// reference model's pre-copy and what the conformance lockstep can follow.
    pub precopy_runs: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProcStatus {
    Running,
    /// Frozen on the source while its state moves (Sprite's MIGRATING flag).
    Migrating,
    /// Being installed on the target (not yet resumed).
    Incoming,
}

/// What a process blocked in a call waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pending {
    Open {
        name: FileName,
    },
    Io {
        stream: StreamId,
    },
    /// Waits for another process's I/O on the same stream from this host to finish (the
    /// client serialises I/O on a stream, as Sprite's stream lock does, so that two
    /// requests never carry the same access position).
    IoQueued {
        fd: Fd,
        op: Op,
    },
    /// The host's last reference to the descriptor's stream: the server must close it
    /// first (the descriptor goes when it answers).
    Close {
        fd: Fd,
    },
    Unlink {
        name: FileName,
    },
    ForkPaging,
    ForkPid,
    ExecDiscard,
    /// `stat`, waiting for the server's answer.
    Stat,
    ExitClosing {
        status: u8,
        /// The streams whose last reference on this host the server is closing.
        closing: Vec<StreamId>,
        /// The exit has taken effect (its first close answered), and these are the
        /// references that became the host's last while it was in flight (see
        /// [`Kernel::exit_closed`]).
        late: bool,
    },
    ExitDiscard {
        status: u8,
    },
    ExitNotify,
    Wait,
    /// A call forwarded home (gettimeofday, getpgrp, setpgid).
    Forwarded(Forwarded),
    /// A signal (kill) or a group's signals (killpg) sent to a home, which answers.
    Kill {
        to: HostId,
    },
    /// killpg under `local-pids`, sent to every host: the hosts yet to answer, and whether
    /// one of those that did signalled a member.
    KillpgAll {
        waiting: BTreeSet<HostId>,
        signalled: bool,
    },
    Pipe,
    Fault {
        page: PageNo,
        write: Option<u8>,
    },
    /// The process's own migrate or exec-time migration.
    Migrate,
}

/// A process control block on the host where the process runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pcb {
    pub pid: Pid,
    pub parent: Option<Pid>,
    pub status: ProcStatus,
    pub fds: BTreeMap<Fd, StreamId>,
    pub vm: Vm,
    /// Signals received (a counter, as in the ghost).
    pub signals: u32,
    pub shares_memory: bool,
    pub maps_device: bool,
    pub pending: Option<Pending>,
    /// The owner came back while the process was busy: evict when it is idle.
    pub evict_pending: bool,
    /// The arguments its program was started with by the last `exec` (when a scenario
    /// gives them): they move with the process, and a forked child has them too.
    pub args: Vec<String>,
    /// Its process group: Sprite's family id, which the PCB carries and migration moves
    /// [SRC procMigrate.c]. The home's record (`HomeEntry::pgrp`) is the one getpgrp and
    /// killpg read; setpgid changes both, jointly [TH App. A: `setpgrp` is joint]. This copy
    /// is what a host that creates a child without asking the home (`local-pids`) gives it.
    pub pgrp: Pid,
}

impl Pcb {
    pub fn new(pid: Pid, pages: u8) -> Pcb {
        Pcb {
            pid,
            parent: None,
            status: ProcStatus::Running,
            fds: BTreeMap::new(),
            vm: Vm::new(pages),
            signals: 0,
            shares_memory: false,
            maps_device: false,
            pending: None,
            evict_pending: false,
            args: Vec::new(),
            pgrp: pid,
        }
    }
    pub fn idle(&self) -> bool {
        self.status == ProcStatus::Running && self.pending.is_none()
    }
}

/// Where the home believes a process is (HOME).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Loc {
    At(HostId),
    Moving { from: HostId, to: HostId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Life {
    Alive,
    Zombie(u8),
}

/// The home's record of one of its processes: location, parent, and the exit/wait
/// rendezvous (TH §4.3: it lives only at the home).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeEntry {
    pub parent: Option<Pid>,
    pub loc: Loc,
    pub life: Life,
    /// The process waits for a child; the host to send the answer to.
    pub waiting: Option<HostId>,
    /// Signals held while the process moves.
    pub held_signals: u32,
    /// A wait's answer held while the waiting process moves (it may be evicted mid-wait).
    pub held_wait: Option<Outcome>,
    /// The process group (the home keeps the groups: TH Appendix A).
    pub pgrp: Pid,
}

/// A stream as a client host holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStream {
    pub file: FileId,
    pub mode: Mode,
    /// Descriptors on this host that refer to the stream.
    pub refs: u8,
    /// The access position, or `None` when the server keeps it (shadow stream).
    pub pos: Option<u8>,
    /// An end of a pipe: every read and write goes to the server; no seeking.
    pub pipe: bool,
}

/// A client's cached copy of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The file incarnation the copy belongs to (see `fs::Blocks`).
    pub incarnation: u32,
    pub version: u32,
    pub data: Vec<u8>,
    pub dirty: BTreeSet<u8>,
    pub cacheable: bool,
}

impl CacheEntry {
    pub fn dirty_blocks(&self) -> Blocks {
        Blocks {
            incarnation: self.incarnation,
            len: self.data.len() as u8,
            blocks: self
                .dirty
                .iter()
                .filter_map(|i| self.data.get(*i as usize).map(|s| (*i, *s)))
                .collect(),
        }
    }
}

/// The `wait-on-current` alternative's rendezvous, kept on whatever host a process is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRdv {
    pub parent: Pid,
    pub life: Life,
}

/// Notes for the trace and the cost ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    MigBegin {
        pid: Pid,
        from: HostId,
        to: HostId,
        kind: MigKind,
        pages: Vec<(PageNo, PageClass)>,
    },
    MigPhase {
        pid: Pid,
        phase: migrate::Phase,
    },
    MigEnd {
        pid: Pid,
        result: Result<(), String>,
    },
    /// One page crossed the network (flush, page-in, copy).
    PageXfer {
        pid: Pid,
        page: PageNo,
    },
    /// A process touched a page.
    Touch {
        pid: Pid,
        page: PageNo,
    },
    /// Dirty file blocks written back during a migration.
    BlocksFlushed {
        pid: Pid,
        blocks: u32,
    },
    Killed {
        pid: Pid,
    },
    Evicting {
        pid: Pid,
    },
    /// Under `wait-on-current`: an exit status reached a host that knows nothing of the
    /// parent any more, and is lost.
    ExitLost {
        child: Pid,
        parent: Pid,
    },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::MigBegin {
                pid,
                from,
                to,
                kind,
                pages,
            } => {
                let dirty = pages.iter().filter(|(_, c)| *c == PageClass::Dirty).count();
                let clean = pages.iter().filter(|(_, c)| *c == PageClass::Clean).count();
                let kind = match kind {
                    MigKind::Migrate => "migration",
                    MigKind::Exec => "exec-time migration",
                    MigKind::Evict => "eviction",
                };
                write!(
                    f,
                    "{pid}: {kind} {from} -> {to} begins ({dirty} dirty, {clean} clean pages)"
                )
            }
            Note::MigPhase { pid, phase } => write!(f, "{pid}: phase {phase:?}"),
            Note::MigEnd {
                pid,
                result: Ok(()),
            } => write!(f, "{pid}: migration done"),
            Note::MigEnd {
                pid,
                result: Err(e),
            } => write!(f, "{pid}: migration refused: {e}"),
            Note::PageXfer { pid, page } => write!(f, "{pid}: {page} transferred"),
            Note::Touch { pid, page } => write!(f, "{pid}: touches {page}"),
            Note::BlocksFlushed { pid, blocks } => {
                write!(f, "{pid}: {blocks} dirty blocks flushed")
            }
            Note::Killed { pid } => write!(f, "{pid}: killed"),
            Note::Evicting { pid } => write!(f, "{pid}: evicted (owner returned)"),
            Note::ExitLost { child, parent } => write!(
                f,
                "EXIT_NOTICE {child} lost: nothing here of {parent}, which has left"
            ),
        }
    }
}

/// What a kernel asks its environment to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    Send(Node, Msg),
    Done(Pid, Outcome),
    /// The process died (crash); its pending operation never completes.
    Killed(Pid),
    Note(Note),
    /// The process's current operation (a migrate whose pages are pre-copied while the
    /// process runs, V) goes on in the background: the process may start its next ones.
    Detached(Pid),
    /// The background operation of the process completed (a `Done` while no other
    /// operation of the process runs completes it too).
    DetachedDone(Pid, Outcome),
    /// The model step this input performs (see [`vocab::witness`]).
    Witness(Witness),
}

/// Inputs a kernel reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Op(Pid, Op),
    Msg {
        from: Node,
        version: u16,
        msg: Msg,
    },
    /// A message to `to` could not be delivered: the host is down (the RPC timed out).
    Bounced {
        to: Node,
        msg: Msg,
    },
    HostDown(HostId),
    /// The host is up again after a crash (it rebooted with empty tables).
    HostUp(HostId),
    OwnerReturns,
    OwnerLeaves,
    /// migd took this idle host back for another client (fairness, TH §6.2.1) and the
    /// load daemon asks the kernel to evict: foreign processes go home as on the owner's
    /// return, but the host stays idle and keeps accepting work.
    Reclaim,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kernel {
    pub cfg: KernelConfig,
    pub owner_present: bool,
    pub procs: BTreeMap<Pid, Pcb>,
    pub home: BTreeMap<Pid, HomeEntry>,
    pub streams: BTreeMap<StreamId, HostStream>,
    pub cache: BTreeMap<FileId, CacheEntry>,
    /// Names seen in grants, to offer the cached version at the next open.
    pub names: BTreeMap<FileName, FileId>,
    /// Pages kept for processes that left (copy-on-reference only: a residual dependency).
    pub residual: BTreeMap<Pid, BTreeMap<PageNo, u8>>,
    /// The `direct-signals` alternative's location cache: children forked here, believed here.
    pub hints: BTreeMap<Pid, HostId>,
    pub local_rdv: BTreeMap<Pid, LocalRdv>,
    /// The `local-pids` alternative's rendezvous records, at a parent's home, for its
    /// children created (and so named and homed) on another host: LOCUS's origin site
    /// passes their exits on to here (CHILD_NOTICE told this home of them).
    pub foreign_children: BTreeMap<Pid, LocalRdv>,
    pub outgoing: BTreeMap<Pid, migrate::OutMig>,
    pub incoming: BTreeMap<Pid, migrate::InMig>,
    /// Pages pre-copied to this host, waiting for the migration's state.
    pub precopied: BTreeMap<Pid, migrate::PreCopyBuffer>,
    /// Streams of processes killed here after their state had left (the target or the
    /// home crashed during the stream exchanges) whose references the kill dropped: the
    /// STREAM_RELEASE that may still come for them must not drop them a second time.
    /// Forgotten when the server asks, or when the pid starts another migration here.
    pub released_by_kill: BTreeMap<Pid, BTreeSet<StreamId>>,
    /// Streams moving into this host with migrating processes (moves not yet granted).
    pub incoming_streams: BTreeMap<StreamId, u8>,
    /// Files a writing stream left in a migration while this host still used them: their
    /// clean cached blocks go when the host's last stream of the file does
    /// (`migrate::files::drop_left_blocks`).
    pub left_writers: BTreeSet<FileId>,
    /// Dirty blocks a migration's BLOCK_FLUSH carries, until the server acknowledges.
    pub flushing: BTreeMap<Pid, Vec<(FileId, Blocks)>>,
    /// Death notices that could not be delivered (their host was down), by destination:
    /// sent when that host is up again (procRecovery.c's DEPEND_UNREACHABLE). They live in
    /// this kernel's memory, so they are lost if this host crashes first.
    pub undelivered: BTreeMap<HostId, BTreeMap<Pid, u8>>,
    /// For each slot of this home that has held a process: the generation the next process
    /// given that slot gets (`vocab::Pid`; Sprite's `procInt.h` generation number). Kept
    /// across a reboot (see `Sim::reboot`), as in the model.
    pub generations: BTreeMap<u8, u8>,
    #[serde(skip)]
    pub(crate) out: Vec<Out>,
    #[serde(skip)]
    now: u64,
}

fn smallest_free<K: Ord + Copy>(used: &BTreeSet<K>, make: impl Fn(u8) -> K) -> Option<K> {
    (0..=u8::MAX).map(make).find(|k| !used.contains(k))
}

impl Kernel {
    pub fn new(cfg: KernelConfig) -> Kernel {
        Kernel {
            cfg,
            owner_present: false,
            procs: BTreeMap::new(),
            home: BTreeMap::new(),
            streams: BTreeMap::new(),
            cache: BTreeMap::new(),
            names: BTreeMap::new(),
            residual: BTreeMap::new(),
            hints: BTreeMap::new(),
            local_rdv: BTreeMap::new(),
            foreign_children: BTreeMap::new(),
            outgoing: BTreeMap::new(),
            incoming: BTreeMap::new(),
            precopied: BTreeMap::new(),
            released_by_kill: BTreeMap::new(),
            incoming_streams: BTreeMap::new(),
            left_writers: BTreeSet::new(),
            flushing: BTreeMap::new(),
            undelivered: BTreeMap::new(),
            generations: BTreeMap::new(),
            out: Vec::new(),
            now: 0,
        }
    }

    pub fn host(&self) -> HostId {
        self.cfg.host
    }

    pub fn sw(&self, s: Switch) -> bool {
        self.cfg.switches.has(s)
    }

    /// This host's clock reading at simulator time `now`, held between 0 and `u32::MAX`
    /// (saturating: neither the time nor the configured skew can overflow it).
    pub fn clock(&self, now: u64) -> u32 {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let t = now.saturating_add(self.cfg.clock_skew_ms);
        u32::try_from(t.max(0)).unwrap_or(u32::MAX)
    }

    /// Adds a process that exists before anything runs, with this host as its home.
    pub fn add_process(&mut self, pcb: Pcb) {
        if pcb.pid.home == self.host() {
            self.record_home(pcb.pid, self.host());
        }
        self.adopt(pcb);
    }

    /// At the process's home, before anything runs: the home's record of an initial
    /// process that runs on `at`.
    pub fn record_home(&mut self, pid: Pid, at: HostId) {
        self.generations
            .insert(pid.index, pid.gen.wrapping_add(1) % Pid::GENERATIONS);
        self.home.insert(
            pid,
            HomeEntry {
                parent: None,
                loc: Loc::At(at),
                life: Life::Alive,
                waiting: None,
                held_signals: 0,
                held_wait: None,
                pgrp: pid,
            },
        );
    }

    /// Before anything runs: an initial process runs here (its home or not).
    pub fn adopt(&mut self, pcb: Pcb) {
        self.procs.insert(pcb.pid, pcb);
    }

    /// Handles one input at simulator time `now`.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Out> {
        self.now = now;
        match input {
            Input::Op(pid, op) => self.op(pid, op),
            Input::Msg { from, version, msg } => self.msg(from, version, msg),
            Input::Bounced { to, msg } => self.bounced(to, msg),
            Input::HostDown(h) => self.host_down(h),
            Input::HostUp(h) => self.host_up(h),
            Input::OwnerReturns => {
                self.owner_present = true;
                self.evict_foreign(true);
            }
            Input::OwnerLeaves => {
                // An eviction the owner's return put off until a busy process is idle is
                // called off when the owner leaves first (as before reclaims existed).
                if std::mem::replace(&mut self.owner_present, false) {
                    self.procs
                        .values_mut()
                        .for_each(|p| p.evict_pending = false);
                }
            }
            // A process arriving now is, normally, the new holder's job: it stays.
            Input::Reclaim => self.evict_foreign(false),
        }
        std::mem::take(&mut self.out)
    }

    pub(crate) fn send(&mut self, to: Node, msg: Msg) {
        self.out.push(Out::Send(to, msg));
    }
    pub(crate) fn note(&mut self, n: Note) {
        self.out.push(Out::Note(n));
    }
    /// Names the model step this input performs (its linearisation point).
    pub(crate) fn witness(&mut self, w: Witness) {
        self.out.push(Out::Witness(w));
    }
    /// Dirty blocks of `file` leave this host's cache for the server, in a reply that the
    /// server writes into its copy whatever it handles first: the model's write-back of
    /// the file from this host, named now.
    pub(crate) fn written_back(&mut self, file: FileId, blocks: &Blocks) {
        if !blocks.is_empty() {
            let host = self.host();
            self.witness(Witness::WriteBack { host, file: file.0 });
        }
    }
    fn send_host(&mut self, h: HostId, msg: Msg) {
        self.send(Node::Host(h), msg);
    }
    fn send_server(&mut self, pid: Pid, req: FileReq) {
        self.send(Node::Server, Msg::FileOp { pid, req });
    }

    /// Completes the current operation of `pid`.
    pub(crate) fn done(&mut self, pid: Pid, outcome: Outcome) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.pending = None;
        }
        self.out.push(Out::Done(pid, outcome));
        self.maybe_evict(pid);
        migrate::op_done(self, pid);
    }

    fn block(&mut self, pid: Pid, p: Pending) {
        if let Some(pcb) = self.procs.get_mut(&pid) {
            pcb.pending = Some(p);
        }
    }

    fn pending(&self, pid: Pid) -> Option<&Pending> {
        self.procs.get(&pid).and_then(|p| p.pending.as_ref())
    }

    /// Whether `op` of `pid` may start here now: the process is idle, and (while its pages
    /// are pre-copied) the call is one that may run during the copy.
    pub fn can_start(&self, pid: Pid, op: &Op) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.idle()) && migrate::admits(self, pid, op)
    }

    // ---------------------------------------------------------------- operations

    fn op(&mut self, pid: Pid, op: Op) {
        if !self.procs.get(&pid).is_some_and(|p| p.idle()) {
            self.out.push(Out::Done(pid, Err(Errno::ESRCH)));
            return;
        }
        match op {
            Op::Open { name, mode, create } => self.open(pid, name, mode, create),
            Op::Read { fd } => self.io(pid, fd, IoKind::Read),
            Op::Write { fd, sym } => self.io(pid, fd, IoKind::Write(sym)),
            Op::Lseek { fd, pos } => self.io(pid, fd, IoKind::Lseek(pos)),
            Op::LseekCur { fd, delta } => self.io(pid, fd, IoKind::LseekCur(delta)),
            Op::Close { fd } => self.close(pid, fd),
            Op::Unlink { name } => {
                self.block(pid, Pending::Unlink { name });
                self.send_server(pid, FileReq::Unlink { name });
            }
            Op::Stat { name } => {
                self.block(pid, Pending::Stat);
                self.send_server(pid, FileReq::Stat { name });
            }
            Op::Dup { fd } => self.dup(pid, fd),
            Op::Fork => self.fork(pid),
            Op::Exec { target } => self.exec(pid, target),
            Op::Exit { status } => self.exit(pid, status),
            Op::Wait => self.wait(pid),
            Op::Getpid => self.done(pid, Ok(Value::Pid(pid))),
            Op::Gettimeofday => {
                if pid.home == self.host() || self.sw(Switch::LocalTime) {
                    let t = self.clock(self.now);
                    self.done(pid, Ok(Value::Time(t)));
                } else {
                    self.forward_home(pid, Forwarded::Gettimeofday);
                }
            }
            Op::Pipe => {
                if self.procs[&pid].fds.len() + 2 > MAX_FDS {
                    return self.done(pid, Err(Errno::EMFILE));
                }
                self.block(pid, Pending::Pipe);
                self.send_server(pid, FileReq::Pipe);
            }
            Op::Getpgrp => self.group_call(pid, Forwarded::Getpgrp),
            Op::Setpgid { pgrp } => self.group_call(pid, Forwarded::Setpgid { pgrp }),
            Op::Killpg { pgrp } => self.killpg(pid, pgrp),
            Op::Kill { pid: target } => self.kill(pid, target),
            Op::MemRead { page } => self.mem(pid, page, None),
            Op::MemWrite { page, sym } => self.mem(pid, page, Some(sym)),
            Op::Migrate { target } => {
                if let Err(r) = migrate::start(self, pid, target, MigKind::Migrate) {
                    self.done(pid, Err(Errno::Refused(r)));
                }
            }
        }
    }

    fn open(&mut self, pid: Pid, name: FileName, mode: Mode, create: bool) {
        if self.procs[&pid].fds.len() >= MAX_FDS {
            return self.done(pid, Err(Errno::EMFILE));
        }
        let cached_version = self.names.get(&name).and_then(|f| {
            self.cache
                .get(f)
                .filter(|e| e.cacheable)
                .map(|e| (*f, e.version))
        });
        self.block(pid, Pending::Open { name });
        self.send_server(
            pid,
            FileReq::Open {
                name,
                mode,
                create,
                cached_version,
            },
        );
    }

    /// Installs a stream the server granted (open, reopen or move) with `refs` references.
    pub(crate) fn install_grant(&mut self, g: &Grant, refs: u8) {
        // The host uses the file again: the server's version check judges its blocks.
        self.left_writers.remove(&g.file);
        let pos = match g.pos {
            PosGrant::Local(p) => Some(p),
            PosGrant::Shadow => None,
        };
        let e = self.streams.entry(g.stream).or_insert(HostStream {
            file: g.file,
            mode: g.mode,
            refs: 0,
            pos,
            pipe: g.pipe,
        });
        e.refs = e.refs.saturating_add(refs);
        e.pos = pos;
        if g.cacheable {
            match &g.data {
                Some(d) => {
                    // Dirty blocks here are the newest data of the file: the server
                    // recalls them before any other host may write. Keep them on top of
                    // the server's copy (this host may not have known the file's id).
                    let mut data = d.clone();
                    let mut dirty = BTreeSet::new();
                    if let Some(old) = self
                        .cache
                        .get(&g.file)
                        .filter(|e| e.cacheable && e.incarnation == g.incarnation)
                    {
                        old.dirty_blocks().apply(&mut data);
                        dirty = old.dirty.clone();
                    }
                    self.cache.insert(
                        g.file,
                        CacheEntry {
                            incarnation: g.incarnation,
                            version: g.version,
                            data,
                            dirty,
                            cacheable: true,
                        },
                    );
                }
                None => {
                    // No data: the server found this host's copy current (of the version
                    // before an open for writing started a new one, which it now has).
                    let e = self.cache.entry(g.file).or_insert(CacheEntry {
                        incarnation: g.incarnation,
                        version: g.version,
                        data: Vec::new(),
                        dirty: BTreeSet::new(),
                        cacheable: true,
                    });
                    e.cacheable = true;
                    e.version = g.version;
                }
            }
        } else {
            self.cache.insert(
                g.file,
                CacheEntry {
                    incarnation: g.incarnation,
                    version: 0,
                    data: Vec::new(),
                    dirty: BTreeSet::new(),
                    cacheable: false,
                },
            );
        }
    }

    fn stream_of(&self, pid: Pid, fd: Fd) -> Option<StreamId> {
        self.procs.get(&pid)?.fds.get(&fd).copied()
    }

    /// Whether a process on this host has I/O on `sid` at the server.
    fn io_busy(&self, sid: StreamId) -> bool {
        self.procs
            .values()
            .any(|p| p.pending == Some(Pending::Io { stream: sid }))
    }

    /// The I/O on `sid` from this host ended: start the next queued request on it.
    fn io_resume(&mut self, sid: StreamId) {
        while !self.io_busy(sid) {
            let next = self.procs.iter().find_map(|(pid, p)| match p.pending {
                Some(Pending::IoQueued { fd, op }) if self.stream_of(*pid, fd) == Some(sid) => {
                    Some((*pid, fd, op))
                }
                _ => None,
            });
            let Some((pid, fd, op)) = next else { return };
            if let Some(p) = self.procs.get_mut(&pid) {
                p.pending = None;
            }
            let kind = match op {
                Op::Read { .. } => IoKind::Read,
                Op::Write { sym, .. } => IoKind::Write(sym),
                Op::Lseek { pos, .. } => IoKind::Lseek(pos),
                Op::LseekCur { delta, .. } => IoKind::LseekCur(delta),
                _ => return self.done(pid, Err(Errno::EINVAL)),
            };
            self.io(pid, fd, kind);
        }
    }

    fn io(&mut self, pid: Pid, fd: Fd, kind: IoKind) {
        let Some(sid) = self.stream_of(pid, fd) else {
            return self.done(pid, Err(Errno::EBADF));
        };
        let Some(s) = self.streams.get(&sid).cloned() else {
            return self.done(pid, Err(Errno::EBADF));
        };
        if self.io_busy(sid) {
            let op = match kind {
                IoKind::Read => Op::Read { fd },
                IoKind::Write(sym) => Op::Write { fd, sym },
                IoKind::Lseek(pos) => Op::Lseek { fd, pos },
                IoKind::LseekCur(delta) => Op::LseekCur { fd, delta },
            };
            return self.block(pid, Pending::IoQueued { fd, op });
        }
        if s.pipe {
            return self.pipe_io(pid, sid, &s, kind);
        }
        let cacheable = self.cache.get(&s.file).is_some_and(|c| c.cacheable);
        match kind {
            IoKind::Read if !s.mode.reads() => return self.done(pid, Err(Errno::EBADF)),
            IoKind::Write(_) if !s.mode.writes() => return self.done(pid, Err(Errno::EBADF)),
            IoKind::Write(_) if s.pos.is_some_and(|p| p >= MAX_FILE_LEN) => {
                return self.done(pid, Err(Errno::EFBIG))
            }
            IoKind::Lseek(p) if p > MAX_FILE_LEN => return self.done(pid, Err(Errno::EINVAL)),
            _ => {}
        }
        match (kind, s.pos) {
            (IoKind::Lseek(p), Some(_)) => {
                self.set_pos(sid, p);
                self.done(pid, Ok(Value::Pos(p)))
            }
            (IoKind::LseekCur(delta), Some(cur)) => match seek_by(cur, delta) {
                Ok(p) => {
                    self.set_pos(sid, p);
                    self.done(pid, Ok(Value::Pos(p)))
                }
                Err(e) => self.done(pid, Err(e)),
            },
            (IoKind::Read, Some(p)) if cacheable => {
                let sym = self
                    .cache
                    .get(&s.file)
                    .and_then(|c| c.data.get(p as usize).copied());
                if sym.is_some() {
                    self.set_pos(sid, p + 1);
                }
                self.done(pid, Ok(Value::Data(sym)))
            }
            (IoKind::Write(sym), Some(p)) if cacheable => {
                if let Some(c) = self.cache.get_mut(&s.file) {
                    unix_write_at(&mut c.data, p, sym);
                    c.dirty.insert(p);
                }
                self.set_pos(sid, p + 1);
                self.done(pid, Ok(Value::Unit))
            }
            (kind, pos) => {
                let req = match kind {
                    IoKind::Read => FileReq::Read { stream: sid, pos },
                    IoKind::Write(sym) => FileReq::Write {
                        stream: sid,
                        pos,
                        sym,
                    },
                    IoKind::Lseek(p) => FileReq::Lseek {
                        stream: sid,
                        pos: p,
                    },
                    IoKind::LseekCur(delta) => FileReq::LseekCur { stream: sid, delta },
                };
                self.block(pid, Pending::Io { stream: sid });
                self.send_server(pid, req);
            }
        }
    }

    /// I/O on a pipe's end: the access mode is checked here, no seeking, and every read and
    /// write is a FILE_OP to the server, which keeps the pipe (nobody caches it).
    fn pipe_io(&mut self, pid: Pid, sid: StreamId, s: &HostStream, kind: IoKind) {
        let req = match kind {
            IoKind::Lseek(_) | IoKind::LseekCur(_) => return self.done(pid, Err(Errno::ESPIPE)),
            IoKind::Read if !s.mode.reads() => return self.done(pid, Err(Errno::EBADF)),
            IoKind::Write(_) if !s.mode.writes() => return self.done(pid, Err(Errno::EBADF)),
            IoKind::Read => FileReq::Read {
                stream: sid,
                pos: s.pos,
            },
            IoKind::Write(sym) => FileReq::Write {
                stream: sid,
                pos: s.pos,
                sym,
            },
        };
        self.block(pid, Pending::Io { stream: sid });
        self.send_server(pid, req);
    }

    fn set_pos(&mut self, sid: StreamId, p: u8) {
        if let Some(s) = self.streams.get_mut(&sid) {
            s.pos = Some(p);
        }
    }

    /// `close`. The host's last reference to a stream is a call to the server, and the
    /// close takes effect there: until the server answers, the descriptor and the host's
    /// reference stay (the server may be busy with another request on the file, such as
    /// a stream exchange, that must see this host as a user still).
    fn close(&mut self, pid: Pid, fd: Fd) {
        let Some(sid) = self.stream_of(pid, fd) else {
            return self.done(pid, Err(Errno::EBADF));
        };
        if !self.last_refs(&[sid]).is_empty() {
            self.block(pid, Pending::Close { fd });
            self.send_server(pid, FileReq::Close { streams: vec![sid] });
        } else {
            self.drop_fds(pid, &[fd]);
            self.done(pid, Ok(Value::Unit));
        }
    }

    /// The streams among `refs` (one entry per reference) whose last reference on this host
    /// these are: dropping them means telling the server. A stream moving in with a
    /// migrating process is never one (see [`Kernel::drop_stream_ref`]).
    fn last_refs(&self, refs: &[StreamId]) -> Vec<StreamId> {
        let mut last = Vec::new();
        for sid in refs {
            let mine = refs.iter().filter(|s| *s == sid).count();
            let held = self.streams.get(sid).map_or(0, |s| s.refs as usize);
            if held > 0
                && held <= mine
                && !self.incoming_streams.contains_key(sid)
                && !last.contains(sid)
            {
                last.push(*sid);
            }
        }
        last
    }

    /// Removes descriptors of a process and drops the host's references behind them (the
    /// server has been told of any last reference already).
    fn drop_fds(&mut self, pid: Pid, fds: &[Fd]) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        let sids: Vec<StreamId> = fds.iter().filter_map(|fd| p.fds.remove(fd)).collect();
        for sid in sids {
            self.drop_stream_ref(sid);
        }
    }

    /// Drops one host reference; true if it was the host's last (the server must know).
    pub(crate) fn drop_stream_ref(&mut self, sid: StreamId) -> bool {
        let Some(s) = self.streams.get_mut(&sid) else {
            return false;
        };
        s.refs = s.refs.saturating_sub(1);
        if s.refs > 0 {
            return false;
        }
        if self.incoming_streams.contains_key(&sid) {
            // The stream is moving in with a migrating process: this host's reference
            // to it at the server must survive until the move's grant arrives, or the
            // server could see the close after the move and drop the stream (DEL, OFF).
            return false;
        }
        if let Some(s) = self.streams.remove(&sid) {
            if self.left_writers.contains(&s.file) {
                crate::migrate::drop_left_blocks(self, s.file);
            }
        }
        true
    }

    /// A stream's move into this host ended (granted or not): forget the hold, and close
    /// a held reference nobody uses any more.
    pub(crate) fn stream_arrived(&mut self, pid: Pid, sid: StreamId) {
        if let Some(n) = self.incoming_streams.get_mut(&sid) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.incoming_streams.remove(&sid);
            }
        }
        let unused = self.streams.get(&sid).is_some_and(|s| s.refs == 0);
        if unused && !self.incoming_streams.contains_key(&sid) {
            if let Some(s) = self.streams.remove(&sid) {
                if self.left_writers.contains(&s.file) {
                    crate::migrate::drop_left_blocks(self, s.file);
                }
            }
            self.send_server(pid, FileReq::Close { streams: vec![sid] });
        }
    }

    fn dup(&mut self, pid: Pid, fd: Fd) {
        let Some(sid) = self.stream_of(pid, fd) else {
            return self.done(pid, Err(Errno::EBADF));
        };
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        if p.fds.len() >= MAX_FDS {
            return self.done(pid, Err(Errno::EMFILE));
        }
        let used: BTreeSet<Fd> = p.fds.keys().copied().collect();
        let Some(new) = smallest_free(&used, Fd) else {
            return self.done(pid, Err(Errno::EMFILE));
        };
        p.fds.insert(new, sid);
        if let Some(s) = self.streams.get_mut(&sid) {
            s.refs = s.refs.saturating_add(1);
        }
        self.done(pid, Ok(Value::Fd(new)))
    }

    // ------------------------------------------------------------ fork, exec, exit, wait

    fn fork(&mut self, pid: Pid) {
        // The child copies the whole address space: bring in pages that are elsewhere.
        self.block(pid, Pending::ForkPaging);
        self.fork_continue(pid);
    }

    fn fork_continue(&mut self, pid: Pid) {
        let missing = self
            .procs
            .get(&pid)
            .map(|p| p.vm.missing())
            .unwrap_or_default();
        if let Some((page, where_)) = missing.first().copied() {
            return self.page_in(pid, page, where_);
        }
        let home = pid.home;
        if home == self.host() {
            let r = self.home_alloc(pid, self.host());
            self.fork_finish(pid, r);
        } else if self.sw(Switch::LocalPids) {
            // The rejected alternative, as LOCUS names processes: the child is named by,
            // and homed on, the host that creates it (its origin site), which allocates the
            // pid from its own table without asking; the parent's home only hears of the
            // child (CHILD_NOTICE), so that the parent's wait knows it has one.
            let r = self.home_alloc(pid, self.host());
            if let Ok(child) = r {
                self.send_host(home, Msg::ChildNotice { parent: pid, child });
            }
            self.fork_finish(pid, r);
        } else {
            self.block(pid, Pending::ForkPid);
            self.send_host(
                home,
                Msg::ForkPid {
                    parent: pid,
                    at: self.host(),
                },
            );
        }
    }

    /// The home allocates a pid for a child of `parent` running on `at` (PID): an index no
    /// process of this home has, alive or exited, and no process group is named after
    /// (POSIX); the child is in its parent's group.
    fn home_alloc(&mut self, parent: Pid, at: HostId) -> Result<Pid, Errno> {
        let me = self.host();
        let groups = self
            .home
            .values()
            .filter(|e| e.life == Life::Alive)
            .map(|e| e.pgrp);
        let used: BTreeSet<u8> = self
            .home
            .keys()
            .copied()
            .chain(groups)
            .filter(|p| p.home == me)
            .map(|p| p.index)
            .collect();
        // The child is in its parent's group. Under `local-pids` the parent's record is at
        // its own home, not here: the group comes from the parent's PCB, which runs here.
        let pgrp = match (self.home.get(&parent), self.procs.get(&parent)) {
            (Some(e), _) => e.pgrp,
            (None, Some(pcb)) => pcb.pgrp,
            (None, None) => parent,
        };
        let index = smallest_free(&used, |i| i).ok_or(Errno::EAGAIN)?;
        if index == u8::MAX {
            return Err(Errno::EAGAIN);
        }
        let gen = self.generations.get(&index).copied().unwrap_or(0);
        let child = Pid::with_gen(me, index, gen);
        self.generations
            .insert(index, gen.wrapping_add(1) % Pid::GENERATIONS);
        self.home.insert(
            child,
            HomeEntry {
                parent: Some(parent),
                loc: Loc::At(at),
                life: Life::Alive,
                waiting: None,
                held_signals: 0,
                held_wait: None,
                pgrp,
            },
        );
        Ok(child)
    }

    fn fork_finish(&mut self, pid: Pid, r: Result<Pid, Errno>) {
        let child = match r {
            Ok(c) => c,
            Err(e) => return self.done(pid, Err(e)),
        };
        let Some(parent) = self.procs.get(&pid).cloned() else {
            return;
        };
        for sid in parent.fds.values() {
            if let Some(s) = self.streams.get_mut(sid) {
                s.refs = s.refs.saturating_add(1);
            }
        }
        let mut vm = parent.vm.clone();
        vm.has_backing = false;
        for p in vm.pages.iter_mut() {
            // The child has no backing file yet: every copied page is dirty for it.
            if let Page::Resident { dirty, .. } = p {
                *dirty = true;
            }
        }
        let pcb = Pcb {
            pid: child,
            parent: Some(pid),
            status: ProcStatus::Running,
            fds: parent.fds.clone(),
            vm,
            signals: 0,
            // fork copies the address space, so the child shares no writable memory and
            // maps no device: it may migrate even if its parent may not (as in the model).
            shares_memory: false,
            maps_device: false,
            pending: None,
            evict_pending: false,
            args: parent.args.clone(),
            pgrp: parent.pgrp,
        };
        self.procs.insert(child, pcb);
        self.hints.insert(child, self.host());
        if self.sw(Switch::WaitOnCurrent) {
            self.local_rdv.insert(
                child,
                LocalRdv {
                    parent: pid,
                    life: Life::Alive,
                },
            );
        }
        self.done(pid, Ok(Value::Pid(child)));
        if self.owner_present && child.home != self.host() {
            self.maybe_evict_now(child);
        }
    }

    fn exec(&mut self, pid: Pid, target: Option<HostId>) {
        if let Some(t) = target.filter(|t| *t != self.host()) {
            // Exec-time migration (TH §4.2): the new image starts on `t`. A refusal is an
            // error and leaves the process untouched, old image included (REFUSE); the old
            // image is dropped only once the migration is past its point of no return (the
            // target discards its backing file, see `migrate::exec`).
            if let Err(r) = migrate::start(self, pid, t, MigKind::Exec) {
                self.done(pid, Err(Errno::Refused(r)));
            }
            return;
        }
        let args = self.cfg.exec_args.clone().unwrap_or_default();
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        p.vm.clear();
        p.args = args;
        if p.vm.has_backing {
            p.vm.has_backing = false;
            self.block(pid, Pending::ExecDiscard);
            self.send_server(pid, FileReq::DiscardBacking { pid });
        } else {
            self.done(pid, Ok(Value::Unit));
        }
    }

    /// `exit`: the process's streams are closed first (as by `close`, the descriptors stay
    /// until the server has closed the host's last references), then its backing file is
    /// discarded and the home is told.
    ///
    /// Every reference, the host's last or not, stays until the exit takes effect (when the
    /// server has closed the last ones): until then another process here that shares a
    /// stream and leaves it (a migration's release, a close) must still see this one use
    /// it, as the model, whose exit is one step, does (KNOWN-11 in `conform/README.md`).
    fn exit(&mut self, pid: Pid, status: u8) {
        let Some(p) = self.procs.get(&pid) else {
            return;
        };
        let sids: Vec<StreamId> = p.fds.values().copied().collect();
        let closing = self.last_refs(&sids);
        self.block(
            pid,
            Pending::ExitClosing {
                status,
                closing: closing.clone(),
                late: false,
            },
        );
        if closing.is_empty() {
            self.exit_closed(pid, status, &[]);
        } else {
            self.send_server(pid, FileReq::Close { streams: closing });
        }
    }

    /// The exiting process's last references are closed at the server: its descriptors go.
    /// A reference that was not the host's last when the exit began may be now (the other
    /// holders here left meanwhile): the server closes those too before the exit goes on,
    /// in a second FILE_OP that belongs to this step (the abstraction counts it as
    /// delivered, `conform::abs::settles`; the server takes it beside a stream exchange on
    /// the file, `FileServer::close_beside_exchange`).
    fn exit_closed(&mut self, pid: Pid, status: u8, closing: &[StreamId]) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        // The exit takes effect once its last references are closed: what follows (the
        // backing file discarded, the home told) is decided.
        self.out.push(Out::Witness(Witness::Run(pid)));
        let sids: Vec<StreamId> = std::mem::take(&mut p.fds).into_values().collect();
        let mut late = Vec::new();
        for sid in &sids {
            if self.drop_stream_ref(*sid) && !closing.contains(sid) && !late.contains(sid) {
                late.push(*sid);
            }
        }
        if late.is_empty() {
            self.exit_discard(pid, status);
        } else {
            self.block(
                pid,
                Pending::ExitClosing {
                    status,
                    closing: late.clone(),
                    late: true,
                },
            );
            self.send_server(pid, FileReq::Close { streams: late });
        }
    }

    fn exit_discard(&mut self, pid: Pid, status: u8) {
        let has = self.procs.get(&pid).is_some_and(|p| p.vm.has_backing);
        if has {
            self.block(pid, Pending::ExitDiscard { status });
            self.send_server(pid, FileReq::DiscardBacking { pid });
        } else {
            self.exit_notify(pid, status);
        }
    }

    fn exit_notify(&mut self, pid: Pid, status: u8) {
        if self.sw(Switch::WaitOnCurrent) {
            // Its own rendezvous (its children's statuses) goes with it; the exit goes to
            // the home, which sends it on to where the parent is (`home_exit`).
            self.local_rdv.retain(|_, r| r.parent != pid);
        }
        if pid.home == self.host() {
            self.home_exit(pid, status);
            self.procs.remove(&pid);
            self.out.push(Out::Done(pid, Ok(Value::Unit)));
        } else {
            self.block(pid, Pending::ExitNotify);
            self.send_host(pid.home, Msg::ExitNotice { pid, status });
        }
    }

    /// The `wait-on-current` rendezvous, on the host where the parent runs: an exit
    /// status arrives for `parent`. Its state is here: the rendezvous keeps the status, or
    /// answers its wait. It is moving away, its state already sent: the notice goes on to
    /// the target. Otherwise nothing here knows the parent any more, and the status is
    /// lost (the model's counterexample for the switch).
    fn child_exit(&mut self, child: Pid, parent: Pid, status: u8) {
        if let Some(m) = self.outgoing.get(&parent).filter(|m| m.state_sent()) {
            let to = m.cx.to;
            return self.send_host(
                to,
                Msg::ChildExit {
                    child,
                    parent,
                    status,
                },
            );
        }
        let Some(p) = self.procs.get(&parent) else {
            return self.note(Note::ExitLost { child, parent });
        };
        // (A waiter still arriving is answered when it resumes, `waiter_arrived`.)
        if p.pending == Some(Pending::Wait) && p.status == ProcStatus::Running {
            self.local_rdv.remove(&child);
            self.reaped(child);
            return self.done(parent, Ok(Value::Child { pid: child, status }));
        }
        self.local_rdv.insert(
            child,
            LocalRdv {
                parent,
                life: Life::Zombie(status),
            },
        );
    }

    /// Under `wait-on-current`: a process blocked in wait has arrived here (an eviction
    /// moved it) with its rendezvous; a status that came meanwhile answers it now.
    pub(crate) fn waiter_arrived(&mut self, pid: Pid) {
        if !self.sw(Switch::WaitOnCurrent) || self.pending(pid) != Some(&Pending::Wait) {
            return;
        }
        let zombie = self.local_rdv.iter().find_map(|(c, r)| match r.life {
            Life::Zombie(st) if r.parent == pid => Some((*c, st)),
            _ => None,
        });
        if let Some((child, status)) = zombie {
            self.local_rdv.remove(&child);
            self.reaped(child);
            self.done(pid, Ok(Value::Child { pid: child, status }));
        }
    }

    /// Under `wait-on-current`: a child's status was collected here; its home frees the
    /// pid it kept.
    fn reaped(&mut self, child: Pid) {
        if child.home == self.host() {
            self.home_reaped(child);
        } else {
            self.send_host(child.home, Msg::Reaped { pid: child });
        }
    }

    fn home_reaped(&mut self, child: Pid) {
        if self
            .home
            .get(&child)
            .is_some_and(|e| matches!(e.life, Life::Zombie(_)))
        {
            self.home.remove(&child);
        }
    }

    /// The exit half of the rendezvous at the home (same rules as the ghost's exit).
    pub(crate) fn home_exit(&mut self, pid: Pid, status: u8) {
        let Some(entry) = self.home.get(&pid).cloned() else {
            return self.foreign_child_exit(pid, status);
        };
        if entry.life != Life::Alive {
            return;
        }
        let children: Vec<Pid> = self
            .home
            .iter()
            .filter(|(_, e)| e.parent == Some(pid))
            .map(|(c, _)| *c)
            .collect();
        for c in children {
            if matches!(self.home[&c].life, Life::Zombie(_)) {
                self.home.remove(&c);
            } else if let Some(e) = self.home.get_mut(&c) {
                e.parent = None;
                if let Some(p) = self.procs.get_mut(&c) {
                    p.parent = None;
                }
            }
        }
        // `local-pids`: its children homed elsewhere are reaped or orphaned here too.
        self.foreign_children.retain(|_, r| r.parent != pid);
        if self.sw(Switch::WaitOnCurrent) {
            // The rendezvous is where the parent runs: the status goes there, where this
            // table says the parent is (its source, while it moves). The pid stays taken
            // (a kill finds the zombie) until the parent's host says it was collected.
            let parent = entry.parent.and_then(|pp| {
                self.home
                    .get(&pp)
                    .filter(|e| e.life == Life::Alive)
                    .map(|e| (pp, e.loc))
            });
            let Some((pp, loc)) = parent else {
                self.home.remove(&pid);
                return;
            };
            if let Some(e) = self.home.get_mut(&pid) {
                e.life = Life::Zombie(status);
            }
            // (A parent already installed here, its move not yet recorded, is here.)
            let installed = self.procs.contains_key(&pp)
                && !self.outgoing.get(&pp).is_some_and(|m| m.state_sent());
            let to = match loc {
                _ if installed => self.host(),
                Loc::At(h) | Loc::Moving { from: h, .. } => h,
            };
            if to == self.host() {
                self.child_exit(pid, pp, status);
            } else {
                self.send_host(
                    to,
                    Msg::ChildExit {
                        child: pid,
                        parent: pp,
                        status,
                    },
                );
            }
            return;
        }
        if let Some(pp) = entry.parent.filter(|pp| pp.home != self.host()) {
            // `local-pids`: the parent's rendezvous is at its own home.
            self.home.remove(&pid);
            self.send_host(pp.home, Msg::DeathNotice { pid, status });
            return;
        }
        let parent = entry
            .parent
            .and_then(|pp| self.home.get(&pp).map(|e| (pp, e.clone())));
        match parent {
            Some((pp, pe)) if pe.life == Life::Alive && pe.waiting.is_some() => {
                self.home.remove(&pid);
                let outcome = Ok(Value::Child { pid, status });
                let mut answer_at = None;
                if let Some(e) = self.home.get_mut(&pp) {
                    e.waiting = None;
                    match e.loc {
                        Loc::At(h) => answer_at = Some(h),
                        // The waiter is being moved (evicted mid-wait): hold the answer
                        // until the home update, like a signal.
                        Loc::Moving { .. } => e.held_wait = Some(outcome),
                    }
                }
                if let Some(h) = answer_at {
                    self.wait_answer(pp, h, outcome);
                }
            }
            Some((_, pe)) if pe.life == Life::Alive => {
                if let Some(e) = self.home.get_mut(&pid) {
                    e.life = Life::Zombie(status);
                }
            }
            _ => {
                self.home.remove(&pid);
            }
        }
    }

    /// `local-pids`: a child created on another host is recorded here, at its parent's
    /// home, if the parent is still alive.
    fn child_notice(&mut self, parent: Pid, child: Pid) {
        if self
            .home
            .get(&parent)
            .is_some_and(|e| e.life == Life::Alive)
        {
            self.foreign_children.insert(
                child,
                LocalRdv {
                    parent,
                    life: Life::Alive,
                },
            );
        }
    }

    /// `local-pids`: the exit of a child homed elsewhere, passed on by its home: it answers
    /// the parent's wait, or waits for it as a zombie.
    fn foreign_child_exit(&mut self, pid: Pid, status: u8) {
        let Some(r) = self.foreign_children.get(&pid).cloned() else {
            return;
        };
        if r.life != Life::Alive {
            return;
        }
        let waiting = self
            .home
            .get(&r.parent)
            .and_then(|e| match (e.life, e.loc) {
                (Life::Alive, Loc::At(h)) if e.waiting.is_some() => Some(Some(h)),
                (Life::Alive, Loc::Moving { .. }) if e.waiting.is_some() => Some(None),
                _ => None,
            });
        let outcome = Ok(Value::Child { pid, status });
        match waiting {
            Some(at) => {
                self.foreign_children.remove(&pid);
                if let Some(e) = self.home.get_mut(&r.parent) {
                    e.waiting = None;
                    if at.is_none() {
                        e.held_wait = Some(outcome);
                    }
                }
                if let Some(h) = at {
                    self.wait_answer(r.parent, h, outcome);
                }
            }
            None => {
                if let Some(e) = self.foreign_children.get_mut(&pid) {
                    e.life = Life::Zombie(status);
                }
            }
        }
    }

    fn wait(&mut self, pid: Pid) {
        if self.sw(Switch::WaitOnCurrent) {
            let zombie = self
                .local_rdv
                .iter()
                .find(|(_, r)| r.parent == pid && matches!(r.life, Life::Zombie(_)))
                .map(|(c, r)| (*c, r.life));
            if let Some((c, Life::Zombie(status))) = zombie {
                self.local_rdv.remove(&c);
                self.reaped(c);
                return self.done(pid, Ok(Value::Child { pid: c, status }));
            }
            if self.local_rdv.values().any(|r| r.parent == pid) {
                // Blocks: the wait has taken effect (the exit that ends it answers it).
                self.witness(Witness::Run(pid));
                return self.block(pid, Pending::Wait);
            }
            return self.done(pid, Err(Errno::ECHILD));
        }
        self.block(pid, Pending::Wait);
        if pid.home == self.host() {
            self.home_wait(pid, self.host());
        } else {
            self.send_host(pid.home, Msg::WaitRequest { pid });
        }
    }

    /// The wait half of the rendezvous at the home.
    fn home_wait(&mut self, pid: Pid, at: HostId) {
        let zombie = self
            .home
            .iter()
            .find(|(_, e)| e.parent == Some(pid) && matches!(e.life, Life::Zombie(_)))
            .map(|(c, e)| (*c, e.life));
        if let Some((c, Life::Zombie(status))) = zombie {
            self.home.remove(&c);
            return self.wait_answer(pid, at, Ok(Value::Child { pid: c, status }));
        }
        let foreign = self
            .foreign_children
            .iter()
            .find(|(_, r)| r.parent == pid && matches!(r.life, Life::Zombie(_)))
            .map(|(c, r)| (*c, r.life));
        if let Some((c, Life::Zombie(status))) = foreign {
            self.foreign_children.remove(&c);
            return self.wait_answer(pid, at, Ok(Value::Child { pid: c, status }));
        }
        let has_children = self.home.values().any(|e| e.parent == Some(pid))
            || self.foreign_children.values().any(|r| r.parent == pid);
        match self.home.get_mut(&pid) {
            Some(e) if has_children => {
                // Blocks: the wait has taken effect (the exit that ends it answers it).
                e.waiting = Some(at);
                self.witness(Witness::Run(pid));
            }
            _ => self.wait_answer(pid, at, Err(Errno::ECHILD)),
        }
    }

    fn wait_answer(&mut self, pid: Pid, at: HostId, outcome: Outcome) {
        if at == self.host() {
            if self.pending(pid) == Some(&Pending::Wait) {
                self.done(pid, outcome);
            }
        } else {
            self.send_host(at, Msg::WaitReply { pid, outcome });
        }
    }

    // ------------------------------------------------------------ signals

    fn kill(&mut self, pid: Pid, target: Pid) {
        if self.sw(Switch::DirectSignals)
            && target.home != self.host()
            && self.hints.get(&target) == Some(&self.host())
        {
            // The alternative (LOCUS, V): where the sender believes the process is. This
            // kernel's location cache is filled at fork (a child starts here), so the only
            // location it knows is this host: if the process is still here, the signal is
            // delivered on the spot; if it left, the location is stale and the kill takes
            // the home's way below, which is the correction.
            if self.takes_signal_here(target) {
                self.witness(Witness::Run(pid));
                self.deliver_signal(target);
                return self.done(pid, Ok(Value::Unit));
            }
        }
        if target.home == self.host() {
            // Decided here, before the signal it sends takes its first hop.
            self.witness(Witness::Run(pid));
            let r = self.home_signal(target);
            return self.done(pid, r);
        }
        self.block(pid, Pending::Kill { to: target.home });
        self.send_host(
            target.home,
            Msg::Signal {
                target,
                sender: Some((self.host(), pid)),
            },
        );
    }

    /// The home routes a signal: to the current host, or held while the process moves (SIG).
    pub(crate) fn home_signal(&mut self, target: Pid) -> Outcome {
        let Some(e) = self.home.get_mut(&target) else {
            return Err(Errno::ESRCH);
        };
        match (e.life, e.loc) {
            (Life::Zombie(_), _) => {}
            (Life::Alive, Loc::Moving { .. }) => e.held_signals = e.held_signals.saturating_add(1),
            (Life::Alive, Loc::At(h)) if h == self.host() => self.deliver_signal(target),
            (Life::Alive, Loc::At(h)) => self.send_host(
                h,
                Msg::Signal {
                    target,
                    sender: None,
                },
            ),
        }
        Ok(Value::Unit)
    }

    /// Whether a signal for `target` reaches it on this host now (see `deliver_signal`).
    fn takes_signal_here(&self, target: Pid) -> bool {
        self.procs.get(&target).is_some_and(|p| {
            p.status == ProcStatus::Running
                || (p.status == ProcStatus::Migrating
                    && self
                        .outgoing
                        .get(&target)
                        .is_some_and(|m| m.phase == crate::migrate::OutPhase::Init))
                || (p.status == ProcStatus::Incoming
                    && self
                        .incoming
                        .get(&target)
                        .is_some_and(|m| m.current.is_none() && m.rpcs.is_empty()))
        })
    }

    /// A signal for a process that should be here; if it left, back to its home. A process
    /// frozen for a migration takes it only until the home is told of the move (MIG_START
    /// on its way or done): from then on the home holds signals until the move ends, so
    /// the signal goes back to the home, which gets it after MIG_START (one channel keeps
    /// its order) and holds it (SIG; the model's home holds it from MIG_START on).
    /// A process whose state is installed here and waits for RESUME takes it too: the
    /// home sent it here because it knows the process is here (HOME_UPDATE is done before
    /// RESUME is sent). Under Sprite the home is the source then and RESUME is ahead of the
    /// signal on the same channel; with `remote-to-remote` RESUME comes from another host,
    /// and bouncing the signal back to the home could go on until it arrives.
    fn deliver_signal(&mut self, target: Pid) {
        let here = self.takes_signal_here(target);
        if here {
            // The signal reaches the process. Its route (bounced by a host the process
            // left, held by the home while it moves) may differ from the model's; the
            // delivery is the step both take.
            self.witness(Witness::Signal {
                pid: target,
                to: self.host(),
            });
            if let Some(p) = self.procs.get_mut(&target) {
                p.signals = p.signals.saturating_add(1);
            }
        } else if target.home != self.host() {
            self.send_host(
                target.home,
                Msg::Signal {
                    target,
                    sender: None,
                },
            );
        } else if let Some(e) = self.home.get_mut(&target) {
            // The process is on its way here or away: hold it until the home update.
            e.held_signals = e.held_signals.saturating_add(1);
        }
    }

    // ------------------------------------------------------------ memory

    fn mem(&mut self, pid: Pid, page: PageNo, write: Option<u8>) {
        let Some(p) = self.procs.get(&pid) else {
            return;
        };
        match p.vm.get(page) {
            None => self.done(pid, Err(Errno::EINVAL)),
            Some(Page::Backing) | Some(Page::Remote(_)) => {
                let where_ = p.vm.get(page).unwrap_or(Page::Backing);
                self.block(pid, Pending::Fault { page, write });
                self.page_in(pid, page, where_);
            }
            Some(Page::Zero) => {
                self.set_page(
                    pid,
                    page,
                    Page::Resident {
                        sym: 0,
                        dirty: false,
                    },
                );
                self.access(pid, page, write);
            }
            Some(Page::Resident { .. }) => self.access(pid, page, write),
        }
    }

    fn page_in(&mut self, pid: Pid, page: PageNo, where_: Page) {
        match where_ {
            Page::Remote(h) => self.send_host(
                h,
                Msg::PageIn {
                    pid,
                    page,
                    from_source: true,
                },
            ),
            _ => self.send(
                Node::Server,
                Msg::PageIn {
                    pid,
                    page,
                    from_source: false,
                },
            ),
        }
    }

    fn set_page(&mut self, pid: Pid, page: PageNo, pg: Page) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.vm.set(page, pg);
        }
    }

    fn access(&mut self, pid: Pid, page: PageNo, write: Option<u8>) {
        self.note(Note::Touch { pid, page });
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        match (write, p.vm.get(page)) {
            (Some(sym), _) => {
                p.vm.set(page, Page::Resident { sym, dirty: true });
                migrate::page_written(self, pid, page);
                self.done(pid, Ok(Value::Unit))
            }
            (None, Some(Page::Resident { sym, .. })) => self.done(pid, Ok(Value::Mem(sym))),
            _ => self.done(pid, Err(Errno::EINVAL)),
        }
    }

    // ------------------------------------------------------------ eviction

    /// Sends every foreign process home (arriving ones too, if `incoming`): now if it is
    /// idle, else when its call completes.
    fn evict_foreign(&mut self, incoming: bool) {
        let foreign: Vec<Pid> = self
            .procs
            .iter()
            .filter(|(p, pcb)| {
                p.home != self.host() && (incoming || pcb.status != ProcStatus::Incoming)
            })
            .map(|(p, _)| *p)
            .collect();
        for pid in foreign {
            self.maybe_evict_now(pid);
        }
    }

    fn maybe_evict_now(&mut self, pid: Pid) {
        let moving = self.outgoing.contains_key(&pid);
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        // A process blocked in wait waits at its home's rendezvous, so it can move (under
        // wait-on-current the rendezvous moves with it).
        let in_wait = p.pending == Some(Pending::Wait);
        // (A process pre-copied home while it runs is on its way already.)
        let movable =
            p.status == ProcStatus::Running && (p.pending.is_none() || in_wait) && !moving;
        if movable {
            p.evict_pending = false;
            self.note(Note::Evicting { pid });
            if migrate::start(self, pid, pid.home, MigKind::Evict).is_err() {
                // Cannot move (e.g. shares memory): it stays, as Sprite would kill or keep it.
            }
        } else {
            p.evict_pending = true;
        }
    }

    pub(crate) fn maybe_evict(&mut self, pid: Pid) {
        let due = pid.home != self.host()
            && self.procs.get(&pid).is_some_and(|p| {
                p.status == ProcStatus::Running && (self.owner_present || p.evict_pending)
            });
        if due {
            self.maybe_evict_now(pid);
        }
    }

    // ------------------------------------------------------------ messages

    fn msg(&mut self, from: Node, version: u16, msg: Msg) {
        let src = match from {
            Node::Host(h) => Some(h),
            Node::Server | Node::Migd => None,
        };
        match msg {
            // Replies to a process's own calls.
            Msg::FileOpReply { pid, resp } => self.file_reply(pid, resp),
            Msg::PageInReply { pid, page, sym } => self.page_in_reply(pid, page, sym),
            Msg::ForkPidReply { parent, result } => {
                if self.pending(parent) == Some(&Pending::ForkPid) {
                    self.fork_finish(parent, result);
                }
            }
            Msg::ForwardReply { pid, outcome } => {
                if let Some(Pending::Forwarded(call)) = self.pending(pid) {
                    // setpgid is joint: the home changed its record, and the PCB here
                    // takes the same group.
                    if let (Forwarded::Setpgid { pgrp }, Ok(_)) = (*call, &outcome) {
                        if let Some(pcb) = self.procs.get_mut(&pid) {
                            pcb.pgrp = pgrp;
                        }
                    }
                    self.done(pid, outcome);
                }
            }
            Msg::WaitReply { pid, outcome } => {
                if self.pending(pid) == Some(&Pending::Wait) {
                    self.done(pid, outcome);
                }
            }
            Msg::SignalReply { sender, outcome } => match self.pending(sender) {
                Some(Pending::Kill { .. }) => self.done(sender, outcome),
                Some(Pending::KillpgAll { .. }) => {
                    if let Some(h) = src {
                        self.killpg_answered(sender, h, outcome.is_ok());
                    }
                }
                _ => {}
            },
            Msg::ExitAck { pid } => {
                if self.pending(pid) == Some(&Pending::ExitNotify) {
                    self.procs.remove(&pid);
                    self.out.push(Out::Done(pid, Ok(Value::Unit)));
                }
            }
            // Requests to the home.
            Msg::Forward { pid, call } => {
                let outcome = match call {
                    Forwarded::Gettimeofday => Ok(Value::Time(self.clock(self.now))),
                    Forwarded::Getpgrp | Forwarded::Setpgid { .. } => {
                        self.home_group_call(pid, call)
                    }
                };
                if let Some(h) = src {
                    self.send_host(h, Msg::ForwardReply { pid, outcome });
                }
            }
            Msg::Killpg { pgrp, sender } => {
                self.witness(Witness::Run(sender.1));
                let outcome = self.home_killpg(pgrp);
                self.send_host(
                    sender.0,
                    Msg::SignalReply {
                        sender: sender.1,
                        outcome,
                    },
                );
            }
            Msg::ForkPid { parent, at } => {
                let result = self.home_alloc(parent, at);
                self.send_host(at, Msg::ForkPidReply { parent, result });
            }
            Msg::ExitNotice { pid, status } => {
                self.home_exit(pid, status);
                if let Some(h) = src {
                    self.send_host(h, Msg::ExitAck { pid });
                }
            }
            Msg::DeathNotice { pid, status } => self.home_exit(pid, status),
            Msg::ChildExit {
                child,
                parent,
                status,
            } => self.child_exit(child, parent, status),
            Msg::Reaped { pid } => self.home_reaped(pid),
            Msg::ChildNotice { parent, child } => self.child_notice(parent, child),
            Msg::WaitRequest { pid } => {
                if let Some(h) = src {
                    self.home_wait(pid, h);
                }
            }
            Msg::Signal { target, sender } => {
                if let Some((_, spid)) = sender {
                    // The kill is decided here (its reply settles it), before the signal
                    // it sends takes its first hop.
                    self.witness(Witness::Run(spid));
                }
                let outcome = if target.home == self.host() && sender.is_some() {
                    Some(self.home_signal(target))
                } else if target.home == self.host() {
                    // Bounced back by a host the process left: route again.
                    let _ = self.home_signal(target);
                    None
                } else {
                    self.deliver_signal(target);
                    None
                };
                if let (Some(outcome), Some((h, spid))) = (outcome, sender) {
                    self.send_host(
                        h,
                        Msg::SignalReply {
                            sender: spid,
                            outcome,
                        },
                    );
                }
            }
            Msg::PageIn { pid, page, .. } => {
                // Copy-on-reference: the source still serves the page (residual dependency).
                let sym = self.residual.get(&pid).and_then(|r| r.get(&page)).copied();
                if let Some(h) = src {
                    self.send_host(h, Msg::PageInReply { pid, page, sym });
                }
            }
            // File server callbacks (CACHE §3.2).
            Msg::BlockRecall { file } => {
                let blocks = match self.cache.get_mut(&file) {
                    Some(e) => {
                        let b = e.dirty_blocks();
                        e.dirty.clear();
                        b
                    }
                    None => Blocks::default(),
                };
                self.written_back(file, &blocks);
                self.send(Node::Server, Msg::BlockRecallReply { file, blocks });
            }
            Msg::CacheDisable { file } => {
                let blocks = self
                    .cache
                    .get(&file)
                    .map(|e| e.dirty_blocks())
                    .unwrap_or_default();
                self.cache.insert(
                    file,
                    CacheEntry {
                        incarnation: 0,
                        version: 0,
                        data: Vec::new(),
                        dirty: BTreeSet::new(),
                        cacheable: false,
                    },
                );
                self.written_back(file, &blocks);
                self.send(Node::Server, Msg::CacheDisableReply { file, blocks });
            }
            // Migration.
            other => migrate::on_msg(self, src, version, other),
        }
    }

    fn file_reply(&mut self, pid: Pid, resp: FileResp) {
        // A file reclaimed at this host's last close: its cached copy is garbage now (and
        // its id may be reused for a new file).
        let resp = match resp {
            FileResp::Closed { reclaimed } => {
                for f in reclaimed {
                    self.cache.remove(&f);
                    self.names.retain(|_, x| *x != f);
                }
                FileResp::Unit
            }
            other => other,
        };
        let Some(pending) = self.pending(pid).cloned() else {
            // The process died while its open or pipe was at the server (a crash of its
            // home killed it here, say): the server granted streams nobody holds. Close
            // them, as the kill closed the process's other streams, or the server would
            // count a reference from this host for ever.
            let orphaned = match resp {
                FileResp::Granted(g) if !self.procs.contains_key(&pid) => vec![g.stream],
                FileResp::PipeGranted { read, write } if !self.procs.contains_key(&pid) => {
                    vec![read.stream, write.stream]
                }
                _ => Vec::new(),
            };
            if !orphaned.is_empty() {
                self.send_server(pid, FileReq::Close { streams: orphaned });
            }
            return;
        };
        let io_stream = match pending {
            Pending::Io { stream } => Some(stream),
            _ => None,
        };
        self.file_reply_to(pid, pending, resp);
        if let Some(sid) = io_stream {
            self.io_resume(sid);
        }
    }

    fn file_reply_to(&mut self, pid: Pid, pending: Pending, resp: FileResp) {
        match (pending, resp) {
            (Pending::Pipe, FileResp::PipeGranted { read, write }) => {
                self.install_grant(&read, 1);
                self.install_grant(&write, 1);
                let Some(p) = self.procs.get_mut(&pid) else {
                    return;
                };
                let mut ends = [Fd(0); 2];
                for (end, g) in ends.iter_mut().zip([&read, &write]) {
                    let used: BTreeSet<Fd> = p.fds.keys().copied().collect();
                    // Two descriptors were free when the call started, and only the
                    // process itself (blocked here) changes its table.
                    *end = smallest_free(&used, Fd).unwrap_or(Fd(u8::MAX));
                    p.fds.insert(*end, g.stream);
                }
                self.done(
                    pid,
                    Ok(Value::Pipe {
                        read: ends[0],
                        write: ends[1],
                    }),
                )
            }
            (Pending::Open { name }, FileResp::Granted(g)) => {
                self.install_grant(&g, 1);
                self.names.insert(name, g.file);
                let Some(p) = self.procs.get_mut(&pid) else {
                    return;
                };
                let used: BTreeSet<Fd> = p.fds.keys().copied().collect();
                match smallest_free(&used, Fd) {
                    Some(fd) => {
                        p.fds.insert(fd, g.stream);
                        self.done(pid, Ok(Value::Fd(fd)))
                    }
                    None => self.done(pid, Err(Errno::EMFILE)),
                }
            }
            (
                Pending::Io { stream },
                FileResp::Done {
                    outcome,
                    pos,
                    local,
                    refresh,
                },
            ) => {
                let mut file = None;
                if let Some(s) = self.streams.get_mut(&stream) {
                    if s.pos.is_some() || local {
                        s.pos = Some(pos);
                    }
                    file = Some(s.file);
                }
                if let (Some((version, mut data)), Some(f)) = (refresh, file) {
                    if let Some(e) = self.cache.get_mut(&f).filter(|e| e.cacheable) {
                        // Keep blocks written here since (they are newer).
                        e.dirty_blocks().apply(&mut data);
                        e.data = data;
                        e.version = version;
                    }
                }
                self.done(pid, outcome)
            }
            (Pending::Close { fd }, _) => {
                self.drop_fds(pid, &[fd]);
                self.done(pid, Ok(Value::Unit))
            }
            (Pending::Stat, FileResp::Size(n)) => self.done(pid, Ok(Value::Size(n))),
            (Pending::Unlink { name }, r) => {
                self.names.remove(&name);
                match r {
                    FileResp::Failed(e) => self.done(pid, Err(e)),
                    _ => self.done(pid, Ok(Value::Unit)),
                }
            }
            (Pending::ExecDiscard, _) => self.done(pid, Ok(Value::Unit)),
            (
                Pending::ExitClosing {
                    status, late: true, ..
                },
                _,
            ) => self.exit_discard(pid, status),
            (
                Pending::ExitClosing {
                    status, closing, ..
                },
                _,
            ) => self.exit_closed(pid, status, &closing),
            (Pending::ExitDiscard { status }, _) => self.exit_notify(pid, status),
            (Pending::Migrate, resp) => migrate::on_file_reply(self, pid, resp),
            (_, FileResp::Failed(e)) => self.done(pid, Err(e)),
            (_, _) => self.done(pid, Err(Errno::EINVAL)),
        }
    }

    fn page_in_reply(&mut self, pid: Pid, page: PageNo, sym: Option<u8>) {
        let pending = self.pending(pid).cloned();
        // The page arrives clean (absent from the backing file: zero-filled).
        let install = |k: &mut Self| {
            k.set_page(
                pid,
                page,
                Page::Resident {
                    sym: sym.unwrap_or(0),
                    dirty: false,
                },
            );
            k.note(Note::PageXfer { pid, page });
        };
        match pending {
            Some(Pending::Fault { page: want, write }) if want == page => {
                install(self);
                self.access(pid, page, write);
            }
            Some(Pending::ForkPaging) => {
                install(self);
                self.fork_continue(pid);
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ failures

    fn bounced(&mut self, to: Node, msg: Msg) {
        match (to, msg) {
            (Node::Host(h), Msg::MigInit { pid, .. }) => {
                migrate::on_msg(
                    self,
                    Some(h),
                    self.cfg.version,
                    Msg::MigInitReply {
                        pid,
                        result: Err(Refusal::HostDown),
                    },
                );
            }
            (Node::Host(h), Msg::DeathNotice { pid, status }) => {
                // Kept, and sent when h is back [SRC procRecovery.c; specs/failures.md,
                // "Death notices"]; h is down, so it gets the usual crash handling too.
                self.undelivered.entry(h).or_default().insert(pid, status);
                self.host_down(h);
            }
            (Node::Host(h), _) => self.host_down(h),
            (Node::Server | Node::Migd, _) => {}
        }
    }

    /// Host `h` is up again: the death notices kept for it go now, once.
    fn host_up(&mut self, h: HostId) {
        for (pid, status) in self.undelivered.remove(&h).unwrap_or_default() {
            self.send_host(h, Msg::DeathNotice { pid, status });
        }
    }

    /// Kills a process here: its streams are closed, its PCB goes (FAIL).
    pub(crate) fn kill_local(&mut self, pid: Pid, notify_home: bool) {
        let Some(p) = self.procs.remove(&pid) else {
            return;
        };
        if let Some(Pending::Io { stream }) = p.pending {
            // Its reply will find nobody: the next I/O queued on the stream goes now.
            self.io_resume(stream);
        }
        // An arriving process holds references only to the streams already granted.
        let mut ungranted = BTreeSet::new();
        if let Some(m) = self.incoming.remove(&pid) {
            for rpc in m.current.iter().chain(m.rpcs.iter()) {
                if let Msg::StreamMove { streams, .. } = &rpc.msg {
                    ungranted.extend(streams.iter().map(|m| m.stream));
                }
            }
            for sid in &ungranted {
                self.stream_arrived(pid, *sid);
            }
        }
        // An exiting process holds its references until its exit takes effect (then its
        // descriptors are gone); the server may be closing some right now (a second close
        // is harmless).
        // A process whose state has left is in the middle of its stream exchanges: the
        // streams the server already had this host release hold no reference of it here
        // any more; for the others, the kill drops the reference and the release that may
        // still come must not.
        let released = self
            .outgoing
            .get(&pid)
            .filter(|m| m.state_sent())
            .map(|m| m.released.clone());
        let mut last = Vec::new();
        for sid in p.fds.values().filter(|s| !ungranted.contains(s)) {
            if let Some(r) = &released {
                if r.contains(sid) {
                    continue;
                }
                self.released_by_kill.entry(pid).or_default().insert(*sid);
            }
            if self.drop_stream_ref(*sid) && !last.contains(sid) {
                last.push(*sid);
            }
        }
        if !last.is_empty() {
            self.send_server(pid, FileReq::Close { streams: last });
        }
        self.outgoing.remove(&pid);
        self.incoming.remove(&pid);
        // Under wait-on-current its rendezvous (its children's statuses) dies with it.
        self.local_rdv.retain(|_, r| r.parent != pid);
        self.note(Note::Killed { pid });
        self.out.push(Out::Killed(pid));
        if notify_home {
            if pid.home == self.host() {
                self.home_exit(pid, KILLED_STATUS);
            } else {
                self.send_host(
                    pid.home,
                    Msg::DeathNotice {
                        pid,
                        status: KILLED_STATUS,
                    },
                );
            }
        }
    }

    /// Host `h` crashed (Sprite's choice, FAIL): processes whose home it was die; the home
    /// marks processes that ran there dead; migrations to it abort.
    pub fn host_down(&mut self, h: HostId) {
        let me = self.host();
        let orphans: Vec<Pid> = self.procs.keys().filter(|p| p.home == h).copied().collect();
        for pid in orphans {
            self.kill_local(pid, false);
        }
        // Home role: processes that ran on h, or were leaving it, are dead.
        let dead: Vec<Pid> = self
            .home
            .iter()
            .filter(|(_, e)| e.life == Life::Alive)
            .filter(|(_, e)| {
                matches!(e.loc, Loc::At(x) if x == h)
                    || matches!(e.loc, Loc::Moving { from, .. } if from == h)
            })
            .map(|(p, _)| *p)
            .collect();
        for pid in dead {
            if self.procs.contains_key(&pid) && me != h {
                self.kill_local(pid, false);
            }
            self.home_exit(pid, KILLED_STATUS);
        }
        // `local-pids`: children homed on h died with their home.
        let lost: Vec<Pid> = self
            .foreign_children
            .iter()
            .filter(|(c, r)| c.home == h && r.life == Life::Alive)
            .map(|(c, _)| *c)
            .collect();
        for c in lost {
            self.foreign_child_exit(c, KILLED_STATUS);
        }
        // (A waiter's flag stays: the answer goes wherever the waiter is when its child
        // exits; a waiter that died with h was ended by `home_exit` above.)
        // A move between two other hosts (`remote-to-remote`) to h cannot end there: the
        // process is back on its source or dead, and the source says which (MIG_ABORT or a
        // death notice); a HOME_UPDATE on its way for it is void.
        let me = self.host();
        for e in self.home.values_mut() {
            if let Loc::Moving { from, to } = e.loc {
                if to == h && from != me {
                    e.loc = Loc::At(from);
                }
            }
        }
        migrate::host_down(self, h);
        // Processes blocked on h: a page kept there (copy-on-reference) is gone for good.
        let blocked: Vec<(Pid, Pending)> = self
            .procs
            .iter()
            .filter_map(|(p, pcb)| pcb.pending.clone().map(|x| (*p, x)))
            .collect();
        for (pid, pend) in blocked {
            let remote_on_h = |pg: Page| pg == Page::Remote(h);
            let vm_lost = match (&pend, self.procs.get(&pid)) {
                (Pending::Fault { page, .. }, Some(p)) => p.vm.get(*page).is_some_and(remote_on_h),
                (Pending::ForkPaging, Some(p)) => p.vm.pages.iter().any(|pg| remote_on_h(*pg)),
                _ => false,
            };
            if vm_lost {
                self.kill_local(pid, true);
            } else if pend == (Pending::Kill { to: h }) {
                self.done(pid, Err(Errno::ESRCH));
            } else if matches!(&pend, Pending::KillpgAll { waiting, .. } if waiting.contains(&h)) {
                // A crashed host's processes are gone: none of them was signalled.
                self.killpg_answered(pid, h, false);
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum IoKind {
    Read,
    Write(u8),
    Lseek(u8),
    LseekCur(i8),
}

/// The position `delta` from `cur` (SEEK_CUR): EINVAL before the start or past the largest
/// file, as the one-machine Unix answers.
pub fn seek_by(cur: u8, delta: i8) -> Result<u8, Errno> {
    u8::try_from(i16::from(cur) + i16::from(delta))
        .ok()
        .filter(|p| *p <= MAX_FILE_LEN)
        .ok_or(Errno::EINVAL)
}

/// Writes `sym` at `pos`, filling a hole with zeros (as the ghost does).
pub fn unix_write_at(data: &mut Vec<u8>, pos: u8, sym: u8) {
    let pos = pos as usize;
    if data.len() <= pos {
        data.resize(pos + 1, 0);
    }
    data[pos] = sym;
}
