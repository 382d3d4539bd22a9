//! Predictions: figures the papers measured on their own, computed from the calibrated
//! constants ([`CostModel`]) and the counts the implementation measures for a *different*
//! situation than any calibration used. Nothing here is adjusted to its paper figure; each
//! is printed beside it with the relative error (`scenario --report`).
//!
//! Each situation is run on the simulated cluster ([`measure`]); the pricing is a pure
//! function of the counts ([`Predictions::from_counts`]), so a test can change a count and
//! watch the prediction move.

use crate::calibrate::{cluster, moved, run_ops, traffic_since, H1, P};
use crate::cost::{CostModel, MigrationRecord, Traffic};
use crate::msg::MigKind;
use crate::sim::{Cluster, ClusterConfig};
use serde::Serialize;
use vocab::{ClusterEvent, Fd, FileName, Mode, Op, PageNo, Pid, Switches};

/// TH Table 8.3: average size of the state buffer (MIG_STATE) per migration, 6.95 KB.
/// The typical exec-time migration's arguments and environment are sized so that its
/// measured buffer has this size.
pub const TYPICAL_STATE_BUFFER_BYTES: u64 = 7117; // 6.95 x 1024
/// SPE §Usage Patterns: dirty 4 KB pages written per evicted process, 37 on average.
pub const EVICTED_DIRTY_PAGES: u8 = 37;
/// SPE §Usage Patterns: processes per eviction, 3.3 on average.
pub const PROCESSES_PER_EVICTION: f64 = 3.3;
/// Processes evicted together in the simulated eviction.
pub const EVICTED_TOGETHER: u8 = 3;
/// TH Table 7.3: iterations of the `fork` and `gettime` benchmarks.
pub const FORK_ITERATIONS: u32 = 1000;
pub const GETTIME_ITERATIONS: u32 = 10_000;
/// TH Fig. 7.1 (SPE Fig. 3), read from the bar chart: the `fork` benchmark run locally,
/// about 10.7 s (the chart gives bars, not numbers; reading error about 0.3 s).
pub const FORK_LOCAL_S: f64 = 10.7;
/// Same figure, `gettime` run locally: a bar a few pixels high, about 0.6 s (reading
/// error about half of that).
pub const GETTIME_LOCAL_S: f64 = 0.6;

/// The counts of every prediction situation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Counts {
    /// pmake's job idiom (TH §8.4): fork, then the child's exec-time migration with four
    /// open files (standard input read from a file, standard output into pmake's pipe,
    /// standard error into a file, and the command script pmake wrote and keeps open,
    /// one dirty block) and a 6.95 KB state buffer.
    pub typical_exec: MigrationRecord,
    /// Messages sent while that migration ran that the ledger does not attribute to it
    /// (they name no process): the file server's consistency actions the move causes,
    /// such as disabling caching of the script, now open on two hosts with a writer.
    pub typical_exec_other: Traffic,
    /// That job's exit and pmake's wait for it.
    pub typical_exit_wait: Traffic,
    /// An owner returns to a host running [`EVICTED_TOGETHER`] foreign processes, each
    /// with 37 dirty pages, four open files and one dirty block: their migrations home.
    pub evictions: Vec<MigrationRecord>,
    /// Messages sent during the eviction not attributed to any of its migrations.
    pub eviction_other: Traffic,
    /// One iteration of the `fork` benchmark (fork, the child exits, wait), at home and
    /// on a remote host.
    pub fork_local: Traffic,
    pub fork_remote: Traffic,
    /// One `gettimeofday`, at home and on a remote host (forwarded home).
    pub gettime_local: Traffic,
    pub gettime_remote: Traffic,
}

/// One prediction beside the paper.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub what: &'static str,
    pub predicted: f64,
    pub paper: f64,
    pub unit: &'static str,
    /// (predicted - paper) / paper.
    pub error: f64,
    /// Where the paper gives the figure.
    pub source: &'static str,
    /// The situation and its measured counts.
    pub counts: String,
}

impl Prediction {
    fn new(
        what: &'static str,
        predicted: f64,
        paper: f64,
        unit: &'static str,
        source: &'static str,
        counts: String,
    ) -> Prediction {
        Prediction {
            what,
            predicted,
            paper,
            unit,
            error: (predicted - paper) / paper,
            source,
            counts,
        }
    }
}

/// Every prediction, and the typical job's costs the pmake model takes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Predictions {
    pub rows: Vec<Prediction>,
    /// Predicted exec-time migration of a typical pmake job, ms.
    pub typical_exec_ms: f64,
    /// Predicted fork + remote exec + exit + wait of a typical job, ms: the local fork,
    /// exec and wait (SPE Table 1, an input), the exec-time migration, and the exit and
    /// wait messages.
    pub typical_remote_start_ms: f64,
}

