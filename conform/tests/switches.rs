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

#[test]
fn correct_vm_strategies_in_the_implementation_are_not_flagged() {
    for sw in [Switch::PrecopyVm, Switch::FullCopyVm] {
        let d = detect(sw, 300, suite_seed());
        assert!(d.cases.is_none(), "{sw} flagged: {:?}", d.report);
    }
}

/// `remote-to-remote` is correct (it changes which migrations are refused, so it is not
/// tried in the implementation alone): with it on both sides, the implementation's moves
/// between two remote hosts, the home told by messages, agree with the model's, also
/// with a crash or an owner's return in the middle of a migration.
#[test]
fn remote_to_remote_on_both_sides_conforms() {
    use conform::{report, run, suite_cases, Options, Scenario};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use vocab::Switches;
    let (seed, cases) = (suite_seed(), suite_cases(1500));
    eprintln!("proptest seed {seed} (CONFORM_SEED), {cases} cases");
    let sw = Switches::only(Switch::RemoteToRemote);
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
