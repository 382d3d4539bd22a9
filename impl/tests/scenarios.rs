//! The papers' situations, each with the results one Unix machine gives (TR), the exact
//! per-page transfer counts, and each design alternative failing where SPE says it fails.

mod common;
use common::{check_tr, Step};
use sprite::cost::TableCell;
use sprite::view::PosView;
use sprite::vm::PageClass;
use sprite::{Cluster, ClusterConfig};
use std::collections::BTreeMap;
use vocab::{
    ClusterEvent, Errno, Fd, FileName, HostId, Mode, Op, Outcome, PageNo, Pid, Refusal, Switch,
    Switches, Value,
};

const P: Pid = Pid::new(0, 0);
const Q: Pid = Pid::new(1, 0);
const H0: HostId = HostId(0);
const H1: HostId = HostId(1);
const H2: HostId = HostId(2);
const F0: FileName = FileName(0);

fn op(p: Pid, o: Op) -> Step {
    Step::Op(p, o)
}
fn open(name: FileName, mode: Mode, create: bool) -> Op {
    Op::Open { name, mode, create }
}
fn cfg(switches: Switches) -> ClusterConfig {
    let mut c = ClusterConfig::simple(3, &[(P, 4), (Q, 2)]);
    c.files.push((F0, vec![1, 2, 3]));
    c.switches = switches;
    c
}
fn run(c: &mut Cluster, p: Pid, o: Op) -> Option<Outcome> {
    c.run_op(p, o).expect("quiescent")
}

// ---------------------------------------------------------------- TR / DEL

fn temp_file_steps() -> Vec<Step> {
    let f = FileName(1);
    vec![
        op(P, open(f, Mode::ReadWrite, true)),
        op(P, Op::Write { fd: Fd(0), sym: 7 }),
        op(P, Op::Unlink { name: f }),
        op(P, Op::Migrate { target: H1 }),
        op(P, Op::Lseek { fd: Fd(0), pos: 0 }),
        op(P, Op::Read { fd: Fd(0) }),
        op(P, Op::Close { fd: Fd(0) }),
    ]
}

#[test]
fn del_temp_file_survives_migration_and_is_reclaimed_at_last_close() {
    let c = check_tr(&cfg(Switches::SPRITE), 1, &temp_file_steps());
    let v = c.view();
    assert_eq!(v.process(P).map(|p| p.host), Some(H1));
    assert_eq!(
        v.files.len(),
        1,
        "the unlinked file was reclaimed at the last close"
    );
    let m = &c.ledger.migrations[0];
    assert_eq!(m.files_moved, 1);
    let rpcs = |k| m.phases.get(&k).map(|c| c.rpcs).unwrap_or(0);
    assert_eq!(
        rpcs(vocab::MsgKind::StreamMove)
            + rpcs(vocab::MsgKind::StreamRelease)
            + rpcs(vocab::MsgKind::StreamReleaseReply),
        3,
        "3 RPCs per open file (SPE Table 1)"
    );
}

#[test]
fn alt_reopen_files_breaks_del() {
    let mut c = Cluster::new(&cfg(Switches::only(Switch::ReopenFiles)), 1).unwrap();
    let steps = temp_file_steps();
    let mut last = None;
    for s in &steps {
        if let Step::Op(p, o) = s {
            last = run(&mut c, *p, *o);
            if matches!(o, Op::Read { .. }) {
                break;
            }
        }
    }
    assert_eq!(
        last,
        Some(Err(Errno::EBADF)),
        "the file vanished between close and reopen"
    );
}

// ---------------------------------------------------------------- OFF

fn shared_offset_steps() -> Vec<Step> {
    let child = Pid::new(0, 1);
    vec![
        op(P, open(F0, Mode::Read, false)),
        op(P, Op::Read { fd: Fd(0) }),
        op(P, Op::Fork),
        op(child, Op::Migrate { target: H1 }),
        op(P, Op::Read { fd: Fd(0) }),
        op(child, Op::Read { fd: Fd(0) }),
        op(P, Op::Read { fd: Fd(0) }),
    ]
}

#[test]
fn off_shared_offset_across_hosts_lives_on_the_server() {
    let c = check_tr(&cfg(Switches::SPRITE), 3, &shared_offset_steps());
    let v = c.view();
    assert_eq!(v.streams.len(), 1);
    assert_eq!(
        v.streams[0].pos,
        PosView::Server(3),
        "a shadow stream holds the position"
    );
    assert_eq!(v.streams[0].refs.len(), 2, "references on two hosts");
}

#[test]
fn alt_client_offsets_breaks_off() {
    let mut c = Cluster::new(&cfg(Switches::only(Switch::ClientOffsets)), 3).unwrap();
    let mut results = Vec::new();
    for s in shared_offset_steps() {
        if let Step::Op(p, o) = s {
            results.push(run(&mut c, p, o));
        }
    }
    // The child reads at its own copy of the position: the symbol the parent already read.
    assert_eq!(results[5], Some(Ok(Value::Data(Some(2)))));
    assert_eq!(results[4], Some(Ok(Value::Data(Some(2)))));
}

