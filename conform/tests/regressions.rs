//! Regression cases: scenarios (hex of their generating bytes) that once failed.
//! - `PASS`: must run clean (the harness or the implementation was fixed). KNOWN-4 (an orphan kept its dead parent's pid) and KNOWN-7
//!   (I/O on a stream while another holder of it migrates saw a stale position) were
//!   implementation bugs found by this harness and fixed in `impl/`; their tolerances are
//!   gone.
//!
//! A new case: paste the hex from a report's `replay:` line (proptest or the fuzzer).

use conform::{check_bytes, from_hex, Options};

const PASS: &[(&str, &str)] = &[
    // An orphan whose parent's pid is reused by its own child (KNOWN-4, fixed).
    ("orphan parent pointer, default mode", "720000000000000000008d0001610000000000000000001e5d4a0842000000200000001720000000000016bd1e3886040291000f00000000"),
    // A read of a stream while another holder of it migrates (KNOWN-7, fixed).
    ("read during a sharer's migration, default mode", "d22033a48d1684cfa88240df5812385f86eb9b9022de33359885d7546d92dec68a5e76d799a65513b62bee7c222f0b74803bae77e244357037852047cab6df57a16125dc9523e9b2db29b0bfa2576017d2d7a73cbc3083edf24646055b835e6d99d945f821a54df12334744719429cb382cb6cc035dc51eda06cdbb49e22a3811b6d47671ace8875a14cdf6fabbb2be5941eda5d7384de201569b3f1c173ed982dfcca8372238bc188a7007b152a0021fd4ba55388eaf6e1491e27b6bf40488f278ab66184a4eedee66dffeb42dad03646e474b2c6fcbbed86c72d3f9096c651bb28ab0471d72c3943980d50186d8c4a70484c3b557d3667f3be29354ffaa2de"),
];

fn bytes(hex: &str) -> Vec<u8> {
    from_hex(hex).expect("valid hex")
}

#[test]
fn regression_cases_pass() {
    for (what, hex) in PASS {
        if let Err(report) = check_bytes(&bytes(hex), &Options::default()) {
            panic!("{what}:\n{report}");
        }
    }
}
