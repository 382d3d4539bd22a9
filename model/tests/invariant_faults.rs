//! Each clause of the strengthened invariants is broken by a deliberate fault: a reachable
//! state with one thing wrong, which the property must reject (so that no clause can be
//! replaced by `true` unnoticed). The design switches break the others (`alternatives.rs`).

use model::properties::{inv_del, inv_res};
use model::state::{Loc, State};
use model::{configs, SpriteModel};
use stateright::Model;
use unix::Ino;
use vocab::{HostId, InvariantId, Pid};

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

// DEL: each clause of `inv_del` rejects its own fault (so that none of its `&&` can become
// `||` unnoticed).

fn with_a_file() -> (SpriteModel, State) {
    let m = SpriteModel::new(configs::shared_offset());
    let s = m.init_states().remove(0);
    assert!(
        !s.server.files.is_empty(),
        "shared-offset starts with a file"
    );
    assert!(inv_del(&m, &s), "the initial state satisfies DEL");
    (m, s)
}

#[test]
fn del_rejects_a_state_the_model_flagged() {
    let (m, mut s) = with_a_file();
    s.flag(InvariantId::DEL);
    assert!(!inv_del(&m, &s));
}

#[test]
fn del_rejects_a_file_one_unix_machine_does_not_have() {
    let (m, mut s) = with_a_file();
    let extra = Ino(200);
    let f = s.server.files.values().next().unwrap().clone();
    s.server.files.insert(extra, f);
    assert!(!inv_del(&m, &s));
}

#[test]
fn del_rejects_a_file_unlinked_on_the_server_only() {
    let (m, mut s) = with_a_file();
    let f = s.server.files.values_mut().next().unwrap();
    f.linked = !f.linked;
    assert!(!inv_del(&m, &s));
}

#[test]
fn del_rejects_a_pipe_with_no_file() {
    let (m, mut s) = with_a_file();
    s.server.pipes.insert(Ino(201));
    assert!(!inv_del(&m, &s));
}

#[test]
fn del_rejects_a_file_taken_for_a_pipe() {
    let (m, mut s) = with_a_file();
    let ino = *s.server.files.keys().next().unwrap();
    s.server.pipes.insert(ino);
    assert!(!inv_del(&m, &s));
}

/// A reachability property that holds in a configuration's initial state says nothing (it
/// could be `true`): none of them does, in any configuration of the default suite.
#[test]
fn no_reachability_property_holds_from_the_start() {
    for cfg in configs::suite("default").expect("the default suite") {
        let m = SpriteModel::new(cfg);
        let s = m.init_states().remove(0);
        for r in model::properties::reachables() {
            assert!(
                !(r.check)(&m, &s),
                "{} holds in the initial state of {}",
                r.key,
                m.cfg.name
            );
        }
    }
}

/// FAIL is about crashes, MEM about memory: a child given a pid from the wrong host, with
/// no crash anywhere, breaks PID (and TR) only. The path is `local-pids`'s counterexample:
/// the parent migrates to h2 and forks there.
#[test]
fn a_wrong_pid_without_a_crash_breaks_pid_not_fail_or_mem() {
    use model::properties::{inv_fail, inv_mem, inv_pid};
    let m = SpriteModel::new(configs::for_switch(vocab::Switch::LocalPids));
    let path = model::trace::from_indices(&m, &[3, 1, 1, 1, 1, 0]).expect("a path");
    assert!(
        path.iter()
            .all(|a| !matches!(a, model::Action::Event(vocab::ClusterEvent::Crash(_)))),
        "no crash on the path"
    );
    let states = model::trace::replay(&m, &path).expect("replays");
    let last = states.last().expect("non-empty");
    assert!(
        !inv_pid(&m, last),
        "the child's pid is not the one its home gives"
    );
    assert!(inv_fail(&m, last), "no crash, so nothing for FAIL to find");
    assert!(
        inv_mem(&m, last),
        "memory is as written for every process both sides have"
    );
    let broken: Vec<_> = model::trace::explain_path(&m, &path)
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(broken, [InvariantId::TR, InvariantId::PID]);
}
