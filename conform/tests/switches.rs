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
