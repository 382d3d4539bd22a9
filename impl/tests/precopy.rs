//! V's pre-copy (`precopy-vm`, SPE "Virtual Memory Transfer"; TH §2.3.3): the process keeps
//! running while its pages are copied, a page written after its copy left is sent again,
//! and the frozen round carries what is still stale. MEM must hold whatever the process
//! writes during the copy; calls that would end or move the process wait for the move.
//! Running during the copy is the cluster setting `set_precopy_runs(true)`; by default the
//! process stays frozen, as in the reference model (the last test).

mod common;
use common::drive_until;
use sprite::msg::Node;
use sprite::{Cluster, ClusterConfig, Enabled};
use vocab::{
    ClusterEvent, Errno, HostId, MsgKind, Op, Outcome, PageNo, Pid, Refusal, Switch, Switches,
    Value,
};

const P: Pid = Pid::new(0, 0);
const H0: HostId = HostId(0);
const H1: HostId = HostId(1);

fn cfg(pages: u8) -> ClusterConfig {
    let mut c = ClusterConfig::simple(3, &[(P, pages)]);
    c.switches = Switches::only(Switch::PrecopyVm);
    c
}

/// A pre-copy cluster whose processes run during the copy rounds (V).
fn running(cfg: &ClusterConfig, seed: u64) -> Cluster {
    let mut c = Cluster::new(cfg, seed).unwrap();
    c.set_precopy_runs(true);
    c
}

fn write(page: u8, sym: u8) -> Op {
    Op::MemWrite {
        page: PageNo(page),
        sym,
    }
}

fn read(page: u8) -> Op {
    Op::MemRead { page: PageNo(page) }
}

/// Runs until the `n`th PAGE_FLUSH (pre-copy round) is in flight to the target.
fn until_round_in_flight(c: &mut Cluster, n: u32) {
    drive_until(c, "pre-copy round", |c, en| {
        let sent = c
            .ledger
            .totals
            .get(&MsgKind::PageFlush)
            .map_or(0, |t| t.rpcs);
        sent == n
            && en.iter().any(|e| {
                matches!(
                    e,
                    Enabled::Deliver {
                        to: Node::Host(H1),
                        kind: Some(MsgKind::PageFlush),
                        ..
                    }
                )
            })
    });
}

fn start_p(c: &mut Cluster) {
    let start = Enabled::Start {
        pid: P,
        host: Some(H0),
    };
    assert!(
        c.enabled().contains(&start),
        "the process runs on the source during the copy: {:?}",
        c.enabled()
    );
    assert!(c.perform(&start));
}

#[test]
fn mem_a_page_written_during_the_copy_is_sent_again() {
    let mut c = running(&cfg(4), 1);
    for i in 0..4 {
        c.run_op(P, write(i, i + 1)).unwrap();
    }
    let mig = c.submit(P, Op::Migrate { target: H1 });
    let w = c.submit(P, write(0, 9));
    until_round_in_flight(&mut c, 1);
    // The first round (all four pages) is on its way: the process writes page 0.
    start_p(&mut c);
    assert_eq!(c.outcome(w), Some(Ok(Value::Unit)));
    assert_eq!(
        c.outcome(mig),
        None,
        "the migrate call goes on in the background"
    );
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(mig), Some(Ok(Value::Unit)));
    assert_eq!(c.view().process(P).map(|p| p.host), Some(H1));
    // MEM: the write made during the copy is what the target has.
    for (page, want) in [(0, 9), (1, 2), (2, 3), (3, 4)] {
        assert_eq!(
            c.run_op(P, read(page)).unwrap(),
            Some(Ok(Value::Mem(want))),
            "pg{page}"
        );
    }
    let m = &c.ledger.migrations[0];
    let sent: Vec<u32> = m.pages.iter().map(|p| p.sent).collect();
    assert_eq!(sent, [2, 1, 1, 1], "page 0 crossed twice, the others once");
    assert_eq!(m.pages_sent_twice(), 1);
    assert_eq!(m.precopy_rounds, 2, "all four pages, then page 0 again");
    assert_eq!(
        m.pages_precopied, 5,
        "both rounds ran while the process ran"
    );
    assert_eq!(
        m.pages_flushed, 5,
        "the frozen round had nothing left to send"
    );
}

