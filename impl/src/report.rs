//! The implementation beside the paper: the seed's per-page transfer table measured for
//! each VM strategy, freeze time and residual dependencies, and predicted costs next to
//! SPE Table 1. Every figure comes from running small workloads on the simulated cluster
//! and pricing the counted RPCs and bytes with the [`CostModel`].

use crate::cost::{CostModel, MigrationRecord, TableCell};
use crate::msg::MigKind;
use crate::sim::{Cluster, ClusterConfig, Enabled};
use crate::vm::PageClass;
use serde::Serialize;
use std::fmt::Write;
use vocab::{Fd, FileName, HostId, Mode, Op, PageNo, Pid, Switch, Switches, VmStrategy};

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

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub strategies: Vec<StrategyRow>,
    pub table1: Vec<Table1Row>,
    /// A pmake run: 8 jobs, 4 idle hosts granted by migd, one owner returning mid-job.
    pub pmake: Option<crate::policy::PmakeReport>,
    pub pmake_migration_ms: f64,
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

    table1.push(Table1Row {
        action: "select and release an idle host",
        paper: "36 ms",
        predicted: format!("{:.1} ms", model.select_ms()),
        structure: "2 RPCs to migd (request, release) + migd work (calibrated)".into(),
    });

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

    let (pmake, pmake_migration_ms) = pmake_run(model);
    Report {
        strategies,
        table1,
        pmake,
        pmake_migration_ms,
        model: model.clone(),
    }
}

fn pmake_run(model: &CostModel) -> (Option<crate::policy::PmakeReport>, f64) {
    use crate::policy::{pmake, Job, Migd};
    let me = Pid::new(0, 0);
    let cfg = ClusterConfig::simple(5, &[(me, 1)]);
    let Ok(mut c) = Cluster::new(&cfg, 7) else {
        return (None, 0.0);
    };
    let mut migd = Migd::new();
    for h in 1..5u8 {
        migd.report(HostId(h), true, h as u64);
    }
    let jobs = vec![Job { work: 4 }; 8];
    let evict = std::collections::BTreeMap::from([(2usize, HostId(1))]);
    let r = pmake(&mut c, &mut migd, me, &jobs, &evict).ok();
    let ms = c
        .ledger
        .migrations
        .iter()
        .filter(|m| m.succeeded())
        .map(|m| model.predict(m))
        .sum();
    (r, ms)
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
                "\npmake: {} jobs, {} remote, {} local, {} eviction(s), {} re-migration(s); \
                 predicted migration time {:.0} ms in all",
                p.completed,
                p.ran_remotely,
                p.ran_locally,
                p.evictions,
                p.remigrations,
                self.pmake_migration_ms
            );
        }
        let _ = writeln!(
            s,
            "\nParameters: RPC {} ms, {} KB/s ({} KB/s VM), page {} B, block {} B; calibrated: \
             migrate fixed {} ms, exec fixed {} ms, stream server work {} ms, migd {} ms.",
            self.model.rpc_latency_ms,
            self.model.rpc_bandwidth_kb_s,
            self.model.vm_bandwidth_kb_s,
            self.model.page_bytes,
            self.model.block_bytes,
            self.model.migrate_fixed_ms,
            self.model.exec_fixed_ms,
            self.model.stream_server_ms,
            self.model.select_fixed_ms
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
        assert!(
            r.table1[2].structure.starts_with("3 RPCs per file"),
            "{}",
            r.table1[2].structure
        );
        assert!(r.render().contains("SPE Table 1"));
    }
}
