//! A configuration: the bounded world one check explores (hosts, files, processes and
//! their scripts, the cluster events allowed, the design switches).

use vocab::{ClusterEvent, FileName, HostId, Op, Pid, Switches};

/// What a process runs: a finite list of operations. The k-th `Fork` in it starts a child
/// that runs `children[k]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Script {
    pub ops: Vec<Op>,
    pub children: Vec<u8>,
}

impl Script {
    pub fn new(ops: Vec<Op>) -> Script {
        Script {
            ops,
            children: Vec::new(),
        }
    }
    pub fn forking(ops: Vec<Op>, children: Vec<u8>) -> Script {
        Script { ops, children }
    }
}

/// A process that exists at the start, on its home.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProcSpec {
    pub pid: Pid,
    pub script: u8,
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
            shares_memory: false,
            maps_device: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostSpec {
    /// Migration version number of the host's kernel.
    pub version: u8,
    /// The host's clock reading (clocks are not synchronised, and do not move in the model).
    pub clock: u32,
    /// Whether the owner is present at the start.
    pub owner: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    pub name: &'static str,
    /// What the configuration is for, one line.
    pub about: &'static str,
    pub hosts: Vec<HostSpec>,
    pub files: Vec<(FileName, Vec<u8>)>,
    pub procs: Vec<ProcSpec>,
    pub scripts: Vec<Script>,
    /// Pages of virtual memory per process.
    pub pages: u8,
    /// Cluster events that may each happen once, at any point.
    pub events: Vec<ClusterEvent>,
    pub switches: Switches,
}

impl Config {
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
