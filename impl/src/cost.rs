//! Cost accounting per migration and phase, and a cost model that turns counts into
//! predicted milliseconds with SPARCstation 1 parameters (SPE Table 1, TH Table 7.2).

use crate::kernel::Note;
use crate::migrate::Phase;
use crate::msg::{MigKind, Msg, Node};
use crate::vm::PageClass;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vocab::{HostId, MsgKind, PageNo, Pid, VmStrategy};

/// Messages, RPCs and bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub msgs: u32,
    pub rpcs: u32,
    pub bytes: u64,
}

impl Counter {
    fn add(&mut self, bytes: usize, rpc: bool) {
        self.msgs += 1;
        self.rpcs += rpc as u32;
        self.bytes += bytes as u64;
    }
}

/// One page's story across one migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRecord {
    pub page: PageNo,
    pub class: PageClass,
    pub reused: bool,
    pub transfers: u32,
    /// Transfers while the migration was in progress (more than one: pre-copy sent the
    /// page again after the process wrote it).
    pub sent: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigrationRecord {
    pub pid: Pid,
    pub from: HostId,
    pub to: HostId,
    pub kind: MigKind,
    pub strategy: VmStrategy,
    pub started_at: u64,
    pub ended_at: Option<u64>,
    pub result: Option<Result<(), String>>,
    /// Per message kind.
    pub phases: BTreeMap<MsgKind, Counter>,
    pub pages: Vec<PageRecord>,
    pub pages_flushed: u32,
    /// Of `pages_flushed`, the pages pre-copied while the process ran (outside the freeze).
    pub pages_precopied: u32,
    /// Pre-copy rounds sent while the process ran.
    pub precopy_rounds: u32,
    pub pages_faulted: u32,
    pub blocks_flushed: u32,
    /// Open files moved: one three-party exchange each (all the process's streams on it).
    pub files_moved: u32,
    pub state_bytes: u64,
    /// Simulated steps from freeze to resume.
    pub freeze_steps: u64,
    #[serde(skip)]
    frozen_at: Option<u64>,
}

impl MigrationRecord {
    pub fn rpcs(&self) -> u32 {
        self.phases.values().map(|c| c.rpcs).sum()
    }
    pub fn bytes(&self) -> u64 {
        self.phases.values().map(|c| c.bytes).sum()
    }
    pub fn succeeded(&self) -> bool {
        matches!(self.result, Some(Ok(())))
    }
    /// Pages that crossed the network more than once during the migration.
    pub fn pages_sent_twice(&self) -> u32 {
        self.pages.iter().filter(|p| p.sent >= 2).count() as u32
    }
}

/// Everything the cluster measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub migrations: Vec<MigrationRecord>,
    pub totals: BTreeMap<MsgKind, Counter>,
    active: BTreeMap<Pid, usize>,
    last: BTreeMap<Pid, usize>,
}

fn is_migration_kind(k: MsgKind) -> bool {
    use MsgKind::*;
    matches!(
        k,
        MigInit
            | MigInitReply
            | MigStart
            | PageFlush
            | BlockFlush
            | MigState
            | StreamMove
            | StreamRelease
            | StreamReleaseReply
            | HomeUpdate
            | Resume
            | MigAbort
    )
}

impl Ledger {
    pub fn on_send(&mut self, _from: Node, _to: Node, msg: &Msg, bytes: usize) {
        let kind = msg.kind();
        // STREAM_RELEASE_REPLY counts as an RPC of its own, as the vocabulary (and SPE's
        // "3 RPCs per open file") has it; every other reply belongs to its request.
        let rpc = !msg.is_reply() || kind == MsgKind::StreamReleaseReply;
        self.totals.entry(kind).or_default().add(bytes, rpc);
        if !is_migration_kind(kind) {
            return;
        }
        let Some(pid) = msg.pid() else { return };
        let Some(i) = self.active.get(&pid) else {
            return;
        };
        let r = &mut self.migrations[*i];
        // STREAM_RELEASE and its reply ride inside the STREAM_MOVE call: SPE counts the
        // three as the 3 RPCs per open file.
        r.phases.entry(kind).or_default().add(bytes, rpc);
        match msg {
            Msg::StreamMove { .. } => r.files_moved += 1,
            Msg::MigState { buf, .. } => r.state_bytes += buf.len() as u64,
            _ => {}
        }
    }

