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
    // Found by the lockstep: a crash ends a waiting parent and its child together; the
    // model logged the parent's wait result although the parent died in the same step.
    ("crash kills a waiter and its child at once", "84674e4cfaef994ba5781db0b40b24460a5a89f85963079ad8a26e7e80e8b128be3d5f29d40ef84f77944dae44a4200d80c8028e86fbd17b38211f5d8e41ca67b975e9579bad59624fdb21ee45e901467c5d457237f2c9c0f3b8169185060aa5c8075111e450d27d3e58da9596366332dbf4f6068c3786dea0ba4ac82b796d313f603d9958d25c672e60feb85f83aff6ca426df8da80b931bb432f7b02b71bf11d89e375fe3977efa6d85314a2cbba38d1828237f5ab4d064e64f4f636c6d6a3d69f1e356a0454e36f23630c740b7b85eb09b4ef737f48b15f261c3d9b7e5d6276dc4259a69fc5d108b51f27d72363687c1ae5eff502dbabc4deaaf9e6919933"),
    // Found by the lockstep: a close of a stream's last reference on a host, issued while
    // the server was in the middle of another process's exchange for the same file, took
    // effect in the kernel before the server had closed it (the descriptor now stays until
    // the server answers, for close and exit).
    ("close queued behind a stream exchange", "f1ac8dfb856d4fe0e824ee7ec70bc18bef05d91b923f76aaae3cd56f5170c4f0d2bf859672896256c6a976541228b6e6434a753cd6dd7ee5b324871e20b15f8ca83352a5a76276edf9784071b1ff36494e2852fcaa1b931c6329aef5251c2a0c835541314bf5719516a280e960c6035616d3108912b3967c2ca7da37bb341f454c3643bf60d0dfa3966372cacdab2024d2138fc918754df9a5b398e1328de43f61a985cc924e523bb44dcf96ada74b88bb5dd104676827e721b7cbe409ba7406fe0bf9d39d0ad5ae69adc41cbaf74ee15fecc7b96c4f3872066de6872284bbbffb2c90f46683f885e0608eeb7adc6804b44bff90b6a1e6a0ebb896a5f0b9b8cf"),
    // Found by the lockstep: a close settled in the abstraction before the server began
    // another exchange on the file, which then queued it: the abstraction went back on
    // itself. A close now counts from the moment the server handles it.
    ("close overtaken by a stream exchange at the server", "b442a7f281eed94bc716ee9ca9762efc38c245339fccab35673885a5d42ebc98b817097d8a5c0d9dbf138bf06f035f368716dfc581050c9759b67d5d6a7131a0acb810b5982619997244db1c959dfc12f22af1c7f64151c85029801ebac77a60a998a1b5289fbdb97200c69384acb81bfe6830e72315eda775a058ee5cfb2166d48f404d1ae8d3108a12908ccf78c655615193b817d08e198f551739d528c4f6e9a4f898c2d625fd978ee2b8de857674cb9ab778a5859e9f9d08d3ff4685da0cc26d239bf5366ed9300aab5c857dfd3aad0d38da242b1fe0500cdf547f80e1461900937d35f003fc386c29a43acb247025959668175a3a68c1fd7e0ce07adf3e"),
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
