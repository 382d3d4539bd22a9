//! The situations the cost model is calibrated on, run on the simulated cluster: one per
//! named measurement of SPE Table 1 that the model cannot take as a parameter. Each
//! returns the implementation's own counts (RPCs, bytes, files moved); the arithmetic that
//! turns a measurement and these counts into a constant is [`CostModel::from_situations`].
//! So when the protocol's message counts change (say the null migration goes from 4 RPCs
//! to the papers' 3, TH §7.3.2 footnote), the constants follow with no edit.
//!
//! The same helpers ([`cluster`], [`traffic_since`]) serve the prediction situations
//! in [`crate::predict`].

use crate::cost::{CostModel, Counter, MigrationRecord, Situations, Traffic};
use crate::msg::{MigKind, Msg};
use crate::policy::IdleRule;
use crate::sim::{Cluster, ClusterConfig};
use std::collections::BTreeMap;
use vocab::{FileName, HostId, Mode, MsgKind, Op, Pid, Switches};

/// The process every situation starts with (home h0).
pub const P: Pid = Pid::new(0, 0);
/// The host processes migrate to.
pub const H1: HostId = HostId(1);

/// Three hosts, `P` with `pages` pages, file /f0 with three symbols; Sprite's design.
pub fn cluster(switches: Switches, pages: u8) -> Cluster {
    let mut cfg = ClusterConfig::simple(3, &[(P, pages)]);
    cfg.switches = switches;
    cfg.files.push((FileName(0), vec![1, 2, 3]));
    match Cluster::new(&cfg, 1) {
        Ok(c) => c,
        Err(e) => unreachable!("the calibration's own cluster is valid: {e}"),
    }
}

/// Runs operations of `pid` one after another, each to quiescence.
pub fn run_ops(c: &mut Cluster, pid: Pid, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        match c.run_op(pid, *op) {
            Ok(Some(Ok(_))) => {}
            Ok(other) => return Err(format!("{pid} {op}: {other:?}")),
            Err(e) => return Err(format!("{pid} {op}: {e}")),
        }
    }
    Ok(())
}

/// The child `P` forked (in a cluster where `P` is the only other process).
pub fn child_of_p(c: &Cluster) -> Result<Pid, String> {
    c.view()
        .processes
        .iter()
        .map(|p| p.pid)
        .find(|p| *p != P)
        .ok_or_else(|| "fork made no child".to_string())
}

/// The first successful migration of `pid` of kind `kind`.
pub fn migration(c: &Cluster, pid: Pid, kind: MigKind) -> Result<MigrationRecord, String> {
    c.ledger
        .migrations
        .iter()
        .find(|m| m.pid == pid && m.kind == kind && m.succeeded())
        .cloned()
        .ok_or_else(|| format!("no successful {kind:?} migration of {pid}"))
}

/// Messages sent between two snapshots of the ledger's totals.
pub fn traffic_since(
    before: &BTreeMap<MsgKind, Counter>,
    after: &BTreeMap<MsgKind, Counter>,
) -> Traffic {
    let mut t = Traffic::default();
    for (k, a) in after {
        let b = before.get(k).copied().unwrap_or_default();
        t.rpcs += a.rpcs - b.rpcs;
        t.bytes += a.bytes - b.bytes;
    }
    t
}

/// Per message kind, the messages sent between two snapshots (kinds with none left out).
pub fn kinds_since(
    before: &BTreeMap<MsgKind, Counter>,
    after: &BTreeMap<MsgKind, Counter>,
) -> BTreeMap<MsgKind, Counter> {
    let mut out = BTreeMap::new();
    for (k, a) in after {
        let b = before.get(k).copied().unwrap_or_default();
        if a.msgs > b.msgs {
            out.insert(
                *k,
                Counter {
                    msgs: a.msgs - b.msgs,
                    rpcs: a.rpcs - b.rpcs,
                    bytes: a.bytes - b.bytes,
                },
            );
        }
    }
    out
}