    pub fn on_note(&mut self, now: u64, strategy: VmStrategy, note: &Note) {
        match note {
            Note::MigBegin {
                pid,
                from,
                to,
                kind,
                pages,
            } => {
                self.migrations.push(MigrationRecord {
                    pid: *pid,
                    from: *from,
                    to: *to,
                    kind: *kind,
                    strategy,
                    started_at: now,
                    ended_at: None,
                    result: None,
                    phases: BTreeMap::new(),
                    pages: pages
                        .iter()
                        .map(|(page, class)| PageRecord {
                            page: *page,
                            class: *class,
                            reused: false,
                            transfers: 0,
                            sent: 0,
                        })
                        .collect(),
                    pages_flushed: 0,
                    pages_precopied: 0,
                    precopy_rounds: 0,
                    pages_faulted: 0,
                    blocks_flushed: 0,
                    files_moved: 0,
                    state_bytes: 0,
                    freeze_steps: 0,
                    frozen_at: None,
                });
                let i = self.migrations.len() - 1;
                self.active.insert(*pid, i);
                if let Some(prev) = self.last.get(pid).copied() {
                    // A refused or aborted attempt must not end the previous record's
                    // page accounting; only a started migration does.
                    let _ = prev;
                }
                self.last.insert(*pid, i);
            }
            Note::MigPhase { pid, phase } => {
                if let Some(i) = self.active.get(pid) {
                    let r = &mut self.migrations[*i];
                    match phase {
                        Phase::PreCopy => r.precopy_rounds += 1,
                        Phase::Flush => r.frozen_at = Some(now),
                        Phase::Resume => {
                            r.freeze_steps = now.saturating_sub(r.frozen_at.unwrap_or(now));
                        }
                        _ => {}
                    }
                }
            }
            Note::MigEnd { pid, result } => {
                if let Some(i) = self.active.remove(pid) {
                    let r = &mut self.migrations[i];
                    r.ended_at = Some(now);
                    r.result = Some(result.clone());
                    if result.is_err() {
                        // Refused: the pages stay where they were; forget this record for
                        // page accounting and fall back to the last successful one.
                        let prev = self.migrations[..i]
                            .iter()
                            .rposition(|m| m.pid == *pid && m.succeeded());
                        match prev {
                            Some(p) => self.last.insert(*pid, p),
                            None => self.last.remove(pid),
                        };
                    }
                }
            }
            Note::PageXfer { pid, page } => {
                let active = self.active.contains_key(pid);
                if let Some(i) = self.active.get(pid).or(self.last.get(pid)).copied() {
                    let r = &mut self.migrations[i];
                    if active {
                        r.pages_flushed += 1;
                        if r.frozen_at.is_none() {
                            // Only pre-copy rounds send pages before the freeze.
                            r.pages_precopied += 1;
                        }
                    } else {
                        r.pages_faulted += 1;
                    }
                    if let Some(p) = r.pages.iter_mut().find(|p| p.page == *page) {
                        p.transfers += 1;
                        p.sent += active as u32;
                    }
                }
            }
            Note::Touch { pid, page } => {
                if self.active.contains_key(pid) {
                    return;
                }
                if let Some(i) = self.last.get(pid).copied() {
                    if let Some(p) = self.migrations[i]
                        .pages
                        .iter_mut()
                        .find(|p| p.page == *page)
                    {
                        p.reused = true;
                    }
                }
            }
            Note::BlocksFlushed { pid, blocks } => {
                if let Some(i) = self.active.get(pid) {
                    self.migrations[*i].blocks_flushed += blocks;
                }
            }
            Note::Killed { pid } => {
                self.active.remove(pid);
                self.last.remove(pid);
            }
            Note::Evicting { .. } => {}
        }
    }

