//! Cost accounting per migration and phase, and a cost model that turns counts into
//! milliseconds with SPARCstation 1 parameters (SPE Table 1, TH Table 7.2). The model's
//! inputs are the papers' parameters and named measurements ([`CostInputs`]); the
//! constants the papers do not give are calibrated from those measurements and the
//! implementation's own counts ([`CostModel::from_situations`], situations run by
//! [`crate::calibrate`]), never set by hand.

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
    /// What of the old address space an exec-time migration moved: pages written back or
    /// sent while it was in progress, pre-copy rounds, PAGE_FLUSH messages. Exec discards the
    /// old image, so in Sprite's design this is always `None` (the state carries the arguments
    /// and environment instead [TH §7.3.2, Table 7.2; SPE Table 1]); a page the new program
    /// faults in later comes from its own backing file, not from the source, and is not
    /// counted. `None` for other kinds of migration.
    pub fn exec_moved_pages(&self) -> Option<String> {
        if self.kind != MigKind::Exec {
            return None;
        }
        let flush_msgs = self.phases.get(&MsgKind::PageFlush).map_or(0, |c| c.msgs);
        (self.pages_flushed > 0 || self.precopy_rounds > 0 || flush_msgs > 0).then(|| {
            format!(
                "the exec-time migration of {} from {} to {} moved the old image: {} pages \
                 written back or sent, {} pre-copy rounds, {} PAGE_FLUSH messages",
                self.pid, self.from, self.to, self.pages_flushed, self.precopy_rounds, flush_msgs
            )
        })
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
            Note::Evicting { .. } | Note::ExitLost { .. } => {}
        }
    }

    /// The per-page transfer table (specs/costs.md, "Memory transfer strategies"): mean
    /// transfers per page for (class, reused), over successful
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

/// What the cost model is given: hardware parameters the papers state, and the named
/// measurements of SPE Table 1 from which [`CostModel::calibrate`] derives the constants
/// the papers do not state. This is what `impl/sparcstation1.toml` holds; every field is
/// optional there. None of the derived constants can be set here: they follow the
/// implementation's measured message counts (see [`Calibration`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostInputs {
    /// Round trip of a small RPC (SPE §Migration Overhead: an open file's 3 RPCs at about
    /// 1 ms each).
    pub rpc_latency_ms: f64,
    /// Single-channel RPC bandwidth: file blocks, exec arguments (SPE Table 1).
    pub rpc_bandwidth_kb_s: f64,
    /// VM flush bandwidth with parallel RPC channels (SPE Table 1).
    pub vm_bandwidth_kb_s: f64,
    pub page_bytes: u32,
    pub block_bytes: u32,
    /// SPE Table 1 (TH Table 7.2): migrate a "null" process, 76 ms.
    pub null_migration_ms: f64,
    /// SPE Table 1: transfer the state of one open file, 9.4 ms.
    pub open_file_ms: f64,
    /// SPE Table 1: fork, exec a null process with migration, wait for it: 81 ms.
    pub remote_fork_exec_wait_ms: f64,
    /// SPE Table 1: fork, exec a null process locally, wait for it: 46 ms.
    pub local_fork_exec_wait_ms: f64,
    /// SPE Table 1 (TH Table 7.1): select and release an idle host, 36 ms.
    pub select_release_ms: f64,
}

impl Default for CostInputs {
    fn default() -> Self {
        CostInputs {
            rpc_latency_ms: 1.0,
            rpc_bandwidth_kb_s: 480.0,
            vm_bandwidth_kb_s: 660.0,
            page_bytes: 4096,
            block_bytes: 4096,
            null_migration_ms: 76.0,
            open_file_ms: 9.4,
            remote_fork_exec_wait_ms: 81.0,
            local_fork_exec_wait_ms: 46.0,
            select_release_ms: 36.0,
        }
    }
}

impl CostInputs {
    pub fn from_toml(text: &str) -> Result<CostInputs, String> {
        let i: CostInputs = toml::from_str(text).map_err(|e| e.to_string())?;
        i.check()?;
        Ok(i)
    }

    /// Bandwidths and sizes must be positive, times finite and not negative.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("rpc_bandwidth_kb_s", self.rpc_bandwidth_kb_s),
            ("vm_bandwidth_kb_s", self.vm_bandwidth_kb_s),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, not {v}"));
            }
        }
        let times = [
            ("rpc_latency_ms", self.rpc_latency_ms),
            ("null_migration_ms", self.null_migration_ms),
            ("open_file_ms", self.open_file_ms),
            ("remote_fork_exec_wait_ms", self.remote_fork_exec_wait_ms),
            ("local_fork_exec_wait_ms", self.local_fork_exec_wait_ms),
            ("select_release_ms", self.select_release_ms),
        ];
        for (name, v) in times {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} must be a number >= 0, not {v}"));
            }
        }
        if self.page_bytes == 0 || self.block_bytes == 0 {
            return Err("page_bytes and block_bytes must be positive".into());
        }
        Ok(())
    }
}