/// Runs one operation that migrates `pid`; returns its migration and the messages sent
/// meanwhile that the ledger did not attribute to it.
pub fn moved(
    c: &mut Cluster,
    pid: Pid,
    op: Op,
    kind: MigKind,
) -> Result<(MigrationRecord, Traffic), String> {
    let before = c.ledger.totals.clone();
    run_ops(c, pid, &[op])?;
    let r = migration(c, pid, kind)?;
    let all = traffic_since(&before, &c.ledger.totals);
    let other = Traffic {
        rpcs: all.rpcs.saturating_sub(r.rpcs()),
        bytes: all.bytes.saturating_sub(r.bytes()),
    };
    Ok((r, other))
}

/// The calibration situations, measured once per process (they depend on the protocol
/// only, not on the cost inputs).
pub fn measure() -> Result<Situations, String> {
    static MEASURED: std::sync::OnceLock<Result<Situations, String>> = std::sync::OnceLock::new();
    MEASURED.get_or_init(measure_now).clone()
}

fn measure_now() -> Result<Situations, String> {
    let open_read = Op::Open {
        name: FileName(0),
        mode: Mode::Read,
        create: false,
    };
    let migrate = Op::Migrate { target: H1 };

    let mut c = cluster(Switches::SPRITE, 0);
    let (null, null_other) = moved(&mut c, P, migrate, MigKind::Migrate)?;

    let mut c = cluster(Switches::SPRITE, 0);
    run_ops(&mut c, P, &[open_read])?;
    let (one_file, file_other) = moved(&mut c, P, migrate, MigKind::Migrate)?;

    // SPE Table 1: the execs were done with no open files.
    let child = Pid::new(0, 1);
    let mut c = cluster(Switches::SPRITE, 0);
    run_ops(&mut c, P, &[Op::Fork])?;
    let exec_op = Op::Exec { target: Some(H1) };
    let (exec, exec_other) = moved(&mut c, child, exec_op, MigKind::Exec)?;
    let before = c.ledger.totals.clone();
    run_ops(&mut c, child, &[Op::Exit { status: 0 }])?;
    run_ops(&mut c, P, &[Op::Wait])?;
    let exec_exit_wait = traffic_since(&before, &c.ledger.totals);

    let sel = measure_selection()?;
    Ok(Situations {
        null,
        one_file,
        exec,
        unattributed: [null_other, file_other, exec_other],
        exec_exit_wait,
        select_release: sel.select_release.traffic(),
    })
}

/// Messages of some calls to migd, measured in the simulator.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Calls {
    /// Per message kind.
    pub kinds: BTreeMap<MsgKind, Counter>,
}

