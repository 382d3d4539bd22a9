//! The implementation beside the paper: the seed's per-page transfer table measured for
//! each VM strategy, freeze time and residual dependencies, and predicted costs next to
//! SPE Table 1. Every figure comes from running small workloads on the simulated cluster
//! and pricing the counted RPCs and bytes with the [`CostModel`].

use crate::cost::{CostModel, Counter, MigrationRecord, TableCell};
use crate::msg::{MigKind, Msg};
use crate::policy::{IdleRule, Job, PmakeReport, PmakeSpec};
use crate::sim::{Cluster, ClusterConfig, Enabled};
use crate::vm::PageClass;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use vocab::{
    ClusterEvent, Fd, FileName, HostId, Mode, MsgKind, Op, PageNo, Pid, Switch, Switches,
    VmStrategy,
};

const P: Pid = Pid::new(0, 0);
const H1: HostId = HostId(1);

#[derive(Clone, Debug, Serialize)]
pub struct StrategyRow {
    pub strategy: String,
    /// Transfers per page: dirty+reused, dirty+unused, clean+reused, clean+unused.
    pub cells: [Option<u32>; 4],
    /// The same cells as (fewest, most) transfers, when pages of a class differ.
    pub ranges: [Option<(u32, u32)>; 4],
    pub total_transfers: u32,
    /// Pages that crossed the network more than once during the migration (pre-copy
    /// re-sends a page the process wrote after its copy left).
    pub pages_sent_twice: u32,
    /// Pre-copy rounds sent while the process ran.
    pub precopy_rounds: u32,
    pub predicted_ms: f64,
    pub predicted_freeze_ms: f64,
    /// Hosts other than the current one that still hold pages of the process.
    pub residual_hosts: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Table1Row {
    pub action: &'static str,
    pub paper: &'static str,
    pub predicted: String,
    pub structure: String,
}

/// Messages of some calls to migd, measured in the simulator, and their predicted time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Calls {
    pub rpcs: u32,
    pub msgs: u32,
    pub bytes: u64,
    /// Per message kind.
    pub kinds: BTreeMap<MsgKind, Counter>,
    pub predicted_ms: f64,
}

/// Host selection measured in the simulator (SPE Table 1, TH §6.3.2 and Table 7.1).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SelectionCost {
    /// Open the connection, obtain a host, close (Sprite's 3 file-system operations).
    pub select_release: Calls,
    /// On an open connection: obtain a host and return it explicitly.
    pub request_release: Calls,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub strategies: Vec<StrategyRow>,
    pub table1: Vec<Table1Row>,
    pub selection: Option<SelectionCost>,
    /// A pmake run through migd ([`pmake_spec`]): 8 jobs, an owner returning mid-job.
    pub pmake: Option<PmakeReport>,
    pub pmake_migration_ms: f64,
    /// Predicted time of the pmake run's calls to migd.
    pub pmake_selection_ms: f64,
    pub model: CostModel,
}

fn strategy_switches(s: VmStrategy) -> Switches {
    match s {
        VmStrategy::Flush => Switches::SPRITE,
        VmStrategy::FullCopy => Switches::only(Switch::FullCopyVm),
        VmStrategy::PreCopy => Switches::only(Switch::PrecopyVm),
        VmStrategy::CopyOnReference => Switches::only(Switch::LazyVm),
    }
}

fn cluster(switches: Switches, pages: u8) -> Cluster {
    let mut cfg = ClusterConfig::simple(3, &[(P, pages)]);
    cfg.switches = switches;
    cfg.files.push((FileName(0), vec![1, 2, 3]));
    match Cluster::new(&cfg, 1) {
        Ok(c) => c,
        Err(e) => unreachable!("the report's own cluster is valid: {e}"),
    }
}

/// Which rows the strategy table has: (strategy, pre-copy runs during the rounds, the
/// process writes while it migrates).
const ROWS: [(VmStrategy, bool, bool); 10] = [
    (VmStrategy::Flush, false, false),
    (VmStrategy::FullCopy, false, false),
    (VmStrategy::PreCopy, false, false),
    (VmStrategy::PreCopy, true, false),
    (VmStrategy::CopyOnReference, false, false),
    (VmStrategy::Flush, false, true),
    (VmStrategy::FullCopy, false, true),
    (VmStrategy::PreCopy, false, true),
    (VmStrategy::PreCopy, true, true),
    (VmStrategy::CopyOnReference, false, true),
];

