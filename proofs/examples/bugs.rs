use model::config::{Config, ProcSpec, Script};
use model::run::{check, Options, Verdict};
use vocab::*;

fn main() {
    let base = model::configs::files();
    let f0 = FileName(0);
    let cfg = Config {
        name: "window",
        about: "another process on the source writes the file between MIG_STATE and STREAM_MOVE",
        files: vec![],
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
        ],
        scripts: vec![
            Script::new(vec![
                Op::Open {
                    name: f0,
                    mode: Mode::ReadWrite,
                    create: true,
                },
                Op::Migrate { target: HostId(1) },
                Op::Read { fd: Fd(0) },
            ]),
            Script::new(vec![
                Op::Open {
                    name: f0,
                    mode: Mode::ReadWrite,
                    create: false,
                },
                Op::Write { fd: Fd(0), sym: 5 },
                Op::Close { fd: Fd(0) },
            ]),
        ],
        events: vec![],
        ..base.clone()
    };
    let cfg2 = Config {
        name: "crash-signal",
        about: "a SIGNAL in flight to a host the process has left, which then crashes",
        files: vec![],
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
        events: vec![ClusterEvent::Crash(HostId(1))],
        ..base
    };
    for cfg in [cfg, cfg2] {
        let r = check(
            &cfg,
            &Options {
                threads: 1,
                ..Options::default()
            },
        );
        for p in &r.properties {
            if let Verdict::Violated { .. } = p.verdict {
                println!("{}: {} violated by", cfg.name, p.name);
                for a in p.path.as_ref().unwrap() {
                    println!("    {a}");
                }
            }
        }
    }
}
