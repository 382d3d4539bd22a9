//! Pinned state counts, as stateright's own examples pin theirs: a change in the model's
//! semantics shows up here as a changed number that review must accept.

use model::configs;
use model::run::{check, Options, Verdict};

fn unique_states(cfg: model::Config) -> usize {
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    let r = check(&cfg, &opts);
    assert!(r.complete);
    for p in &r.properties {
        assert!(
            !matches!(p.verdict, Verdict::Violated { .. }),
            "{} broken in {}",
            p.name,
            r.config
        );
    }
    r.unique_states
}

#[test]
fn files_state_count() {
    assert_eq!(unique_states(configs::files()), 2603);
}

#[test]
fn shared_offset_state_count() {
    assert_eq!(unique_states(configs::shared_offset()), 206);
}

#[test]
fn caching_state_count() {
    assert_eq!(unique_states(configs::caching()), 1492);
}

#[test]
fn vm_evict_state_count() {
    assert_eq!(unique_states(configs::vm_evict()), 2420);
}

#[test]
fn signals_time_state_count() {
    assert_eq!(unique_states(configs::signals_time()), 622);
}

#[test]
fn fork_wait_state_count() {
    assert_eq!(unique_states(configs::fork_wait()), 142);
}

#[test]
fn refuse_state_count() {
    assert_eq!(unique_states(configs::refuse()), 96);
}

#[test]
fn crash_state_count() {
    assert_eq!(unique_states(configs::crash()), 620);
}

#[test]
fn sharing_state_count() {
    assert_eq!(unique_states(configs::sharing()), 10965);
}

#[test]
fn family_state_count() {
    assert_eq!(unique_states(configs::family()), 104716);
}

#[test]
fn crowd_state_count() {
    assert_eq!(unique_states(configs::crowd()), 103747);
}

#[test]
fn mixed_state_count() {
    assert_eq!(unique_states(configs::mixed()), 4494);
}

#[test]
fn every_reachability_property_is_reached_by_the_default_suite() {
    let suite = configs::suite("default").expect("exists");
    let reports: Vec<_> = suite
        .iter()
        .map(|c| check(c, &Options::default()))
        .collect();
    for name in model::run::reachable_names() {
        assert!(
            reports.iter().any(|r| r
                .properties
                .iter()
                .any(|p| p.name == name && matches!(p.verdict, Verdict::Reached { .. }))),
            "{name} not reached"
        );
    }
}

#[test]
fn pipes_groups_state_count() {
    assert_eq!(unique_states(configs::pipes_groups()), 1348);
}
