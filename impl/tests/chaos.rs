//! Concurrent operations, reordered messages, crashes and reboots under many seeds: nothing
//! panics, every run reaches quiescence (LIVE), and the state invariants that hold at rest
//! hold (HOME, RES, CACHE, OFF, DEL, PID). A failure prints the seed.

mod common;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprite::view::{ClusterView, PosView};
use sprite::{Cluster, ClusterConfig};
use std::collections::BTreeSet;
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Pid};

fn random_op(rng: &mut ChaCha8Rng) -> Op {
    let fd = Fd(rng.gen_range(0..3));
    match rng.gen_range(0..18) {
        0 | 1 => Op::Open {
            name: FileName(rng.gen_range(0..2)),
            mode: [Mode::Read, Mode::Write, Mode::ReadWrite][rng.gen_range(0..3)],
            create: true,
        },
        2 => Op::Read { fd },
        3 => Op::Write {
            fd,
            sym: rng.gen_range(1..9),
        },
        4 => Op::Lseek {
            fd,
            pos: rng.gen_range(0..3),
        },
        5 => Op::Close { fd },
        6 => Op::Unlink {
            name: FileName(rng.gen_range(0..2)),
        },
        7 => Op::Dup { fd },
        8 => Op::Fork,
        9 => Op::Exec {
            target: Some(HostId(rng.gen_range(0..4))),
        },
        10 if rng.gen_bool(0.2) => Op::Exit { status: 1 },
        10 | 11 => Op::Wait,
        12 => Op::Kill {
            pid: Pid::new(rng.gen_range(0..3), rng.gen_range(0..3)),
        },
        13 => Op::MemRead {
            page: PageNo(rng.gen_range(0..3)),
        },
        14 => Op::MemWrite {
            page: PageNo(rng.gen_range(0..3)),
            sym: 3,
        },
        15 => Op::Gettimeofday,
        _ => Op::Migrate {
            target: HostId(rng.gen_range(0..4)),
        },
    }
}

fn check_invariants(v: &ClusterView, seed: u64) {
    let up: BTreeSet<HostId> = v.hosts.iter().filter(|h| h.up).map(|h| h.id).collect();
    let mut seen = BTreeSet::new();
    for p in &v.processes {
        assert!(seen.insert(p.pid), "PID: {} twice (seed {seed})", p.pid);
        if let Some(home) = v.hosts.iter().find(|h| h.id == p.home && h.up) {
            let e = home.home_table.get(&p.pid);
            assert_eq!(
                e.map(|e| e.loc),
                Some(sprite::kernel::Loc::At(p.host)),
                "HOME: {} on {} (seed {seed})",
                p.pid,
                p.host
            );
        }
        for h in v
            .hosts
            .iter()
            .filter(|h| h.up && h.id != p.host && h.id != p.home)
        {
            assert!(
                !h.pcbs.contains(&p.pid),
                "RES: {} left state on {} (seed {seed})",
                p.pid,
                h.id
            );
        }
    }
    for h in v.hosts.iter().filter(|h| h.up && h.owner_present) {
        for p in v.processes.iter().filter(|p| p.host == h.id) {
            assert_eq!(
                p.home, h.id,
                "EVICT: foreign {} still on {} (seed {seed})",
                p.pid, h.id
            );
        }
    }
    for f in &v.files {
        let writers = f.users.values().any(|(_, w)| *w > 0);
        if f.users.len() >= 2 && writers {
            assert!(
                !f.cacheable && f.cached_on.is_empty(),
                "CACHE: {} (seed {seed})",
                f.id
            );
        }
        assert!(
            f.linked || !f.users.is_empty(),
            "DEL: {} unlinked, unused, kept (seed {seed})",
            f.id
        );
    }
    for s in &v.streams {
        let hosts: BTreeSet<_> = s.refs.keys().filter(|h| up.contains(h)).collect();
        if hosts.len() >= 2 {
            assert!(
                matches!(s.pos, PosView::Server(_)),
                "OFF: {} on two hosts (seed {seed})",
                s.id
            );
        }
    }
}

