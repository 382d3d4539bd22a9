//! The generators' reach over the vocabulary: every operation of `vocab::Op` (which the
//! model, the ghost and the implementation all take) turns up in generated scenarios, so
//! that none goes unchecked by the lockstep for want of being asked for. `lseek` relative to
//! the current position was such an operation until the generator learnt it.
//!
//! The operations to find are drawn from `Op`'s own `Arbitrary`, which knows every
//! variant, and told apart by their discriminants, so nothing here lists them.

use arbitrary::{Arbitrary, Unstructured};
use conform::gen::Step;
use conform::{Scenario, SplitMix};
use std::collections::HashMap;
use std::mem::{discriminant, Discriminant};
use vocab::{HostId, Op, Pid};

type Kinds = HashMap<Discriminant<Op>, Op>;

fn add(out: &mut Kinds, o: Op) {
    out.entry(discriminant(&o)).or_insert(o);
}

/// The kinds of operation a scenario's steps issue (a kill step's, and a migration's
/// first move, included).
fn kinds(sc: &Scenario, out: &mut Kinds) {
    let kill = Op::Kill {
        pid: Pid::new(0, 0),
    };
    let moves = |exec: bool| {
        if exec {
            Op::Exec { target: None }
        } else {
            Op::Migrate { target: HostId(0) }
        }
    };
    for step in &sc.steps {
        match step {
            Step::Op { op, .. } => add(out, *op),
            Step::Kill { .. } => add(out, kill),
            Step::During { exec, op, then, .. } => {
                add(out, moves(*exec));
                add(out, op.unwrap_or(kill));
                for o in then {
                    add(out, *o);
                }
            }
            Step::Pipe { first, second, .. } => {
                add(out, *first);
                add(out, *second);
            }
            Step::EventDuring { exec, .. } => add(out, moves(*exec)),
            Step::EventAmid { op, away, .. } => {
                add(out, *op);
                if away.is_some() {
                    add(out, moves(false));
                }
            }
            Step::Event(_) | Step::Sched(_) => {}
        }
    }
}

#[test]
fn every_operation_of_the_vocabulary_is_generated() {
    let mut rng = SplitMix(1);
    let mut all = Kinds::new();
    for _ in 0..2000 {
        let bytes = rng.bytes(64);
        if let Ok(op) = Op::arbitrary(&mut Unstructured::new(&bytes)) {
            add(&mut all, op);
        }
    }
    // 2000 draws find every variant (23 today) many times over.
    assert!(
        all.len() >= 23,
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
        let mut seen = Kinds::new();
        for _ in 0..2000 {
            kinds(&generate(&rng.bytes(256)), &mut seen);
        }
        let missing: Vec<String> = all
            .iter()
            .filter(|(d, _)| !seen.contains_key(d))
            .map(|(_, o)| format!("{o:?}"))
            .collect();
        assert!(missing.is_empty(), "{name} never issues {missing:?}");
    }
}
