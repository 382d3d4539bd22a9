//! A read-only, serialisable view of the whole cluster, flattened so that a conformance
//! harness can map it onto the model's state: where each process is and what it holds and
//! which process group its home records, where each stream's access position lives, what
//! the server knows about each file and each pipe, what each client caches.

use crate::fs::FileId;
use crate::kernel::{CacheEntry, HomeEntry, ProcStatus};
use crate::sim::Cluster;
use crate::vm::Page;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vocab::{Fd, FileName, HostId, Mode, PageNo, Pid, StreamId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcView {
    pub pid: Pid,
    pub home: HostId,
    pub host: HostId,
    pub status: ProcStatus,
    /// In a call (waiting for a reply, or blocked in wait).
    pub busy: bool,
    /// Blocked in wait.
    pub waiting: bool,
    pub parent: Option<Pid>,
    pub pages: Vec<Page>,
    pub fds: BTreeMap<Fd, StreamId>,
    pub signals: u32,
    /// The arguments its program was started with by its last `exec` (when the scenario
    /// gives `exec_args`).
    pub args: Vec<String>,
    /// The process group its home records (`None` while its home is down).
    pub pgrp: Option<Pid>,
}

/// Where a stream's access position lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PosView {
    /// On client hosts (normally one).
    Clients(BTreeMap<HostId, u8>),
    /// On the server (a shadow stream), with the value.
    Server(u8),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamView {
    pub id: StreamId,
    pub file: FileId,
    /// An end of a pipe (`file` is the pipe).
    pub pipe: bool,
    pub mode: Mode,
    /// Per host: descriptor references on that host.
    pub refs: BTreeMap<HostId, u8>,
    pub pos: PosView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileView {
    pub id: FileId,
    /// A pipe: unnamed, never linked or cacheable, `data` the symbols not yet read.
    pub pipe: bool,
    pub names: Vec<FileName>,
    pub linked: bool,
    pub data: Vec<u8>,
    pub version: u32,
    pub cacheable: bool,
    pub last_writer: Option<HostId>,
    pub cached_on: Vec<HostId>,
    /// Per host: (readers, writers).
    pub users: BTreeMap<HostId, (u8, u8)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostView {
    pub id: HostId,
    pub up: bool,
    pub owner_present: bool,
    pub version: u16,
    pub clock_skew_ms: i64,
    #[serde(with = "pairs")]
    pub home_table: BTreeMap<Pid, HomeEntry>,
    pub cache: BTreeMap<FileId, CacheEntry>,
    /// Pages kept for processes that left (copy-on-reference's residual dependency).
    #[serde(with = "pairs")]
    pub residual: BTreeMap<Pid, BTreeMap<PageNo, u8>>,
    /// Pids this host holds a PCB for (running, frozen or arriving).
    pub pcbs: Vec<Pid>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    pub now: u64,
    pub hosts: Vec<HostView>,
    pub processes: Vec<ProcView>,
    pub streams: Vec<StreamView>,
    pub files: Vec<FileView>,
    #[serde(with = "pairs")]
    pub backing: BTreeMap<Pid, BTreeMap<PageNo, u8>>,
}

impl ClusterView {
    pub fn of(c: &Cluster) -> ClusterView {
        let mut hosts = Vec::new();
        let mut processes = Vec::new();
        for (h, k) in c.kernels() {
            let up = c.is_up(*h);
            hosts.push(HostView {
                id: *h,
                up,
                owner_present: k.owner_present,
                version: k.cfg.version,
                clock_skew_ms: k.cfg.clock_skew_ms,
                home_table: k.home.clone(),
                cache: k.cache.clone(),
                residual: k.residual.clone(),
                pcbs: k.procs.keys().copied().collect(),
            });
            if !up {
                continue;
            }
            for (pid, p) in &k.procs {
                // Mid-migration both hosts hold a PCB: report the frozen source copy.
                if p.status == ProcStatus::Incoming {
                    continue;
                }
                let home_entry = c
                    .kernel(pid.home)
                    .filter(|_| c.is_up(pid.home))
                    .and_then(|hk| hk.home.get(pid));
                processes.push(ProcView {
                    pid: *pid,
                    home: pid.home,
                    host: *h,
                    status: p.status,
                    busy: p.pending.is_some(),
                    waiting: p.pending == Some(crate::kernel::Pending::Wait),
                    // The home's rendezvous knows whether the parent is still there (an
                    // orphan's PCB elsewhere may still name a dead parent).
                    parent: home_entry.map_or(p.parent, |e| e.parent),
                    pages: p.vm.pages.clone(),
                    fds: p.fds.clone(),
                    signals: p.signals,
                    args: p.args.clone(),
                    pgrp: home_entry.map(|e| e.pgrp),
                });
            }
        }
        processes.sort_by_key(|p| p.pid);
        let srv = c.server();
        let streams = srv
            .streams
            .iter()
            .map(|(id, s)| {
                let mut refs = BTreeMap::new();
                let mut client_pos = BTreeMap::new();
                for (h, k) in c.kernels() {
                    if let Some(hs) = k.streams.get(id).filter(|_| c.is_up(*h)) {
                        refs.insert(*h, hs.refs);
                        if let Some(p) = hs.pos {
                            client_pos.insert(*h, p);
                        }
                    }
                }
                let pos = match s.shadow {
                    Some(p) if client_pos.is_empty() => PosView::Server(p),
                    _ => PosView::Clients(client_pos),
                };
                StreamView {
                    id: *id,
                    file: s.file,
                    pipe: srv.files.get(&s.file).is_some_and(|f| f.pipe),
                    mode: s.mode,
                    refs,
                    pos,
                }
            })
            .collect();
        let files = srv
            .files
            .iter()
            .map(|(id, f)| FileView {
                id: *id,
                pipe: f.pipe,
                names: srv
                    .dir
                    .iter()
                    .filter(|(_, x)| *x == id)
                    .map(|(n, _)| *n)
                    .collect(),
                linked: f.linked,
                data: f.data.clone(),
                version: f.version,
                cacheable: f.cacheable,
                last_writer: f.last_writer,
                cached_on: f.cached_on.iter().copied().collect(),
                users: srv.users(*id),
            })
            .collect();
        ClusterView {
            now: c.now(),
            hosts,
            processes,
            streams,
            files,
            backing: srv.backing.clone(),
        }
    }

    pub fn process(&self, pid: Pid) -> Option<&ProcView> {
        self.processes.iter().find(|p| p.pid == pid)
    }
}

/// Maps keyed by a pid serialise as lists of pairs (JSON keys must be strings).
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}