// ---------------------------------------------------------------- CONS / CACHE

#[test]
fn cons_sequential_write_sharing_recalls_dirty_blocks() {
    let steps = vec![
        op(P, open(F0, Mode::Write, false)),
        op(P, Op::Write { fd: Fd(0), sym: 9 }),
        op(P, Op::Close { fd: Fd(0) }),
        op(Q, open(F0, Mode::Read, false)),
        op(Q, Op::Read { fd: Fd(0) }),
    ];
    let c = check_tr(&cfg(Switches::SPRITE), 5, &steps);
    assert!(
        c.ledger.totals.contains_key(&vocab::MsgKind::BlockRecall),
        "the server recalled the dirty block"
    );
    assert_eq!(c.server().files[&sprite::fs::FileId(0)].data, vec![9, 2, 3]);
}

#[test]
fn cache_concurrent_write_sharing_disables_caching_until_last_close() {
    let steps = vec![
        op(P, open(F0, Mode::ReadWrite, false)),
        op(Q, open(F0, Mode::Read, false)),
        op(P, Op::Write { fd: Fd(0), sym: 5 }),
        op(Q, Op::Read { fd: Fd(0) }),
    ];
    let mut c = check_tr(&cfg(Switches::SPRITE), 7, &steps);
    let f = &c.view().files[0];
    assert!(
        !f.cacheable,
        "open on two hosts with a writer: cached nowhere"
    );
    assert!(f.cached_on.is_empty());
    run(&mut c, P, Op::Close { fd: Fd(0) });
    assert!(
        !c.view().files[0].cacheable,
        "stays off while anyone has it open"
    );
    run(&mut c, Q, Op::Close { fd: Fd(0) });
    assert!(c.view().files[0].cacheable, "back on after the last close");
}

fn only_user_moves() -> Vec<Step> {
    vec![
        op(P, open(F0, Mode::ReadWrite, false)),
        op(P, Op::Write { fd: Fd(0), sym: 4 }),
        op(P, Op::Migrate { target: H1 }),
        op(P, Op::Lseek { fd: Fd(0), pos: 0 }),
        op(P, Op::Read { fd: Fd(0) }),
    ]
}

#[test]
fn cache_migrating_the_only_user_keeps_the_file_cacheable() {
    let c = check_tr(&cfg(Switches::SPRITE), 9, &only_user_moves());
    let f = &c.view().files[0];
    assert!(f.cacheable);
    assert_eq!(
        f.cached_on,
        vec![H0, H1]
            .into_iter()
            .filter(|h| *h == H1 || f.cached_on.contains(h))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        c.ledger.migrations[0].blocks_flushed, 1,
        "the dirty block was flushed"
    );
}

#[test]
fn alt_notify_target_first_breaks_cache() {
    let mut c = Cluster::new(&cfg(Switches::only(Switch::NotifyTargetFirst)), 9).unwrap();
    for s in only_user_moves() {
        if let Step::Op(p, o) = s {
            run(&mut c, p, o);
        }
    }
    assert!(
        !c.view().files[0].cacheable,
        "the move looked like write-sharing"
    );
}

/// The only user holds the file twice (two opens, one writing). Sprite's per-descriptor
/// exchange moves one reference while the other is still on the source, and the server
/// turns caching off for a file one process uses; the per-file exchange does not.
#[test]
fn alt_per_slot_exchange_breaks_cache() {
    let steps = |sw| {
        let mut c = Cluster::new(&cfg(sw), 9).unwrap();
        for o in [
            open(F0, Mode::ReadWrite, false),
            open(F0, Mode::Read, false),
            Op::Write { fd: Fd(0), sym: 4 },
            Op::Migrate { target: H1 },
        ] {
            assert!(matches!(run(&mut c, P, o), Some(Ok(_))));
        }
        c.view().files[0].cacheable
    };
    assert!(
        steps(Switches::SPRITE),
        "one exchange for the file: still cacheable"
    );
    assert!(
        !steps(Switches::only(Switch::PerSlotExchange)),
        "the first slot's move looked like write-sharing"
    );
}

#[test]
fn alt_no_block_flush_breaks_cons() {
    let mut c = Cluster::new(&cfg(Switches::only(Switch::NoBlockFlush)), 9).unwrap();
    let mut last = None;
    for s in only_user_moves() {
        if let Step::Op(p, o) = s {
            last = run(&mut c, p, o);
        }
    }
    assert_eq!(
        last,
        Some(Ok(Value::Data(Some(1)))),
        "the target read the stale block"
    );
}

// ---------------------------------------------------------------- MEM and the page table