#[test]
fn chaos_runs_reach_quiescence_and_keep_the_invariants() {
    let mut completed = 0;
    let n: u64 = std::env::var("SPRITE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let first: u64 = std::env::var("SPRITE_FIRST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for seed in first..first + n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let mut cfg = ClusterConfig::simple(
            3,
            &[
                (Pid::new(0, 0), 3),
                (Pid::new(1, 0), 3),
                (Pid::new(2, 0), 3),
            ],
        );
        cfg.files.push((FileName(0), vec![1, 2]));
        if let Ok(sw) = std::env::var("CHAOS_SWITCHES") {
            cfg.switches = sw.parse().expect("switches");
        }
        let crashes = seed % 3 == 0;
        let mut c = Cluster::new(&cfg, seed).expect("cluster");
        // With precopy-vm, processes run during the copy rounds (more interleavings).
        c.set_precopy_runs(true);
        c.set_tracing(std::env::var("SPRITE_TRACE").is_ok());
        for _round in 0..12 {
            for _ in 0..rng.gen_range(1..4) {
                let pid = Pid::new(rng.gen_range(0..3), rng.gen_range(0..3));
                c.submit(pid, random_op(&mut rng));
            }
            if rng.gen_bool(0.15) {
                let h = HostId(rng.gen_range(0..3));
                let ev = match rng.gen_range(0..4) {
                    0 => ClusterEvent::OwnerReturns(h),
                    1 => ClusterEvent::OwnerLeaves(h),
                    2 if crashes => ClusterEvent::Crash(h),
                    _ => ClusterEvent::Reboot(h),
                };
                // Events may land mid-flight: run a few steps first.
                for _ in 0..rng.gen_range(0..6) {
                    c.step();
                }
                c.event(ev).expect("known host");
            }
            c.run_until_quiescent()
                .unwrap_or_else(|e| panic!("LIVE: {e} (seed {seed})"));
            // LIVE: at rest, no migration is half done anywhere.
            for (h, k) in c.kernels() {
                if c.is_up(*h) {
                    assert!(
                        k.outgoing.is_empty() && k.incoming.is_empty(),
                        "LIVE: migration stuck on {h} (seed {seed})"
                    );
                }
            }
            if !crashes {
                let v = c.view();
                let r = std::panic::catch_unwind(|| check_invariants(&v, seed));
                if r.is_err() && std::env::var("SPRITE_TRACE").is_ok() {
                    for l in c.trace() {
                        eprintln!("{l}");
                    }
                }
                if let Err(e) = r {
                    std::panic::resume_unwind(e);
                }
            }
        }
        completed += c.ops().iter().filter(|r| r.outcome.is_some()).count();
    }
    eprintln!("completed {completed}");
    assert!(completed > 2000, "only {completed} operations completed");
}

#[test]
fn garbage_on_the_wire_is_dropped_not_fatal() {
    use sprite::msg::Node;
    for seed in 0..200u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let cfg = ClusterConfig::simple(2, &[(Pid::new(0, 0), 2)]);
        let mut c = Cluster::new(&cfg, seed).expect("cluster");
        c.submit(Pid::new(0, 0), Op::Migrate { target: HostId(1) });
        for _ in 0..20 {
            let len = rng.gen_range(0..48);
            let mut b: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if b.len() >= 6 && rng.gen_bool(0.8) {
                b[..4].copy_from_slice(b"SPRT");
                b[4] = 1;
                b[5] = 0;
            }
            let to = if rng.gen_bool(0.5) {
                Node::Server
            } else {
                Node::Host(HostId(rng.gen_range(0..3)))
            };
            c.inject_bytes(Node::Host(HostId(0)), to, b);
        }
        c.run_until_quiescent()
            .unwrap_or_else(|e| panic!("{e} (seed {seed})"));
    }
}

#[test]
fn fail_a_crash_kills_exactly_the_processes_of_that_host() {
    for seed in 0..300u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xfa11);
        let cfg = ClusterConfig::simple(
            3,
            &[
                (Pid::new(0, 0), 2),
                (Pid::new(1, 0), 2),
                (Pid::new(2, 0), 2),
            ],
        );
        let mut c = Cluster::new(&cfg, seed).expect("cluster");
        for _ in 0..15 {
            let pid = Pid::new(rng.gen_range(0..3), rng.gen_range(0..3));
            let op = match rng.gen_range(0..4) {
                0 => Op::Fork,
                1 => Op::MemWrite {
                    page: PageNo(rng.gen_range(0..2)),
                    sym: 5,
                },
                2 => Op::Open {
                    name: FileName(0),
                    mode: Mode::ReadWrite,
                    create: true,
                },
                _ => Op::Migrate {
                    target: HostId(rng.gen_range(0..3)),
                },
            };
            c.submit(pid, op);
            c.run_until_quiescent().unwrap_or_else(|e| panic!("{e}"));
        }
        let before = c.view();
        let h = HostId(rng.gen_range(0..3));
        c.event(ClusterEvent::Crash(h)).expect("crash");
        c.run_until_quiescent()
            .unwrap_or_else(|e| panic!("{e} (seed {seed})"));
        let after = c.view();
        for p in &before.processes {
            let doomed = p.home == h || p.host == h;
            let survivor = after.process(p.pid);
            if doomed {
                assert!(
                    survivor.is_none(),
                    "FAIL: {} survived the crash of {h} (seed {seed})",
                    p.pid
                );
            } else {
                let s = survivor
                    .unwrap_or_else(|| panic!("FAIL: {} died with {h} (seed {seed})", p.pid));
                assert_eq!(
                    (s.host, &s.fds),
                    (p.host, &p.fds),
                    "FAIL: {} changed (seed {seed})",
                    p.pid
                );
            }
        }
        // Survivors keep working, also after the host comes back.
        c.event(ClusterEvent::Reboot(h)).expect("reboot");
        for p in after.processes.iter().filter(|p| p.home != h) {
            c.submit(p.pid, Op::MemRead { page: PageNo(0) });
            c.submit(p.pid, Op::Migrate { target: h });
        }
        c.run_until_quiescent()
            .unwrap_or_else(|e| panic!("{e} (seed {seed})"));
    }
}

