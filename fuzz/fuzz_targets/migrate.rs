//! The conformance harness under libFuzzer: the input bytes generate a scenario (the same
//! `arbitrary` generator proptest uses); the model follows the implementation in lockstep
//! and the one-machine Unix checks every result. Any mismatch panics with the full report
//! and a replay command.
//!
//! `CONFORM_IMPL_SWITCHES=<switch>` turns a design switch on in the implementation only
//! (to measure detection).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(report) = conform::check_bytes(data, conform::Options::from_env()) {
        panic!("{report}");
    }
});
