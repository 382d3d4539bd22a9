//! Unit tests of single transitions and short scripted runs of the model.

use model::config::{Config, HostSpec, ProcSpec, Script};
use model::log::Log;
use model::state::{Kind, Loc, Phase, State, Status};
use model::{Action, SpriteModel};
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Pid, Switches};

const P: Pid = Pid::new(0, 0);
const Q: Pid = Pid::new(0, 1);
const H0: HostId = HostId(0);
const H1: HostId = HostId(1);

fn world(scripts: Vec<Vec<Op>>, files: Vec<(FileName, Vec<u8>)>) -> SpriteModel {
    let procs = (0..scripts.len())
        .map(|i| ProcSpec::new(Pid::new(0, i as u8), i as u8))
        .collect();
    SpriteModel::new(Config {
        name: "unit".into(),
        about: "unit test".into(),
        hosts: (0..2)
            .map(|i| HostSpec {
                version: 1,
                clock: 5 + i,
                owner: false,
            })
            .collect(),
        files,
        procs,
        scripts: scripts.into_iter().map(Script::new).collect(),
        pages: 1,
        events: vec![
            (ClusterEvent::OwnerReturns(H1), 1),
            (ClusterEvent::Crash(H1), 1),
        ],
        switches: Switches::SPRITE,
        delayed_writes: false,
    })
}

/// The next scripted operation of `pid`, as an action.
fn run(m: &SpriteModel, s: &State, pid: Pid) -> Action {
    m.script_step(s, pid)
        .expect("the process has a next operation")
}

fn step(m: &SpriteModel, s: &State, a: Action) -> State {
    let mut enabled = Vec::new();
    m.enabled(s, &mut enabled);
    assert!(
        enabled.contains(&a),
        "{a} not enabled; enabled: {enabled:?}"
    );
    m.apply(s, a, &mut Log::off()).expect("enabled")
}

/// Runs `pid` (and its migration) until it has done `n` more operations.
fn advance(m: &SpriteModel, mut s: State, pid: Pid, n: u8) -> State {
    let target = s.procs[&pid].pc + n;
    while s.procs.get(&pid).is_some_and(|p| p.pc < target) {
        let a = if s.migrations.contains_key(&pid) {
            m.migration_step(&s, pid)
        } else {
            run(m, &s, pid)
        };
        s = step(m, &s, a);
    }
    assert_eq!(s.violated, 0, "an invariant was flagged");
    s
}

fn open(mode: Mode, create: bool) -> Op {
    Op::Open {
        name: FileName(0),
        mode,
        create,
    }
}

#[test]
fn temporary_file_survives_migration_and_is_reclaimed_at_last_close() {
    let m = world(
        vec![vec![
            open(Mode::ReadWrite, true),
            Op::Write { fd: Fd(0), sym: 1 },
            Op::Unlink { name: FileName(0) },
            Op::Migrate { target: H1 },
            Op::Lseek { fd: Fd(0), pos: 0 },
            Op::Read { fd: Fd(0) },
            Op::Close { fd: Fd(0) },
        ]],
        vec![],
    );
    let s = advance(&m, m.initial(), P, 4);
    assert_eq!(s.procs[&P].host, H1);
    assert_eq!(s.server.files.len(), 1, "unlinked but open: still there");
    assert!(!s.server.files.values().next().expect("one").linked);
    let s = advance(&m, s, P, 2);
    assert!(model::trace::explain(&m, &s).is_empty());
    let s = advance(&m, s, P, 1);
    assert!(s.server.files.is_empty(), "reclaimed at the last close");
}