    /// The seed's table: mean transfers per page for (class, reused), over successful
    /// migrations of `kind`, and whether every page agreed.
    pub fn transfer_table(&self) -> BTreeMap<(PageClass, bool), TableCell> {
        let mut t: BTreeMap<(PageClass, bool), TableCell> = BTreeMap::new();
        for r in self
            .migrations
            .iter()
            .filter(|r| r.succeeded() && r.kind != MigKind::Exec)
        {
            for p in r.pages.iter().filter(|p| p.class != PageClass::NotResident) {
                let c = t.entry((p.class, p.reused)).or_default();
                c.pages += 1;
                c.transfers += p.transfers;
                c.min = Some(c.min.map_or(p.transfers, |m| m.min(p.transfers)));
                c.max = Some(c.max.map_or(p.transfers, |m| m.max(p.transfers)));
            }
        }
        t
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCell {
    pub pages: u32,
    pub transfers: u32,
    pub min: Option<u32>,
    pub max: Option<u32>,
}

impl TableCell {
    /// The per-page count when every page agreed.
    pub fn exact(&self) -> Option<u32> {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        }
    }
}

/// Hardware and software parameters (defaults: SPARCstation 1, 10 Mb/s Ethernet, SPE
/// Table 1). Overridable from a TOML file; every field is optional there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostModel {
    /// Round trip of a small RPC (SPE: "3 RPC's at 1 ms latency each").
    pub rpc_latency_ms: f64,
    /// Single-channel RPC bandwidth (file blocks, exec arguments).
    pub rpc_bandwidth_kb_s: f64,
    /// VM flush bandwidth with parallel RPC channels.
    pub vm_bandwidth_kb_s: f64,
    pub page_bytes: u32,
    pub block_bytes: u32,
    /// Kernel work of a migration beyond its RPCs (calibrated on the null process, 76 ms).
    pub migrate_fixed_ms: f64,
    /// Same for an exec-time migration (calibrated on fork+remote exec+wait, 81 ms).
    pub exec_fixed_ms: f64,
    /// Server work inside each stream's three-party exchange (calibrated on 9.4 ms/file).
    pub stream_server_ms: f64,
    /// Work of one call to migd beyond its RPC round trip: the pseudo-device's share of
    /// the file-system call, copying into migd's address space, switching to migd, and
    /// migd's own work (TH §7.3.1: about three quarters of a call's time). Calibrated on
    /// the 36 ms of select-and-release, which takes 3 calls (open, request, close).
    pub migd_call_ms: f64,
    /// Local fork + exec + wait of a null process (46 ms measured).
    pub local_fork_exec_wait_ms: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            rpc_latency_ms: 1.0,
            rpc_bandwidth_kb_s: 480.0,
            vm_bandwidth_kb_s: 660.0,
            page_bytes: 4096,
            block_bytes: 4096,
            migrate_fixed_ms: 72.0,
            exec_fixed_ms: 28.0,
            stream_server_ms: 6.4,
            migd_call_ms: 11.0,
            local_fork_exec_wait_ms: 46.0,
        }
    }
}

impl CostModel {
    /// Parses a cost-model file and checks it ([`CostModel::check`]).
    pub fn from_toml(text: &str) -> Result<CostModel, String> {
        let m: CostModel = toml::from_str(text).map_err(|e| e.to_string())?;
        m.check()?;
        Ok(m)
    }

