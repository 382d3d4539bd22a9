//! Larger states for the proptest version of the inductiveness check: a random
//! configuration (three hosts with different clocks, one or two files, two or three
//! processes with random scripts over every operation, two pages, random cluster events),
//! a random walk through it from the initial state, and random single-field perturbations
//! of the states visited.

use model::config::{Config, HostSpec, ProcSpec, Script};
use proptest::prelude::*;
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Pid, Switches};

fn op() -> impl Strategy<Value = Op> {
    let fd = (0u8..3).prop_map(Fd);
    let host = (0u8..3).prop_map(HostId);
    let name = (0u8..2).prop_map(FileName);
    let mode = prop_oneof![Just(Mode::Read), Just(Mode::Write), Just(Mode::ReadWrite)];
    let pid = (0u8..3, 0u8..3).prop_map(|(h, i)| Pid::new(h, i));
    prop_oneof![
        (name.clone(), mode, any::<bool>()).prop_map(|(name, mode, create)| Op::Open {
            name,
            mode,
            create
        }),
        fd.clone().prop_map(|fd| Op::Read { fd }),
        (fd.clone(), 0u8..3).prop_map(|(fd, sym)| Op::Write { fd, sym }),
        (fd.clone(), 0u8..4).prop_map(|(fd, pos)| Op::Lseek { fd, pos }),
        fd.clone().prop_map(|fd| Op::Close { fd }),
        name.prop_map(|name| Op::Unlink { name }),
        fd.prop_map(|fd| Op::Dup { fd }),
        Just(Op::Fork),
        proptest::option::of(host.clone()).prop_map(|target| Op::Exec { target }),
        (0u8..4).prop_map(|status| Op::Exit { status }),
        Just(Op::Wait),
        Just(Op::Getpid),
        Just(Op::Gettimeofday),
        pid.clone().prop_map(|pid| Op::Kill { pid }),
        (0u8..2).prop_map(|p| Op::MemRead { page: PageNo(p) }),
        (0u8..2, 0u8..3).prop_map(|(p, sym)| Op::MemWrite {
            page: PageNo(p),
            sym
        }),
        host.prop_map(|target| Op::Migrate { target }),
        Just(Op::Pipe),
        Just(Op::Getpgrp),
        pid.clone().prop_map(|pgrp| Op::Setpgid { pgrp }),
        pid.prop_map(|pgrp| Op::Killpg { pgrp }),
    ]
}

fn event() -> impl Strategy<Value = ClusterEvent> {
    let host = (0u8..3).prop_map(HostId);
    prop_oneof![
        host.clone().prop_map(ClusterEvent::OwnerReturns),
        host.clone().prop_map(ClusterEvent::OwnerLeaves),
        host.clone().prop_map(ClusterEvent::Crash),
        host.clone().prop_map(ClusterEvent::Reboot),
        host.prop_map(ClusterEvent::ClockTick),
    ]
}

/// A random configuration in Sprite's design.
pub fn config() -> impl Strategy<Value = Config> {
    (
        proptest::collection::vec(proptest::collection::vec(op(), 1..7), 3..5),
        1usize..3,
        2usize..4,
        proptest::collection::vec(event(), 0..4),
        proptest::collection::vec(0u8..3, 3),
        proptest::bool::ANY,
    )
        .prop_map(
            |(scripts, files, procs, events, children, delayed_writes)| {
                let n = scripts.len() as u8;
                let homes = [Pid::new(0, 0), Pid::new(1, 0), Pid::new(0, 1)];
                Config {
                    name: "sampled".into(),
                    about: "a random configuration (proptest)".into(),
                    hosts: (0..3)
                        .map(|i| HostSpec {
                            version: 1,
                            clock: 10 + 7 * (2 - i),
                            owner: false,
                        })
                        .collect(),
                    files: (0..files)
                        .map(|i| (FileName(i as u8), vec![1; i]))
                        .collect(),
                    procs: homes[..procs]
                        .iter()
                        .enumerate()
                        .map(|(i, pid)| ProcSpec::new(*pid, i as u8))
                        .collect(),
                    scripts: scripts
                        .into_iter()
                        .map(|ops| Script::forking(ops, children.iter().map(|c| c % n).collect()))
                        .collect(),
                    pages: 2,
                    events: events.into_iter().map(|e| (e, 1)).collect(),
                    switches: Switches::SPRITE,
                    delayed_writes,
                }
            },
        )
}

/// A random walk: the index of the action to take among the enabled ones, at each step;
/// and, per step, which perturbation of the state to examine as well.
pub fn walk() -> impl Strategy<Value = Vec<(usize, usize)>> {
    proptest::collection::vec((0usize..64, 0usize..4096), 5..80)
}