#[test]
fn mem_the_frozen_round_sends_what_the_running_rounds_left_stale() {
    // Page 0 is written during every round: the dirty set stops shrinking (1 page, then 1
    // page), so the rounds end and the frozen round carries page 0 a third time.
    let mut c = running(&cfg(2), 1);
    c.run_op(P, write(0, 1)).unwrap();
    c.run_op(P, write(1, 2)).unwrap();
    c.submit(P, Op::Migrate { target: H1 });
    c.submit(P, write(0, 5));
    c.submit(P, write(0, 6));
    until_round_in_flight(&mut c, 1);
    start_p(&mut c);
    until_round_in_flight(&mut c, 2);
    start_p(&mut c);
    c.run_until_quiescent().unwrap();
    assert_eq!(c.run_op(P, read(0)).unwrap(), Some(Ok(Value::Mem(6))));
    assert_eq!(c.run_op(P, read(1)).unwrap(), Some(Ok(Value::Mem(2))));
    let m = &c.ledger.migrations[0];
    assert_eq!(m.precopy_rounds, 2);
    assert_eq!(m.pages[0].sent, 3, "two running rounds and the frozen one");
    assert_eq!(m.pages[1].sent, 1);
    assert_eq!(m.pages_precopied, 3);
    assert_eq!(m.pages_flushed, 4);
}

/// MEM under the interleavings that 300 random seeds choose: every read returns the latest
/// write in the process's own order, whatever ran during the copy rounds.
#[test]
fn mem_holds_for_writes_interleaved_with_the_rounds_by_the_seed() {
    let mut resent = 0;
    let mut during = 0;
    for seed in 0..300u64 {
        let mut c = running(&cfg(4), seed);
        let mut mem = [0u8; 4];
        for i in 0..4u8 {
            c.run_op(P, write(i, i + 1)).unwrap();
            mem[i as usize] = i + 1;
        }
        let target = HostId(1 + (seed % 2) as u8);
        let mig = c.submit(P, Op::Migrate { target });
        let mut reads = Vec::new();
        for k in 0..8u8 {
            let page = ((seed as u8).wrapping_add(k * 3)) % 4;
            if k % 3 == 2 {
                reads.push((c.submit(P, read(page)), mem[page as usize]));
            } else {
                let sym = 10 + k;
                c.submit(P, write(page, sym));
                mem[page as usize] = sym;
            }
        }
        c.run_until_quiescent()
            .unwrap_or_else(|e| panic!("{e} (seed {seed})"));
        assert_eq!(c.outcome(mig), Some(Ok(Value::Unit)), "seed {seed}");
        for (id, want) in reads {
            assert_eq!(
                c.outcome(id),
                Some(Ok(Value::Mem(want))),
                "MEM: seed {seed}"
            );
        }
        for page in 0..4u8 {
            assert_eq!(
                c.run_op(P, read(page)).unwrap(),
                Some(Ok(Value::Mem(mem[page as usize]))),
                "MEM after the move: pg{page}, seed {seed}"
            );
        }
        let m = &c.ledger.migrations[0];
        resent += m.pages_sent_twice();
        let m_rec = c.op(mig).unwrap();
        during += c
            .ops()
            .iter()
            .filter(|r| r.started_at > m_rec.started_at && r.done_at < m_rec.done_at)
            .count();
        // RES: the target's pre-copy buffer is gone once the process is installed.
        assert!(
            c.kernel(target).unwrap().precopied.is_empty(),
            "seed {seed}"
        );
    }
    assert!(
        during > 300,
        "operations ran during the copy only {during} times"
    );
    assert!(resent > 50, "pages were sent again only {resent} times");
}

