//! The model's state: hosts, processes, the file server, migrations in progress, messages
//! in flight, and the ghost one-machine Unix that defines TR.
//!
//! Everything is in ordered maps so that equal situations hash equally and the checker
//! merges them. Nothing here is derived from anything else, except the ghost, which is
//! the specification the rest is compared with.

use unix::{Ino, Unix};
use vocab::shared::Shared;
use vocab::small::{Bytes, SmallMap, SmallSet};
use vocab::{Fd, FileName, HostId, InvariantId, Mode, PageNo, Pid, StreamId};

/// Where a home believes one of its processes is (HOME).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Loc {
    At(HostId),
    /// Between MIG_START and HOME_UPDATE: moving from the first host to the second.
    Moving(HostId, HostId),
}

/// A host's entry for a stream that some of its processes use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientStream {
    /// Descriptors on this host that refer to the stream.
    pub refs: u8,
    /// The access position, when this host keeps it; `None` when the server keeps it
    /// (a shadow stream, because the sharers are on different hosts).
    pub pos: Option<u8>,
}

/// A file's blocks in a client cache. A file is a few symbols, so one entry is all of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CacheEntry {
    pub data: Bytes,
    pub dirty: bool,
    /// The server's version of the file these blocks came from.
    pub version: u8,
}

/// The exit/wait rendezvous (at the home in Sprite; at the current host under
/// `wait-on-current`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rendezvous {
    /// Exited processes whose parent has not collected the status: child -> (parent, status).
    pub zombies: SmallMap<Pid, (Pid, u8), 2>,
    /// Parents blocked in wait.
    pub waiters: SmallSet<Pid, 2>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Host {
    pub up: bool,
    /// The owner is at the keyboard: the host is not idle and takes no foreign process.
    pub owner: bool,
    /// For each process whose home this is: where it is.
    pub home_table: SmallMap<Pid, Loc, 4>,
    pub rendezvous: Rendezvous,
    /// Signals the home holds for a process that is moving, sent on at HOME_UPDATE.
    pub held_signals: SmallMap<Pid, u8, 2>,
    /// For each live process whose home this is: its process group. The home keeps the
    /// groups, so getpgrp, setpgid and killpg are forwarded there (Sprite forwards getpgrp
    /// and killpg and handles setpgrp jointly [TH App. A]; the departures are listed in
    /// specs/kernel-calls.md).
    pub groups: SmallMap<Pid, Pid, 4>,
    pub streams: SmallMap<StreamId, ClientStream, 4>,
    pub cache: SmallMap<Ino, CacheEntry, 2>,
    /// Pages left behind for a process that moved away (copy-on-reference only).
    pub residue: SmallMap<Pid, SmallMap<PageNo, u8, 2>, 1>,
    /// For each slot of this home that has held a process: the generation the next
    /// process given that slot gets (see `vocab::Pid`). Kept across a crash, so that a pid
    /// from before the crash never names a process created after it.
    pub generations: SmallMap<u8, u8, 2>,
}

