//! Process-group calls in the model, one step at a time: what the home answers and which
//! messages the call costs (the checker's configurations judge the results against one
//! Unix machine; these pin the cases those configurations do not reach).

use model::config::{Config, ProcSpec, Script};
use model::log::{Actor, Line, Log};
use model::state::State;
use model::{configs, Action, SpriteModel};
use vocab::{Errno, HostId, Op, Outcome, Pid, Value};

const P: Pid = Pid::new(0, 0);
const H1: HostId = HostId(1);

/// Two hosts; `p0.0` runs on `on` and performs `ops` in order.
fn model(on: HostId, ops: Vec<Op>) -> SpriteModel {
    let mut cfg: Config = configs::pipes_groups();
    cfg.name = "groups-steps".into();
    cfg.events.clear();
    cfg.procs = vec![ProcSpec {
        start_on: Some(on),
        ..ProcSpec::new(P, 0)
    }];
    cfg.scripts = vec![Script::new(ops)];
    SpriteModel::new(cfg)
}

/// Runs `p0.0`'s next operation; its result and the messages sent (`from -> to: text`).
fn step(m: &SpriteModel, s: &State) -> (State, Outcome, Vec<String>) {
    let mut enabled = Vec::new();
    m.enabled(s, &mut enabled);
    let a = enabled
        .iter()
        .copied()
        .find(|a| matches!(a, Action::Run(p, _) if *p == P))
        .expect("p0.0 can run");
    let mut log = Log::on();
    let next = m.apply(s, a, &mut log).expect("enabled");
    let outcome = log.outcomes().first().expect("returns").2;
    let name = |a: &Actor| match a {
        Actor::Host(h) => h.to_string(),
        other => format!("{other:?}"),
    };
    let msgs = log
        .into_lines()
        .iter()
        .filter_map(|l| match l {
            Line::Msg { from, to, text } => Some(format!("{} -> {}: {text}", name(from), name(to))),
            _ => None,
        })
        .collect();
    (next, outcome, msgs)
}

#[test]
fn a_remote_group_call_is_forwarded_home_and_a_local_one_is_not() {
    for (on, forwarded) in [(H1, true), (HostId(0), false)] {
        let m = model(on, vec![Op::Getpgrp, Op::Setpgid { pgrp: P }]);
        let s = m.initial();
        let (s, got, msgs) = step(&m, &s);
        assert_eq!(got, Ok(Value::Pid(P)));
        let want: Vec<String> = if forwarded {
            vec!["h1 -> h0: FORWARD getpgrp".into()]
        } else {
            Vec::new()
        };
        assert_eq!(msgs, want, "getpgrp on {on}");
        let (_, got, msgs) = step(&m, &s);
        assert_eq!(got, Ok(Value::Unit));
        assert_eq!(
            msgs.len(),
            usize::from(forwarded),
            "setpgid on {on}: {msgs:?}"
        );
    }
}

/// setpgid may join only a group some live process of the caller's home is in: a free pid
/// of its own home names no group (EPERM), as on one Unix machine.
#[test]
fn setpgid_to_a_group_nobody_is_in_is_refused() {
    let m = model(
        H1,
        vec![Op::Setpgid {
            pgrp: Pid::new(0, 5),
        }],
    );
    let s = m.initial();
    assert_eq!(step(&m, &s).1, Err(Errno::EPERM));
}

/// killpg of a group named after a pid of a host the cluster does not have: ESRCH, with
/// no message (there is no home to send it to) and no panic.
#[test]
fn killpg_of_a_group_of_no_host_is_esrch() {
    for home in [2, 7] {
        let m = model(
            H1,
            vec![Op::Killpg {
                pgrp: Pid::new(home, 0),
            }],
        );
        let s = m.initial();
        let (_, got, msgs) = step(&m, &s);
        assert_eq!(got, Err(Errno::ESRCH), "home h{home}");
        assert!(msgs.is_empty(), "{msgs:?}");
    }
}