fn traffic_text(t: Traffic) -> String {
    format!("{} RPCs, {} B", t.rpcs, t.bytes)
}

fn record_text(r: &MigrationRecord) -> String {
    format!(
        "{} RPCs, {} B, {} files, {} blocks, {} pages, state buffer {} B",
        r.rpcs(),
        r.bytes(),
        r.files_moved,
        r.blocks_flushed,
        r.pages_flushed,
        r.state_bytes
    )
}

impl Predictions {
    /// Prices the measured counts with the calibrated model.
    pub fn from_counts(m: &CostModel, c: &Counts) -> Predictions {
        let typical_exec_ms = m.predict(&c.typical_exec) + m.traffic_ms(c.typical_exec_other);
        let typical_remote_start_ms =
            m.inputs.local_fork_exec_wait_ms + typical_exec_ms + m.traffic_ms(c.typical_exit_wait);
        let per_evicted = if c.evictions.is_empty() {
            0.0
        } else {
            (c.evictions.iter().map(|r| m.predict(r)).sum::<f64>() + m.traffic_ms(c.eviction_other))
                / c.evictions.len() as f64
        };
        let fork_added = c.fork_remote.minus(c.fork_local);
        let fork_remote_s = FORK_LOCAL_S + FORK_ITERATIONS as f64 * m.traffic_ms(fork_added) / 1e3;
        let get_added = c.gettime_remote.minus(c.gettime_local);
        let get_remote_s =
            GETTIME_LOCAL_S + GETTIME_ITERATIONS as f64 * m.traffic_ms(get_added) / 1e3;
        let slowdown = |remote: f64, local: f64| (remote / local - 1.0) * 100.0;
        let rows = vec![
            Prediction::new(
                "typical exec-time migration",
                typical_exec_ms,
                330.0,
                "ms",
                "SPE §Migration Overhead; TH Table 8.3 (0.33 s)",
                format!(
                    "pmake job idiom (TH §8.4): {}; other messages during it: {}",
                    record_text(&c.typical_exec),
                    traffic_text(c.typical_exec_other)
                ),
            ),
            Prediction::new(
                "eviction (3.3 processes, 37 dirty pages each)",
                PROCESSES_PER_EVICTION * per_evicted / 1e3,
                3.0,
                "s",
                "SPE §Usage Patterns; TH Table 8.3 (2.98 s)",
                format!(
                    "{} evicted together, per process {:.1} ms: {}; other messages during \
                     it: {}",
                    c.evictions.len(),
                    per_evicted,
                    c.evictions.first().map(record_text).unwrap_or_default(),
                    traffic_text(c.eviction_other)
                ),
            ),
            Prediction::new(
                "fork benchmark, remote slowdown",
                slowdown(fork_remote_s, FORK_LOCAL_S),
                73.0,
                "%",
                "SPE Fig. 3, Table 2; TH Fig. 7.1, Table 7.3",
                format!(
                    "per fork+exit+wait remote {} (at home {}); local run {FORK_LOCAL_S} s \
                     read from TH Fig. 7.1, predicted remote {:.1} s",
                    traffic_text(c.fork_remote),
                    traffic_text(c.fork_local),
                    fork_remote_s
                ),
            ),
            Prediction::new(
                "gettime benchmark, remote slowdown",
                slowdown(get_remote_s, GETTIME_LOCAL_S),
                3200.0,
                "%",
                "SPE Fig. 3, Table 2; TH Fig. 7.1, Table 7.3",
                format!(
                    "per call remote {} (at home {}); local run about {GETTIME_LOCAL_S} s \
                     read from TH Fig. 7.1, predicted remote {:.1} s",
                    traffic_text(c.gettime_remote),
                    traffic_text(c.gettime_local),
                    get_remote_s
                ),
            ),
        ];
        Predictions {
            rows,
            typical_exec_ms,
            typical_remote_start_ms,
        }
    }
}

/// Runs every prediction situation on the simulated cluster (Sprite's design).
pub fn measure() -> Result<Counts, String> {
    let (typical_exec, typical_exec_other, typical_exit_wait) = typical_job()?;
    let (evictions, eviction_other) = eviction()?;
    Ok(Counts {
        typical_exec,
        typical_exec_other,
        typical_exit_wait,
        evictions,
        eviction_other,
        fork_local: fork_iteration(false)?,
        fork_remote: fork_iteration(true)?,
        gettime_local: gettime(false)?,
        gettime_remote: gettime(true)?,
    })
}

const STDIN: FileName = FileName(0);
const SCRIPT: FileName = FileName(1);
const STDERR: FileName = FileName(2);

