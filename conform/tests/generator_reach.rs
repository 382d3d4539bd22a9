//! The generators' reach over the vocabulary: every operation of `vocab::Op` (which the
//! model, the ghost and the implementation all take) turns up in generated scenarios, so
//! that none goes unchecked by the lockstep for want of being asked for. `lseek` relative to
//! the current position was such an operation until the generator learnt it.
//!
//! The operations to find are drawn from `Op`'s own `Arbitrary`, which knows every
//! variant; the match in `kind` has no wildcard, so a new operation does not compile here
//! until it is named.

use arbitrary::{Arbitrary, Unstructured};
use conform::gen::Step;
use conform::{Scenario, SplitMix};
use std::collections::BTreeSet;
use vocab::Op;

fn kind(o: &Op) -> &'static str {
    match o {
        Op::Open { .. } => "open",
        Op::Read { .. } => "read",
        Op::Write { .. } => "write",
        Op::Lseek { .. } => "lseek",
        Op::LseekCur { .. } => "lseek-cur",
        Op::Close { .. } => "close",
        Op::Unlink { .. } => "unlink",
        Op::Stat { .. } => "stat",
        Op::Dup { .. } => "dup",
        Op::Fork => "fork",
        Op::Exec { .. } => "exec",
        Op::Exit { .. } => "exit",
        Op::Wait => "wait",
        Op::Getpid => "getpid",
        Op::Gettimeofday => "gettimeofday",
        Op::Kill { .. } => "kill",
        Op::MemRead { .. } => "memread",
        Op::MemWrite { .. } => "memwrite",
        Op::Migrate { .. } => "migrate",
        Op::Pipe => "pipe",
        Op::Getpgrp => "getpgrp",
        Op::Setpgid { .. } => "setpgid",
        Op::Killpg { .. } => "killpg",
    }
}

/// The kinds of operation a scenario's steps issue.
fn kinds(sc: &Scenario, out: &mut BTreeSet<&'static str>) {
    let moves = |exec: bool| if exec { "exec" } else { "migrate" };
    for step in &sc.steps {
        match step {
            Step::Op { op, .. } => {
                out.insert(kind(op));
            }
            Step::Kill { .. } => {
                out.insert("kill");
            }
            Step::During { exec, op, then, .. } => {
                out.insert(moves(*exec));
                out.insert(op.as_ref().map_or("kill", kind));
                out.extend(then.iter().map(kind));
            }
            Step::Pipe { first, second, .. } => {
                out.insert(kind(first));
                out.insert(kind(second));
            }
            Step::EventDuring { exec, .. } => {
                out.insert(moves(*exec));
            }
            Step::EventAmid { op, away, .. } => {
                out.insert(kind(op));
                if away.is_some() {
                    out.insert("migrate");
                }
            }
            Step::Event(_) | Step::Sched(_) => {}
        }
    }
}

#[test]
fn every_operation_of_the_vocabulary_is_generated() {
    let mut rng = SplitMix(1);
    let mut all = BTreeSet::new();
    for _ in 0..2000 {
        let bytes = rng.bytes(64);
        if let Ok(op) = Op::arbitrary(&mut Unstructured::new(&bytes)) {
            all.insert(kind(&op));
        }
    }
    assert_eq!(
        all.len(),
        23,
        "Op's variants, as its Arbitrary draws them: {all:?}"
    );
    for (name, generate) in [
        (
            "the main generator",
            Scenario::from_bytes as fn(&[u8]) -> Scenario,
        ),
        (
            "the mid-migration-event generator",
            Scenario::from_bytes_with_mid_migration_event,
        ),
    ] {
        let mut seen = BTreeSet::new();
        for _ in 0..2000 {
            kinds(&generate(&rng.bytes(256)), &mut seen);
        }
        let missing: Vec<_> = all.difference(&seen).collect();
        assert!(missing.is_empty(), "{name} never issues {missing:?}");
    }
}
