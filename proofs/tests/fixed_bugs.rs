//! Regression tests for the three model bugs the inductiveness check found (CONS-WINDOW,
//! SIG-CRASH, CACHE-DUP; `proofs/README.md`, "Model bugs found"). Each configuration was
//! built to reach its bug, and the model checker found the violation there; the model was
//! fixed in commit 49c9c1f, and now every invariant holds in every reachable state of each.

use model::config::{Config, ProcSpec, Script};
use model::run::{check, Options, Verdict};
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, Pid};

const F0: FileName = FileName(0);

/// CONS-WINDOW: p0.0 opens a file and migrates; between its MIG_STATE and STREAM_MOVE,
/// p0.1 on the source opens the file, writes and closes it; after the move p0.0 reads on
/// the target the server's stale data.
pub fn cons_window() -> Config {
    Config {
        name: "cons-window".into(),
        about: "another process on the source writes the file between MIG_STATE and STREAM_MOVE"
            .into(),
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
        ],
        scripts: vec![
            Script::new(vec![
                Op::Open {
                    name: F0,
                    mode: Mode::ReadWrite,
                    create: true,
                },
                Op::Migrate { target: HostId(1) },
                Op::Read { fd: Fd(0) },
            ]),
            Script::new(vec![
                Op::Open {
                    name: F0,
                    mode: Mode::ReadWrite,
                    create: false,
                },
                Op::Write { fd: Fd(0), sym: 5 },
                Op::Close { fd: Fd(0) },
            ]),
        ],
        ..model::configs::files()
    }
}

/// SIG-CRASH: p0.1 sends p0.0 a signal while p0.0 runs on h1; p0.0 moves home before the
/// SIGNAL arrives; h1 crashes and the signal is dropped.
pub fn sig_crash() -> Config {
    Config {
        name: "sig-crash".into(),
        about: "a SIGNAL in flight to a host the process has left, which then crashes".into(),
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
        ],
        scripts: vec![
            Script::new(vec![
                Op::Migrate { target: HostId(1) },
                Op::Migrate { target: HostId(0) },
                Op::Getpid,
            ]),
            Script::new(vec![Op::Kill {
                pid: Pid::new(0, 0),
            }]),
        ],
        events: vec![(ClusterEvent::Crash(HostId(1)), 1)],
        ..model::configs::files()
    }
}

/// CACHE-DUP: a process holding two descriptors on one writing stream (after dup) migrates
/// alone; the stream moves descriptor by descriptor, so after the first STREAM_MOVE the server
/// sees the stream on source and target and turns caching off, though one process uses it.
pub fn cache_dup() -> Config {
    Config {
        name: "cache-dup".into(),
        about: "a lone process with a dup'ed writing stream migrates".into(),
        procs: vec![ProcSpec::new(Pid::new(0, 0), 0)],
        scripts: vec![Script::new(vec![
            Op::Open {
                name: F0,
                mode: Mode::ReadWrite,
                create: true,
            },
            Op::Dup { fd: Fd(0) },
            Op::Migrate { target: HostId(1) },
        ])],
        ..model::configs::files()
    }
}

fn violated(cfg: &Config) -> Vec<String> {
    let r = check(
        cfg,
        &Options {
            threads: 1,
            ..Options::default()
        },
    );
    let mut out = Vec::new();
    for p in &r.properties {
        if let Verdict::Violated { .. } = p.verdict {
            let path: Vec<String> = p.path.iter().flatten().map(|a| a.to_string()).collect();
            eprintln!("{}: {} violated by: {}", cfg.name, p.name, path.join("; "));
            out.push(p.name.split(':').next().unwrap_or("").to_string());
        }
    }
    out
}

#[test]
fn former_model_bugs_stay_fixed() {
    for cfg in [cons_window(), sig_crash(), cache_dup()] {
        let broken = violated(&cfg);
        assert!(broken.is_empty(), "{}: {broken:?} violated again", cfg.name);
    }
}