fn ops(c: &mut Cluster, ops: &[Op]) {
    for op in ops {
        let _ = c.run_op(P, *op);
    }
}

/// Writes the process makes while its migration is in progress, in the row with writes
/// during the copy: a working set of three pages (two dirty ones and a clean one), each
/// written twice.
const WRITES_DURING_COPY: [u8; 6] = [0, 2, 4, 0, 2, 4];

/// The seed's workload: 8 pages, 2 dirty+reused, 2 dirty+unused, 2 clean+reused, 2
/// clean+unused; one migration to h1. With `writes_during`, the process goes on writing
/// [`WRITES_DURING_COPY`] while it migrates: the schedule alternates one message delivery
/// and one write of the process whenever it may run (a process that keeps writing while it
/// is copied). Only pre-copy lets it run then; the other strategies hold the writes until
/// it has moved.
/// With `runs` (pre-copy only), the process runs during the copy rounds, as in V; without,
/// pre-copy sends its round with the process frozen (the reference model's pre-copy).
fn strategy_row(s: VmStrategy, runs: bool, writes_during: bool, model: &CostModel) -> StrategyRow {
    let mut c = cluster(strategy_switches(s), 8);
    c.set_precopy_runs(runs);
    let mut before = Vec::new();
    for i in 0..4 {
        before.push(Op::MemWrite {
            page: PageNo(i),
            sym: i + 1,
        });
    }
    for i in 4..8 {
        before.push(Op::MemRead { page: PageNo(i) });
    }
    ops(&mut c, &before);
    if writes_during {
        c.submit(P, Op::Migrate { target: H1 });
        for (k, page) in WRITES_DURING_COPY.iter().enumerate() {
            c.submit(
                P,
                Op::MemWrite {
                    page: PageNo(*page),
                    sym: 10 + k as u8,
                },
            );
        }
        run_writing(&mut c);
    } else {
        ops(&mut c, &[Op::Migrate { target: H1 }]);
    }
    let after: Vec<Op> = [0u8, 1, 4, 5]
        .iter()
        .map(|i| Op::MemRead { page: PageNo(*i) })
        .collect();
    ops(&mut c, &after);
    let t = c.ledger.transfer_table();
    let cell = |class, reused| t.get(&(class, reused)).and_then(TableCell::exact);
    let range = |class, reused| {
        t.get(&(class, reused))
            .and_then(|c: &TableCell| Some((c.min?, c.max?)))
    };
    let m = c.ledger.migrations.iter().find(|m| m.succeeded());
    let total = m
        .map(|m| m.pages.iter().map(|p| p.transfers).sum())
        .unwrap_or(0);
    let residual_hosts = c
        .view()
        .hosts
        .iter()
        .filter(|h| h.id != H1 && h.residual.contains_key(&P))
        .count();
    StrategyRow {
        strategy: format!(
            "{s:?}{}{}",
            if s == VmStrategy::PreCopy && !runs {
                " frozen"
            } else {
                ""
            },
            if writes_during { ", writes" } else { "" }
        ),
        cells: [
            cell(PageClass::Dirty, true),
            cell(PageClass::Dirty, false),
            cell(PageClass::Clean, true),
            cell(PageClass::Clean, false),
        ],
        ranges: [
            range(PageClass::Dirty, true),
            range(PageClass::Dirty, false),
            range(PageClass::Clean, true),
            range(PageClass::Clean, false),
        ],
        total_transfers: total,
        pages_sent_twice: m.map(|m| m.pages_sent_twice()).unwrap_or(0),
        precopy_rounds: m.map(|m| m.precopy_rounds).unwrap_or(0),
        predicted_ms: m.map(|m| model.predict(m)).unwrap_or(0.0),
        predicted_freeze_ms: m.map(|m| model.predict_freeze(m)).unwrap_or(0.0),
        residual_hosts,
    }
}