fn page_table(switches: Switches) -> BTreeMap<(PageClass, bool), TableCell> {
    // pg0, pg1 dirty; pg2, pg3 clean; after the move pg0 and pg2 are touched again.
    let steps = vec![
        op(
            P,
            Op::MemWrite {
                page: PageNo(0),
                sym: 1,
            },
        ),
        op(
            P,
            Op::MemWrite {
                page: PageNo(1),
                sym: 2,
            },
        ),
        op(P, Op::MemRead { page: PageNo(2) }),
        op(P, Op::MemRead { page: PageNo(3) }),
        op(P, Op::Migrate { target: H1 }),
        op(P, Op::MemRead { page: PageNo(0) }),
        op(P, Op::MemRead { page: PageNo(2) }),
        op(P, Op::Migrate { target: H0 }),
        op(P, Op::MemRead { page: PageNo(0) }),
        op(P, Op::MemRead { page: PageNo(1) }),
    ];
    let c = check_tr(&cfg(switches), 11, &steps);
    c.ledger.transfer_table()
}

fn exact(
    t: &BTreeMap<(PageClass, bool), TableCell>,
    class: PageClass,
    reused: bool,
) -> Option<u32> {
    t.get(&(class, reused)).and_then(|c| c.exact())
}

#[test]
fn mem_sprite_transfers_match_the_seed_table_exactly() {
    let t = page_table(Switches::SPRITE);
    assert_eq!(exact(&t, PageClass::Dirty, true), Some(2));
    assert_eq!(exact(&t, PageClass::Dirty, false), Some(1));
    assert_eq!(exact(&t, PageClass::Clean, true), Some(1));
    assert_eq!(exact(&t, PageClass::Clean, false), Some(0));
}

#[test]
fn mem_other_strategies_report_their_own_counts() {
    let full = page_table(Switches::only(Switch::FullCopyVm));
    let pre = page_table(Switches::only(Switch::PrecopyVm));
    let lazy = page_table(Switches::only(Switch::LazyVm));
    for t in [&full, &pre] {
        assert_eq!(exact(t, PageClass::Dirty, true), Some(1));
        assert_eq!(exact(t, PageClass::Dirty, false), Some(1));
        assert_eq!(exact(t, PageClass::Clean, true), Some(1));
        assert_eq!(exact(t, PageClass::Clean, false), Some(1));
    }
    assert_eq!(exact(&lazy, PageClass::Dirty, true), Some(1));
    assert_eq!(exact(&lazy, PageClass::Dirty, false), Some(0));
    assert_eq!(exact(&lazy, PageClass::Clean, true), Some(1));
    assert_eq!(exact(&lazy, PageClass::Clean, false), Some(0));
}

#[test]
fn alt_no_vm_flush_breaks_mem_for_some_seed() {
    let broke = (0..200).any(|seed| {
        let mut c = Cluster::new(&cfg(Switches::only(Switch::NoVmFlush)), seed).unwrap();
        run(
            &mut c,
            P,
            Op::MemWrite {
                page: PageNo(0),
                sym: 6,
            },
        );
        c.submit(P, Op::Migrate { target: H1 });
        let read = c.submit(P, Op::MemRead { page: PageNo(0) });
        c.run_until_quiescent().unwrap();
        c.outcome(read) == Some(Ok(Value::Mem(0)))
    });
    assert!(broke, "a page-in overtook the flush");
}

#[test]
fn res_lazy_vm_leaves_pages_behind_and_dies_with_the_source() {
    let mut c = Cluster::new(&cfg(Switches::only(Switch::LazyVm)), 2).unwrap();
    run(&mut c, P, Op::Migrate { target: H1 });
    run(
        &mut c,
        P,
        Op::MemWrite {
            page: PageNo(0),
            sym: 3,
        },
    );
    run(&mut c, P, Op::Migrate { target: H0 });
    assert!(
        !c.view().hosts[1].residual.is_empty(),
        "h1 still holds pages of a process that left"
    );
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(
        run(&mut c, P, Op::MemRead { page: PageNo(0) }),
        None,
        "killed: its page was on h1"
    );
}

// ---------------------------------------------------------------- PID / WAIT / SIG / TIME

fn remote_fork_wait() -> Vec<Step> {
    let child = Pid::new(0, 1);
    vec![
        op(P, Op::Migrate { target: H1 }),
        op(P, Op::Fork),
        op(child, Op::Getpid),
        op(child, Op::Exit { status: 7 }),
        op(P, Op::Wait),
        op(P, Op::Wait),
    ]
}

#[test]
fn pid_and_wait_remote_fork_gets_its_pid_from_home() {
    let c = check_tr(&cfg(Switches::SPRITE), 13, &remote_fork_wait());
    for k in [
        vocab::MsgKind::ForkPid,
        vocab::MsgKind::ExitNotice,
        vocab::MsgKind::WaitRequest,
    ] {
        assert!(c.ledger.totals.contains_key(&k), "{k} used");
    }
    assert!(
        c.view().hosts[0].home_table.keys().all(|p| *p == P),
        "no zombie left at home"
    );
}

