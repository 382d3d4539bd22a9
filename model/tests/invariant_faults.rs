//! Each clause of the strengthened invariants is broken by a deliberate fault: a reachable
//! state with one thing wrong, which the property must reject (so that no clause can be
//! replaced by `true` unnoticed). The design switches break the others (`alternatives.rs`).

use model::log::Log;
use model::properties::{inv_cache, inv_cons, inv_del, inv_fail, inv_off, inv_res, why};
use model::state::{CacheEntry, Loc, State, Status};
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

// CONS: the dirty copy must be the last writer's, and a cached copy a read would use must
// hold the latest data; each clause rejects its own fault, and its guard is not stronger
// than the spec's (stale blocks, and blocks of an uncacheable file, are never read).

/// shared-offset after its first step: p0.0 on h0 has the file open for reading and writing.
fn cons_start() -> (SpriteModel, State, Ino) {
    let (m, s) = with_a_file();
    let pid = Pid::new(0, 0);
    let open = m.script_step(&s, pid).expect("p0.0 opens the file");
    let s = m.apply(&s, open, &mut Log::off()).expect("open is enabled");
    assert!(inv_cons(&m, &s), "the state after the open satisfies CONS");
    let ino = *s.server.files.keys().next().unwrap();
    assert!(s.server.streams.values().any(|st| st.ino == ino));
    (m, s, ino)
}

fn entry(data: &[u8], dirty: bool, version: u8) -> CacheEntry {
    CacheEntry {
        data: data.into(),
        dirty,
        version,
    }
}

#[test]
fn cons_rejects_a_readable_cached_copy_that_is_not_the_latest() {
    let (m, mut s, ino) = cons_start();
    let f = s.server.files[&ino].clone();
    assert!(f.cacheable && f.data.as_slice() != [9]);
    // h0 uses the file: a read there would return these blocks.
    s.hosts[0].cache.insert(ino, entry(&[9], false, f.version));
    assert!(!inv_cons(&m, &s), "a read on h0 would return stale data");
    // The same blocks are harmless once stale (a newer version exists) ...
    let mut stale = s.clone();
    stale.server.files.get_mut(&ino).unwrap().version = f.version + 1;
    assert!(inv_cons(&m, &stale));
    // ... but not on a host that does not use the file: its next open would find them
    // current (a stream that moved away does not start a new version, so the host it
    // left must not keep its blocks) ...
    let mut elsewhere = s.clone();
    let e = elsewhere.hosts[0].cache.remove(&ino).unwrap();
    elsewhere.hosts[1].cache.insert(ino, e);
    assert!(!inv_cons(&m, &elsewhere));
    // ... and they are harmless while the file is not cacheable (reads go to the server).
    s.server.files.get_mut(&ino).unwrap().cacheable = false;
    assert!(inv_cons(&m, &s));
}

#[test]
fn cons_rejects_dirty_blocks_on_a_host_that_is_not_the_last_writer() {
    let (m, mut s, ino) = cons_start();
    let f = s.server.files[&ino].clone();
    // The latest data, dirty on h1: right contents, but the server would not recall them.
    s.hosts[1]
        .cache
        .insert(ino, entry(f.data.as_slice(), true, f.version));
    s.server.files.get_mut(&ino).unwrap().last_writer = Some(HostId(0));
    assert!(!inv_cons(&m, &s));
    s.server.files.get_mut(&ino).unwrap().last_writer = None;
    assert!(!inv_cons(&m, &s));
    s.server.files.get_mut(&ino).unwrap().last_writer = Some(HostId(1));
    assert!(inv_cons(&m, &s));
}

#[test]
fn cons_rejects_two_dirty_copies_and_latest_data_that_is_not_the_ghosts() {
    let (m, mut s, ino) = cons_start();
    let f = s.server.files[&ino].clone();
    s.server.files.get_mut(&ino).unwrap().last_writer = Some(HostId(1));
    s.hosts[1]
        .cache
        .insert(ino, entry(f.data.as_slice(), true, f.version));
    assert!(inv_cons(&m, &s));
    let mut two = s.clone();
    two.hosts[0]
        .cache
        .insert(ino, entry(f.data.as_slice(), true, f.version));
    assert!(!inv_cons(&m, &two), "two dirty copies");
    s.hosts[1].cache.insert(ino, entry(&[9], true, f.version));
    assert!(
        !inv_cons(&m, &s),
        "the dirty copy is not the one-machine Unix's data"
    );
}

// OFF: exactly one place holds a stream's position (client-offsets breaks the clause with
// two hosts; these faults break it with one).