#[test]
fn moving_one_sharer_puts_the_position_on_the_server() {
    let m = world(
        vec![
            vec![open(Mode::Read, false)],
            vec![Op::Migrate { target: H1 }],
        ],
        vec![(FileName(0), vec![1, 2])],
    );
    // Q has no descriptor: give P's stream to Q by a fork-free route: P opens, Q migrates
    // alone, so nothing is shared and the position stays on the client.
    let s = advance(&m, m.initial(), P, 1);
    let s = advance(&m, s, Q, 1);
    let sid = s.procs[&P].fds[&Fd(0)];
    assert_eq!(s.server.streams[&sid].shadow, None);
    assert_eq!(s.host(H0).streams[&sid].pos, Some(0));

    // Now a real sharer: fork, then the child moves.
    let mut cfg = m.cfg.clone();
    cfg.scripts = vec![
        Script::forking(
            vec![open(Mode::Read, false), Op::Fork, Op::Read { fd: Fd(0) }],
            vec![1],
        ),
        Script::new(vec![Op::Migrate { target: H1 }, Op::Read { fd: Fd(0) }]),
    ];
    cfg.procs.truncate(1);
    let m = SpriteModel::new(cfg);
    let s = advance(&m, m.initial(), P, 2);
    let child = Q;
    let s = advance(&m, s, child, 1);
    let sid = s.procs[&P].fds[&Fd(0)];
    assert_eq!(s.server.streams[&sid].hosts.len(), 2);
    assert_eq!(
        s.server.streams[&sid].shadow,
        Some(0),
        "shadow stream on the server"
    );
    let s = advance(&m, s, P, 1);
    let s = advance(&m, s, child, 1);
    assert_eq!(
        s.server.streams[&sid].shadow,
        Some(2),
        "one position for both"
    );
    assert!(model::trace::explain(&m, &s).is_empty());
}

#[test]
fn migrating_the_only_writer_keeps_the_file_cacheable() {
    let m = world(
        vec![vec![
            open(Mode::ReadWrite, false),
            Op::Write { fd: Fd(0), sym: 2 },
            Op::Migrate { target: H1 },
        ]],
        vec![(FileName(0), vec![1])],
    );
    let s = advance(&m, m.initial(), P, 3);
    let f = s.server.files.values().next().expect("one file");
    assert!(f.cacheable);
    assert_eq!(
        f.data.as_slice(),
        [2],
        "dirty block flushed during the migration"
    );
}

#[test]
fn a_refused_migration_leaves_the_process_untouched() {
    let mut m = world(vec![vec![Op::Migrate { target: H1 }, Op::Getpid]], vec![]);
    m.cfg.hosts[1].owner = true;
    let s0 = m.initial();
    let s = step(&m, &s0, run(&m, &s0, P));
    assert_eq!(s.procs[&P].status, Status::Migrating);
    let s = step(&m, &s, Action::MigInit(P));
    assert!(s.migrations.is_empty());
    let p = &s.procs[&P];
    assert_eq!((p.host, p.status, p.pc), (H0, Status::Ready, 1));
    assert_eq!(s.host(H0).home_table[&P], Loc::At(H0));
    assert_eq!(p.pages, s0.procs[&P].pages);
    assert_eq!(s.violated, 0);
}

#[test]
fn static_refusals_need_no_message() {
    let m = world(
        vec![vec![
            Op::Migrate { target: HostId(7) },
            Op::Migrate { target: H0 },
        ]],
        vec![],
    );
    let s = step(&m, &m.initial(), run(&m, &m.initial(), P));
    assert!(s.migrations.is_empty(), "unknown host refused at once");
    let s = step(&m, &s, run(&m, &s, P));
    assert!(s.migrations.is_empty(), "same host refused at once");
    assert_eq!(s.procs[&P].pc, 2);
}

#[test]
fn the_owner_returning_evicts_foreign_processes_home() {
    let m = world(
        vec![vec![
            Op::MemWrite {
                page: PageNo(0),
                sym: 3,
            },
            Op::Migrate { target: H1 },
            Op::MemRead { page: PageNo(0) },
        ]],
        vec![],
    );
    let s = advance(&m, m.initial(), P, 2);
    let s = step(&m, &s, Action::Event(ClusterEvent::OwnerReturns(H1)));
    let mig = &s.migrations[&P];
    assert_eq!(
        (mig.kind, mig.target, mig.phase),
        (Kind::Evict, H0, Phase::State)
    );
    assert_eq!(s.host(H0).home_table[&P], Loc::Moving(H1, H0));
    let s = step(&m, &s, Action::MigState(P));
    let s = step(&m, &s, Action::HomeUpdate(P));
    let s = step(&m, &s, Action::Resume(P));
    assert_eq!(s.procs[&P].host, H0);
    let s = advance(&m, s, P, 1);
    assert_eq!(
        s.procs[&P].pages[0].resident,
        Some(3),
        "paged in from the backing file"
    );
}

