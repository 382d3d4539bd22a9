//! Each clause of the strengthened invariants is broken by a deliberate fault: a reachable
//! state with one thing wrong, which the property must reject (so that no clause can be
//! replaced by `true` unnoticed). The design switches break the others (`alternatives.rs`).

use model::properties::inv_res;
use model::state::{Loc, State};
use model::{configs, SpriteModel};
use stateright::Model;
use vocab::{HostId, Pid};

fn start() -> (SpriteModel, State) {
    let m = SpriteModel::new(configs::fork_wait());
    let s = m.init_states().remove(0);
    assert!(inv_res(&m, &s), "the initial state satisfies RES");
    (m, s)
}

const GONE: Pid = Pid::new(0, 7);

#[test]
fn res_rejects_a_home_table_entry_for_no_live_process() {
    let (m, mut s) = start();
    s.hosts[0].home_table.insert(GONE, Loc::At(HostId(0)));
    assert!(!inv_res(&m, &s));
}

#[test]
fn res_rejects_a_home_table_entry_on_a_host_that_is_not_the_home() {
    let (m, mut s) = start();
    let (pid, loc) = s.hosts[0]
        .home_table
        .iter()
        .next()
        .map(|(p, l)| (*p, *l))
        .unwrap();
    s.hosts[1].home_table.insert(pid, loc);
    assert!(!inv_res(&m, &s));
}

#[test]
fn res_rejects_a_group_entry_for_no_live_process() {
    let (m, mut s) = start();
    s.hosts[0].groups.insert(GONE, GONE);
    assert!(!inv_res(&m, &s));
}

#[test]
fn res_rejects_signals_held_for_a_process_that_is_not_moving() {
    let (m, mut s) = start();
    let pid = *s.procs.keys().next().unwrap();
    s.hosts[0].held_signals.insert(pid, 1);
    assert!(!inv_res(&m, &s));
}

#[test]
fn res_rejects_a_waiter_that_does_not_wait() {
    let (m, mut s) = start();
    let pid = *s.procs.keys().next().unwrap();
    s.hosts[0].rendezvous.waiters.insert(pid);
    assert!(!inv_res(&m, &s));
}

#[test]
fn res_rejects_an_exit_status_kept_by_a_host_that_is_not_the_home() {
    let (m, mut s) = start();
    let parent = *s.procs.keys().next().unwrap();
    s.hosts[1]
        .rendezvous
        .zombies
        .insert(Pid::new(0, 5), (parent, 0));
    assert!(!inv_res(&m, &s));
}

#[test]
fn res_rejects_pages_left_on_a_host_the_process_never_used() {
    let (m, mut s) = start();
    let pid = *s.procs.keys().next().unwrap();
    s.hosts[1].residue.insert(pid, Default::default());
    assert!(!inv_res(&m, &s));
}

/// FAIL's crash check, against a crash that kills too many, too few, or moves a survivor.
#[test]
fn fail_rejects_a_crash_that_kills_the_wrong_processes_or_moves_one() {
    use model::properties::{crash_outcome_ok, crash_victims};
    let m = SpriteModel::new(configs::crash());
    let before = m.init_states().remove(0);
    let homes: Vec<HostId> = before.procs.keys().map(|p| p.home).collect();
    let h = homes[0];
    let victims = crash_victims(&before, h);
    assert!(!victims.is_empty());
    let survivor = before.procs.keys().copied().find(|p| !victims.contains(p));
    let mut right = before.clone();
    for v in &victims {
        right.procs.remove(v);
    }
    assert!(crash_outcome_ok(&before, &right, h));
    // Too few: a victim lives on.
    assert!(!crash_outcome_ok(&before, &before, h));
    let survivor = survivor.expect("the configuration has a process of another home");
    // Too many: a process of another home dies too.
    let mut too_many = right.clone();
    too_many.procs.remove(&survivor);
    assert!(!crash_outcome_ok(&before, &too_many, h));
    // A survivor moved.
    let mut moved = right.clone();
    let p = moved.procs.get_mut(&survivor).unwrap();
    p.host = HostId(p.host.0 ^ 1);
    assert!(!crash_outcome_ok(&before, &moved, h));
}
