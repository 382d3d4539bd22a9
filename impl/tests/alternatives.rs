//! Each rejected design, switched on, is caught by a plain random search: the same random
//! operation sequences that pass on Sprite's design (tests/tr_random.rs) expose a
//! difference from one Unix machine (TR) or break the invariant the switch names. The
//! search prints the first failing seed; the Sprite design must survive the same seeds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprite::{Cluster, ClusterConfig, OpId};
use std::collections::BTreeMap;
use unix::{ProcState, Unix};
use vocab::{Fd, FileName, HostId, Mode, Op, PageNo, Pid, Switch, Switches, Value};

fn random_op(rng: &mut ChaCha8Rng, pids: &[Pid]) -> Op {
    let fd = Fd(rng.gen_range(0..3));
    match rng.gen_range(0..21) {
        0 | 1 => Op::Open {
            name: FileName(rng.gen_range(0..2)),
            mode: [Mode::Read, Mode::Write, Mode::ReadWrite][rng.gen_range(0..3)],
            create: true,
        },
        2 | 3 => Op::Read { fd },
        4 | 5 => Op::Write {
            fd,
            sym: rng.gen_range(1..9),
        },
        6 => Op::Lseek {
            fd,
            pos: rng.gen_range(0..3),
        },
        7 => Op::Close { fd },
        8 => Op::Unlink {
            name: FileName(rng.gen_range(0..2)),
        },
        9 => Op::Fork,
        10 if rng.gen_bool(0.3) => Op::Exit { status: 2 },
        10 | 11 => Op::Wait,
        12 | 13 => Op::Kill {
            pid: pids[rng.gen_range(0..pids.len())],
        },
        14 => Op::MemRead {
            page: PageNo(rng.gen_range(0..2)),
        },
        15 => Op::MemWrite {
            page: PageNo(rng.gen_range(0..2)),
            sym: rng.gen_range(1..9),
        },
        16 => Op::Gettimeofday,
        _ => Op::Migrate {
            target: HostId(rng.gen_range(0..3)),
        },
    }
}

/// Runs one random script; returns the first violation found, if any.
fn search_one(switches: Switches, seed: u64) -> Option<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let homes = [Pid::new(0, 0), Pid::new(1, 0)];
    let mut cfg = ClusterConfig::simple(3, &[(homes[0], 2), (homes[1], 2)]);
    cfg.files.push((FileName(0), vec![1, 2]));
    cfg.hosts[0].clock_skew_ms = 4000;
    cfg.hosts[1].clock_skew_ms = 2000;
    cfg.switches = switches;
    let pids: Vec<Pid> = (0..2)
        .flat_map(|h| (0..3).map(move |i| Pid::new(h, i)))
        .collect();
    let mut c = Cluster::new(&cfg, seed).ok()?;
    let mut u = Unix::new();
    for (n, d) in &cfg.files {
        u.add_file(*n, d.clone());
    }
    for p in &cfg.processes {
        u.add_process(p.pid, p.pages);
    }
    let mut blocked: Vec<(Pid, OpId)> = Vec::new();
    let mut last_time: BTreeMap<Pid, u32> = BTreeMap::new();
    for i in 0..40 {
        let pid = if rng.gen_bool(0.6) {
            homes[rng.gen_range(0..2)]
        } else {
            pids[rng.gen_range(0..pids.len())]
        };
        let op = random_op(&mut rng, &pids);
        if u.procs
            .get(&pid)
            .is_some_and(|p| p.state == ProcState::Waiting)
        {
            continue;
        }
        let id = c.submit(pid, op);
        if c.run_until_quiescent().is_err() {
            return Some(format!("LIVE at step {i}"));
        }
        let before = op.moves().then(|| u.clone());
        let step = u.apply(pid, &op);
        let got = c.outcome(id);
        if let (Some(before), Some(Err(vocab::Errno::Refused(_)))) = (before, got) {
            u = before; // refused: no effect on one machine either (REFUSE)
            continue;
        }
        let agree = match (op, step.outcome, got) {
            (Op::Migrate { .. }, _, _) => true,
            (Op::Gettimeofday, Some(Ok(_)), Some(Ok(Value::Time(t)))) => {
                // TIME: never backwards for one process.
                let prev = last_time.insert(pid, t);
                if prev.is_some_and(|p| t < p) {
                    return Some(format!("TIME at step {i}: {pid} read {t} after {prev:?}"));
                }
                true
            }
            (_, w, g) => w == g,
        };
        if !agree {
            return Some(format!(
                "TR at step {i}: {pid} {op}: unix {:?}, cluster {got:?}",
                step.outcome
            ));
        }
        if step.outcome.is_none() {
            blocked.push((pid, id));
        }
        if let Some((w, want)) = step.woke {
            if let Some(k) = blocked.iter().position(|(p, _)| *p == w) {
                let (_, wid) = blocked.remove(k);
                if c.outcome(wid) != Some(want) {
                    return Some(format!(
                        "TR (wait) at step {i}: {w}: unix {want:?}, cluster {:?}",
                        c.outcome(wid)
                    ));
                }
            }
        }
        let v = c.view();
        // SIG: every live process has received exactly the ghost's signals.
        for p in &v.processes {
            if let Some(g) = u.procs.get(&p.pid) {
                if p.signals != g.signals as u32 {
                    return Some(format!(
                        "SIG at step {i}: {} has {} signals, ghost {}",
                        p.pid, p.signals, g.signals
                    ));
                }
            }
        }
        // RES: no host but the current one and the home keeps state for a process.
        for p in &v.processes {
            for h in v.hosts.iter().filter(|h| h.id != p.host && h.id != p.home) {
                if h.residual.contains_key(&p.pid) || h.pcbs.contains(&p.pid) {
                    return Some(format!("RES at step {i}: {} left state on {}", p.pid, h.id));
                }
            }
        }
    }
    None
}