#[test]
fn alt_local_pids_breaks_pid() {
    let mut c = Cluster::new(&cfg(Switches::only(Switch::LocalPids)), 13).unwrap();
    run(&mut c, P, Op::Fork); // at home: p0.1
    run(&mut c, P, Op::Migrate { target: H1 });
    let remote = run(&mut c, P, Op::Fork); // on h1: from h1's own table
    assert_eq!(
        remote,
        Some(Ok(Value::Pid(Pid::new(1, 1)))),
        "the home would have given p0.2"
    );
}

/// `wait-on-current` in its strongest form: the rendezvous moves with the parent, and the
/// home sends each exit on to where the parent runs. A child that exits on another host
/// than its parent's, with the parent moving meanwhile, is still collected. (The model's
/// counterexample needs the forwarded notice to be overtaken by the parent's next move
/// between the same two hosts; this simulator's channels are first in, first out per pair
/// of nodes, so here the notice always arrives first and is sent on.)
#[test]
fn wait_on_current_follows_the_parent_over_first_in_first_out_channels() {
    let child = Pid::new(0, 1);
    for seed in 0..40 {
        let mut c = Cluster::new(&cfg(Switches::only(Switch::WaitOnCurrent)), seed).unwrap();
        run(&mut c, P, Op::Fork);
        run(&mut c, child, Op::Migrate { target: H2 });
        run(&mut c, P, Op::Migrate { target: H1 });
        c.submit(child, Op::Exit { status: 7 });
        c.submit(P, Op::Migrate { target: H0 });
        c.run_until_quiescent().expect("quiescent");
        assert_eq!(
            run(&mut c, P, Op::Wait),
            Some(Ok(Value::Child {
                pid: child,
                status: 7
            })),
            "seed {seed}"
        );
        // Collected: no host keeps the status, the home has freed the pid, and the hosts
        // the parent left keep nothing of its rendezvous.
        for (h, k) in c.kernels() {
            assert!(k.local_rdv.is_empty(), "seed {seed}: {h}");
        }
        assert!(
            !c.kernel(H0).expect("h0").home.contains_key(&child),
            "seed {seed}"
        );
    }
}

/// `wait-on-current`: a parent blocked in wait is evicted (its rendezvous moves with it) while
/// its child exits; the status reaches it on the way (at the source, or at the target before
/// it resumes) and answers the wait once it runs again, whatever the schedule.
#[test]
fn wait_on_current_answers_a_waiter_that_was_moving_when_the_status_came() {
    let child = Pid::new(0, 1);
    for seed in 0..40 {
        let mut c = Cluster::new(&cfg(Switches::only(Switch::WaitOnCurrent)), seed).unwrap();
        run(&mut c, P, Op::Migrate { target: H1 });
        run(&mut c, P, Op::Fork);
        run(&mut c, child, Op::Migrate { target: H0 });
        let wait = c.submit(P, Op::Wait);
        c.run_until_quiescent().expect("quiescent");
        assert_eq!(c.outcome(wait), None, "seed {seed}: blocked");
        // The owner of h1 returns: the waiting parent is evicted home while its child exits.
        c.event(ClusterEvent::OwnerReturns(H1)).expect("event");
        c.submit(child, Op::Exit { status: 7 });
        c.run_until_quiescent().expect("quiescent");
        assert_eq!(
            c.outcome(wait),
            Some(Ok(Value::Child {
                pid: child,
                status: 7
            })),
            "seed {seed}"
        );
        assert_eq!(c.host_of(P), Some(H0), "seed {seed}");
    }
}

/// `wait-on-current` keeps Unix's pid rules: an exited child that was not collected keeps
/// its pid (a kill of it succeeds), and once collected (here and through REAPED from
/// another host) its pid is free again, exactly as in Sprite's design.
#[test]
fn wait_on_current_frees_a_pid_once_the_status_is_collected() {
    let child = Pid::new(0, 1);
    let results = |switches| {
        let mut c = Cluster::new(&cfg(switches), 3).unwrap();
        let mut out = Vec::new();
        for away in [false, true] {
            if away {
                out.push(run(&mut c, P, Op::Migrate { target: H1 }));
            }
            let forked = run(&mut c, P, Op::Fork);
            let Some(Ok(Value::Pid(kid))) = forked else {
                panic!("fork: {forked:?}");
            };
            out.push(forked);
            out.push(run(&mut c, kid, Op::Exit { status: 7 }));
            out.push(run(&mut c, Q, Op::Kill { pid: kid }));
            out.push(run(&mut c, P, Op::Wait));
            out.push(run(&mut c, Q, Op::Kill { pid: kid }));
        }
        out
    };
    let sprite = results(Switches::SPRITE);
    assert_eq!(sprite[0], Some(Ok(Value::Pid(child))));
    assert_eq!(
        sprite[2],
        Some(Ok(Value::Unit)),
        "a zombie can be signalled"
    );
    assert_eq!(
        sprite[4],
        Some(Err(Errno::ESRCH)),
        "a collected child cannot"
    );
    assert_eq!(results(Switches::only(Switch::WaitOnCurrent)), sprite);
}

