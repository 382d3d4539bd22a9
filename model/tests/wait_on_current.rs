//! The `wait-on-current` alternative step by step, in the configuration the checker tries
//! it in (`open-family`): what its strongest form gets right (a status on its way counts as
//! kept, the rendezvous moves with the parent, the pid stays taken) and where it loses a
//! status. Each test also pins a rule of the invariants the switch is judged by (WAIT with
//! statuses in flight, RES with a rendezvous on the parent's host).

use model::log::{Actor, Line, Log};
use model::properties::{inv_pid, inv_res, inv_wait};
use model::state::{State, Status};
use model::{configs, Action, SpriteModel};
use vocab::{ClusterEvent, HostId, Op, Outcome, Pid, Switch, Value};

const P: Pid = Pid::new(0, 0);
const C: Pid = Pid::new(0, 1);
const H0: HostId = HostId(0);
const H1: HostId = HostId(1);

fn model() -> SpriteModel {
    SpriteModel::new(configs::for_switch(Switch::WaitOnCurrent))
}

/// Takes the enabled action printed as `text`; returns the state after it and its log.
fn take(m: &SpriteModel, s: &State, text: &str) -> (State, Log) {
    let mut enabled = Vec::new();
    m.enabled(s, &mut enabled);
    let a = enabled
        .iter()
        .copied()
        .find(|a| a.to_string() == text)
        .unwrap_or_else(|| {
            let all: Vec<String> = enabled.iter().map(Action::to_string).collect();
            panic!("`{text}` is not enabled; enabled: {all:?}")
        });
    let mut log = Log::on();
    let next = m.apply(s, a, &mut log).expect("enabled");
    (next, log)
}

/// The state after the action printed as `text`, and the results of the operations that
/// returned in it.
fn go(m: &SpriteModel, s: &State, text: &str) -> (State, Vec<(Pid, Op, Outcome)>) {
    let (next, log) = take(m, s, text);
    (next, log.outcomes())
}

/// The messages the action printed as `text` sends, as `from -> to: text`.
fn messages(m: &SpriteModel, s: &State, text: &str) -> Vec<String> {
    let name = |a: &Actor| match a {
        Actor::Host(h) => h.to_string(),
        other => format!("{other:?}"),
    };
    take(m, s, text)
        .1
        .into_lines()
        .iter()
        .filter_map(|l| match l {
            Line::Msg { from, to, text } => Some(format!("{} -> {}: {text}", name(from), name(to))),
            _ => None,
        })
        .collect()
}

/// Takes the steps in order; every state on the way satisfies WAIT, RES and PID and has
/// nothing flagged.
fn path(m: &SpriteModel, mut s: State, steps: &[&str]) -> State {
    for text in steps {
        s = go(m, &s, text).0;
        assert_eq!(s.violated, 0, "flagged after `{text}`");
        assert!(inv_wait(m, &s), "WAIT after `{text}`");
        assert!(inv_res(m, &s), "RES after `{text}`");
        assert!(inv_pid(m, &s), "PID after `{text}`");
    }
    s
}

/// The parent migrates to h1 (voluntarily: MIG_INIT, MIG_STATE, HOME_UPDATE, RESUME).
const TO_H1: [&str; 5] = [
    "p0.0: migrate(to h1)",
    "MIG_INIT p0.0",
    "MIG_STATE p0.0",
    "HOME_UPDATE p0.0",
    "RESUME p0.0",
];

#[test]
fn a_status_on_its_way_to_the_parent_counts_as_kept_and_is_collected_on_arrival() {
    let m = model();
    let s = path(&m, m.initial(), &TO_H1);
    // The child runs on h1 with its parent; its exit goes to the home (h0), which sends it
    // on to h1.
    let s = path(&m, s, &["p0.0: fork()"]);
    assert_eq!(
        messages(&m, &s, "p0.1: exit(5)"),
        [
            "h1 -> h0: EXIT_NOTICE p0.1 status 5",
            "h0 -> h1: EXIT_NOTICE p0.1 status 5, for p0.0"
        ]
    );
    let s = path(&m, s, &["p0.1: exit(5)"]);
    let n = s.exit_notices.get(&C).copied().expect("on its way");
    assert_eq!((n.parent, n.status, n.to), (P, 5, H1));
    assert!(s.hosts.iter().all(|h| h.rendezvous.zombies.is_empty()));
    let s = path(&m, s, &["EXIT_NOTICE p0.1 arrives at h1"]);
    assert!(s.exit_notices.is_empty());
    assert_eq!(s.host(H1).rendezvous.zombies.get(&C), Some(&(P, 5)));
    let (s, results) = go(&m, &s, "p0.0: wait()");
    assert_eq!(
        results,
        vec![(P, Op::Wait, Ok(Value::Child { pid: C, status: 5 }))]
    );
    assert_eq!(s.violated, 0);
    assert!(inv_wait(&m, &s) && s.host(H1).rendezvous.zombies.is_empty());
}