/// Messages of a situation measured in the simulator: RPCs and bytes. Bytes are the
/// encoded sizes of every message, requests and replies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    pub rpcs: u32,
    pub bytes: u64,
}

impl Traffic {
    pub fn plus(self, o: Traffic) -> Traffic {
        Traffic {
            rpcs: self.rpcs + o.rpcs,
            bytes: self.bytes + o.bytes,
        }
    }
    /// What `self` has beyond `o` (never below zero).
    pub fn minus(self, o: Traffic) -> Traffic {
        Traffic {
            rpcs: self.rpcs.saturating_sub(o.rpcs),
            bytes: self.bytes.saturating_sub(o.bytes),
        }
    }
    /// The messages of a set of migrations.
    pub fn of(records: &[&MigrationRecord]) -> Traffic {
        records.iter().fold(Traffic::default(), |t, r| {
            t.plus(Traffic {
                rpcs: r.rpcs(),
                bytes: r.bytes(),
            })
        })
    }
}

/// The situations the calibration measures on the simulated cluster, one per named
/// measurement, with the counts the implementation produced for them
/// ([`crate::calibrate::measure`]). Kept apart from the arithmetic so that a test can
/// change a count and watch the constants follow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Situations {
    /// Migrate a process with no pages and no open files (SPE Table 1's null process).
    pub null: MigrationRecord,
    /// The same process with one open file (read-only, nothing dirty).
    pub one_file: MigrationRecord,
    /// Exec a null process on another host (no open files): the exec-time migration of
    /// SPE Table 1's "fork, exec with migration, wait".
    pub exec: MigrationRecord,
    /// Per migration above, in order: messages sent while it ran that the ledger did not
    /// attribute to it (they name no process, e.g. a consistency callback of the file
    /// server). None today; counted so that a protocol change that adds some is priced.
    pub unattributed: [Traffic; 3],
    /// The messages of that row after the migration: the child's exit and the wait.
    pub exec_exit_wait: Traffic,
    /// Open a connection to migd, obtain a host, close (SPE Table 1's host selection).
    pub select_release: Traffic,
}

/// One constant derived from one named measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibrated {
    /// The constant's name (a field of [`CostModel`]).
    pub constant: &'static str,
    pub value_ms: f64,
    /// The measurement it is derived from, and where the papers give it.
    pub measurement: &'static str,
    pub paper_ms: f64,
    /// The implementation's counts for that situation (RPCs, bytes, ...).
    pub counts: String,
    /// What those counts cost on the network at the given latency and bandwidths; the
    /// constant is the rest (divided per file or per call where it says so).
    pub network_ms: f64,
}

/// The constants derived from [`CostInputs`] and [`Situations`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    /// Kernel work of a migration besides its messages (from the null process).
    pub migrate_fixed_ms: f64,
    /// Work per open file besides the messages of its exchange (from 9.4 ms per file).
    pub file_work_ms: f64,
    /// Kernel work of an exec-time migration besides its messages (from fork, remote
    /// exec, wait: 81 ms against 46 ms locally).
    pub exec_fixed_ms: f64,
    /// Work of one call to migd besides its RPC: the pseudo-device, copying into migd's
    /// address space, switching to migd, migd's own work (TH §7.3.1 puts about three
    /// quarters of a call's time there). From select and release, 36 ms.
    pub migd_call_ms: f64,
    /// How each was derived, in the order above.
    pub rows: Vec<Calibrated>,
}

/// The cost model: the inputs, the calibrated constants, and the pricing of measured
/// counts. Every prediction is `calibrated constants + measured counts x inputs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostModel {
    pub inputs: CostInputs,
    pub calibration: Calibration,
}

impl Default for CostModel {
    /// The SPARCstation 1 inputs, calibrated on the implementation's counts (computed
    /// once per process).
    fn default() -> Self {
        static DEFAULT: std::sync::OnceLock<CostModel> = std::sync::OnceLock::new();
        DEFAULT
            .get_or_init(|| match CostModel::calibrate(&CostInputs::default()) {
                Ok(m) => m,
                Err(e) => unreachable!("the shipped inputs calibrate: {e}"),
            })
            .clone()
    }
}