    /// Every time finite and not negative; bandwidths and sizes positive (they divide and
    /// scale the predictions).
    pub fn check(&self) -> Result<(), String> {
        let times = [
            ("rpc_latency_ms", self.rpc_latency_ms),
            ("migrate_fixed_ms", self.migrate_fixed_ms),
            ("exec_fixed_ms", self.exec_fixed_ms),
            ("stream_server_ms", self.stream_server_ms),
            ("migd_call_ms", self.migd_call_ms),
            ("local_fork_exec_wait_ms", self.local_fork_exec_wait_ms),
        ];
        if let Some((name, v)) = times.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!("{name} = {v}: must be finite and not negative"));
        }
        let rates = [
            ("rpc_bandwidth_kb_s", self.rpc_bandwidth_kb_s),
            ("vm_bandwidth_kb_s", self.vm_bandwidth_kb_s),
        ];
        if let Some((name, v)) = rates.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            return Err(format!("{name} = {v}: must be finite and positive"));
        }
        if self.page_bytes == 0 || self.block_bytes == 0 {
            return Err("page_bytes and block_bytes must be positive".into());
        }
        Ok(())
    }

    fn kb_ms(&self, bytes: f64, bw_kb_s: f64) -> f64 {
        bytes / 1024.0 / bw_kb_s * 1000.0
    }

    /// Predicted time of one migration: RPC latencies, stream exchanges, flushed pages and
    /// blocks at the paper's bandwidths, the state buffer, plus the fixed kernel work.
    pub fn predict(&self, r: &MigrationRecord) -> f64 {
        let fixed = match r.kind {
            MigKind::Exec => self.exec_fixed_ms,
            _ => self.migrate_fixed_ms,
        };
        let stream_rpcs = r.files_moved * 3;
        let other_rpcs = r.rpcs().saturating_sub(stream_rpcs) as f64;
        fixed
            + other_rpcs * self.rpc_latency_ms
            + r.files_moved as f64 * (3.0 * self.rpc_latency_ms + self.stream_server_ms)
            + self.kb_ms(
                r.pages_flushed as f64 * self.page_bytes as f64,
                self.vm_bandwidth_kb_s,
            )
            + self.kb_ms(
                r.blocks_flushed as f64 * self.block_bytes as f64,
                self.rpc_bandwidth_kb_s,
            )
            + self.kb_ms(r.state_bytes as f64, self.rpc_bandwidth_kb_s)
    }

    /// Predicted freeze: everything but the work before the freeze (INIT, START, and the
    /// pre-copy rounds sent while the process ran: one PAGE_FLUSH RPC and its pages each).
    pub fn predict_freeze(&self, r: &MigrationRecord) -> f64 {
        let before = [MsgKind::MigInit, MsgKind::MigInitReply, MsgKind::MigStart]
            .iter()
            .filter_map(|k| r.phases.get(k))
            .map(|c| c.rpcs)
            .sum::<u32>()
            + r.precopy_rounds;
        let precopy = self.kb_ms(
            r.pages_precopied as f64 * self.page_bytes as f64,
            self.vm_bandwidth_kb_s,
        );
        (self.predict(r) - before as f64 * self.rpc_latency_ms - precopy).max(0.0)
    }

    pub fn per_file_ms(&self) -> f64 {
        3.0 * self.rpc_latency_ms + self.stream_server_ms
    }
    /// Predicted time of calls to migd from their measured RPCs and bytes.
    pub fn predict_migd_calls(&self, rpcs: u32, bytes: u64) -> f64 {
        rpcs as f64 * (self.rpc_latency_ms + self.migd_call_ms)
            + self.kb_ms(bytes as f64, self.rpc_bandwidth_kb_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_parameter_file_is_the_default() {
        let text = include_str!("../sparcstation1.toml");
        assert_eq!(CostModel::from_toml(text), Ok(CostModel::default()));
        let partial = CostModel::from_toml("rpc_latency_ms = 2.5\n").unwrap();
        assert_eq!(partial.rpc_latency_ms, 2.5);
        assert_eq!(partial.page_bytes, 4096);
        assert!(
            CostModel::from_toml("rpc_latency = 1\n").is_err(),
            "unknown fields are errors"
        );
    }
}
