//! TR as a property: for any script of vocabulary operations (built from arbitrary bytes
//! with `arbitrary`, shrunk by proptest), the cluster's results equal the ghost's.

mod common;
use arbitrary::{Arbitrary, Unstructured};
use common::{check_tr, Step};
use proptest::prelude::*;
use sprite::ClusterConfig;
use vocab::{FileName, HostId, Op, Pid};

/// Decodes a script: each step picks one of six pids and an arbitrary operation, with
/// host and pid arguments folded into the cluster so that most steps do something.
fn script(bytes: &[u8]) -> Vec<Step> {
    let mut u = Unstructured::new(bytes);
    let mut steps = Vec::new();
    // An exhausted `Unstructured` keeps yielding defaults: stop when the bytes run out.
    while !u.is_empty() && steps.len() < 80 {
        let (Ok(who), Ok(op)) = (u8::arbitrary(&mut u), Op::arbitrary(&mut u)) else {
            break;
        };
        let pid = Pid::new(who % 2, (who / 2) % 3);
        let op = match op {
            Op::Migrate { target } => Op::Migrate {
                target: HostId(target.0 % 4),
            },
            Op::Exec { target } => Op::Exec {
                target: target.map(|h| HostId(h.0 % 4)),
            },
            Op::Kill { pid } => Op::Kill {
                pid: Pid::new(pid.home.0 % 2, pid.index % 3),
            },
            Op::Setpgid { pgrp } => Op::Setpgid {
                pgrp: Pid::new(pgrp.home.0 % 2, pgrp.index % 3),
            },
            Op::Killpg { pgrp } => Op::Killpg {
                pgrp: Pid::new(pgrp.home.0 % 2, pgrp.index % 3),
            },
            Op::Open { name, mode, create } => Op::Open {
                name: FileName(name.0 % 2),
                mode,
                create,
            },
            Op::Unlink { name } => Op::Unlink {
                name: FileName(name.0 % 2),
            },
            other => other,
        };
        steps.push(Step::Op(pid, op));
    }
    steps
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn tr_holds_for_arbitrary_scripts(bytes in proptest::collection::vec(any::<u8>(), 0..400), seed in any::<u64>()) {
        let mut cfg = ClusterConfig::simple(3, &[(Pid::new(0, 0), 3), (Pid::new(1, 0), 3)]);
        cfg.files.push((FileName(0), vec![1, 2, 3]));
        check_tr(&cfg, seed, &script(&bytes));
    }
}