fn search(switches: Switches, seeds: u64) -> Option<(u64, String)> {
    (0..seeds).find_map(|s| search_one(switches, s).map(|v| (s, v)))
}

#[test]
fn sprite_survives_the_search() {
    if let Some((seed, v)) = search(Switches::SPRITE, 400) {
        panic!("Sprite's design failed at seed {seed}: {v}");
    }
}

/// `wait-on-current` loses an exit status only when the notice sent on to the parent's old
/// host is overtaken by the parent's next move between the same two hosts. This simulator's
/// channels keep each pair of nodes' messages in order, so its results stay right here
/// (the model, whose messages in flight are unordered as Sprite's separate RPCs are, finds
/// the loss: specs/design-alternatives.md).
#[test]
fn wait_on_current_survives_the_search_over_in_order_channels() {
    if let Some((seed, v)) = search(Switches::only(Switch::WaitOnCurrent), 400) {
        panic!("wait-on-current failed at seed {seed}: {v}");
    }
}

#[test]
fn each_rejected_design_is_found_by_random_search() {
    // notify-target-first and per-slot-exchange (a needless disable, which this search
    // does not look for) and no-vm-flush (a race inside one migration) need targeted
    // schedules: see tests/scenarios.rs. wait-on-current's race cannot happen over this
    // simulator's in-order channels (above).
    for sw in Switch::ALL.into_iter().filter(|s| s.breaks().is_some()) {
        if matches!(
            sw,
            Switch::NotifyTargetFirst
                | Switch::PerSlotExchange
                | Switch::NoVmFlush
                | Switch::WaitOnCurrent
        ) {
            continue;
        }
        match search(Switches::only(sw), 5000) {
            Some((seed, v)) => eprintln!(
                "{sw} (breaks {}): seed {seed}: {v}",
                sw.breaks().map(|i| i.as_str()).unwrap_or("-")
            ),
            None => panic!("{sw}: no violation found in 5000 seeds"),
        }
    }
}

/// reopen-files is wrong only for files unlinked while open (the reopen finds no name) and
/// for shared streams: a process with a linked file of its own open keeps using it through
/// the same descriptor after the move, at the same position, because the target installs
/// the stream the server granted to its reopen (the files module's reopen answer).
#[test]
fn reopen_files_keeps_a_linked_file_usable_across_the_move() {
    const P: Pid = Pid::new(0, 0);
    let mut cfg = ClusterConfig::simple(2, &[(P, 1)]);
    cfg.files.push((FileName(0), vec![1, 2, 3]));
    cfg.switches = Switches::only(Switch::ReopenFiles);
    let mut c = Cluster::new(&cfg, 0).unwrap();
    let mut run = |op| c.run_op(P, op).unwrap();
    let open = Op::Open {
        name: FileName(0),
        mode: Mode::ReadWrite,
        create: false,
    };
    assert_eq!(run(open), Some(Ok(Value::Fd(Fd(0)))));
    assert_eq!(run(Op::Read { fd: Fd(0) }), Some(Ok(Value::Data(Some(1)))));
    assert_eq!(
        run(Op::Migrate { target: HostId(1) }),
        Some(Ok(Value::Unit))
    );
    assert_eq!(run(Op::Read { fd: Fd(0) }), Some(Ok(Value::Data(Some(2)))));
    assert_eq!(run(Op::Write { fd: Fd(0), sym: 9 }), Some(Ok(Value::Unit)));
    assert_eq!(
        run(Op::Lseek { fd: Fd(0), pos: 2 }),
        Some(Ok(Value::Pos(2)))
    );
    assert_eq!(run(Op::Read { fd: Fd(0) }), Some(Ok(Value::Data(Some(9)))));
}

