//! proptest over the harness: generated scenarios on the implementation (Sprite's design)
//! must agree with the model, in lockstep, and with the one-machine Unix. Fixed seed
//! (`CONFORM_SEED` to change it, `CONFORM_CASES` for more cases); failures shrink (on the
//! generating bytes) and print a report with a replay command; add the shrunk hex to
//! `tests/regressions.rs`.

use conform::{check_bytes, proptest_runner, suite_cases, suite_seed, Options};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

#[test]
fn sprite_implementation_conforms_to_the_model() {
    let (seed, cases) = (suite_seed(), suite_cases(5000));
    eprintln!("proptest seed {seed} (CONFORM_SEED), {cases} cases");
    let mut r = proptest_runner(cases, seed, 4096);
    let result = r.run(&vec(any::<u8>(), 0..400), |bytes| {
        check_bytes(&bytes, &Options::default())
            .map(|_| ())
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
