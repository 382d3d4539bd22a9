//! proptest over the harness: generated scenarios on the implementation (Sprite's design)
//! must agree with the model, in lockstep, and with the one-machine Unix. Fixed seed
//! (`CONFORM_SEED` to change it, `CONFORM_CASES` for more cases); failures shrink (on the
//! generating bytes) and print a report with a replay command; add the shrunk hex to
//! `tests/regressions.rs`.

use conform::{check_bytes, suite_seed, Options};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

fn runner(cases: u32) -> TestRunner {
    let seed = suite_seed();
    eprintln!("proptest seed {seed} (CONFORM_SEED), {cases} cases");
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 4096,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    )
}

fn cases(default: u32) -> u32 {
    std::env::var("CONFORM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn sprite_implementation_conforms_to_the_model() {
    let mut r = runner(cases(5000));
    let result = r.run(&vec(any::<u8>(), 0..400), |bytes| {
        check_bytes(&bytes, &Options::default())
            .map(|_| ())
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