#[test]
fn a_crash_kills_exactly_the_processes_of_that_host_or_home() {
    let mut m = world(
        vec![
            vec![Op::Migrate { target: H1 }, Op::Getpid],
            vec![Op::Getpid],
        ],
        vec![],
    );
    m.cfg.procs.push(ProcSpec::new(Pid::new(1, 0), 1));
    let s = advance(&m, m.initial(), P, 1);
    let s = step(&m, &s, Action::Event(ClusterEvent::Crash(H1)));
    assert!(!s.procs.contains_key(&P), "ran on the crashed host");
    assert!(!s.procs.contains_key(&Pid::new(1, 0)), "its home crashed");
    assert!(s.procs.contains_key(&Q), "untouched");
    assert!(model::trace::explain(&m, &s).is_empty());
}

#[test]
fn a_signal_to_a_moving_process_is_held_at_home_and_delivered_once() {
    let m = world(
        vec![
            vec![Op::Migrate { target: H1 }, Op::Getpid],
            vec![Op::Kill { pid: P }],
        ],
        vec![],
    );
    let s = step(&m, &m.initial(), run(&m, &m.initial(), P));
    let s = step(&m, &s, Action::MigInit(P));
    let s = step(&m, &s, run(&m, &s, Q));
    assert_eq!(s.host(H0).held_signals.get(&P), Some(&1));
    let s = step(&m, &s, Action::MigState(P));
    let s = step(&m, &s, Action::HomeUpdate(P));
    assert!(s.host(H0).held_signals.is_empty());
    let s = step(
        &m,
        &s,
        Action::DeliverSignal {
            pid: P,
            to: H1,
            direct: false,
        },
    );
    assert_eq!(s.procs[&P].signals, 1);
    assert!(model::trace::explain(&m, &s).is_empty());
}

#[test]
fn time_comes_from_the_home_clock() {
    let m = world(
        vec![vec![
            Op::Gettimeofday,
            Op::Migrate { target: H1 },
            Op::Gettimeofday,
        ]],
        vec![],
    );
    let s = advance(&m, m.initial(), P, 3);
    assert_eq!(
        s.procs[&P].last_time,
        Some(5),
        "the home's clock, not h1's 6"
    );
}

#[test]
fn disabled_actions_are_rejected_without_change() {
    let m = world(vec![vec![Op::Getpid]], vec![]);
    let s = m.initial();
    for a in [
        Action::MigInit(P),
        Action::Resume(P),
        Action::Run(Pid::new(3, 3), Op::Getpid),
        Action::DeliverSignal {
            pid: P,
            to: H0,
            direct: false,
        },
        Action::Event(ClusterEvent::Reboot(H0)),
        Action::Event(ClusterEvent::OwnerLeaves(H0)),
    ] {
        assert!(m.apply(&s, a, &mut Log::off()).is_none(), "{a} applied");
    }
}

#[test]
fn a_target_that_crashed_before_mig_init_refuses_and_the_process_lives() {
    let m = world(vec![vec![Op::Migrate { target: H1 }, Op::Getpid]], vec![]);
    let s = step(&m, &m.initial(), run(&m, &m.initial(), P));
    let s = step(&m, &s, Action::Event(ClusterEvent::Crash(H1)));
    assert!(
        s.procs.contains_key(&P),
        "nothing was sent yet: not a victim"
    );
    let s = step(&m, &s, Action::MigInit(P));
    assert!(s.migrations.is_empty());
    let p = &s.procs[&P];
    assert_eq!((p.host, p.status, p.pc), (H0, Status::Ready, 1));
    assert!(model::trace::explain(&m, &s).is_empty());
}

