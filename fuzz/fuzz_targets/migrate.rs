//! The conformance harness under libFuzzer: the input bytes generate a scenario (the same
//! `arbitrary` generator proptest uses); the implementation, the model and the one-machine
//! Unix must agree at every quiescent point. Any mismatch panics with the full report and
//! a replay command.
//!
//! `CONFORM_IMPL_SWITCHES=<switch>` turns a design switch on in the implementation only
//! (to measure detection); `CONFORM_STRICT=1` drops the tolerated divergences.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn options() -> &'static conform::Options {
    static OPTS: OnceLock<conform::Options> = OnceLock::new();
    OPTS.get_or_init(|| conform::Options {
        impl_switches: std::env::var("CONFORM_IMPL_SWITCHES")
            .ok()
            .map(|s| s.parse().expect("CONFORM_IMPL_SWITCHES: a switch name")),
        strict: std::env::var("CONFORM_STRICT").is_ok_and(|v| v == "1"),
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(report) = conform::check_bytes(data, options()) {
        panic!("{report}");
    }
});