/// local-pids as LOCUS names processes: a child is named by, and homed on, the host that
/// creates it, and its exit still reaches the parent's wait (its home passes it on to the
/// parent's home, which CHILD_NOTICE told of the child). What breaks is the owner's host:
/// when the owner of the host a remote family runs on returns, the parent goes home and
/// the child, whose pid calls that host its home, stays (EVICT).
#[test]
fn local_pids_children_report_their_exit_but_stay_when_the_owner_returns() {
    const P: Pid = Pid::new(0, 0);
    let h1 = HostId(1);
    let mut cfg = ClusterConfig::simple(2, &[(P, 1)]);
    cfg.switches = Switches::only(Switch::LocalPids);
    let mut c = Cluster::new(&cfg, 0).unwrap();
    assert_eq!(
        c.run_op(P, Op::Migrate { target: h1 }).unwrap(),
        Some(Ok(Value::Unit))
    );
    let first = Pid::new(1, 0);
    assert_eq!(c.run_op(P, Op::Fork).unwrap(), Some(Ok(Value::Pid(first))));
    let exit = c.submit(first, Op::Exit { status: 5 });
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(exit), Some(Ok(Value::Unit)));
    assert_eq!(
        c.run_op(P, Op::Wait).unwrap(),
        Some(Ok(Value::Child {
            pid: first,
            status: 5
        }))
    );
    let Some(Ok(Value::Pid(second))) = c.run_op(P, Op::Fork).unwrap() else {
        panic!("the second fork failed");
    };
    assert_eq!(second.home, h1, "named by the creating host");
    c.event(vocab::ClusterEvent::OwnerReturns(h1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(c.host_of(P), Some(HostId(0)), "the parent is evicted home");
    assert_eq!(
        c.host_of(second),
        Some(h1),
        "the child of h0's user stays on the owner's host"
    );
}

/// local-pids with process groups: a child named and homed by the host that creates it is
/// still in its parent's group, which the creating host reads from the parent's PCB
/// (Sprite's family id, which migration moves); the group then spans two homes, and a
/// killpg, sent to every host under the switch, signals every member, as one Unix machine
/// would. A group joined by setpgid before the parent moved is the one the child gets.
#[test]
fn local_pids_groups_span_homes_and_killpg_reaches_every_member() {
    const P: Pid = Pid::new(0, 0);
    const Q: Pid = Pid::new(0, 1);
    let h1 = HostId(1);
    let mut cfg = ClusterConfig::simple(3, &[(P, 1), (Q, 1)]);
    cfg.switches = Switches::only(Switch::LocalPids);
    let mut c = Cluster::new(&cfg, 0).unwrap();
    // P joins Q's group at home, then moves: its PCB carries the group to h1.
    assert_eq!(
        c.run_op(P, Op::Setpgid { pgrp: Q }).unwrap(),
        Some(Ok(Value::Unit))
    );
    assert_eq!(
        c.run_op(P, Op::Migrate { target: h1 }).unwrap(),
        Some(Ok(Value::Unit))
    );
    let Some(Ok(Value::Pid(child))) = c.run_op(P, Op::Fork).unwrap() else {
        panic!("fork failed");
    };
    assert_eq!(child.home, h1, "named by the creating host");
    assert_eq!(
        c.run_op(child, Op::Getpgrp).unwrap(),
        Some(Ok(Value::Pid(Q))),
        "in its parent's group, not one named after its parent"
    );
    // The group's home is h0; the child's record is on h1. Both hear the killpg.
    assert_eq!(
        c.run_op(child, Op::Killpg { pgrp: Q }).unwrap(),
        Some(Ok(Value::Unit))
    );
    c.run_until_quiescent().unwrap();
    let signals = |c: &Cluster, p: Pid| c.view().process(p).map(|p| p.signals);
    assert_eq!(signals(&c, P), Some(1));
    assert_eq!(signals(&c, Q), Some(1));
    assert_eq!(signals(&c, child), Some(1), "the member homed on h1");
    // A group nobody is in: every host answers that it has none.
    assert_eq!(
        c.run_op(
            child,
            Op::Killpg {
                pgrp: Pid::new(2, 7)
            }
        )
        .unwrap(),
        Some(Err(vocab::Errno::ESRCH))
    );
    // With a host down, the others' answers still end the call.
    c.event(vocab::ClusterEvent::Crash(HostId(2))).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(
        c.run_op(P, Op::Killpg { pgrp: Q }).unwrap(),
        Some(Ok(Value::Unit))
    );
    c.run_until_quiescent().unwrap();
    assert_eq!(signals(&c, child), Some(2));
}