/// The target crashes after it accepted the process and before MIG_STATE: the migration is
/// aborted (the state never left the source), the home is told the process stayed, and the
/// `migrate` call returns `HostDown` like a refusal; the process runs on at the source.
#[test]
fn a_target_that_crashes_after_accepting_but_before_mig_state_aborts_the_migration() {
    let m = world(vec![vec![Op::Migrate { target: H1 }, Op::Getpid]], vec![]);
    let s = step(&m, &m.initial(), run(&m, &m.initial(), P));
    let s = step(&m, &s, Action::MigInit(P));
    assert_eq!(s.migrations[&P].phase, Phase::State);
    assert_eq!(s.hosts[0].home_table.get(&P), Some(&Loc::Moving(H0, H1)));
    let mut log = Log::on();
    let s = m
        .apply(&s, Action::Event(ClusterEvent::Crash(H1)), &mut log)
        .expect("enabled");
    assert_eq!(s.violated, 0, "REFUSE holds for the aborted migration");
    assert!(s.migrations.is_empty());
    let p = &s.procs[&P];
    assert_eq!((p.host, p.status, p.pc), (H0, Status::Ready, 1));
    assert_eq!(s.hosts[0].home_table.get(&P), Some(&Loc::At(H0)));
    let (_, _, outcome) = *log.outcomes().last().expect("migrate returned");
    assert_eq!(
        outcome,
        Err(vocab::Errno::Refused(vocab::Refusal::HostDown))
    );
    assert!(model::trace::explain(&m, &s).is_empty());
}

/// Runs `pid`'s next operation and returns what it returned.
fn run_one(m: &SpriteModel, s: &State, pid: Pid) -> (State, vocab::Outcome) {
    let mut log = Log::on();
    let t = m.apply(s, run(m, s, pid), &mut log).expect("enabled");
    assert_eq!(t.violated, 0, "an invariant was flagged");
    let (_, _, outcome) = *log.outcomes().last().expect("the operation returned");
    (t, outcome)
}

fn family(parent: Vec<Op>, child: Vec<Op>) -> SpriteModel {
    let mut m = world(vec![], vec![]);
    m.cfg.procs = vec![ProcSpec::new(P, 0)];
    m.cfg.scripts = vec![Script::forking(parent, vec![1]), Script::new(child)];
    m
}

#[test]
fn a_pipe_shared_across_a_migration_carries_data_both_ways_then_ends() {
    let (r, w) = (Fd(0), Fd(1));
    let m = family(
        vec![
            Op::Pipe,
            Op::Fork,
            Op::Write { fd: w, sym: 1 },
            Op::Read { fd: r },
            Op::Close { fd: w },
            Op::Read { fd: r },
            Op::Read { fd: r },
            Op::Close { fd: r },
        ],
        vec![
            Op::Migrate { target: H1 },
            Op::Read { fd: r },
            Op::Write { fd: w, sym: 2 },
            Op::Exit { status: 0 },
        ],
    );
    let (s, o) = run_one(&m, &m.initial(), P);
    assert_eq!(o, Ok(vocab::Value::Pipe { read: r, write: w }));
    let ino = *s.server.pipes.first().expect("a pipe on the server");
    assert!(!s.server.files[&ino].cacheable && !s.server.files[&ino].linked);
    let s = advance(&m, s, P, 1);
    // The child moves; both of its ends go with one STREAM_MOVE exchange.
    let s = advance(&m, s, Q, 1);
    assert_eq!(s.procs[&Q].host, H1);
    let hosts: Vec<_> = s.server.streams.values().map(|st| st.hosts.len()).collect();
    assert_eq!(hosts, [2, 2], "each end used from h0 and h1");
    let (s, _) = run_one(&m, &s, P);
    let (s, o) = run_one(&m, &s, Q);
    assert_eq!(o, Ok(vocab::Value::Data(Some(1))), "parent to child");
    let (s, o) = run_one(&m, &s, P);
    assert_eq!(o, Err(vocab::Errno::EAGAIN), "empty, writers left");
    let (s, _) = run_one(&m, &s, Q);
    let (s, _) = run_one(&m, &s, P);
    let (s, o) = run_one(&m, &s, P);
    assert_eq!(o, Ok(vocab::Value::Data(Some(2))), "child to parent");
    let s = advance(&m, s, Q, 1);
    let (s, o) = run_one(&m, &s, P);
    assert_eq!(o, Ok(vocab::Value::Data(None)), "EOF once the child exited");
    let (s, _) = run_one(&m, &s, P);
    assert!(
        s.server.files.is_empty() && s.server.pipes.is_empty(),
        "reclaimed"
    );
    assert!(model::trace::explain(&m, &s).is_empty());
}