/// `wait-on-current`: a parent evicted while it is not waiting keeps its exited child's
/// status through the move, and collects it afterwards; a parent evicted while waiting is
/// answered only by a status of its own children (here another process's zombie, a
/// grandchild's, is on the host it moves to).
#[test]
fn wait_on_current_moves_statuses_with_their_parent_only() {
    let child = Pid::new(0, 1);
    let mut c = Cluster::new(&cfg(Switches::only(Switch::WaitOnCurrent)), 5).unwrap();
    run(&mut c, P, Op::Migrate { target: H1 });
    run(&mut c, P, Op::Fork);
    run(&mut c, child, Op::Exit { status: 7 });
    c.event(ClusterEvent::OwnerReturns(H1)).expect("event");
    c.run_until_quiescent().expect("quiescent");
    assert_eq!(c.host_of(P), Some(H0));
    assert_eq!(
        run(&mut c, P, Op::Wait),
        Some(Ok(Value::Child {
            pid: child,
            status: 7
        }))
    );

    let (kid, grandchild) = (Pid::new(0, 1), Pid::new(0, 2));
    let mut c = Cluster::new(&cfg(Switches::only(Switch::WaitOnCurrent)), 5).unwrap();
    run(&mut c, P, Op::Fork);
    run(&mut c, kid, Op::Fork);
    run(&mut c, grandchild, Op::Exit { status: 3 });
    run(&mut c, P, Op::Migrate { target: H1 });
    run(&mut c, P, Op::Fork);
    let wait = c.submit(P, Op::Wait);
    c.run_until_quiescent().expect("quiescent");
    assert_eq!(c.outcome(wait), None, "its child on h1 is alive");
    c.event(ClusterEvent::OwnerReturns(H1)).expect("event");
    c.run_until_quiescent().expect("quiescent");
    assert_eq!(c.outcome(wait), None, "p0.2 is not its child");
    assert_eq!(
        run(&mut c, kid, Op::Wait),
        Some(Ok(Value::Child {
            pid: grandchild,
            status: 3
        }))
    );
}

/// Sprite's design sends no rendezvous in MIG_STATE: a null migration costs the 3 RPCs and
/// 100 bytes (the process's group among them) that specs/costs.md calibrates
/// `migrate_fixed_ms` from.
#[test]
fn a_null_migration_carries_no_rendezvous() {
    let s = sprite::calibrate::measure().expect("measured");
    assert_eq!((s.null.rpcs(), s.null.bytes()), (3, 100));
}

#[test]
fn sig_signal_during_migration_arrives_exactly_once() {
    for seed in 0..100 {
        let mut c = Cluster::new(&cfg(Switches::SPRITE), seed).unwrap();
        c.submit(P, Op::Migrate { target: H1 });
        c.submit(Q, Op::Kill { pid: P });
        c.run_until_quiescent().unwrap();
        let p = c.view().process(P).cloned().expect("alive");
        assert_eq!(p.signals, 1, "seed {seed}");
    }
}

/// direct-signals with its correction. The implementation's location cache is filled at
/// fork (a parent knows the host it forked its child on) and used on that host: a kill of
/// the child there is delivered on the spot, with no message to the home; once the child
/// has left, the stale location is corrected by sending the kill through the home. Either
/// way the child gets the signal once, for every schedule.
#[test]
fn alt_direct_signals_corrects_a_stale_location() {
    for seed in 0..50 {
        let mut c = Cluster::new(&cfg(Switches::only(Switch::DirectSignals)), seed).unwrap();
        run(&mut c, P, Op::Migrate { target: H1 });
        run(&mut c, P, Op::Fork);
        let child = c
            .view()
            .processes
            .iter()
            .map(|p| p.pid)
            .find(|p| *p != P && *p != Q)
            .expect("forked");
        let before = c.ledger.totals.clone();
        assert_eq!(
            run(&mut c, P, Op::Kill { pid: child }),
            Some(Ok(Value::Unit))
        );
        let sent: u32 = c.ledger.totals.values().map(|k| k.msgs).sum::<u32>()
            - before.values().map(|k| k.msgs).sum::<u32>();
        assert_eq!(sent, 0, "a hit on this host sends nothing (seed {seed})");
        run(&mut c, child, Op::Migrate { target: H0 });
        assert_eq!(
            run(&mut c, P, Op::Kill { pid: child }),
            Some(Ok(Value::Unit))
        );
        c.run_until_quiescent().unwrap();
        let got = c.view().process(child).map(|p| p.signals);
        assert_eq!(got, Some(2), "seed {seed}");
    }
}

