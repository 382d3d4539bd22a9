//! The conformance harness under libFuzzer: the input bytes generate a scenario (the same
//! `arbitrary` generator proptest uses); the model follows the implementation in lockstep
//! and the one-machine Unix checks every result. Any mismatch panics with the full report
//! and a replay command.
//!
//! `CONFORM_IMPL_SWITCHES=<switch>` turns a design switch on in the implementation only
//! (to measure detection).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn options() -> &'static conform::Options {
    static OPTS: OnceLock<conform::Options> = OnceLock::new();
    OPTS.get_or_init(|| conform::Options {
        impl_switches: std::env::var("CONFORM_IMPL_SWITCHES")
            .ok()
            .map(|s| s.parse().expect("CONFORM_IMPL_SWITCHES: a switch name")),
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(report) = conform::check_bytes(data, options()) {
        panic!("{report}");
    }
});