#[test]
fn calls_that_end_or_move_the_process_wait_for_the_move() {
    let child = Pid::new(0, 1);
    for (i, op) in [
        Op::Exit { status: 3 },
        Op::Wait,
        Op::Exec { target: None },
        Op::Migrate { target: H0 },
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = running(&cfg(2), i as u64);
        c.run_op(P, write(0, 7)).unwrap();
        if op == Op::Wait {
            c.run_op(P, Op::Fork).unwrap();
            c.run_op(child, Op::Exit { status: 5 }).unwrap();
        }
        let mig = c.submit(P, Op::Migrate { target: H1 });
        let held = c.submit(P, op);
        until_round_in_flight(&mut c, 1);
        assert!(
            !c.enabled()
                .iter()
                .any(|e| matches!(e, Enabled::Start { pid: P, .. })),
            "{op} waits for the move"
        );
        c.run_until_quiescent().unwrap();
        assert_eq!(c.outcome(mig), Some(Ok(Value::Unit)), "{op}");
        let want: Outcome = match op {
            Op::Wait => Ok(Value::Child {
                pid: child,
                status: 5,
            }),
            _ => Ok(Value::Unit),
        };
        assert_eq!(c.outcome(held), Some(want), "{op}");
        let rec_m = c.op(mig).unwrap();
        let rec_h = c.op(held).unwrap();
        assert!(
            rec_h.started_at >= rec_m.done_at,
            "{op} started after the move"
        );
    }
}

#[test]
fn a_crash_of_the_target_mid_copy_refuses_the_migration_and_the_process_runs_on() {
    let mut c = running(&cfg(2), 4);
    c.run_op(P, write(0, 7)).unwrap();
    let mig = c.submit(P, Op::Migrate { target: H1 });
    let w = c.submit(P, write(1, 8));
    until_round_in_flight(&mut c, 1);
    start_p(&mut c);
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(w), Some(Ok(Value::Unit)));
    assert_eq!(
        c.outcome(mig),
        Some(Err(Errno::Refused(Refusal::HostDown))),
        "aborted before the freeze: refused, not killed"
    );
    assert_eq!(c.view().process(P).map(|p| p.host), Some(H0));
    assert_eq!(c.run_op(P, read(0)).unwrap(), Some(Ok(Value::Mem(7))));
    assert_eq!(c.run_op(P, read(1)).unwrap(), Some(Ok(Value::Mem(8))));
    // It can go again once the host is back.
    c.event(ClusterEvent::Reboot(H1)).unwrap();
    assert_eq!(
        c.run_op(P, Op::Migrate { target: H1 }).unwrap(),
        Some(Ok(Value::Unit))
    );
    assert_eq!(c.run_op(P, read(1)).unwrap(), Some(Ok(Value::Mem(8))));
}

#[test]
fn a_crash_of_the_source_mid_copy_leaves_nothing_on_the_target() {
    // p1.0's home is h1; it pre-copies to h2 and h1 crashes mid-round: h2 drops the pages
    // it was sent (RES: h2 is neither the dead process's home nor its host).
    let q = Pid::new(1, 0);
    let mut cfg = ClusterConfig::simple(3, &[(q, 2)]);
    cfg.switches = Switches::only(Switch::PrecopyVm);
    let mut c = running(&cfg, 2);
    c.run_op(q, write(0, 7)).unwrap();
    c.submit(q, Op::Migrate { target: HostId(2) });
    for _ in 0..100 {
        if !c.kernel(HostId(2)).unwrap().precopied.is_empty() {
            break;
        }
        assert!(c.step());
    }
    assert!(!c.kernel(HostId(2)).unwrap().precopied.is_empty());
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert!(c.kernel(HostId(2)).unwrap().precopied.is_empty());
    assert!(c.view().process(q).is_none());
}