impl Calls {
    pub fn traffic(&self) -> Traffic {
        self.kinds
            .values()
            .fold(Traffic::default(), |t, c| Traffic {
                rpcs: t.rpcs + c.rpcs,
                bytes: t.bytes + c.bytes,
            })
    }
    pub fn msgs(&self) -> u32 {
        self.kinds.values().map(|c| c.msgs).sum()
    }
    /// The kinds that are calls (not replies), in order.
    pub fn names(&self) -> String {
        self.kinds
            .iter()
            .filter(|(_, n)| n.rpcs > 0)
            .map(|(k, _)| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
    pub fn predicted_ms(&self, model: &CostModel) -> f64 {
        model.predict_migd_calls(self.traffic())
    }
}

/// Host selection measured in the simulator (SPE Table 1, TH §6.3.2 and Table 7.1).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Selection {
    /// Open the connection, obtain a host, close (Sprite's 3 file-system operations).
    pub select_release: Calls,
    /// On an open connection: obtain a host and return it explicitly.
    pub request_release: Calls,
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
pub fn measure_selection() -> Result<Selection, String> {
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
    let select_release = Calls {
        kinds: kinds_since(&before, &c.ledger.totals),
    };
    call(&mut c, Msg::MigdOpen { client: P })?;
    let before = c.ledger.totals.clone();
    let h = granted(call(&mut c, Msg::HostRequest { client: P })?)?;
    call(&mut c, Msg::HostRelease { client: P, host: h })?;
    let request_release = Calls {
        kinds: kinds_since(&before, &c.ledger.totals),
    };
    call(&mut c, Msg::MigdClose { client: P })?;
    Ok(Selection {
        select_release,
        request_release,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::CostInputs;

    /// Each calibrated constant reproduces its own measurement exactly: that is what
    /// calibrated means (and why those rows are not predictions).
    #[test]
    fn calibrated_constants_reproduce_their_measurements() {
        let m = CostModel::default();
        let s = measure().expect("measured");
        let i = &m.inputs;
        assert!((m.predict(&s.null) - i.null_migration_ms).abs() < 1e-9);
        assert!(
            (m.predict(&s.one_file) - m.predict(&s.null) - i.open_file_ms).abs() < 1e-9,
            "per file"
        );
        let remote =
            i.local_fork_exec_wait_ms + m.predict(&s.exec) + m.traffic_ms(s.exec_exit_wait);
        assert!((remote - i.remote_fork_exec_wait_ms).abs() < 1e-9);
        assert!((m.predict_migd_calls(s.select_release) - i.select_release_ms).abs() < 1e-9);
        assert_eq!(
            s.unattributed,
            [Traffic::default(); 3],
            "no message outside the migrations' own in these situations today"
        );
    }

    #[test]
    fn host_selection_is_measured_three_calls_to_migd() {
        let model = CostModel::default();
        let sel = measure_selection().expect("measured");
        let full = &sel.select_release;
        // Sprite's 3 file-system operations: open the pseudo-device, request, close.
        assert_eq!(full.traffic().rpcs, 3);
        assert_eq!(
            full.kinds.keys().copied().collect::<Vec<_>>(),
            vec![
                MsgKind::MigdOpen,
                MsgKind::HostRequest,
                MsgKind::HostGrant,
                MsgKind::MigdClose
            ]
        );
        assert_eq!(full.msgs(), 6, "each call and its reply");
        assert_eq!(full.kinds[&MsgKind::HostGrant].rpcs, 0, "a reply");
        let again = &sel.request_release;
        assert_eq!(again.traffic().rpcs, 2);
        // The prediction is the measured counts priced by the model, nothing else.
        let i = &model.inputs;
        let priced = |c: &Calls| {
            let t = c.traffic();
            t.rpcs as f64 * (i.rpc_latency_ms + model.calibration.migd_call_ms)
                + t.bytes as f64 / 1024.0 / i.rpc_bandwidth_kb_s * 1000.0
        };
        assert!((full.predicted_ms(&model) - priced(full)).abs() < 1e-9);
        assert!((again.predicted_ms(&model) - priced(again)).abs() < 1e-9);
    }

    /// A protocol change that alters a situation's counts changes the constant, not the
    /// measurement: one RPC fewer in the null migration raises the fixed work by one RPC
    /// latency, and the null migration still costs 76 ms.
    #[test]
    fn the_calibration_follows_the_measured_counts() {
        let inputs = CostInputs::default();
        let s = measure().expect("measured");
        let base = CostModel::from_situations(&inputs, &s).expect("calibrates");
        let mut fewer = s.clone();
        let update = fewer
            .null
            .phases
            .get_mut(&MsgKind::MigInit)
            .expect("MIG_INIT counted");
        update.rpcs -= 1;
        let other = CostModel::from_situations(&inputs, &fewer).expect("calibrates");
        let c = |m: &CostModel| m.calibration.migrate_fixed_ms;
        assert!((c(&other) - c(&base) - inputs.rpc_latency_ms).abs() < 1e-9);
        assert!((other.predict(&fewer.null) - inputs.null_migration_ms).abs() < 1e-9);
        // The per-file constant is the difference of two situations: one RPC fewer in
        // both leaves it alone.
        assert!(
            (other.calibration.file_work_ms - base.calibration.file_work_ms
                + inputs.rpc_latency_ms)
                .abs()
                < 1e-9,
            "only the null situation changed, so the per-file difference grew by one RPC"
        );
        // A measurement that the counted messages alone exceed is an error, not a
        // negative constant.
        let tight = CostInputs {
            null_migration_ms: 1.0,
            ..CostInputs::default()
        };
        let e = CostModel::from_situations(&tight, &s).expect_err("too tight");
        assert!(e.contains("migrate_fixed_ms"), "{e}");
    }
}
