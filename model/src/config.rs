//! A configuration: the bounded world one check explores (hosts, files, processes and
//! their scripts, the cluster events allowed, the design switches).

use vocab::{ClusterEvent, FileName, HostId, Op, Pid, Switches};

/// What a process runs: a program of the configuration.
///
/// A *script* (`budget: None`) is a finite list of operations performed in order; the k-th
/// `Fork` in it starts a child that runs program `children[k]` (by default the same script,
/// from its start).
///
/// An *alphabet* (`budget: Some(b)`) lets the process perform, at each step, any operation of
/// `ops`, until it has performed `b` operations: the checker then explores every program of
/// at most `b` operations over the alphabet. A forked child runs program `children[0]` (by
/// default the same alphabet); when that is the parent's own alphabet, the child continues
/// the parent's count, so that the operations along any line of descent stay within `b` and
/// the number of processes is bounded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Script {
    pub ops: Vec<Op>,
    pub children: Vec<u8>,
    pub budget: Option<u8>,
}

impl Script {
    pub fn new(ops: Vec<Op>) -> Script {
        Script {
            ops,
            children: Vec::new(),
            budget: None,
        }
    }
    pub fn forking(ops: Vec<Op>, children: Vec<u8>) -> Script {
        Script {
            ops,
            children,
            budget: None,
        }
    }
    /// Any operation of `ops`, at most `budget` of them.
    pub fn alphabet(ops: Vec<Op>, budget: u8) -> Script {
        Script {
            ops,
            children: Vec::new(),
            budget: Some(budget),
        }
    }
    /// An alphabet whose forked children run program `child`.
    pub fn alphabet_forking(ops: Vec<Op>, budget: u8, child: u8) -> Script {
        Script {
            ops,
            children: vec![child],
            budget: Some(budget),
        }
    }
    pub fn is_alphabet(&self) -> bool {
        self.budget.is_some()
    }
    /// How many operations a process running this program may perform in all.
    pub fn length(&self) -> usize {
        self.budget.map_or(self.ops.len(), usize::from)
    }
}

/// A process that exists at the start, on its home or, as if it had migrated there
/// before, on another host.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProcSpec {
    pub pid: Pid,
    pub script: u8,
    /// Where it runs at the start (`None`: its home).
    pub start_on: Option<vocab::HostId>,
    /// Shares writable memory with another process: may not migrate (REFUSE).
    pub shares_memory: bool,
    /// Maps a device such as a frame buffer: may not migrate (REFUSE).
    pub maps_device: bool,
}

impl ProcSpec {
    pub fn new(pid: Pid, script: u8) -> ProcSpec {
        ProcSpec {
            pid,
            script,
            start_on: None,
            shares_memory: false,
            maps_device: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostSpec {
    /// Migration version number of the host's kernel.
    pub version: u8,
    /// The host's clock reading at the start (clocks are not synchronised; a `ClockTick`
    /// event advances one by a second).
    pub clock: u32,
    /// Whether the owner is present at the start.
    pub owner: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    pub name: String,
    /// What the configuration is for, one line.
    pub about: String,
    pub hosts: Vec<HostSpec>,
    pub files: Vec<(FileName, Vec<u8>)>,
    pub procs: Vec<ProcSpec>,
    pub scripts: Vec<Script>,
    /// Pages of virtual memory per process.
    pub pages: u8,
    /// Cluster events that may happen at any point, each at most the given number of times
    /// (at most 8 events, each at most 15 times: see `State::events_used`).
    pub events: Vec<(ClusterEvent, u8)>,
    pub switches: Switches,
    /// Sprite's delayed writes: a host may write back its dirty blocks of a file at any
    /// moment (every 30 s, Sprite writes back the blocks not modified for 30 s [CACHE
    /// §4.3]). Each write-back is a step of its own (`Action::WriteBack`). The conformance
    /// harness turns it on: the implementation names the write-backs it makes outside the
    /// model's steps (a migration's BLOCK_FLUSH, the blocks of a STREAM_RELEASE_REPLY or of
    /// a callback's reply), so that one a crash cuts off from the step it belongs to is
    /// followed. Off in the built-in configurations but `delayed-writes`.
    pub delayed_writes: bool,
}

impl Config {
    /// Whether some process runs an alphabet (every program within a budget) rather than a
    /// fixed script.
    pub fn is_open(&self) -> bool {
        self.scripts.iter().any(Script::is_alphabet)
    }
    pub fn host_spec(&self, h: HostId) -> Option<&HostSpec> {
        self.hosts.get(h.0 as usize)
    }
    pub fn spec_of(&self, pid: Pid) -> Option<&ProcSpec> {
        self.procs.iter().find(|p| p.pid == pid)
    }
    pub fn with_switches(mut self, switches: Switches) -> Config {
        self.switches = switches;
        self
    }
}