#[test]
fn by_default_pre_copy_keeps_the_process_frozen_as_the_model_does() {
    // Without `precopy_runs`, the one round goes with the process frozen (the reference
    // model's pre-copy): the write waits for the move, nothing is sent twice.
    let mut c = Cluster::new(&cfg(2), 1).unwrap();
    c.run_op(P, write(0, 7)).unwrap();
    c.submit(P, Op::Migrate { target: H1 });
    let w = c.submit(P, write(0, 9));
    until_round_in_flight(&mut c, 1);
    assert!(
        !c.enabled()
            .iter()
            .any(|e| matches!(e, Enabled::Start { pid: P, .. })),
        "frozen during the copy"
    );
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(w), Some(Ok(Value::Unit)));
    assert_eq!(c.run_op(P, read(0)).unwrap(), Some(Ok(Value::Mem(9))));
    let m = &c.ledger.migrations[0];
    assert_eq!(
        (m.precopy_rounds, m.pages_precopied, m.pages_sent_twice()),
        (0, 0, 0)
    );
    assert_eq!(m.pages_flushed, 1, "the frozen round");
}

/// The predicted freeze leaves out exactly the work done before the process froze:
/// MIG_INIT, its reply and MIG_START, and (pre-copy with the process running) one
/// PAGE_FLUSH RPC and its pages per round. Sprite's own migration has no such rounds, so
/// its freeze is the whole prediction less the first three messages' time.
#[test]
fn the_predicted_freeze_leaves_out_only_the_work_before_the_freeze() {
    use sprite::cost::{CostModel, Traffic};
    let model = CostModel::default();
    let i = &model.inputs;
    let before = |m: &sprite::cost::MigrationRecord| {
        [MsgKind::MigInit, MsgKind::MigInitReply, MsgKind::MigStart]
            .iter()
            .filter_map(|k| m.phases.get(k))
            .fold(Traffic::default(), |t, c| {
                t.plus(Traffic {
                    rpcs: c.rpcs,
                    bytes: c.bytes,
                })
            })
    };
    // Sprite: no rounds before the freeze.
    let mut c = Cluster::new(&ClusterConfig::simple(3, &[(P, 2)]), 1).unwrap();
    c.run_op(P, write(0, 1)).unwrap();
    c.run_op(P, Op::Migrate { target: H1 }).unwrap();
    let m = &c.ledger.migrations[0];
    assert_eq!(m.precopy_rounds, 0);
    let freeze = model.predict_freeze(m);
    let want = model.predict(m) - model.traffic_ms(before(m));
    assert!(
        freeze > 0.0 && (freeze - want).abs() < 1e-9,
        "{freeze} vs {want}"
    );
    // Pre-copy with the process running: two rounds, five pages, before the freeze.
    let mut c = running(&cfg(4), 1);
    for p in 0..4 {
        c.run_op(P, write(p, p + 1)).unwrap();
    }
    c.submit(P, Op::Migrate { target: H1 });
    c.submit(P, write(0, 9));
    until_round_in_flight(&mut c, 1);
    start_p(&mut c);
    c.run_until_quiescent().unwrap();
    let m = &c.ledger.migrations[0];
    assert_eq!((m.precopy_rounds, m.pages_precopied), (2, 5));
    let rounds_ms = 2.0 * i.rpc_latency_ms
        + 5.0 * f64::from(i.page_bytes) / 1024.0 / i.vm_bandwidth_kb_s * 1000.0;
    let want = (model.predict(m) - model.traffic_ms(before(m)) - rounds_ms).max(0.0);
    let freeze = model.predict_freeze(m);
    assert!((freeze - want).abs() < 1e-9, "{freeze} vs {want}");
    // With an RPC latency other than 1 ms, the rounds cost their count times the latency
    // (at 1 ms, times and divided by are the same).
    let mut slow = CostModel::default();
    slow.inputs.rpc_latency_ms = 2.5;
    let rounds_ms =
        2.0 * 2.5 + 5.0 * f64::from(i.page_bytes) / 1024.0 / i.vm_bandwidth_kb_s * 1000.0;
    let want = (slow.predict(m) - slow.traffic_ms(before(m)) - rounds_ms).max(0.0);
    let freeze = slow.predict_freeze(m);
    assert!(
        want > 0.0 && (freeze - want).abs() < 1e-9,
        "{freeze} vs {want}"
    );
}