#[test]
fn a_waiting_parent_is_answered_by_the_notice_when_it_arrives() {
    let m = model();
    let s = path(&m, m.initial(), &TO_H1);
    let s = path(&m, s, &["p0.0: fork()", "p0.0: wait()", "p0.1: exit(5)"]);
    // One Unix machine has woken the parent; here the answer is on its way.
    assert_eq!(s.procs[&P].status, Status::Waiting);
    assert!(s.exit_notices.contains_key(&C));
    let (s, results) = go(&m, &s, "EXIT_NOTICE p0.1 arrives at h1");
    assert_eq!(
        results,
        vec![(P, Op::Wait, Ok(Value::Child { pid: C, status: 5 }))]
    );
    assert_eq!(s.procs[&P].status, Status::Ready);
    assert_eq!(s.violated, 0);
    assert!(inv_wait(&m, &s));
}

#[test]
fn the_rendezvous_moves_with_the_parent() {
    let m = model();
    // At home, the exit is recorded at once, on h0, with no message.
    let s = path(&m, m.initial(), &["p0.0: fork()"]);
    assert!(messages(&m, &s, "p0.1: exit(5)").is_empty());
    let s = path(&m, s, &["p0.1: exit(5)"]);
    assert!(s.exit_notices.is_empty());
    assert_eq!(s.host(H0).rendezvous.zombies.get(&C), Some(&(P, 5)));
    let s = path(&m, s, &TO_H1[..3]);
    // After MIG_STATE the status is on h1 with the parent, and on h0 no more. (RES allows
    // it there: the parent runs there.)
    assert!(s.host(H0).rendezvous.zombies.is_empty());
    assert_eq!(s.host(H1).rendezvous.zombies.get(&C), Some(&(P, 5)));
    let s = path(&m, s, &TO_H1[3..]);
    let (_, results) = go(&m, &s, "p0.0: wait()");
    assert_eq!(
        results,
        vec![(P, Op::Wait, Ok(Value::Child { pid: C, status: 5 }))]
    );
}

/// A parent moving home whose state has arrived there gets the status at the home at once,
/// though the home's table still says it is moving from its source.
#[test]
fn a_parent_whose_state_is_home_already_is_told_at_home() {
    let m = model();
    let s = path(&m, m.initial(), &TO_H1);
    let s = path(
        &m,
        s,
        &["p0.0: fork()", "p0.0: migrate(to h0)", "MIG_STATE p0.0"],
    );
    assert_eq!(
        messages(&m, &s, "p0.1: exit(5)"),
        ["h1 -> h0: EXIT_NOTICE p0.1 status 5"]
    );
    let s = path(&m, s, &["p0.1: exit(5)"]);
    assert!(s.exit_notices.is_empty());
    assert_eq!(s.host(H0).rendezvous.zombies.get(&C), Some(&(P, 5)));
}

#[test]
fn a_status_on_its_way_is_a_zombie_for_kill_and_keeps_its_pid() {
    let m = model();
    let s = path(&m, m.initial(), &TO_H1);
    let s = path(&m, s, &["p0.0: fork()", "p0.1: exit(5)"]);
    assert!(s.exit_notices.contains_key(&C));
    // As on one Unix machine: a kill of an exited child that was not collected succeeds,
    // and the next child does not get its pid.
    let (s, results) = go(&m, &s, "p1.0: kill(p0.1)");
    assert_eq!(
        results,
        vec![(Pid::new(1, 0), Op::Kill { pid: C }, Ok(Value::Unit))]
    );
    let (s, results) = go(&m, &s, "p0.0: fork()");
    assert_eq!(results, vec![(P, Op::Fork, Ok(Value::Pid(Pid::new(0, 2))))]);
    assert_eq!(s.violated, 0);
}

/// The checker's counterexample (specs/counterexamples/wait-on-current.md) up to the
/// notice's arrival: the parent's state has left h0 when the child exits, so h0 sends the
/// status on to h1; the parent then moves home before it arrives.
const OVERTAKEN: [&str; 11] = [
    "p0.0: fork()",
    "p0.0: migrate(to h1)",
    "MIG_INIT p0.0",
    "MIG_STATE p0.0",
    "p0.1: exit(5)",
    "HOME_UPDATE p0.0",
    "RESUME p0.0",
    "p0.0: migrate(to h0)",
    "MIG_STATE p0.0",
    "HOME_UPDATE p0.0",
    "RESUME p0.0",
];