#[test]
fn killpg_reaches_a_moving_member_once_through_the_home() {
    let m = family(
        vec![Op::Fork, Op::Getpid],
        vec![Op::Migrate { target: H1 }, Op::Getpgrp],
    );
    let mut m = m;
    m.cfg.procs.push(ProcSpec::new(Pid::new(1, 0), 2));
    m.cfg.scripts.push(Script::new(vec![
        Op::Setpgid { pgrp: P },
        Op::Killpg { pgrp: P },
    ]));
    let other = Pid::new(1, 0);
    let s = advance(&m, m.initial(), P, 1);
    let s = step(&m, &s, run(&m, &s, Q));
    let s = step(&m, &s, Action::MigInit(Q));
    let (s, o) = run_one(&m, &s, other);
    assert_eq!(o, Err(vocab::Errno::EPERM), "a group of another home");
    let (s, o) = run_one(&m, &s, other);
    assert_eq!(o, Ok(vocab::Value::Unit));
    assert_eq!(s.host(H0).held_signals.get(&Q), Some(&1), "held: moving");
    assert_eq!(s.signals.len(), 1, "one SIGNAL on its way to the parent");
    let s = step(&m, &s, Action::MigState(Q));
    let s = step(&m, &s, Action::HomeUpdate(Q));
    let s = step(&m, &s, Action::Resume(Q));
    for (pid, to) in [(P, H0), (Q, H1)] {
        let s2 = step(
            &m,
            &s,
            Action::DeliverSignal {
                pid,
                to,
                direct: false,
            },
        );
        assert_eq!(s2.procs[&pid].signals, 1);
    }
    let (_, o) = run_one(&m, &s, Q);
    assert_eq!(o, Ok(vocab::Value::Pid(P)), "getpgrp answered by the home");
}

/// Sprite's delayed write-back (`Config::delayed_writes`): a host's dirty blocks of a file
/// may go back to the server at any moment, as a step of their own; the file's latest
/// contents do not change, the server's copy becomes them and the host's copy turns clean.
/// Without the setting the step is never enabled.
#[test]
fn a_delayed_write_back_makes_the_dirty_copy_the_servers() {
    let script = vec![
        open(Mode::ReadWrite, false),
        Op::Write { fd: Fd(0), sym: 7 },
    ];
    let files = vec![(FileName(0), vec![1])];
    let ino = |s: &State| s.server.dir[&FileName(0)];
    let off = world(vec![script.clone()], files.clone());
    let s = advance(&off, off.initial(), P, 2);
    let i = ino(&s);
    assert!(s.host(H0).cache[&i].dirty, "the write is in the cache");
    let mut enabled = Vec::new();
    off.enabled(&s, &mut enabled);
    assert!(!enabled.contains(&Action::WriteBack(H0, i)));
    assert!(off
        .apply(&s, Action::WriteBack(H0, i), &mut Log::off())
        .is_none());

    let mut on = world(vec![script], files);
    on.cfg.delayed_writes = true;
    let s = advance(&on, on.initial(), P, 2);
    assert_eq!(
        s.server.files[&i].data.to_vec(),
        vec![1],
        "not yet written back"
    );
    let t = step(&on, &s, Action::WriteBack(H0, i));
    assert!(!t.host(H0).cache[&i].dirty);
    assert_eq!(t.server.files[&i].data.to_vec(), vec![7]);
    assert_eq!(t.host(H0).cache[&i].data.to_vec(), vec![7]);
    assert_eq!(t.violated, 0);
    // Clean now: nothing more to write back.
    let mut enabled = Vec::new();
    on.enabled(&t, &mut enabled);
    assert!(!enabled.contains(&Action::WriteBack(H0, i)));
}