/// Message kinds whose payload the model prices by count (pages, blocks at their full
/// size) rather than by their encoded bytes, which carry one symbol per page or block.
const PAYLOAD_KINDS: [MsgKind; 2] = [MsgKind::PageFlush, MsgKind::BlockFlush];

impl CostModel {
    /// Measures the calibration situations on the simulated cluster (Sprite's design)
    /// and derives the constants.
    pub fn calibrate(inputs: &CostInputs) -> Result<CostModel, String> {
        inputs.check()?;
        let situations = crate::calibrate::measure()?;
        CostModel::from_situations(inputs, &situations)
    }

    /// The parameter file format: [`CostInputs`] in TOML, calibrated.
    pub fn from_toml(text: &str) -> Result<CostModel, String> {
        CostModel::calibrate(&CostInputs::from_toml(text)?)
    }

    /// Derives each constant from its one named measurement and the counts the
    /// implementation measured for that same situation: the measurement minus what the
    /// counted RPCs and bytes cost on the network. A change in the protocol's counts
    /// changes the constants, not the measurements.
    pub fn from_situations(inputs: &CostInputs, s: &Situations) -> Result<CostModel, String> {
        let i = inputs;
        let net = |r: &MigrationRecord| network_ms(i, r);
        let counts = |r: &MigrationRecord| {
            format!(
                "{} RPCs, {} B ({}), {} file(s)",
                r.rpcs(),
                r.bytes(),
                r.phases
                    .iter()
                    .filter(|(_, c)| c.rpcs > 0)
                    .map(|(k, c)| format!("{} {}", k.name(), c.rpcs))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.files_moved
            )
        };
        if s.one_file.files_moved != 1 || s.null.files_moved != 0 {
            return Err(format!(
                "calibration: the open-file situation moved {} file(s), the null one {}",
                s.one_file.files_moved, s.null.files_moved
            ));
        }
        if s.select_release.rpcs == 0 {
            return Err("calibration: host selection sent no RPC".into());
        }
        let [null_other, file_other, exec_other] = s.unattributed.map(|t| traffic_ms(i, t));
        let null_net = net(&s.null) + null_other;
        let file_net = net(&s.one_file) + file_other - null_net;
        let exec_net = net(&s.exec) + exec_other + traffic_ms(i, s.exec_exit_wait);
        let sel_net = traffic_ms(i, s.select_release);
        let rows = vec![
            Calibrated {
                constant: "migrate_fixed_ms",
                value_ms: i.null_migration_ms - null_net,
                measurement: "migrate a null process (SPE Table 1, TH Table 7.2)",
                paper_ms: i.null_migration_ms,
                counts: counts(&s.null),
                network_ms: null_net,
            },
            Calibrated {
                constant: "file_work_ms",
                value_ms: i.open_file_ms - file_net,
                measurement: "transfer the state of an open file, per file (SPE Table 1)",
                paper_ms: i.open_file_ms,
                counts: format!(
                    "{} RPCs, {} B more than the null process",
                    s.one_file.rpcs() as i64 - s.null.rpcs() as i64,
                    s.one_file.bytes() as i64 - s.null.bytes() as i64
                ),
                network_ms: file_net,
            },
            Calibrated {
                constant: "exec_fixed_ms",
                value_ms: i.remote_fork_exec_wait_ms - i.local_fork_exec_wait_ms - exec_net,
                measurement: "fork, exec a null process with migration, wait, less the same \
                              locally (SPE Table 1)",
                paper_ms: i.remote_fork_exec_wait_ms - i.local_fork_exec_wait_ms,
                counts: format!(
                    "exec-time migration {}; exit and wait {} RPCs, {} B",
                    counts(&s.exec),
                    s.exec_exit_wait.rpcs,
                    s.exec_exit_wait.bytes
                ),
                network_ms: exec_net,
            },
            Calibrated {
                constant: "migd_call_ms",
                value_ms: (i.select_release_ms - sel_net) / s.select_release.rpcs as f64,
                measurement: "select and release an idle host, per call to migd (SPE Table 1, \
                              TH Table 7.1)",
                paper_ms: i.select_release_ms,
                counts: format!(
                    "{} calls (RPCs), {} B",
                    s.select_release.rpcs, s.select_release.bytes
                ),
                network_ms: sel_net,
            },
        ];
        if let Some(r) = rows
            .iter()
            .find(|r| r.value_ms.is_nan() || r.value_ms < 0.0)
        {
            return Err(format!(
                "calibration: {} would be {:.2} ms: the measured messages of \"{}\" ({}) \
                 cost {:.2} ms on the network, more than the measurement's {} ms",
                r.constant, r.value_ms, r.measurement, r.counts, r.network_ms, r.paper_ms
            ));
        }
        Ok(CostModel {
            inputs: inputs.clone(),
            calibration: Calibration {
                migrate_fixed_ms: rows[0].value_ms,
                file_work_ms: rows[1].value_ms,
                exec_fixed_ms: rows[2].value_ms,
                migd_call_ms: rows[3].value_ms,
                rows,
            },
        })
    }

