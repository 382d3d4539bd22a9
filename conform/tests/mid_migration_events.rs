//! proptest over scenarios with a cluster event in the middle of a migration (a crash of
//! the source, the target or another host, or an owner's return, after a chosen number
//! of the migration's internal steps) or a crash in the middle of another call, with its
//! messages on the wire (`Step::EventAmid`): the implementation must still agree with the
//! model in lockstep. The main suite (`harness.rs`) applies events only between operations.
//! Fixed seed (`CONFORM_SEED`), `CONFORM_CASES` for more cases; a failure prints a report
//! whose replay command ends in `--mid-event`.

use conform::{check_bytes_mid_event, proptest_runner, suite_cases, suite_seed, Options};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

#[test]
fn events_in_the_middle_of_migrations_conform() {
    let (seed, cases) = (suite_seed(), suite_cases(2000));
    eprintln!("proptest seed {seed} (CONFORM_SEED), {cases} cases");
    let mut r = proptest_runner(cases, seed, 4096);
    let result = r.run(&vec(any::<u8>(), 0..400), |bytes| {
        check_bytes_mid_event(&bytes, &Options::default())
            .map(|_| ())
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