fn skewed(switches: Switches) -> ClusterConfig {
    let mut c = cfg(switches);
    c.hosts[0].clock_skew_ms = 5_000;
    c
}

fn times(switches: Switches) -> (u32, u32) {
    let mut c = Cluster::new(&skewed(switches), 17).unwrap();
    let t = |o: Option<Outcome>| match o {
        Some(Ok(Value::Time(t))) => t,
        other => panic!("gettimeofday gave {other:?}"),
    };
    let a = t(run(&mut c, P, Op::Gettimeofday));
    run(&mut c, P, Op::Migrate { target: H1 });
    let b = t(run(&mut c, P, Op::Gettimeofday));
    (a, b)
}

#[test]
fn time_never_goes_backwards_with_skewed_clocks() {
    let (a, b) = times(Switches::SPRITE);
    assert!(b >= a, "{b} < {a}");
}

#[test]
fn alt_local_time_breaks_time() {
    let (a, b) = times(Switches::only(Switch::LocalTime));
    assert!(b < a, "time went backwards: {a} then {b}");
}

// ---------------------------------------------------------------- REFUSE / EVICT / FAIL

#[test]
fn refuse_leaves_the_process_untouched() {
    let mut c0 = cfg(Switches::SPRITE);
    c0.processes[1].shares_memory = true;
    c0.hosts[2].version = 2;
    let mut c = Cluster::new(&c0, 21).unwrap();
    run(
        &mut c,
        P,
        Op::MemWrite {
            page: PageNo(0),
            sym: 8,
        },
    );
    let before = c.view().process(P).cloned();
    let refused = |r| Some(Err(Errno::Refused(r)));
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H0 }),
        refused(Refusal::SameHost)
    );
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: HostId(9) }),
        refused(Refusal::UnknownHost)
    );
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H2 }),
        refused(Refusal::VersionMismatch)
    );
    assert_eq!(
        run(&mut c, Q, Op::Migrate { target: H0 }),
        refused(Refusal::SharedMemory)
    );
    c.event(ClusterEvent::OwnerReturns(H1)).unwrap();
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H1 }),
        refused(Refusal::HostBusy)
    );
    c.event(ClusterEvent::OwnerLeaves(H1)).unwrap();
    c.event(ClusterEvent::Crash(H1)).unwrap();
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H1 }),
        refused(Refusal::HostDown)
    );
    assert_eq!(c.view().process(P).cloned(), before, "untouched");
    c.event(ClusterEvent::Reboot(H1)).unwrap();
    let mut c1 = cfg(Switches::SPRITE);
    c1.processes[0].maps_device = true;
    let mut c = Cluster::new(&c1, 21).unwrap();
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H1 }),
        refused(Refusal::MapsDevice)
    );
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 21).unwrap();
    run(&mut c, P, Op::Migrate { target: H1 });
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H2 }),
        refused(Refusal::NotHome)
    );
}

/// MEM on the implementation: an exec-time migration moves nothing of the old image, while a
/// plain migration of the same process writes its dirty pages back (so the ledger does
/// count pages, and the check that the conformance harness runs after every step,
/// `MigrationRecord::exec_moved_pages`, is not vacuous); a record that had moved pages is
/// reported.
#[test]
fn an_exec_time_migration_moves_no_pages() {
    let dirty = |c: &mut Cluster| {
        for page in 0..2 {
            let w = Op::MemWrite {
                page: PageNo(page),
                sym: 5,
            };
            assert_eq!(run(c, P, w), Some(Ok(Value::Unit)));
        }
    };
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 7).unwrap();
    dirty(&mut c);
    run(&mut c, P, Op::Migrate { target: H1 });
    let moved = c.ledger.migrations.last().unwrap().clone();
    assert_eq!(
        moved.pages_flushed, 2,
        "a migration writes the dirty pages back"
    );
    assert_eq!(moved.exec_moved_pages(), None, "not an exec-time migration");

    let mut c = Cluster::new(&cfg(Switches::SPRITE), 7).unwrap();
    dirty(&mut c);
    let exec = Op::Exec { target: Some(H1) };
    assert_eq!(run(&mut c, P, exec), Some(Ok(Value::Unit)));
    let mut r = c.ledger.migrations.last().unwrap().clone();
    assert!(r.succeeded());
    assert_eq!((r.pages_flushed, r.precopy_rounds), (0, 0));
    assert_eq!(r.exec_moved_pages(), None);
    // A fault: the same record, had one page been written back.
    r.pages_flushed = 1;
    let why = r.exec_moved_pages().expect("reported");
    assert!(why.contains("exec-time migration of p0.0"), "{why}");
}