/// pmake's job (TH §8.4): pmake opens standard input, makes the pipe its jobs write
/// into, writes the command script (smaller than a block) and keeps it open, forks; the
/// child closes the pipe's read end, opens standard error and execs on h1; it exits and
/// pmake waits.
fn typical_job_with(args: u32) -> Result<(MigrationRecord, Traffic, Traffic), String> {
    let mut cfg = ClusterConfig::simple(3, &[(P, 1)]);
    cfg.files.push((STDIN, vec![1, 2, 3]));
    cfg.files.push((STDERR, vec![]));
    cfg.exec_args_bytes = args;
    let mut c = Cluster::new(&cfg, 1).map_err(|e| e.to_string())?;
    let open = |name, mode, create| Op::Open { name, mode, create };
    run_ops(
        &mut c,
        P,
        &[
            open(STDIN, Mode::Read, false),  // fd 0
            Op::Pipe,                        // fds 1 (read), 2 (write)
            open(SCRIPT, Mode::Write, true), // fd 3
            Op::Write { fd: Fd(3), sym: 7 }, // one dirty block on h0
            Op::Fork,
        ],
    )?;
    // A process has at most 4 descriptors here (kernel::MAX_FDS), so the child opens its
    // standard error itself after closing the pipe's read end; it is moved the same way.
    let child = Pid::new(0, 1);
    run_ops(
        &mut c,
        child,
        &[Op::Close { fd: Fd(1) }, open(STDERR, Mode::Write, false)], // fd 1
    )?;
    let exec_op = Op::Exec { target: Some(H1) };
    let (exec, other) = moved(&mut c, child, exec_op, MigKind::Exec)?;
    let before = c.ledger.totals.clone();
    run_ops(&mut c, child, &[Op::Exit { status: 0 }])?;
    run_ops(&mut c, P, &[Op::Wait])?;
    Ok((exec, other, traffic_since(&before, &c.ledger.totals)))
}

fn typical_job() -> Result<(MigrationRecord, Traffic, Traffic), String> {
    // Size the arguments to fill TH's average buffer: measure, correct by the difference
    // (the encoding of a length grows with it, so a second correction may be needed).
    let mut args: u64 = 0;
    for _ in 0..4 {
        let (r, other, t) = typical_job_with(args as u32)?;
        if r.state_bytes == TYPICAL_STATE_BUFFER_BYTES {
            return Ok((r, other, t));
        }
        args = (args + TYPICAL_STATE_BUFFER_BYTES).saturating_sub(r.state_bytes);
    }
    Err(format!(
        "no argument size gives a {TYPICAL_STATE_BUFFER_BYTES} B state buffer"
    ))
}

/// The operations of the `i`th evicted process of [`eviction`]: it opens its standard
/// input (/f0) and three files of its own for writing at home, migrates to h1, and there
/// writes one block of its output and [`EVICTED_DIRTY_PAGES`] pages.
pub(crate) fn evictable_job(i: u8) -> Vec<Op> {
    let own = |k: u8| FileName(10 + 3 * i + k);
    let mut ops = vec![Op::Open {
        name: STDIN,
        mode: Mode::Read,
        create: false,
    }];
    for k in 0..3 {
        ops.push(Op::Open {
            name: own(k),
            mode: Mode::Write,
            create: true,
        });
    }
    ops.push(Op::Migrate { target: H1 });
    ops.push(Op::Write { fd: Fd(1), sym: 9 });
    for page in 0..EVICTED_DIRTY_PAGES {
        ops.push(Op::MemWrite {
            page: PageNo(page),
            sym: 1,
        });
    }
    ops
}

/// An owner returns to h1, which runs [`EVICTED_TOGETHER`] processes of h0; each had
/// opened four files at home (standard input, output, error, a script) and, on h1,
/// wrote 37 pages and one block of its output.
fn eviction() -> Result<(Vec<MigrationRecord>, Traffic), String> {
    let pids: Vec<Pid> = (0..EVICTED_TOGETHER).map(|i| Pid::new(0, i)).collect();
    let procs: Vec<(Pid, u8)> = pids.iter().map(|p| (*p, EVICTED_DIRTY_PAGES)).collect();
    let mut cfg = ClusterConfig::simple(3, &procs);
    cfg.files.push((STDIN, vec![1, 2, 3]));
    let mut c = Cluster::new(&cfg, 1).map_err(|e| e.to_string())?;
    for (i, pid) in pids.iter().enumerate() {
        run_ops(&mut c, *pid, &evictable_job(i as u8))?;
    }
    let before = c.ledger.totals.clone();
    c.event(ClusterEvent::OwnerReturns(H1))
        .map_err(|e| e.to_string())?;
    c.run_until_quiescent().map_err(|e| e.to_string())?;
    let evicted: Vec<MigrationRecord> = c
        .ledger
        .migrations
        .iter()
        .filter(|m| m.kind == MigKind::Evict && m.succeeded())
        .cloned()
        .collect();
    if evicted.len() != pids.len() {
        return Err(format!(
            "{} of {} processes evicted",
            evicted.len(),
            pids.len()
        ));
    }
    let other = traffic_since(&before, &c.ledger.totals)
        .minus(Traffic::of(&evicted.iter().collect::<Vec<_>>()));
    Ok((evicted, other))
}

