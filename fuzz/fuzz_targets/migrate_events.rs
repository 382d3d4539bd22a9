//! The conformance harness under libFuzzer, with a cluster event in the middle of a
//! migration: the input's first bytes choose who moves where, the event (mostly a crash of
//! the source, the target or a third host) and after how many of the migration's internal
//! steps it happens; the rest generate the scenario as for
//! `migrate` (`conform::Scenario::from_bytes_with_mid_migration_event`, the generator of the
//! proptest suite `conform/tests/mid_migration_events.rs`). Any mismatch panics with the
//! full report and a replay command (ending in `--mid-event`).
//!
//! `CONFORM_IMPL_SWITCHES=<switch>` turns a design switch on in the implementation only.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(report) = conform::check_bytes_mid_event(data, conform::Options::from_env()) {
        panic!("{report}");
    }
});