    fn kb_ms(&self, bytes: f64, bw_kb_s: f64) -> f64 {
        kb_ms(bytes, bw_kb_s)
    }

    /// What a migration's counted messages cost on the network: each RPC's latency, the
    /// encoded bytes of every message at the single-channel bandwidth, and the pages and
    /// blocks it flushed at their full size (pages at the VM bandwidth).
    pub fn network_ms(&self, r: &MigrationRecord) -> f64 {
        network_ms(&self.inputs, r)
    }

    /// RPC latencies and bytes of some measured traffic.
    pub fn traffic_ms(&self, t: Traffic) -> f64 {
        traffic_ms(&self.inputs, t)
    }

    /// Predicted time of one migration: the calibrated kernel work of its kind, the
    /// calibrated work per moved file, and its measured messages on the network.
    pub fn predict(&self, r: &MigrationRecord) -> f64 {
        let c = &self.calibration;
        let fixed = match r.kind {
            MigKind::Exec => c.exec_fixed_ms,
            _ => c.migrate_fixed_ms,
        };
        fixed + r.files_moved as f64 * c.file_work_ms + self.network_ms(r)
    }

    /// Predicted freeze: everything but the work before the freeze (INIT, START, and the
    /// pre-copy rounds sent while the process ran: one PAGE_FLUSH RPC and its pages each).
    pub fn predict_freeze(&self, r: &MigrationRecord) -> f64 {
        let i = &self.inputs;
        let before: Traffic = [MsgKind::MigInit, MsgKind::MigInitReply, MsgKind::MigStart]
            .iter()
            .filter_map(|k| r.phases.get(k))
            .fold(Traffic::default(), |t, c| Traffic {
                rpcs: t.rpcs + c.rpcs,
                bytes: t.bytes + c.bytes,
            });
        let precopy = r.precopy_rounds as f64 * i.rpc_latency_ms
            + self.kb_ms(
                r.pages_precopied as f64 * i.page_bytes as f64,
                i.vm_bandwidth_kb_s,
            );
        (self.predict(r) - self.traffic_ms(before) - precopy).max(0.0)
    }

    /// Predicted time of calls to migd from their measured RPCs and bytes.
    pub fn predict_migd_calls(&self, t: Traffic) -> f64 {
        t.rpcs as f64 * self.calibration.migd_call_ms + self.traffic_ms(t)
    }
}

fn kb_ms(bytes: f64, bw_kb_s: f64) -> f64 {
    bytes / 1024.0 / bw_kb_s * 1000.0
}

fn traffic_ms(i: &CostInputs, t: Traffic) -> f64 {
    t.rpcs as f64 * i.rpc_latency_ms + kb_ms(t.bytes as f64, i.rpc_bandwidth_kb_s)
}

fn network_ms(i: &CostInputs, r: &MigrationRecord) -> f64 {
    let encoded: u64 = r
        .phases
        .iter()
        .filter(|(k, _)| !PAYLOAD_KINDS.contains(k))
        .map(|(_, c)| c.bytes)
        .sum();
    traffic_ms(
        i,
        Traffic {
            rpcs: r.rpcs(),
            bytes: encoded,
        },
    ) + kb_ms(
        r.pages_flushed as f64 * i.page_bytes as f64,
        i.vm_bandwidth_kb_s,
    ) + kb_ms(
        r.blocks_flushed as f64 * i.block_bytes as f64,
        i.rpc_bandwidth_kb_s,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_parameter_file_is_the_default() {
        let text = include_str!("../sparcstation1.toml");
        assert_eq!(CostInputs::from_toml(text), Ok(CostInputs::default()));
        let partial = CostInputs::from_toml("rpc_latency_ms = 2.5\n").unwrap();
        assert_eq!(partial.rpc_latency_ms, 2.5);
        assert_eq!(partial.page_bytes, 4096);
        assert!(
            CostInputs::from_toml("rpc_latency = 1\n").is_err(),
            "unknown fields are errors"
        );
        assert!(
            CostInputs::from_toml("migrate_fixed_ms = 72\n").is_err(),
            "a calibrated constant cannot be set"
        );
        assert!(CostInputs::from_toml("vm_bandwidth_kb_s = 0\n").is_err());
    }
}