#[test]
fn refused_exec_time_migration_does_not_exec() {
    // The target's owner is back (HostBusy at MIG_INIT), and the target runs another
    // version: either way the exec is refused and the old image is still there.
    let mut c0 = cfg(Switches::SPRITE);
    c0.hosts[2].version = 2;
    let mut c = Cluster::new(&c0, 31).unwrap();
    let write = Op::MemWrite {
        page: PageNo(0),
        sym: 8,
    };
    run(&mut c, P, write);
    c.event(ClusterEvent::OwnerReturns(H1)).unwrap();
    let before = c.view().process(P).cloned();
    let exec_on = |h| Op::Exec { target: Some(h) };
    let refused = |r| Some(Err(Errno::Refused(r)));
    assert_eq!(run(&mut c, P, exec_on(H1)), refused(Refusal::HostBusy));
    assert_eq!(
        run(&mut c, P, exec_on(H2)),
        refused(Refusal::VersionMismatch)
    );
    assert_eq!(c.view().process(P).cloned(), before, "untouched");
    assert_eq!(
        run(&mut c, P, Op::MemRead { page: PageNo(0) }),
        Some(Ok(Value::Mem(8))),
        "the old image is still there"
    );
    // On the host it is already on, exec is a plain exec.
    assert_eq!(run(&mut c, P, exec_on(H0)), Some(Ok(Value::Unit)));
    assert_eq!(
        run(&mut c, P, Op::MemRead { page: PageNo(0) }),
        Some(Ok(Value::Mem(0)))
    );
    // A process that shares writable memory may not exec elsewhere either.
    let mut c1 = cfg(Switches::SPRITE);
    c1.processes[0].shares_memory = true;
    let mut c = Cluster::new(&c1, 31).unwrap();
    assert_eq!(run(&mut c, P, exec_on(H1)), refused(Refusal::SharedMemory));
    // An accepted one starts the new image on the target and drops the old backing file.
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 31).unwrap();
    run(&mut c, P, write);
    run(&mut c, P, Op::Migrate { target: H1 });
    run(&mut c, P, Op::Migrate { target: H0 });
    assert!(
        c.view().backing.contains_key(&P),
        "flushed twice: backing file"
    );
    assert_eq!(run(&mut c, P, exec_on(H1)), Some(Ok(Value::Unit)));
    assert_eq!(c.view().process(P).map(|p| p.host), Some(H1));
    assert_eq!(
        run(&mut c, P, Op::MemRead { page: PageNo(0) }),
        Some(Ok(Value::Mem(0)))
    );
    assert!(!c.view().backing.contains_key(&P), "old image discarded");
}

#[test]
fn a_child_of_a_process_that_may_not_move_may_move() {
    let mut c0 = cfg(Switches::SPRITE);
    c0.processes[0].shares_memory = true;
    let mut c = Cluster::new(&c0, 37).unwrap();
    let child = match run(&mut c, P, Op::Fork) {
        Some(Ok(Value::Pid(child))) => child,
        other => panic!("fork: {other:?}"),
    };
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H1 }),
        Some(Err(Errno::Refused(Refusal::SharedMemory)))
    );
    assert_eq!(
        run(&mut c, child, Op::Migrate { target: H1 }),
        Some(Ok(Value::Unit)),
        "fork copies the memory: the child shares none"
    );
}

#[test]
fn the_owner_stays_at_the_console_across_a_reboot() {
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 41).unwrap();
    c.event(ClusterEvent::OwnerReturns(H1)).unwrap();
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.event(ClusterEvent::Reboot(H1)).unwrap();
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H1 }),
        Some(Err(Errno::Refused(Refusal::HostBusy)))
    );
    c.event(ClusterEvent::OwnerLeaves(H1)).unwrap();
    assert_eq!(
        run(&mut c, P, Op::Migrate { target: H1 }),
        Some(Ok(Value::Unit))
    );
}

#[test]
fn evict_sends_a_process_with_dirty_pages_home_intact() {
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 23).unwrap();
    run(&mut c, P, Op::Migrate { target: H1 });
    run(
        &mut c,
        P,
        Op::MemWrite {
            page: PageNo(1),
            sym: 5,
        },
    );
    c.event(ClusterEvent::OwnerReturns(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(c.view().process(P).map(|p| p.host), Some(H0), "back home");
    assert!(
        !c.view().hosts[1].pcbs.contains(&P),
        "nothing left on h1 (RES)"
    );
    assert_eq!(
        run(&mut c, P, Op::MemRead { page: PageNo(1) }),
        Some(Ok(Value::Mem(5)))
    );
    let m = c.ledger.migrations.last().unwrap();
    assert_eq!(m.kind, sprite::msg::MigKind::Evict);
    assert_eq!(m.pages_flushed, 1);
}

#[test]
fn fail_crash_of_the_current_host_reports_the_death_to_the_waiting_parent() {
    let child = Pid::new(0, 1);
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 29).unwrap();
    run(&mut c, P, Op::Fork);
    run(&mut c, child, Op::Migrate { target: H1 });
    let w = c.submit(P, Op::Wait);
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(w), None, "blocked");
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(
        c.outcome(w),
        Some(Ok(Value::Child {
            pid: child,
            status: vocab::KILLED_STATUS
        }))
    );
    // Q's home was h1: it died with it (Sprite's choice); P is unaffected.
    assert_eq!(run(&mut c, Q, Op::Getpid), Some(Err(Errno::ESRCH)));
    assert_eq!(run(&mut c, P, Op::Getpid), Some(Ok(Value::Pid(P))));
}

