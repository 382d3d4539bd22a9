//! proptest over scenarios with a cluster event in the middle of a migration (a crash of
//! the source, the target or another host, or an owner's return, after a chosen number
//! of the migration's internal steps): the implementation must still agree with the model
//! in lockstep. The main suite (`harness.rs`) applies events only between operations.
//! Fixed seed (`CONFORM_SEED`), `CONFORM_CASES` for more cases; a failure prints a report
//! whose replay command ends in `--mid-event`.

use conform::{check_bytes_mid_event, suite_seed, Options};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

#[test]
fn events_in_the_middle_of_migrations_conform() {
    let cases = std::env::var("CONFORM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let seed = suite_seed();
    eprintln!("proptest seed {seed} (CONFORM_SEED), {cases} cases");
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut r = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 4096,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    let result = r.run(&vec(any::<u8>(), 0..400), |bytes| {
        check_bytes_mid_event(&bytes, &Options::default())
            .map(|_| ())
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