#[test]
fn off_rejects_a_position_in_two_places_or_in_none() {
    let (m, s, _) = cons_start();
    assert!(inv_off(&m, &s));
    let sid = *s.server.streams.keys().next().unwrap();
    assert_eq!(
        s.hosts[0].streams[&sid].pos,
        Some(0),
        "h0 keeps the position"
    );
    // The shadow as well as the client's copy, even with the same value: two places.
    let mut both = s.clone();
    both.server.streams.get_mut(&sid).unwrap().shadow = Some(0);
    assert!(!inv_off(&m, &both));
    // Neither: no place (a descriptor would read position 0 by default).
    let mut none = s.clone();
    none.hosts[0].streams.get_mut(&sid).unwrap().pos = None;
    assert!(!inv_off(&m, &none));
    // The shadow alone is one place (a stream shared across hosts before).
    both.hosts[0].streams.get_mut(&sid).unwrap().pos = None;
    assert!(inv_off(&m, &both));
}

// RES's stream-reference clause: a host's stream table holds exactly the references of the
// descriptors living there.

#[test]
fn res_rejects_stream_references_a_host_should_not_hold() {
    let (m, s, _) = cons_start();
    assert!(inv_res(&m, &s));
    let sid = *s.server.streams.keys().next().unwrap();
    let cs = s.hosts[0].streams[&sid];
    assert_eq!(cs.refs, 1, "p0.0's fd0");
    // One reference too many (a released one still counted) ...
    let mut extra = s.clone();
    extra.hosts[0].streams.get_mut(&sid).unwrap().refs = 2;
    assert!(!inv_res(&m, &extra));
    // ... one left behind on a host the process is not on ...
    let mut left = s.clone();
    left.hosts[1].streams.insert(sid, cs);
    assert!(!inv_res(&m, &left));
    // ... and a descriptor whose host has no reference for it.
    let mut lost = s.clone();
    lost.hosts[0].streams.remove(&sid);
    assert!(!inv_res(&m, &lost));
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

/// FAIL is about crashes, MEM about memory: a child whose pid is not the one its home gives
/// (here renamed by hand after Sprite's remote fork: the parent migrates to h2 and forks
/// there), with no crash anywhere, breaks PID only.
#[test]
fn a_wrong_pid_without_a_crash_breaks_pid_not_fail_or_mem() {
    use model::properties::{inv_fail, inv_mem, inv_pid};
    let m = SpriteModel::new(configs::open_family());
    let path = model::trace::from_indices(&m, &[3, 1, 1, 1, 1, 0]).expect("a path");
    assert!(
        path.iter()
            .all(|a| !matches!(a, model::Action::Event(vocab::ClusterEvent::Crash(_)))),
        "no crash on the path"
    );
    let states = model::trace::replay(&m, &path).expect("replays");
    let mut last = states.last().expect("non-empty").clone();
    let (right, wrong) = (Pid::new(0, 1), Pid::new(2, 0));
    assert!(
        inv_pid(&m, &last),
        "Sprite's remote fork names the child {right}"
    );
    let child = last.procs.remove(&right).expect("the child");
    last.procs.insert(wrong, child);
    let loc = last.hosts[0].home_table.remove(&right).expect("its entry");
    last.hosts[2].home_table.insert(wrong, loc);
    assert!(
        !inv_pid(&m, &last),
        "{wrong} is not a pid one Unix machine has"
    );
    assert!(inv_fail(&m, &last), "no crash, so nothing for FAIL to find");
    assert!(
        inv_mem(&m, &last),
        "memory is as written for every process both sides have"
    );
}

// CACHE: each clause rejects its own fault, on a host other than the first (so that a
// check that looked at one host, or counted one user, would be caught).

/// The stream of `ino` that `cons_start`'s open made.
fn stream_of(s: &State, ino: Ino) -> vocab::StreamId {
    s.server
        .streams
        .iter()
        .find(|(_, st)| st.ino == ino)
        .map(|(sid, _)| *sid)
        .expect("the open made a stream")
}

#[test]
fn cache_rejects_a_write_shared_file_left_cacheable() {
    let (m, mut s, ino) = cons_start();
    assert!(
        inv_cache(&m, &s),
        "one host writing: the file may be cached"
    );
    // The writable stream is used on h1 too: the file is write-shared.
    let sid = stream_of(&s, ino);
    s.server
        .streams
        .get_mut(&sid)
        .unwrap()
        .hosts
        .insert(HostId(1));
    assert!(s.server.files[&ino].cacheable);
    assert!(!inv_cache(&m, &s), "write-shared and still cacheable");
    let said = why(InvariantId::CACHE, &m, &s);
    assert!(
        said.contains(&format!("{ino} is open for writing on h0 and h1")),
        "{said}"
    );
    // Made uncacheable, with no host holding blocks of it: CACHE holds again.
    s.server.files.get_mut(&ino).unwrap().cacheable = false;
    for h in s.hosts.iter_mut() {
        h.cache.remove(&ino);
    }
    assert!(inv_cache(&m, &s));
}

#[test]
fn cache_rejects_blocks_of_an_uncacheable_file_on_a_host_that_uses_it() {
    let (m, mut s, ino) = cons_start();
    // The stream is now used on h1 only (its process moved there), and the file is not
    // cacheable; no host holds blocks of it.
    let sid = stream_of(&s, ino);
    let st = s.server.streams.get_mut(&sid).unwrap();
    st.hosts.clear();
    st.hosts.insert(HostId(1));
    let f = s.server.files.get_mut(&ino).unwrap();
    f.cacheable = false;
    let version = f.version;
    for h in s.hosts.iter_mut() {
        h.cache.remove(&ino);
    }
    assert!(inv_cache(&m, &s));
    // h1 uses the file and keeps blocks of it: its reads would bypass the server.
    let mut using = s.clone();
    using.hosts[1]
        .cache
        .insert(ino, entry(&[1], false, version));
    assert!(!inv_cache(&m, &using));
    let said = why(InvariantId::CACHE, &m, &using);
    assert!(said.contains("h1 still holds blocks"), "{said}");
    // h0 no longer uses the file: clean blocks it kept are harmless (the version check
    // at its next open drops them).
    let mut left = s.clone();
    left.hosts[0].cache.insert(ino, entry(&[1], false, version));
    assert!(inv_cache(&m, &left));
}

// FAIL's state clause on its own (the crash step's check is the other part).

#[test]
fn fail_rejects_a_process_left_on_a_crashed_host() {
    let (m, mut s) = start();
    assert!(inv_fail(&m, &s));
    let pid = *s.procs.keys().next().unwrap();
    let (home, away) = (pid.home, HostId(pid.home.0 ^ 1));
    // At home, the home down.
    let mut at_home = s.clone();
    at_home.hosts[home.0 as usize].up = false;
    assert!(!inv_fail(&m, &at_home));
    // Away from home: its host down, or its home down, each alone.
    s.procs.get_mut(&pid).unwrap().host = away;
    assert!(inv_fail(&m, &s));
    let mut host_down = s.clone();
    host_down.hosts[away.0 as usize].up = false;
    assert!(!inv_fail(&m, &host_down), "its host is down");
    let mut home_down = s.clone();
    home_down.hosts[home.0 as usize].up = false;
    assert!(!inv_fail(&m, &home_down), "its home is down");
}

// PID's report names the process that should not be there, not the others.

#[test]
fn pid_report_names_the_extra_process() {
    let (m, mut s) = start();
    let p = (**s.procs.values().next().unwrap()).clone();
    s.procs.insert(GONE, p.into());
    let said = why(InvariantId::PID, &m, &s);
    assert!(
        said.contains(&format!(
            "the cluster has {GONE} alive where one Unix machine has no other process"
        )),
        "{said}"
    );
}

// A reachability property is reached only when every part of its situation is there.

#[test]
fn wait_across_hosts_needs_a_waiting_parent_and_a_child_elsewhere() {
    let (m, s) = start();
    let reach = model::properties::reachables()
        .into_iter()
        .find(|r| r.key == "reach:wait-across-hosts")
        .expect("the property exists");
    let (parent, p) = s
        .procs
        .iter()
        .map(|(pid, p)| (*pid, (**p).clone()))
        .next()
        .unwrap();
    let mut child = p.clone();
    child.parent = Some(parent);
    child.host = HostId(p.host.0 ^ 1);
    child.status = Status::Ready;
    let mut running = s.clone();
    running.procs.insert(GONE, child.into());
    assert!(!(reach.check)(&m, &running), "the parent does not wait");
    let mut waiting = running.clone();
    waiting.procs.get_mut(&parent).unwrap().status = Status::Waiting;
    assert!((reach.check)(&m, &waiting));
    let mut same_host = waiting.clone();
    same_host.procs.get_mut(&GONE).unwrap().host = p.host;
    assert!(
        !(reach.check)(&m, &same_host),
        "the child is on the parent's host"
    );
}