#[test]
fn exec_time_migration_moves_no_pages() {
    let steps = vec![
        op(
            P,
            Op::MemWrite {
                page: PageNo(0),
                sym: 1,
            },
        ),
        op(P, Op::Exec { target: Some(H2) }),
        op(P, Op::MemRead { page: PageNo(0) }),
        op(P, Op::Getpid),
    ];
    let c = check_tr(&cfg(Switches::SPRITE), 31, &steps);
    let m = &c.ledger.migrations[0];
    assert_eq!(m.kind, sprite::msg::MigKind::Exec);
    assert_eq!(m.pages_flushed, 0);
    assert_eq!(c.view().process(P).map(|p| p.host), Some(H2));
}

#[test]
fn evict_a_process_blocked_in_wait_and_still_collect_the_child() {
    let child = Pid::new(0, 1);
    for seed in 0..50 {
        let mut c = Cluster::new(&cfg(Switches::SPRITE), seed).unwrap();
        run(&mut c, P, Op::Fork);
        run(&mut c, P, Op::Migrate { target: H1 });
        let w = c.submit(P, Op::Wait);
        c.run_until_quiescent().unwrap();
        assert_eq!(c.outcome(w), None, "blocked");
        c.submit(child, Op::Exit { status: 4 });
        c.event(ClusterEvent::OwnerReturns(H1)).unwrap();
        c.run_until_quiescent().unwrap();
        assert_eq!(
            c.view().process(P).map(|p| p.host),
            Some(H0),
            "evicted while waiting (seed {seed})"
        );
        assert_eq!(
            c.outcome(w),
            Some(Ok(Value::Child {
                pid: child,
                status: 4
            })),
            "seed {seed}"
        );
    }
}

#[test]
fn evict_moves_a_waiting_process_before_its_child_exits() {
    let child = Pid::new(0, 1);
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 3).unwrap();
    run(&mut c, P, Op::Fork);
    run(&mut c, P, Op::Migrate { target: H1 });
    let w = c.submit(P, Op::Wait);
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(w), None, "blocked at the home rendezvous");
    c.event(ClusterEvent::OwnerReturns(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(
        c.view().process(P).map(|p| p.host),
        Some(H0),
        "evicted mid-wait"
    );
    assert_eq!(c.outcome(w), None, "still waiting");
    run(&mut c, child, Op::Exit { status: 4 });
    assert_eq!(
        c.outcome(w),
        Some(Ok(Value::Child {
            pid: child,
            status: 4
        }))
    );
}

#[test]
fn a_harness_can_choose_the_schedule_itself() {
    // Deliver MIG_STATE's reply only after everything else: still one outcome.
    let mut c = Cluster::new(&cfg(Switches::SPRITE), 0).unwrap();
    let id = c.submit(P, Op::Migrate { target: H1 });
    let mut kinds = Vec::new();
    loop {
        let en = c.enabled();
        let Some(e) = en.last() else { break };
        if let sprite::Enabled::Deliver { kind: Some(k), .. } = e {
            kinds.push(*k);
        }
        assert!(c.perform(e));
    }
    assert_eq!(c.outcome(id), Some(Ok(Value::Unit)));
    use vocab::MsgKind::*;
    assert_eq!(
        kinds,
        vec![MigInit, MigInitReply, MigState, MigState, Resume]
    );
    assert!(
        !c.perform(&sprite::Enabled::Start {
            pid: Q,
            host: Some(H0)
        }),
        "nothing queued for Q"
    );
}

#[test]
fn pid_space_exhaustion_is_eagain_as_on_one_machine() {
    // 255 children from a home with one process, the 256th fork fails; remotely too.
    let mut steps = vec![op(P, Op::Migrate { target: H1 })];
    steps.extend((0..256).map(|_| op(P, Op::Fork)));
    let c = check_tr(&cfg(Switches::SPRITE), 37, &steps);
    let last = c.ops().last().and_then(|r| r.outcome);
    assert_eq!(last, Some(Err(Errno::EAGAIN)));
}