#[test]
fn the_status_is_lost_when_the_parent_has_moved_on() {
    let m = model();
    let s = path(&m, m.initial(), &OVERTAKEN);
    let n = s.exit_notices.get(&C).copied().expect("still on its way");
    assert_eq!(n.to, H1);
    let (s, _) = go(&m, &s, "EXIT_NOTICE p0.1 arrives at h1");
    assert!(s.exit_notices.is_empty());
    assert!(s.hosts.iter().all(|h| h.rendezvous.zombies.is_empty()));
    assert!(
        !inv_wait(&m, &s),
        "one Unix machine keeps p0.1's status for p0.0"
    );
}

/// A host the parent left sends a notice on only while that host is the source of the
/// parent's move; a host it left earlier knows nothing, even while it moves again.
#[test]
fn only_the_source_of_a_move_sends_a_notice_on() {
    let mut cfg = configs::for_switch(Switch::WaitOnCurrent);
    cfg.scripts[0].budget = Some(4);
    let m = SpriteModel::new(cfg);
    let s = path(&m, m.initial(), &OVERTAKEN);
    let s = path(
        &m,
        s,
        &["p0.0: migrate(to h2)", "MIG_INIT p0.0", "MIG_STATE p0.0"],
    );
    assert!(s.migrations.contains_key(&P) && s.exit_notices.contains_key(&C));
    let (s, _) = go(&m, &s, "EXIT_NOTICE p0.1 arrives at h1");
    assert!(
        s.exit_notices.is_empty(),
        "h1 sent it on: {:?}",
        s.exit_notices
    );
}

/// A waiting parent counts as answered only by a notice of its own child: here p1.0's
/// answer is on its way while p0.0 waits for a child still alive.
#[test]
fn a_waiting_parent_is_answered_only_by_its_own_childs_notice() {
    let mut cfg = configs::for_switch(Switch::WaitOnCurrent);
    // p1.0 runs the parents' program too.
    cfg.procs[1].script = cfg.procs[0].script;
    let m = SpriteModel::new(cfg);
    let s = path(
        &m,
        m.initial(),
        &[
            "p1.0: migrate(to h0)",
            "MIG_INIT p1.0",
            "MIG_STATE p1.0",
            "HOME_UPDATE p1.0",
            "RESUME p1.0",
            "p1.0: fork()",
            "p1.0: wait()",
            "p1.1: exit(5)",
            "p0.0: fork()",
            "p0.0: wait()",
        ],
    );
    assert!(s.exit_notices.contains_key(&Pid::new(1, 1)));
    assert_eq!(s.procs[&P].status, Status::Waiting);
    assert!(inv_wait(&m, &s));
}

#[test]
fn a_crash_of_the_host_a_notice_goes_to_loses_it() {
    let mut cfg = configs::for_switch(Switch::WaitOnCurrent);
    cfg.events.push((ClusterEvent::Crash(H1), 1));
    let m = SpriteModel::new(cfg);
    let s = path(&m, m.initial(), &OVERTAKEN);
    let (s, _) = go(&m, &s, "h1 crashes");
    // p0.0 runs on h0 and lives on; the status on its way to h1 is gone with h1.
    assert!(s.procs.contains_key(&P) && s.exit_notices.is_empty());
    assert!(!inv_wait(&m, &s));
}

/// RES allows a rendezvous away from the parent's home only under the switch, and only on
/// the host the parent runs on.
#[test]
fn res_allows_exit_statuses_on_the_parents_host_only_under_the_switch() {
    let m = model();
    let sprite = SpriteModel::new(configs::open_family());
    let s = path(&m, m.initial(), &["p0.0: fork()", "p0.1: exit(5)"]);
    let mut moved = s.clone();
    let z = moved
        .host_mut(H0)
        .rendezvous
        .zombies
        .remove(&C)
        .expect("at h0");
    moved.host_mut(H1).rendezvous.zombies.insert(C, z);
    // p0.0 runs on h0: h1 may keep nothing for it, in either design.
    assert!(!inv_res(&m, &moved) && !inv_res(&sprite, &moved));
    moved.procs.get_mut(&P).expect("alive").host = H1;
    assert!(inv_res(&m, &moved), "under the switch: the parent's host");
    assert!(
        !inv_res(&sprite, &moved),
        "in Sprite's design: the home only"
    );
    assert!(inv_res(&sprite, &s));
}
