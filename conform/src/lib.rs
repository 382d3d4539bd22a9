//! Conformance harness: the implementation (`sprite`) run differentially against the
//! reference model (`model`) and the one-machine Unix (`unix`), on generated scenarios
//! that proptest and libFuzzer share.
//!
//! - [`gen`]: the scenario type and its biased `arbitrary` generator;
//! - [`run`]: the runner: the implementation step by step, the model following in
//!   lockstep, results compared, every invariant checked on the mapped state after every
//!   implementation step;
//! - [`lockstep`]: how the model follows: the model states consistent with what the
//!   implementation has shown, and the search for the action(s) each step corresponds to;
//! - [`abs`]: the abstraction function from the implementation's state to a model state,
//!   and the observation both sides are compared on;
//! - [`report`]: readable mismatch reports with a replay command;
//! - [`stats`]: how often generation reaches the interesting situations;
//! - [`alt`]: the model's counterexamples for the design switches, replayed on the
//!   implementation.

pub mod abs;
pub mod alt;
pub mod gen;
pub mod lockstep;
pub mod report;
pub mod run;
pub mod stats;

pub use gen::Scenario;
pub use run::{run, Options, RunResult};

/// A tiny deterministic generator (SplitMix64) for byte strings from a printed seed.
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Hex of a byte string (for replay commands).
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Bytes from hex; `None` if malformed.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Runs the scenario these bytes generate; `Err` with the full report on a mismatch.
pub fn check_bytes(bytes: &[u8], opts: &Options) -> Result<RunResult, String> {
    let sc = Scenario::from_bytes(bytes);
    let r = run(&sc, opts);
    match &r.mismatch {
        Some(m) => Err(report::render(
            m,
            &sc,
            &report::replay_command(bytes, opts.impl_switches),
        )),
        None => Ok(r),
    }
}

/// As [`check_bytes`], for [`Scenario::from_bytes_with_mid_migration_event`].
pub fn check_bytes_mid_event(bytes: &[u8], opts: &Options) -> Result<RunResult, String> {
    let sc = Scenario::from_bytes_with_mid_migration_event(bytes);
    let r = run(&sc, opts);
    match &r.mismatch {
        Some(m) => {
            let cmd = report::replay_command(bytes, opts.impl_switches) + " --mid-event";
            Err(report::render(m, &sc, &cmd))
        }
        None => Ok(r),
    }
}

/// The seed proptest suites use: `CONFORM_SEED` if set, else the fixed default. Printed
/// by every suite.
pub fn suite_seed() -> u64 {
    std::env::var("CONFORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_5971)
}

/// A proptest runner seeded with `seed` (no failure persistence: failures are replayed by
/// the command their report prints), shared by the suites and the detection table.
pub fn proptest_runner(
    cases: u32,
    seed: u64,
    max_shrink_iters: u32,
) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    )
}

/// The number of cases a suite runs: `CONFORM_CASES` if set, else `default`.
pub fn suite_cases(default: u32) -> u32 {
    std::env::var("CONFORM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Detection of a design switch turned on in the implementation only: runs proptest's
/// generator (fixed seed) until the harness reports a mismatch, up to `max` cases.
pub mod detect {
    use crate::{check_bytes, Options};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::{TestCaseError, TestRunner};
    use std::cell::Cell;
    use std::time::{Duration, Instant};
    use vocab::{Switch, Switches};

    /// What detection found.
    #[derive(Clone, Debug)]
    pub struct Detection {
        pub switch: Switch,
        /// Cases run until the first failing one (inclusive), if detected.
        pub cases: Option<u32>,
        pub time: Duration,
        /// The shrunk report's first lines.
        pub report: Option<String>,
    }

    /// A proptest runner with the suites' fixed seed.
    pub fn runner(cases: u32, seed: u64) -> TestRunner {
        crate::proptest_runner(cases, seed, 1024)
    }

    pub fn detect(sw: Switch, max: u32, seed: u64) -> Detection {
        let opts = Options {
            impl_switches: Some(Switches::only(sw)),
        };
        let count = Cell::new(0u32);
        let first = Cell::new(None::<u32>);
        let start = Instant::now();
        let mut found_at = None;
        let mut r = runner(max, seed);
        let res = r.run(&vec(any::<u8>(), 0..400), |bytes| {
            if first.get().is_none() {
                count.set(count.get() + 1);
            }
            match check_bytes(&bytes, &opts) {
                Ok(_) => Ok(()),
                Err(e) => {
                    if first.get().is_none() {
                        first.set(Some(count.get()));
                    }
                    Err(TestCaseError::fail(e))
                }
            }
        });
        let time = start.elapsed();
        let report = match res {
            Err(e) => {
                found_at = first.get();
                Some(e.to_string())
            }
            Ok(()) => None,
        };
        Detection {
            switch: sw,
            cases: found_at,
            time,
            report,
        }
    }
}