/// Runs to quiescence, alternating a message delivery and a start of the process's next
/// operation whenever both are possible.
fn run_writing(c: &mut Cluster) {
    let mut write_next = false;
    for _ in 0..10_000 {
        let en = c.enabled();
        let start = en.iter().find(|e| matches!(e, Enabled::Start { .. }));
        let deliver = en.iter().find(|e| matches!(e, Enabled::Deliver { .. }));
        let Some(e) = (if write_next {
            start.or(deliver)
        } else {
            deliver.or(start)
        }) else {
            return;
        };
        write_next = matches!(e, Enabled::Deliver { .. });
        let e = *e;
        c.perform(&e);
    }
}

fn first_migration(c: &Cluster) -> Option<&MigrationRecord> {
    c.ledger.migrations.iter().find(|m| m.succeeded())
}

/// Builds the whole report.
pub fn build(model: &CostModel) -> Report {
    let strategies = ROWS
        .into_iter()
        .map(|(s, runs, w)| strategy_row(s, runs, w, model))
        .collect();
    let mut table1 = Vec::new();

    let selection = measure_selection(model).ok();
    if let Some(sel) = &selection {
        let names = |c: &Calls| {
            c.kinds
                .iter()
                .filter(|(_, n)| n.rpcs > 0)
                .map(|(k, _)| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        table1.push(Table1Row {
            action: "select and release an idle host",
            paper: "36 ms",
            predicted: format!("{:.1} ms", sel.select_release.predicted_ms),
            structure: format!(
                "{} RPCs, {} B measured ({}); migd call work calibrated",
                sel.select_release.rpcs,
                sel.select_release.bytes,
                names(&sel.select_release)
            ),
        });
        table1.push(Table1Row {
            action: "  request + explicit release (open conn.)",
            paper: "22 ms (TH 6.3.2)",
            predicted: format!("{:.1} ms", sel.request_release.predicted_ms),
            structure: format!(
                "{} RPCs, {} B measured ({}); predicted, not calibrated",
                sel.request_release.rpcs,
                sel.request_release.bytes,
                names(&sel.request_release)
            ),
        });
    }

    let mut null = cluster(Switches::SPRITE, 0);
    ops(&mut null, &[Op::Migrate { target: H1 }]);
    let n = first_migration(&null).cloned();
    let (null_ms, null_rpcs, null_state) = n
        .as_ref()
        .map(|m| (model.predict(m), m.rpcs(), m.state_bytes))
        .unwrap_or_default();
    table1.push(Table1Row {
        action: "migrate a \"null\" process",
        paper: "76 ms",
        predicted: format!("{null_ms:.1} ms"),
        structure: format!(
            "{null_rpcs} RPCs, state buffer {null_state} B (fixed kernel work calibrated)"
        ),
    });

    let mut one = cluster(Switches::SPRITE, 0);
    ops(
        &mut one,
        &[
            Op::Open {
                name: FileName(0),
                mode: Mode::Read,
                create: false,
            },
            Op::Migrate { target: H1 },
        ],
    );
    let o = first_migration(&one).cloned();
    let per_file_rpcs = o
        .as_ref()
        .map(|m| m.rpcs())
        .unwrap_or(0)
        .saturating_sub(null_rpcs);
    let per_file_ms = o.as_ref().map(|m| model.predict(m)).unwrap_or(0.0) - null_ms;
    table1.push(Table1Row {
        action: "transfer state of open files",
        paper: "9.4 ms/file (3 RPCs)",
        predicted: format!("{per_file_ms:.1} ms/file"),
        structure: format!(
            "{per_file_rpcs} RPCs per file: STREAM_MOVE, STREAM_RELEASE, STREAM_RELEASE_REPLY"
        ),
    });

    let mut blk = cluster(Switches::SPRITE, 0);
    ops(
        &mut blk,
        &[
            Op::Open {
                name: FileName(0),
                mode: Mode::Write,
                create: false,
            },
            Op::Write { fd: Fd(0), sym: 9 },
            Op::Write { fd: Fd(0), sym: 9 },
            Op::Migrate { target: H1 },
        ],
    );
    let b = first_migration(&blk);
    table1.push(Table1Row {
        action: "flush modified file blocks",
        paper: "480 KB/s",
        predicted: format!("{:.0} KB/s", model.rpc_bandwidth_kb_s),
        structure: format!(
            "{} blocks in {} BLOCK_FLUSH RPC",
            b.map(|m| m.blocks_flushed).unwrap_or(0),
            b.and_then(|m| m.phases.get(&vocab::MsgKind::BlockFlush))
                .map(|c| c.rpcs)
                .unwrap_or(0)
        ),
    });

    let mut vmc = cluster(Switches::SPRITE, 8);
    let writes: Vec<Op> = (0..8)
        .map(|i| Op::MemWrite {
            page: PageNo(i),
            sym: 1,
        })
        .collect();
    ops(&mut vmc, &writes);
    ops(&mut vmc, &[Op::Migrate { target: H1 }]);
    let v = first_migration(&vmc);
    table1.push(Table1Row {
        action: "flush modified VM pages",
        paper: "660 KB/s",
        predicted: format!("{:.0} KB/s", model.vm_bandwidth_kb_s),
        structure: format!(
            "{} dirty pages in {} PAGE_FLUSH RPC",
            v.map(|m| m.pages_flushed).unwrap_or(0),
            v.and_then(|m| m.phases.get(&vocab::MsgKind::PageFlush))
                .map(|c| c.rpcs)
                .unwrap_or(0)
        ),
    });

    let mut ex = cluster(Switches::SPRITE, 0);
    ops(&mut ex, &[Op::Exec { target: Some(H1) }]);
    let e = ex
        .ledger
        .migrations
        .iter()
        .find(|m| m.kind == MigKind::Exec && m.succeeded())
        .cloned();
    table1.push(Table1Row {
        action: "transfer exec arguments",
        paper: "480 KB/s",
        predicted: format!("{:.0} KB/s", model.rpc_bandwidth_kb_s),
        structure: format!(
            "carried in the one MIG_STATE buffer ({} B)",
            e.as_ref().map(|m| m.state_bytes).unwrap_or(0)
        ),
    });

    // fork, remote exec of a null process, wait: the local cost plus the exec-time
    // migration and the extra RPCs the remote child makes (its exit notice).
    let mut few = cluster(Switches::SPRITE, 0);
    let child = Pid::new(0, 1);
    let _ = few.run_op(P, Op::Fork);
    let _ = few.run_op(child, Op::Exec { target: Some(H1) });
    let before_exit: u32 = few.ledger.totals.values().map(|c| c.rpcs).sum();
    let _ = few.run_op(child, Op::Exit { status: 0 });
    let _ = few.run_op(P, Op::Wait);
    let after: u32 = few.ledger.totals.values().map(|c| c.rpcs).sum();
    let mig = few
        .ledger
        .migrations
        .iter()
        .find(|m| m.succeeded())
        .cloned();
    let remote = model.local_fork_exec_wait_ms
        + mig.as_ref().map(|m| model.predict(m)).unwrap_or(0.0)
        + (after - before_exit) as f64 * model.rpc_latency_ms;
    table1.push(Table1Row {
        action: "fork, remote exec of a null process, wait",
        paper: "81 ms (46 ms locally)",
        predicted: format!(
            "{remote:.1} ms ({:.0} ms locally)",
            model.local_fork_exec_wait_ms
        ),
        structure: format!(
            "exec-time migration of {} RPCs, then {} RPC(s) for exit and wait",
            mig.as_ref().map(|m| m.rpcs()).unwrap_or(0),
            after - before_exit
        ),
    });

    let (pmake, pmake_migration_ms, pmake_selection_ms) = match pmake_run(model) {
        Some((r, a, b)) => (Some(r), a, b),
        None => (None, 0.0, 0.0),
    };
    Report {
        strategies,
        table1,
        selection,
        pmake,
        pmake_migration_ms,
        pmake_selection_ms,
        model: model.clone(),
    }
}

/// Counts of the messages sent since `before`, priced as calls to migd.
fn calls_since(
    model: &CostModel,
    before: &BTreeMap<MsgKind, Counter>,
    after: &BTreeMap<MsgKind, Counter>,
) -> Calls {
    let mut calls = Calls::default();
    for (k, a) in after {
        let b = before.get(k).copied().unwrap_or_default();
        let d = Counter {
            msgs: a.msgs - b.msgs,
            rpcs: a.rpcs - b.rpcs,
            bytes: a.bytes - b.bytes,
        };
        if d.msgs > 0 {
            calls.rpcs += d.rpcs;
            calls.msgs += d.msgs;
            calls.bytes += d.bytes;
            calls.kinds.insert(*k, d);
        }
    }
    calls.predicted_ms = model.predict_migd_calls(calls.rpcs, calls.bytes);
    calls
}

/// One call from `P` to migd, run to quiescence; returns migd's answer.
fn call(c: &mut Cluster, msg: Msg) -> Result<Msg, String> {
    c.client_send(P, msg).map_err(|e| e.to_string())?;
    c.run_until_quiescent().map_err(|e| e.to_string())?;
    let mut mail = c.client_mail(P);
    match (mail.pop(), mail.is_empty()) {
        (Some(m), true) => Ok(m),
        (m, _) => Err(format!(
            "expected one answer from migd, got {m:?} and {mail:?}"
        )),
    }
}

/// Measures host selection on a 3-host cluster once its daemons have reported the other
/// hosts idle: the full protocol (open, request, close), then request and explicit
/// release on an open connection. Only the calls' own messages are counted (no timer
/// fires while a call runs).
pub fn measure_selection(model: &CostModel) -> Result<SelectionCost, String> {
    let mut c = cluster(Switches::SPRITE, 1);
    let rule = IdleRule::default();
    let idle_at = rule.no_input_ms + rule.sample_ms;
    c.enable_policy(rule).map_err(|e| e.to_string())?;
    c.run_until(idle_at).map_err(|e| e.to_string())?;
    let granted = |m: Msg| match m {
        Msg::HostGrant {
            result: Ok(Some(h)),
            ..
        } => Ok(h),
        other => Err(format!("no host granted: {other:?}")),
    };
    let before = c.ledger.totals.clone();
    call(&mut c, Msg::MigdOpen { client: P })?;
    granted(call(&mut c, Msg::HostRequest { client: P })?)?;
    call(&mut c, Msg::MigdClose { client: P })?;
    let select_release = calls_since(model, &before, &c.ledger.totals);
    call(&mut c, Msg::MigdOpen { client: P })?;
    let before = c.ledger.totals.clone();
    let h = granted(call(&mut c, Msg::HostRequest { client: P })?)?;
    call(&mut c, Msg::HostRelease { client: P, host: h })?;
    let request_release = calls_since(model, &before, &c.ledger.totals);
    call(&mut c, Msg::MigdClose { client: P })?;
    Ok(SelectionCost {
        select_release,
        request_release,
    })
}

/// The standard pmake run: 6 hosts, pmake on h0, 8 jobs of 8 steps of 5 s. h1 to h4 are
/// idle when pmake starts; h5's owner is at the console and leaves as pmake starts, so
/// h5 becomes idle 30 s later; the owner of h1 (the first host granted: all became idle
/// together, ties go to the lowest id) returns 7 s into the run. So the job on h1 is
/// evicted, migd has no host for it until h5 comes free, and then pmake re-migrates it.
pub fn pmake_spec() -> (ClusterConfig, PmakeSpec) {
    let me = Pid::new(0, 0);
    let mut cfg = ClusterConfig::simple(6, &[(me, 1)]);
    cfg.hosts[5].owner_present = true;
    let rule = IdleRule::default();
    let spec = PmakeSpec {
        client: me,
        jobs: vec![
            Job {
                steps: 8,
                step_ms: 5_000
            };
            8
        ],
        local_slots: 1,
        first_file: 0,
        start_ms: rule.no_input_ms + rule.sample_ms,
        events: vec![
            (0, ClusterEvent::OwnerLeaves(HostId(5))),
            (7_000, ClusterEvent::OwnerReturns(HostId(1))),
        ],
    };
    (cfg, spec)
}

fn pmake_run(model: &CostModel) -> Option<(PmakeReport, f64, f64)> {
    let (cfg, spec) = pmake_spec();
    let mut c = Cluster::new(&cfg, 7).ok()?;
    c.enable_policy(IdleRule::default()).ok()?;
    let r = crate::policy::run_spec(&mut c, &spec).ok()?;
    let ms = c
        .ledger
        .migrations
        .iter()
        .filter(|m| m.succeeded())
        .map(|m| model.predict(m))
        .sum();
    // The client's calls to migd and their replies (not the daemons' reports, nor migd's
    // notices).
    let all = calls_since(model, &BTreeMap::new(), &c.ledger.totals);
    let (mut sel, mut bytes) = (0, 0);
    for k in [
        MsgKind::MigdOpen,
        MsgKind::HostRequest,
        MsgKind::HostGrant,
        MsgKind::HostRelease,
        MsgKind::MigdClose,
    ] {
        if let Some(n) = all.kinds.get(&k) {
            sel += n.rpcs;
            bytes += n.bytes;
        }
    }
    Some((r, ms, model.predict_migd_calls(sel, bytes)))
}

impl Report {
    /// The report as text, one table per section.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let c = |x: Option<(u32, u32)>| match x {
            Some((a, b)) if a == b => a.to_string(),
            Some((a, b)) => format!("{a}-{b}"),
            None => "-".into(),
        };
        let _ = writeln!(
            s,
            "Per-page transfers for one migration (SPE \"Virtual Memory Transfer\"); \
             \", writes\": the process writes 3 pages {} times while it migrates, one write \
             per message delivered",
            WRITES_DURING_COPY.len()
        );
        let _ = writeln!(
            s,
            "{:<24} {:>10} {:>10} {:>10} {:>10} {:>5} {:>5} {:>6} {:>8} {:>9} {:>8}",
            "strategy",
            "dirty+used",
            "dirty+idle",
            "clean+used",
            "clean+idle",
            "total",
            "twice",
            "rounds",
            "pred ms",
            "freeze ms",
            "residual"
        );
        for r in &self.strategies {
            let _ = writeln!(
                s,
                "{:<24} {:>10} {:>10} {:>10} {:>10} {:>5} {:>5} {:>6} {:>8.1} {:>9.1} {:>8}",
                r.strategy,
                c(r.ranges[0]),
                c(r.ranges[1]),
                c(r.ranges[2]),
                c(r.ranges[3]),
                r.total_transfers,
                r.pages_sent_twice,
                r.precopy_rounds,
                r.predicted_ms,
                r.predicted_freeze_ms,
                r.residual_hosts
            );
        }
        let _ = writeln!(
            s,
            "{:<24} {:>10} {:>10} {:>10} {:>10}",
            "seed's table", 2, 1, 1, 0
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "SPE Table 1 (SPARCstation 1) beside the implementation's predictions"
        );
        let _ = writeln!(
            s,
            "{:<42} {:<22} {:<26} structure",
            "action", "paper", "predicted"
        );
        for r in &self.table1 {
            let _ = writeln!(
                s,
                "{:<42} {:<22} {:<26} {}",
                r.action, r.paper, r.predicted, r.structure
            );
        }
        if let Some(p) = &self.pmake {
            let _ = writeln!(
                s,
                "\npmake through migd: {} jobs, {} remote, {} local, {} eviction(s), {} \
                 re-migration(s); {} request(s), {} grant(s), {} denial(s), {} release(s); \
                 {} result(s) differ from one Unix machine; predicted migration time {:.0} ms, \
                 host selection {:.0} ms",
                p.completed,
                p.ran_remotely,
                p.ran_locally,
                p.evictions,
                p.remigrations,
                p.requests,
                p.grants,
                p.denials,
                p.releases,
                p.tr_mismatches.len(),
                self.pmake_migration_ms,
                self.pmake_selection_ms
            );
        }
        let _ = writeln!(
            s,
            "\nParameters: RPC {} ms, {} KB/s ({} KB/s VM), page {} B, block {} B; calibrated: \
             migrate fixed {} ms, exec fixed {} ms, stream server work {} ms, migd call {} ms.",
            self.model.rpc_latency_ms,
            self.model.rpc_bandwidth_kb_s,
            self.model.vm_bandwidth_kb_s,
            self.model.page_bytes,
            self.model.block_bytes,
            self.model.migrate_fixed_ms,
            self.model.exec_fixed_ms,
            self.model.stream_server_ms,
            self.model.migd_call_ms
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprite_row_is_the_seed_table_and_files_cost_three_rpcs() {
        let r = build(&CostModel::default());
        assert_eq!(r.strategies[0].cells, [Some(2), Some(1), Some(1), Some(0)]);
        assert_eq!(r.strategies[1].cells, [Some(1), Some(1), Some(1), Some(1)]);
        assert_eq!(r.strategies[4].cells, [Some(1), Some(0), Some(1), Some(0)]);
        assert_eq!(
            r.strategies[4].residual_hosts, 1,
            "copy-on-reference leaves pages on the source"
        );
        assert_eq!(r.strategies[0].residual_hosts, 0);
        // Pre-copy with writes during the copy: pages go again, and the frozen round
        // carries the ones still stale (a longer freeze than with no writes). Frozen, it
        // is a full copy.
        let row = |name: &str| {
            r.strategies
                .iter()
                .find(|s| s.strategy == name)
                .unwrap_or_else(|| panic!("row {name}"))
        };
        let (idle, busy) = (row("PreCopy"), row("PreCopy, writes"));
        assert_eq!((idle.pages_sent_twice, idle.precopy_rounds), (0, 1));
        assert!(busy.pages_sent_twice > 0 && busy.precopy_rounds >= 2);
        assert!(busy.predicted_freeze_ms > idle.predicted_freeze_ms);
        let full = row("FullCopy");
        assert!(busy.predicted_freeze_ms < full.predicted_freeze_ms);
        let frozen = row("PreCopy frozen, writes");
        assert_eq!((frozen.pages_sent_twice, frozen.precopy_rounds), (0, 0));
        assert!(frozen.predicted_freeze_ms > full.predicted_freeze_ms);
        for other in [
            "Flush, writes",
            "FullCopy, writes",
            "CopyOnReference, writes",
        ] {
            assert_eq!(row(other).pages_sent_twice, 0);
        }
        let files = r
            .table1
            .iter()
            .find(|row| row.action == "transfer state of open files")
            .expect("row");
        assert!(
            files.structure.starts_with("3 RPCs per file"),
            "{}",
            files.structure
        );
        assert!(r.render().contains("SPE Table 1"));
    }

    #[test]
    fn host_selection_is_measured_three_calls_to_migd() {
        let model = CostModel::default();
        let sel = measure_selection(&model).expect("measured");
        let full = &sel.select_release;
        // Sprite's 3 file-system operations: open the pseudo-device, request, close.
        assert_eq!(full.rpcs, 3);
        assert_eq!(
            full.kinds.keys().copied().collect::<Vec<_>>(),
            vec![
                MsgKind::MigdOpen,
                MsgKind::HostRequest,
                MsgKind::HostGrant,
                MsgKind::MigdClose
            ]
        );
        assert_eq!(full.msgs, 6, "each call and its reply");
        assert_eq!(full.kinds[&MsgKind::HostGrant].rpcs, 0, "a reply");
        let again = &sel.request_release;
        assert_eq!(again.rpcs, 2);
        // The prediction is the measured counts priced by the model, nothing else.
        let priced = |c: &Calls| {
            c.rpcs as f64 * (model.rpc_latency_ms + model.migd_call_ms)
                + c.bytes as f64 / 1024.0 / model.rpc_bandwidth_kb_s * 1000.0
        };
        assert_eq!(full.predicted_ms, priced(full));
        assert_eq!(again.predicted_ms, priced(again));
        // A cost model without the calibrated per-call work prices only the network.
        let bare = CostModel {
            migd_call_ms: 0.0,
            ..CostModel::default()
        };
        let b = measure_selection(&bare).expect("measured");
        assert!(b.select_release.predicted_ms < 4.0);
    }
}