/// A process, at home or migrated to h1 first.
fn placed(remote: bool) -> Result<Cluster, String> {
    let mut c = cluster(Switches::SPRITE, 1);
    if remote {
        run_ops(&mut c, P, &[Op::Migrate { target: H1 }])?;
    }
    Ok(c)
}

fn fork_iteration(remote: bool) -> Result<Traffic, String> {
    let mut c = placed(remote)?;
    let before = c.ledger.totals.clone();
    run_ops(&mut c, P, &[Op::Fork])?;
    let child = crate::calibrate::child_of_p(&c)?;
    run_ops(&mut c, child, &[Op::Exit { status: 0 }])?;
    run_ops(&mut c, P, &[Op::Wait])?;
    Ok(traffic_since(&before, &c.ledger.totals))
}

fn gettime(remote: bool) -> Result<Traffic, String> {
    let mut c = placed(remote)?;
    let before = c.ledger.totals.clone();
    run_ops(&mut c, P, &[Op::Gettimeofday])?;
    Ok(traffic_since(&before, &c.ledger.totals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_situations_measure_what_they_say() {
        let c = measure().expect("measured");
        assert_eq!(c.typical_exec.files_moved, 4, "four open files (TH §8.4)");
        assert_eq!(c.typical_exec.blocks_flushed, 1, "the script's block");
        assert_eq!(c.typical_exec.pages_flushed, 0, "exec-time: no VM");
        assert_eq!(c.typical_exec.state_bytes, TYPICAL_STATE_BUFFER_BYTES);
        assert_eq!(c.evictions.len(), EVICTED_TOGETHER as usize);
        for r in &c.evictions {
            assert_eq!(r.kind, MigKind::Evict);
            assert_eq!(r.pages_flushed, EVICTED_DIRTY_PAGES as u32);
            assert_eq!((r.files_moved, r.blocks_flushed), (4, 1));
        }
        assert_eq!(
            c.typical_exec_other.rpcs, 1,
            "the server disables caching of the script, open on two hosts with a writer"
        );
        assert_eq!(c.gettime_local.rpcs, 0, "answered at home");
        assert!(c.gettime_remote.rpcs >= 1, "forwarded home");
        assert!(c.fork_remote.rpcs > c.fork_local.rpcs);
    }

    /// Every prediction is computed from the counts: one more RPC in a situation moves
    /// its prediction by one RPC latency, one more file by the calibrated per-file work.
    #[test]
    fn a_changed_count_changes_the_prediction() {
        let m = CostModel::default();
        let c = measure().expect("measured");
        let base = Predictions::from_counts(&m, &c);
        let l = m.inputs.rpc_latency_ms;

        let mut more = c.clone();
        more.typical_exec.files_moved += 1;
        let p = Predictions::from_counts(&m, &more);
        let d = p.typical_exec_ms - base.typical_exec_ms;
        assert!((d - m.calibration.file_work_ms).abs() < 1e-9, "{d}");

        let mut more = c.clone();
        more.gettime_remote.rpcs += 1;
        let p = Predictions::from_counts(&m, &more);
        let added_s = GETTIME_ITERATIONS as f64 * l / 1e3;
        let d = p.rows[3].predicted - base.rows[3].predicted;
        assert!((d - added_s / GETTIME_LOCAL_S * 100.0).abs() < 1e-6, "{d}");

        let mut more = c.clone();
        for r in &mut more.evictions {
            r.pages_flushed += 1;
        }
        let p = Predictions::from_counts(&m, &more);
        let page_ms = m.inputs.page_bytes as f64 / 1024.0 / m.inputs.vm_bandwidth_kb_s * 1e3;
        let d = (p.rows[1].predicted - base.rows[1].predicted) * 1e3;
        assert!((d - PROCESSES_PER_EVICTION * page_ms).abs() < 1e-6, "{d}");

        // And a different calibration changes them too: no prediction is a constant.
        let slower = CostModel::from_situations(
            &crate::cost::CostInputs {
                null_migration_ms: 86.0,
                ..m.inputs.clone()
            },
            &crate::calibrate::measure().expect("measured"),
        )
        .expect("calibrates");
        let p = Predictions::from_counts(&slower, &c);
        let d = (p.rows[1].predicted - base.rows[1].predicted) * 1e3;
        assert!((d - PROCESSES_PER_EVICTION * 10.0).abs() < 1e-6, "{d}");
        assert_eq!(
            p.typical_exec_ms, base.typical_exec_ms,
            "exec is not a null migration"
        );
    }
}
