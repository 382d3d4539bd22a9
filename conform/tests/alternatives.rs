//! The model's counterexample for every design switch, replayed on the implementation
//! (see `conform::alt`): with the switch on in the implementation only it must be
//! caught for some scheduler seed among the first 20; with it off, the same steps must
//! pass for all of them.

use conform::alt::replay_switch;
use vocab::Switch;

#[test]
fn model_counterexamples_replayed_on_the_implementation() {
    let mut problems = Vec::new();
    for sw in Switch::ALL.into_iter().filter(|s| s.breaks().is_some()) {
        let Some(r) = replay_switch(sw, 20) else {
            problems.push(format!("{sw}: the model found no counterexample"));
            continue;
        };
        match &r.caught {
            Some((seed, line)) => eprintln!("{sw}: caught with seed {seed}: {line}"),
            None => problems.push(format!("{sw}: not caught with the switch on")),
        }
        if !r.off_failures.is_empty() {
            problems.push(format!(
                "{sw}: fails with the switch off: {:?}",
                r.off_failures
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
