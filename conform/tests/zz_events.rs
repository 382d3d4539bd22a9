use conform::gen::{HostGen, Step, Who};
use conform::{report, run, Options, Scenario};
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo};

#[test]
fn events_mid_migration() {
    let mut bad = 0;
    let mut total = 0;
    let mut executed_ev = 0;
    for seed in 0..6u64 {
        for after in 0..=9u8 {
            for ev in [
                ClusterEvent::Crash(HostId(0)),
                ClusterEvent::Crash(HostId(1)),
                ClusterEvent::Crash(HostId(2)),
                ClusterEvent::OwnerReturns(HostId(1)),
            ] {
                for (target, second) in [(1u8, false), (1, true), (2, true)] {
                    let p0 = Who::Slot(0);
                    let sc = Scenario {
                        hosts: vec![
                            HostGen {
                                version: 1,
                                clock: 0,
                                owner: false
                            };
                            3
                        ],
                        files: vec![(FileName(0), vec![1])],
                        pages: 2,
                        second_proc: second,
                        pinned: false,
                        switches: vocab::Switches::SPRITE,
                        seed,
                        steps: vec![
                            Step::Op {
                                who: p0,
                                op: Op::Open {
                                    name: FileName(0),
                                    mode: Mode::ReadWrite,
                                    create: false,
                                },
                            },
                            Step::Op {
                                who: p0,
                                op: Op::Write { fd: Fd(0), sym: 4 },
                            },
                            Step::Op {
                                who: p0,
                                op: Op::MemWrite {
                                    page: PageNo(0),
                                    sym: 5,
                                },
                            },
                            Step::Op {
                                who: p0,
                                op: Op::Fork,
                            },
                            Step::Sched(seed as u8 * 37),
                            Step::EventDuring {
                                mover: p0,
                                target: HostId(target),
                                exec: false,
                                after,
                                event: ev,
                            },
                            Step::Op {
                                who: p0,
                                op: Op::Read { fd: Fd(0) },
                            },
                            Step::Op {
                                who: p0,
                                op: Op::MemRead { page: PageNo(0) },
                            },
                            Step::Op {
                                who: Who::Slot(1),
                                op: Op::Read { fd: Fd(0) },
                            },
                            Step::Op {
                                who: p0,
                                op: Op::Wait,
                            },
                        ],
                    };
                    total += 1;
                    let r = run(&sc, &Options::default());
                    if r.executed > 6 {
                        executed_ev += 1;
                    }
                    if let Some(m) = r.mismatch {
                        bad += 1;
                        if bad <= 100 {
                            println!("{}", report::render(&m, &sc, "x"));
                        }
                    }
                }
            }
        }
    }
    println!("total {total} bad {bad} executed {executed_ev}");
}
