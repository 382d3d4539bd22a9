//! Proof that the harness catches bugs: every design switch of
//! specs/design-alternatives.md, turned on in
//! the implementation only (the model keeps Sprite's design), must be detected by the
//! proptest suite within the CI budget; the correct VM strategies must not be flagged.
//! `cargo run --release -p conform --bin detect` prints the measured table.

use conform::detect::detect;
use conform::suite_seed;
use vocab::Switch;

#[test]
fn every_breaking_switch_in_the_implementation_only_is_detected() {
    let seed = suite_seed();
    eprintln!("seed {seed}");
    let mut missed = Vec::new();
    for sw in Switch::ALL.into_iter().filter(|s| s.breaks().is_some()) {
        let d = detect(sw, 600, seed);
        eprintln!("{sw}: detected after {:?} cases in {:?}", d.cases, d.time);
        if d.cases.is_none() {
            missed.push(sw);
        }
    }
    assert!(missed.is_empty(), "not detected: {missed:?}");
}

/// The correct alternatives that change no result: the VM strategies, and direct signals
/// with their correction through the home (only the route of a signal differs).
#[test]
fn correct_alternatives_in_the_implementation_are_not_flagged() {
    for sw in [Switch::PrecopyVm, Switch::FullCopyVm, Switch::DirectSignals] {
        let d = detect(sw, 300, suite_seed());
        assert!(d.cases.is_none(), "{sw} flagged: {:?}", d.report);
    }
}

/// Runs `cases` generated scenarios with `sw` on both sides, each with the main generator
/// and with the mid-migration-event one; panics with the report of the first mismatch.
fn both_sides_conform(sw: Switch, cases: u32) {
    use conform::{report, run, suite_cases, Options, Scenario};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use vocab::Switches;
    let (seed, cases) = (suite_seed(), suite_cases(cases));
    eprintln!("{sw}: proptest seed {seed} (CONFORM_SEED), {cases} cases");
    let sw = Switches::only(sw);
    let mut runner = conform::proptest_runner(cases, seed, 4096);
    let result = runner.run(&vec(any::<u8>(), 0..400), |bytes| {
        for mid in [false, true] {
            let mut sc = if mid {
                Scenario::from_bytes_with_mid_migration_event(&bytes)
            } else {
                Scenario::from_bytes(&bytes)
            };
            sc.switches = sw;
            if let Some(m) = run(&sc, &Options::default()).mismatch {
                let mut cmd = report::replay_command(&bytes, None);
                if mid {
                    cmd.push_str(" --mid-event");
                }
                cmd.push_str(&format!(" --switches {sw}"));
                return Err(TestCaseError::fail(report::render(&m, &sc, &cmd)));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// `remote-to-remote` is correct (it changes which migrations are refused, so it is not
/// tried in the implementation alone): with it on both sides, the implementation's moves
/// between two remote hosts, the home told by messages, agree with the model's, also
/// with a crash or an owner's return in the middle of a migration.
#[test]
fn remote_to_remote_on_both_sides_conforms() {
    both_sides_conform(Switch::RemoteToRemote, 1500);
}

/// `direct-signals` on both sides: the model's kill goes first to the host the target is
/// on, the implementation's to the host it last heard of (the child's at fork); a stale
/// location is corrected through the home on both.
#[test]
fn direct_signals_on_both_sides_conforms() {
    both_sides_conform(Switch::DirectSignals, 1000);
}