impl Host {
    pub fn new(up: bool, owner: bool) -> Host {
        Host {
            up,
            owner,
            home_table: SmallMap::new(),
            rendezvous: Rendezvous::default(),
            held_signals: SmallMap::new(),
            groups: SmallMap::new(),
            streams: SmallMap::new(),
            cache: SmallMap::new(),
            residue: SmallMap::new(),
            generations: SmallMap::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Can run its next operation.
    Ready,
    /// Blocked in wait.
    Waiting,
    /// Frozen by a migration in progress.
    Migrating,
}

/// A process's pages, inline.
pub type Pages = vocab::small::Inline<[Page; 2]>;

/// A virtual-memory page of a process on its current host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Page {
    /// The contents, when the page is resident on the current host.
    pub resident: Option<u8>,
    /// Modified since it was last written to the backing file.
    pub dirty: bool,
}

impl Page {
    pub const ZERO: Page = Page {
        resident: Some(0),
        dirty: false,
    };
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Proc {
    /// The host whose kernel holds the process's PCB and runs it.
    pub host: HostId,
    pub parent: Option<Pid>,
    /// Index of the program it runs (a script or an alphabet, see `config::Script`), and
    /// how many of its operations it has performed (for a script: the next one's index).
    pub script: u8,
    pub pc: u8,
    /// For a process running an alphabet: the operation it is in the middle of (blocked in
    /// `wait`, or moving for `migrate` or `exec`). A script's is `ops[pc]`, so `None`.
    pub current: Option<vocab::Op>,
    pub status: Status,
    pub pages: Pages,
    pub fds: SmallMap<Fd, StreamId, 4>,
    /// Signals delivered to it.
    pub signals: u8,
    /// The last gettimeofday value it read (TIME).
    pub last_time: Option<u32>,
    /// Created by a fork on a host other than its home.
    pub born_remote: bool,
    /// The host of the user whose work it is: where its first ancestor was started,
    /// inherited at fork and never changed. EVICT is stated with it, since an owner wants
    /// back a host free of other users' work whatever a design calls the process's home.
    /// Sprite's homes make it the home (a child gets its parent's home, `inv_pid`); the
    /// `local-pids` alternative does not.
    pub login: HostId,
    /// Under copy-on-reference: the host its untouched pages are still on.
    pub lazy_from: Option<HostId>,
    /// Why it may never migrate (it shares writable memory or maps a device), if so. A
    /// property of the process, not of its pid: a child gets a copy of the memory and no
    /// device mapping, and a pid reused later names an unrelated process.
    pub pinned: Option<vocab::Refusal>,
}

/// The file server's record of a file, or of a pipe (an unnamed object of the file
/// system: never linked, never cacheable, `data` holding the symbols not yet read, oldest
/// first; see `Server::pipes`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct File {
    pub data: Bytes,
    /// A name refers to it. When false and no stream uses it, it is reclaimed (DEL).
    pub linked: bool,
    /// Clients may cache it; off after concurrent write-sharing, until no stream uses it.
    pub cacheable: bool,
    /// Incremented at each open for writing, so a client can tell stale blocks.
    pub version: u8,
    /// The host that last wrote it through its cache (sequential write-sharing).
    pub last_writer: Option<HostId>,
}

/// The server's record of an open stream.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerStream {
    pub ino: Ino,
    pub mode: Mode,
    /// Hosts whose processes use the stream.
    pub hosts: SmallSet<HostId, 4>,
    /// The shared access position, when the server keeps it (shadow stream).
    pub shadow: Option<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Server {
    pub dir: SmallMap<FileName, Ino, 2>,
    pub files: SmallMap<Ino, File, 2>,
    pub streams: SmallMap<StreamId, ServerStream, 4>,
    /// Backing files of processes' virtual memory: absent pages read as zero.
    pub backing: SmallMap<(Pid, PageNo), u8, 4>,
    /// Which of `files` are pipes. In Sprite a pipe is an object of the file system like a
    /// file [TH §3.2]: its streams, references and moves are a file's; only its reads and
    /// writes differ (first in, first out, at the server).
    pub pipes: SmallSet<Ino, 1>,
}

/// Why a process is moving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The process called migrate.
    Voluntary,
    /// exec with a target host: the new image starts there, no memory moves.
    Exec,
    /// The owner of the host came back: the process goes home.
    Evict,
}

/// Where a migration is in the message sequence. Each phase is one model step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Next: MIG_INIT to the target (skipped when the target is home).
    Init,
    /// Next: flushes and MIG_STATE.
    State,
    /// Next: the STREAM_MOVE exchanges, one per file the process has open, each moving
    /// every descriptor the process holds on that file (under notify-target-first and
    /// reopen-files: two steps per descriptor instead).
    Streams,
    /// Next: HOME_UPDATE.
    HomeUpdate,
    /// Next: RESUME on the target.
    Resume,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Migration {
    pub source: HostId,
    pub target: HostId,
    pub kind: Kind,
    pub phase: Phase,
    /// Descriptors whose stream reference already lives on the target.
    pub moved: SmallSet<Fd, 4>,
    /// A descriptor whose two-step move (under notify-target-first or reopen-files) is
    /// half done.
    pub half: Option<Fd>,
    /// For a half-done reopen-files move: the file, mode and position to reopen with.
    pub reopen: Option<(Ino, Mode, u8)>,
    /// What the process does when it resumes: run on, or keep waiting.
    pub resume_waiting: bool,
}

/// Under `wait-on-current`: a child's exit status on its way to the host where its parent
/// was last known to run, where the rendezvous is (`Ctx::exit_notice_arrives`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExitNotice {
    pub parent: Pid,
    pub status: u8,
    pub to: HostId,
}

