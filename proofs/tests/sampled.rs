//! The proptest version of the inductiveness check: larger states than the bounded
//! enumeration reaches (three hosts, several processes with random scripts, random events),
//! each visited by a random walk, together with a random perturbation of each. Fixed seed:
//! every run examines the same states; a failure prints the state (Debug) and the action.

use model::log::Log;
use model::SpriteModel;
use proofs::generate::candidates;
use proofs::inductive::InductionCheck;
use proofs::sample;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// How many random configurations and walks (each up to 80 steps).
const CASES: u32 = 256;

#[test]
fn strengthenings_are_preserved_on_sampled_states() {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let seed = [7u8; 32];
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let started = std::time::Instant::now();
    let examined = std::cell::Cell::new(0usize);
    let known = std::cell::RefCell::new(std::collections::BTreeMap::new());
    runner
        .run(&(sample::config(), sample::walk()), |(cfg, walk)| {
            let m = SpriteModel::new(cfg);
            let mut check = InductionCheck::new(None);
            let mut s = m.initial();
            for (i, (pick, perturb)) in walk.into_iter().enumerate() {
                check.examine(&m, &s);
                // Perturbing is the costly part: every fourth state.
                let cands = if i % 4 == 0 {
                    candidates(&m, &s)
                } else {
                    Vec::new()
                };
                if !cands.is_empty() {
                    check.examine(&m, &cands[perturb % cands.len()]);
                }
                let mut actions = Vec::new();
                m.enabled(&s, &mut actions);
                if actions.is_empty() {
                    break;
                }
                let a = actions[pick % actions.len()];
                match m.apply(&s, a, &mut Log::off()) {
                    Some(t) => s = t,
                    None => break,
                }
            }
            examined.set(examined.get() + check.stats.candidates);
            for (k, n) in &check.known {
                *known.borrow_mut().entry(*k).or_insert(0) += n;
            }
            if let Some(f) = check.failures.first() {
                return Err(proptest::test_runner::TestCaseError::fail(format!(
                    "{f}\nconfiguration: {:?}",
                    m.cfg
                )));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "sampled: {} states examined, known failures {:?} ({:.1?})",
        examined.get(),
        known.borrow(),
        started.elapsed()
    );
}