/// Crash and reboot sequences with forks, exits, waits and migrations in between (WAIT,
/// FAIL): each crash kills exactly the processes whose home or host it was, the others
/// keep their host and descriptors; no child's status is reported more often than the
/// child was created; and once the survivors have collected their children, no zombie is
/// left in any home table.
#[test]
fn wait_and_fail_hold_across_crash_and_reboot_sequences() {
    use std::collections::BTreeMap;
    use vocab::{Errno, Value};
    let n = common::seeds(300);
    let mut crashes = 0;
    let mut reported = 0;
    let mut deaths = 0;
    for seed in 0..n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xdead);
        let mut cfg = ClusterConfig::simple(
            3,
            &[
                (Pid::new(0, 0), 1),
                (Pid::new(1, 0), 1),
                (Pid::new(2, 0), 1),
            ],
        );
        if let Ok(sw) = std::env::var("CHAOS_SWITCHES") {
            cfg.switches = sw.parse().expect("switches");
        }
        let mut c = Cluster::new(&cfg, seed).expect("cluster");
        c.set_precopy_runs(true);
        c.set_tracing(std::env::var("SPRITE_TRACE").is_ok());
        for _round in 0..8 {
            let live: Vec<Pid> = c.view().processes.iter().map(|p| p.pid).collect();
            for _ in 0..rng.gen_range(2..6) {
                // Mostly processes that exist (some of them exit meanwhile).
                let pid = match live.len() {
                    0 => Pid::new(rng.gen_range(0..3), 0),
                    n if rng.gen_bool(0.9) => live[rng.gen_range(0..n)],
                    _ => Pid::new(rng.gen_range(0..3), rng.gen_range(0..3)),
                };
                let op = match rng.gen_range(0..6) {
                    0 | 1 => Op::Fork,
                    2 => Op::Exit {
                        status: rng.gen_range(0..9),
                    },
                    3 => Op::Wait,
                    4 => Op::MemWrite {
                        page: PageNo(0),
                        sym: 1,
                    },
                    _ => Op::Migrate {
                        target: HostId(rng.gen_range(0..3)),
                    },
                };
                c.submit(pid, op);
            }
            c.run_until_quiescent()
                .unwrap_or_else(|e| panic!("{e} (seed {seed})"));
            let h = HostId(rng.gen_range(0..3));
            if !rng.gen_bool(0.4) {
                continue;
            }
            if !c.is_up(h) {
                c.event(ClusterEvent::Reboot(h)).expect("reboot");
                continue;
            }
            let before = c.view();
            let at = c.now();
            c.event(ClusterEvent::Crash(h)).expect("crash");
            crashes += 1;
            c.run_until_quiescent()
                .unwrap_or_else(|e| panic!("{e} (seed {seed})"));
            let after = c.view();
            // A waiter answered by the crash runs the operations it had queued: it may
            // have exited, or moved, of its own accord.
            let ran_on = |pid: Pid| {
                c.ops()
                    .iter()
                    .any(|r| r.pid == pid && r.started_at.is_some_and(|t| t > at))
            };
            // A pid freed by the crash may be given to a new child since.
            let reborn = |pid: Pid| {
                c.ops().iter().any(|r| {
                    r.outcome == Some(Ok(Value::Pid(pid))) && r.done_at.is_some_and(|t| t > at)
                })
            };
            for p in &before.processes {
                let doomed = p.home == h || p.host == h;
                if (!doomed && p.busy && ran_on(p.pid)) || (doomed && reborn(p.pid)) {
                    continue;
                }
                match (doomed, after.process(p.pid)) {
                    (true, Some(_)) => {
                        if std::env::var("SPRITE_TRACE").is_ok() {
                            for l in c.trace() {
                                eprintln!("{l}");
                            }
                        }
                        panic!("FAIL: {} survived {h} (seed {seed})", p.pid)
                    }
                    (false, None) => {
                        if std::env::var("SPRITE_TRACE").is_ok() {
                            for l in c.trace() {
                                eprintln!("{l}");
                            }
                        }
                        panic!("FAIL: {} died with {h} (seed {seed})", p.pid)
                    }
                    (false, Some(s)) => assert_eq!(
                        (s.host, &s.fds),
                        (p.host, &p.fds),
                        "FAIL: {} changed (seed {seed})",
                        p.pid
                    ),
                    (true, None) => {}
                }
            }
        }
        // The survivors collect their children.
        for p in c.view().processes.iter().filter(|p| !p.busy) {
            for _ in 0..8 {
                match c.run_op(p.pid, Op::Wait).expect("quiescent") {
                    Some(Err(Errno::ECHILD)) | None => break,
                    _ => {}
                }
            }
        }
        // WAIT: never more reports of a child than creations of it.
        let mut forks: BTreeMap<Pid, usize> = BTreeMap::new();
        let mut waits: BTreeMap<Pid, usize> = BTreeMap::new();
        for r in c.ops() {
            match (r.op, r.outcome) {
                (Op::Fork, Some(Ok(Value::Pid(child)))) => *forks.entry(child).or_default() += 1,
                (Op::Wait, Some(Ok(Value::Child { pid, status }))) => {
                    *waits.entry(pid).or_default() += 1;
                    deaths += (status == vocab::KILLED_STATUS) as usize;
                }
                _ => {}
            }
        }
        for (child, n) in &waits {
            reported += n;
            assert!(
                *n <= forks.get(child).copied().unwrap_or(0),
                "WAIT: {child} reported {n} times (seed {seed})"
            );
        }
        let v = c.view();
        for h in v.hosts.iter().filter(|h| h.up) {
            for (pid, e) in &h.home_table {
                assert!(
                    !matches!(e.life, sprite::kernel::Life::Zombie(_)),
                    "WAIT: zombie {pid} left on {} (seed {seed})",
                    h.id
                );
            }
        }
    }
    eprintln!("{crashes} crashes, {reported} statuses reported ({deaths} deaths in a crash)");
    assert!(crashes > n as usize && reported > n as usize / 2 && deaths > n as usize / 20);
}