/// A signal on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignalMsg {
    pub pid: Pid,
    pub to: HostId,
    /// Sent straight to the host the sender knew (direct-signals), not by the home.
    pub direct: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct State {
    /// Each host shared with the states that have it unchanged (`vocab::shared`).
    pub hosts: vocab::small::Inline<[Shared<Host>; 4]>,
    /// Each process shared likewise: a step changes one or two of them.
    pub procs: SmallMap<Pid, Shared<Proc>, 4>,
    pub server: Shared<Server>,
    /// Migrations in progress, shared likewise.
    pub migrations: SmallMap<Pid, Shared<Migration>, 2>,
    /// Signals in flight, with how many of each.
    pub signals: SmallMap<SignalMsg, u8, 2>,
    /// Page flushes in flight to the backing file (only under no-vm-flush).
    pub flushes: SmallMap<(Pid, PageNo), u8, 2>,
    /// Exit notices in flight, by exited child (only under wait-on-current).
    pub exit_notices: SmallMap<Pid, ExitNotice, 1>,
    /// How many times each of the configuration's cluster events has happened: four bits
    /// per event, in the configuration's order.
    pub events_used: u32,
    /// The one-machine Unix: the specification of every result (TR).
    pub ghost: Shared<Unix>,
    /// Invariants a step has seen violated (result comparisons and transition checks);
    /// the state-predicate parts of the invariants are evaluated on the state itself.
    pub violated: u16,
}

impl Proc {
    /// The mark that pins a process (see [`Proc::pinned`]): sharing writable memory comes
    /// first, as the refusal checks take it.
    pub fn pin(shares_memory: bool, maps_device: bool) -> Option<vocab::Refusal> {
        if shares_memory {
            Some(vocab::Refusal::SharedMemory)
        } else if maps_device {
            Some(vocab::Refusal::MapsDevice)
        } else {
            None
        }
    }
}

impl State {
    /// How many times event number `i` of the configuration has happened.
    pub fn event_count(&self, i: usize) -> u8 {
        ((self.events_used >> (4 * i)) & 0xf) as u8
    }
    /// Host `h`'s clock now: its configured reading advanced by one second for each
    /// `ClockTick` of `h` that has happened (the count lives in `events_used`, so a clock
    /// costs no state of its own).
    pub fn clock(&self, cfg: &crate::config::Config, h: HostId) -> u32 {
        let ticks: u32 = cfg
            .events
            .iter()
            .enumerate()
            .filter(|(_, (e, _))| *e == vocab::ClusterEvent::ClockTick(h))
            .map(|(i, _)| u32::from(self.event_count(i)))
            .sum();
        cfg.hosts[h.0 as usize].clock + ticks
    }
    /// Signals sent to `pid` and not yet delivered: on the wire, or held by a home.
    pub fn signals_pending(&self, pid: Pid) -> u32 {
        let in_flight: u32 = self
            .signals
            .iter()
            .filter(|(m, _)| m.pid == pid)
            .map(|(_, n)| *n as u32)
            .sum();
        let held: u32 = self
            .hosts
            .iter()
            .filter_map(|h| h.held_signals.get(&pid))
            .map(|n| *n as u32)
            .sum();
        in_flight + held
    }
    pub fn host(&self, h: HostId) -> &Host {
        &self.hosts[h.0 as usize]
    }
    pub fn host_mut(&mut self, h: HostId) -> &mut Host {
        &mut self.hosts[h.0 as usize]
    }
    pub fn flag(&mut self, id: InvariantId) {
        self.violated |= id.bit();
    }
    pub fn flagged(&self, id: InvariantId) -> bool {
        self.violated & id.bit() != 0
    }
    /// Where the stream reference behind `fd` of `pid` lives now: normally the process's
    /// host; during the stream phase of a migration, the source until the descriptor has
    /// moved. `None` while a reopen-files move has closed it and not yet reopened it.
    pub fn ref_host(&self, pid: Pid, fd: Fd) -> Option<HostId> {
        let p = &self.procs[&pid];
        match self.migrations.get(&pid) {
            Some(m) if m.phase == Phase::Streams || m.phase == Phase::State => {
                if m.moved.contains(&fd) {
                    Some(m.target)
                } else if m.half == Some(fd) {
                    // notify-target-first: the source still holds it (the target too);
                    // reopen-files: nobody does.
                    None
                } else {
                    Some(m.source)
                }
            }
            _ => Some(p.host),
        }
    }
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::At(h) => write!(f, "at {h}"),
            Loc::Moving(a, b) => write!(f, "moving from {a} to {b}"),
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Voluntary => "migrate",
            Kind::Exec => "exec",
            Kind::Evict => "eviction",
        })
    }
}

/// A phase is named after the step that ends it.
impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Init => "MIG_INIT",
            Phase::State => "MIG_STATE",
            Phase::Streams => "STREAM_MOVE",
            Phase::HomeUpdate => "HOME_UPDATE",
            Phase::Resume => "RESUME",
        })
    }
}
