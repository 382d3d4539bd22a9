//! Pinned state counts, as stateright's own examples pin theirs: a change in the model's
//! semantics shows up here as a changed number that review must accept. The default suite
//! (the main job, `cargo run --release --bin check`) is checked once, in one test, which
//! also shows that every reachability property is reached by it.

use model::configs;
use model::run::{check, Options, Report, Verdict};

/// Unique states of every configuration of the default suite, in suite order.
const DEFAULT_SUITE: [(&str, usize); 16] = [
    ("files", 2603),
    ("shared-offset", 206),
    ("caching", 1660),
    ("vm-evict", 2420),
    ("signals-time", 10980),
    ("fork-wait", 142),
    ("refuse", 96),
    ("crash", 620),
    ("sharing", 10965),
    ("family", 104716),
    ("pipes-groups", 1722),
    ("delayed-writes", 2364),
    ("open-files", 3040349),
    ("open-family", 2265491),
    ("open-vm", 387936),
    ("open-sharing", 2458583),
];

fn exhausted(cfg: &model::Config) -> Report {
    let r = check(cfg, &Options::default());
    assert!(r.complete, "{} was cut", r.config);
    let broken: Vec<_> = r.violated().map(|p| p.name).collect();
    assert!(broken.is_empty(), "{broken:?} broken in {}", r.config);
    r
}

#[test]
fn default_suite_state_counts_and_reachability() {
    let suite = configs::suite("default").expect("exists");
    let reports: Vec<Report> = suite.iter().map(exhausted).collect();
    let counts: Vec<(&str, usize)> = reports
        .iter()
        .map(|r| (r.config.as_str(), r.unique_states))
        .collect();
    assert_eq!(counts, DEFAULT_SUITE);
    // The floor for the main job: at least five million unique states.
    assert!(counts.iter().map(|(_, n)| n).sum::<usize>() >= 5_000_000);
    for name in model::run::reachable_names() {
        assert!(
            reports.iter().any(|r| r
                .properties
                .iter()
                .any(|p| p.name == name && matches!(p.verdict, Verdict::Reached { .. }))),
            "{name} not reached"
        );
    }
    // Every guarded situation of the invariants arose in some configuration, so that no
    // clause holds in the suite only vacuously (model/src/clauses.rs), except those only a
    // design switch produces.
    let seen = reports.iter().fold(0, |acc, r| acc | r.situations);
    let never = model::clauses::all() & !model::clauses::switch_only() & !seen;
    assert_eq!(
        never,
        0,
        "never exercised: {:?}",
        model::clauses::names(never)
    );
    // Every configuration took every kind of step it claims to cover (model/src/coverage.rs).
    for r in &reports {
        assert!(
            r.claimed_untaken().is_empty(),
            "`{}` claims but never took: {:?}",
            r.config,
            r.claimed_untaken()
        );
    }
}

/// The coverage record is the checker's: a configuration that cannot reach a claimed step
/// reports it (here `files` with its migrations refused by an owner at every target: the
/// state never leaves the source, so no MIG_STATE, HOME_UPDATE or RESUME is taken).
#[test]
fn a_claimed_step_never_taken_is_reported() {
    let mut cfg = configs::files();
    for h in cfg.hosts.iter_mut().skip(1) {
        h.owner = true;
    }
    let r = check(&cfg, &Options::default());
    let missing = r.claimed_untaken();
    assert!(missing.contains(&"MIG_STATE"), "{missing:?}");
    assert!(missing.contains(&"RESUME"), "{missing:?}");
    assert!(!missing.contains(&"open"), "{missing:?}");
}

#[test]
fn crowd_state_count() {
    assert_eq!(exhausted(&configs::crowd()).unique_states, 103747);
}

#[test]
fn mixed_state_count() {
    assert_eq!(exhausted(&configs::mixed()).unique_states, 4858);
}

/// The situations are the checker's record too: `fork-wait` has no cluster events, so no
/// state of it has a host down, and the report says FAIL's clause was checked vacuously.
#[test]
fn a_situation_no_state_shows_is_reported() {
    let r = check(&configs::fork_wait(), &Options::default());
    let missing = r.unexercised();
    assert!(
        missing.iter().any(|m| m == "FAIL: a host down"),
        "{missing:?}"
    );
    assert!(
        !missing
            .iter()
            .any(|m| m.starts_with("WAIT: a parent blocked")),
        "{missing:?}"
    );
    assert!(
        !missing.iter().any(|m| m.contains("copy-on-reference")),
        "a situation only a switch produces is not expected of Sprite's design: {missing:?}"
    );
}

/// `open-remote`, where the `remote-to-remote` and `direct-signals` alternatives are
/// tried: Sprite's design refuses the moves between remote hosts, `remote-to-remote` makes
/// them (with the home a third party); all three keep every invariant.
#[test]
fn open_remote_state_counts_with_and_without_the_switches() {
    let sprite = exhausted(&configs::open_remote());
    assert_eq!(sprite.unique_states, 31908);
    let alt = exhausted(&configs::for_switch(vocab::Switch::RemoteToRemote));
    assert_eq!(alt.unique_states, 37891);
    let direct = exhausted(&configs::for_switch(vocab::Switch::DirectSignals));
    assert_eq!(direct.unique_states, 40829);
}

/// `open-fork`, where the `local-pids` alternative is tried: a remote family and the
/// eviction of the host it runs on. Sprite's design keeps every invariant; with the switch
/// the children are named and homed by that host and stay when its owner returns (EVICT,
/// in two steps: `check alt local-pids`).
#[test]
fn open_fork_state_count() {
    let sprite = exhausted(&configs::open_fork());
    assert_eq!(sprite.unique_states, 353002);
}
