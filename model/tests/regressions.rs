//! Worlds that once broke an invariant in Sprite's design, found by the inductiveness check
//! of `proofs/` (see proofs/README.md, "Model bugs found"). Each is exhausted and must hold.

use model::config::{Config, HostSpec, ProcSpec, Script};
use model::run::{check, Options, Verdict};
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, Pid, Switches};

const H0: HostId = HostId(0);
const H1: HostId = HostId(1);

fn world(name: &'static str, scripts: Vec<Vec<Op>>, events: Vec<ClusterEvent>) -> Config {
    Config {
        name: name.into(),
        about: "regression".into(),
        hosts: (0..2)
            .map(|i| HostSpec {
                version: 1,
                clock: 10 + i,
                owner: false,
            })
            .collect(),
        files: vec![],
        procs: (0..scripts.len())
            .map(|i| ProcSpec::new(Pid::new(0, i as u8), i as u8))
            .collect(),
        scripts: scripts.into_iter().map(Script::new).collect(),
        pages: 1,
        events: events.into_iter().map(|e| (e, 1)).collect(),
        switches: Switches::SPRITE,
        delayed_writes: false,
    }
}

fn assert_holds(cfg: Config) {
    let r = check(&cfg, &Options::default());
    let broken: Vec<_> = r
        .properties
        .iter()
        .filter(|p| matches!(p.verdict, Verdict::Violated { .. }))
        .map(|p| p.name)
        .collect();
    assert!(broken.is_empty(), "{}: {broken:?}", cfg.name);
}

fn open_rw(create: bool) -> Op {
    Op::Open {
        name: FileName(0),
        mode: Mode::ReadWrite,
        create,
    }
}

/// CONS-WINDOW: another process on the source dirties the file between MIG_STATE and the
/// stream's move; STREAM_MOVE now writes those blocks back too.
#[test]
fn cons_window_dirty_blocks_written_after_mig_state_are_flushed_at_stream_move() {
    assert_holds(world(
        "cons-window",
        vec![
            vec![
                open_rw(true),
                Op::Migrate { target: H1 },
                Op::Read { fd: Fd(0) },
            ],
            vec![
                open_rw(false),
                Op::Write { fd: Fd(0), sym: 5 },
                Op::Close { fd: Fd(0) },
            ],
        ],
        vec![],
    ));
}

/// SIG-CRASH: a signal on its way to a host the process has left survives that host's
/// crash (the home sends it on).
#[test]
fn sig_crash_a_signal_to_a_host_the_process_left_survives_its_crash() {
    assert_holds(world(
        "sig-crash",
        vec![
            vec![
                Op::Migrate { target: H1 },
                Op::Migrate { target: H0 },
                Op::Getpid,
            ],
            vec![Op::Kill {
                pid: Pid::new(0, 0),
            }],
        ],
        vec![ClusterEvent::Crash(H1)],
    ));
}

/// CACHE-DUP: a process with two descriptors on a file it writes migrates alone; the
/// descriptors move in one exchange, so caching stays on.
#[test]
fn cache_dup_two_descriptors_on_one_file_move_together() {
    assert_holds(world(
        "cache-dup",
        vec![vec![
            open_rw(true),
            Op::Dup { fd: Fd(0) },
            Op::Open {
                name: FileName(0),
                mode: Mode::Read,
                create: false,
            },
            Op::Migrate { target: H1 },
            Op::Write { fd: Fd(1), sym: 2 },
            Op::Read { fd: Fd(2) },
        ]],
        vec![],
    ));
}

/// STALE-SIGNAL (found by the open configuration `open-family`, not by `proofs/`): a signal
/// the home forwarded to a remote child was still on its way when the child exited and was
/// reaped; the parent's next fork reused the slot, and the stale signal reached the new
/// child. Pids now carry the slot's generation, as Sprite's do (`procInt.h`), so the second
/// child is p0.1.1 and the stale signal, naming p0.1, finds no one.
#[test]
fn stale_signal_never_reaches_the_process_that_reuses_the_slot() {
    let mut cfg = world(
        "stale-signal",
        vec![
            vec![Op::Fork, Op::Wait, Op::Fork],
            vec![Op::Kill {
                pid: Pid::new(0, 2),
            }],
        ],
        vec![],
    );
    // p0.0 forks p0.2 (p0.1 is the signaller), which migrates to h1 and exits.
    cfg.scripts[0].children = vec![2, 3];
    cfg.scripts.push(Script::new(vec![
        Op::Migrate { target: H1 },
        Op::Exit { status: 1 },
    ]));
    cfg.scripts.push(Script::new(vec![Op::Getpid]));
    assert_holds(cfg);
}
