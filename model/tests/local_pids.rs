//! The `local-pids` alternative with process groups. Under the switch a child forked away
//! from its parent's home is homed on the host that creates it, yet it stays in its
//! parent's process group, whose name is a pid of another home: the group spans homes.
//! `killpg` must then still reach every member, as on one Unix machine, so that the only
//! thing the checker holds against the switch is the eviction it cannot do (EVICT).

use model::config::{Config, Script};
use model::configs;
use model::run::{check, Options};
use vocab::{HostId, Op, Pid, Switch, Switches};

const P: Pid = Pid::new(0, 0);
const H0: HostId = HostId(0);

/// `open-fork` with no eviction (so EVICT cannot fail) and the group calls added: the
/// parent (of h0, running on h1) forks, then waits, migrates home or signals its own group;
/// the child (named and homed by h1 under the switch) does two of: signal the group, read
/// its group, join it again, exit, migrate home.
fn groups_across_homes() -> Config {
    let mut cfg = configs::open_fork();
    cfg.name = "open-fork-groups".into();
    cfg.events.clear();
    cfg.scripts = vec![
        Script::alphabet_forking(
            vec![
                Op::Fork,
                Op::Wait,
                Op::Migrate { target: H0 },
                Op::Killpg { pgrp: P },
            ],
            2,
            1,
        ),
        Script::alphabet(
            vec![
                Op::Exit { status: 5 },
                Op::Killpg { pgrp: P },
                Op::Getpgrp,
                Op::Setpgid { pgrp: P },
                Op::Migrate { target: H0 },
            ],
            2,
        ),
    ];
    cfg
}

#[test]
fn a_group_that_spans_homes_is_signalled_whole() {
    let cfg = groups_across_homes().with_switches(Switches::only(Switch::LocalPids));
    let report = check(&cfg, &Options::default());
    let broken: Vec<String> = report
        .violated()
        .map(|p| format!("{}: {:?}", p.name, p.verdict))
        .collect();
    assert!(report.complete, "not exhausted");
    assert!(broken.is_empty(), "broken under local-pids: {broken:?}");
    assert_eq!(report.unique_states, 14_427);
}

#[test]
fn sprite_design_passes_the_same_configuration() {
    let report = check(&groups_across_homes(), &Options::default());
    assert!(report.complete && report.violated().next().is_none());
    assert_eq!(report.unique_states, 12_152);
}