/// Where a target's crash leaves a migration (specs/failures.md, "Crashes during a
/// migration"): before MIG_STATE left the source the migration is aborted and `migrate`
/// returns HostDown, the process running on at the source; once the state was sent, the
/// process dies with the target. The model takes the same two steps (model/tests/
/// transitions.rs).
#[test]
fn a_target_crash_aborts_a_migration_before_mig_state_and_kills_after() {
    use sprite::Enabled;
    use vocab::{Errno, MsgKind, Refusal};
    const P: Pid = Pid::new(0, 0);
    for (in_flight, survives) in [(MsgKind::PageFlush, true), (MsgKind::MigState, false)] {
        let cfg = ClusterConfig::simple(2, &[(P, 2)]);
        let mut c = Cluster::new(&cfg, 1).expect("cluster");
        let dirty = Op::MemWrite {
            page: PageNo(0),
            sym: 3,
        };
        c.run_op(P, dirty).expect("write");
        let mig = c.submit(P, Op::Migrate { target: HostId(1) });
        // Deliver in a fixed order until the message of interest is on its way.
        loop {
            let en = c.enabled();
            let reached = en
                .iter()
                .any(|e| matches!(e, Enabled::Deliver { kind: Some(k), .. } if *k == in_flight));
            if reached {
                break;
            }
            let first = en
                .first()
                .cloned()
                .expect("the migration is still under way");
            assert!(c.perform(&first));
        }
        c.event(ClusterEvent::Crash(HostId(1))).expect("crash");
        c.run_until_quiescent().expect("quiescent");
        if survives {
            assert_eq!(
                c.outcome(mig),
                Some(Err(Errno::Refused(Refusal::HostDown))),
                "{in_flight} in flight"
            );
            assert_eq!(c.view().process(P).map(|p| p.host), Some(HostId(0)));
            assert_eq!(
                c.run_op(P, Op::MemRead { page: PageNo(0) }).expect("read"),
                Some(Ok(vocab::Value::Mem(3)))
            );
        } else {
            assert_eq!(c.outcome(mig), None, "{in_flight} in flight: killed");
            assert!(c.view().process(P).is_none());
        }
    }
}
