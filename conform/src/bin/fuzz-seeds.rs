//! Writes the fuzzers' seed corpora into `fuzz/corpus/<target>/seed-*`, the corpus
//! directory `cargo fuzz run <target>` starts from (only the `seed-` files are committed;
//! what the fuzzer adds there stays untracked):
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
    vocab::cli::quiet_on_closed_pipe();
    let root = Path::new("fuzz/corpus");
    for t in ["scenario", "migrate", "codec"] {
        let dir = root.join(t);
        fs::create_dir_all(&dir)?;
        // Old seeds go (a situation's input changes when the generator does).
        for e in fs::read_dir(&dir)? {
            let p = e?.path();
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
            {
                fs::remove_file(p)?;
            }
        }
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
            fs::write(root.join("scenario").join(format!("seed-{name}")), &bytes)?;
            fs::write(root.join("migrate").join(format!("seed-{name}")), &bytes)?;
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
            fs::write(root.join("migrate").join(format!("seed-reach-{i}")), &bytes)?;
            println!("migrate/seed-reach-{i}: {}", names[i]);
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
        fs::write(
            root.join("codec").join(format!("seed-msg-{i}")),
            encode(1, m),
        )?;
    }
    // The first message with its last varint padded (`80 00` for 0): it must not decode
    // (KNOWN-9, found by this target: the codec accepted it, so the round trip failed).
    let mut padded = encode(1, &msgs[0]);
    if padded.last() == Some(&7) {
        padded.pop();
        padded.extend([0x87, 0x00]);
    }
    fs::write(root.join("codec").join("seed-noncanonical-varint"), &padded)?;
    println!("examples: {examples:?}");
    Ok(())
}
