//! Writes the fuzzers' seed corpora into `fuzz/seeds/<target>/`:
//! - `scenario`: the example scenario files of `scenarios/`;
//! - `migrate`: for each interesting situation, the first generated input (seed 1, 256
//!   bytes each) that reaches it, plus the example scenario files' raw bytes;
//! - `codec`: a few encoded messages.
//!
//! `cargo run -p conform --bin fuzz-seeds` (from the repository root).

use conform::{stats, Scenario, SplitMix};
use sprite::fs::FileId;
use sprite::msg::{encode, Envelope, FileReq, MigKind, Msg, Node};
use std::fs;
use std::path::Path;
use vocab::{FileName, HostId, Mode, Pid};

fn main() -> std::io::Result<()> {
    let root = Path::new("fuzz/seeds");
    for t in ["scenario", "migrate", "codec"] {
        fs::create_dir_all(root.join(t))?;
    }
    let mut examples = Vec::new();
    for e in fs::read_dir("scenarios")? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let bytes = fs::read(&p)?;
            fs::write(root.join("scenario").join(&name), &bytes)?;
            fs::write(root.join("migrate").join(&name), &bytes)?;
            examples.push(name);
        }
    }
    let names = stats::names();
    let mut want: u32 = (1 << names.len()) - 1;
    let mut rng = SplitMix(1);
    for _ in 0..20_000 {
        if want == 0 {
            break;
        }
        let bytes = rng.bytes(256);
        let r = conform::run(&Scenario::from_bytes(&bytes), &Default::default());
        let new = r.reached & want;
        if new != 0 && r.mismatch.is_none() {
            let i = new.trailing_zeros() as usize;
            fs::write(root.join("migrate").join(format!("reach-{i}")), &bytes)?;
            println!("migrate/reach-{i}: {}", names[i]);
            want &= !r.reached;
        }
    }
    let msgs = [
        Envelope {
            from: Node::Host(HostId(1)),
            to: Node::Server,
            msg: Msg::FileOp {
                pid: Pid::new(1, 0),
                req: FileReq::Open {
                    name: FileName(3),
                    mode: Mode::ReadWrite,
                    create: true,
                    cached_version: Some((FileId(0), 7)),
                },
            },
        },
        Envelope {
            from: Node::Server,
            to: Node::Host(HostId(0)),
            msg: Msg::Resume {
                pid: Pid::new(0, 0),
            },
        },
        Envelope {
            from: Node::Host(HostId(0)),
            to: Node::Host(HostId(1)),
            msg: Msg::MigInit {
                pid: Pid::new(0, 2),
                kind: MigKind::Exec,
            },
        },
        Envelope {
            from: Node::Host(HostId(0)),
            to: Node::Server,
            msg: Msg::PageFlush {
                pid: Pid::new(0, 0),
                pages: vec![(vocab::PageNo(0), 7), (vocab::PageNo(1), 9)],
                reply: true,
            },
        },
    ];
    for (i, m) in msgs.iter().enumerate() {
        fs::write(root.join("codec").join(format!("msg-{i}")), encode(1, m))?;
    }
    println!("examples: {examples:?}");
    Ok(())
}
