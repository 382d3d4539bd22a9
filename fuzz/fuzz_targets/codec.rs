//! The message codec: arbitrary bytes decode to an error, or to an envelope that encodes
//! back to exactly the same bytes. (KNOWN-9, fixed in `impl/`: the decoder used to accept
//! non-canonical varints such as `80 00` for 0; the seed `corpus/codec/seed-noncanonical-varint`
//! keeps the case.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use sprite::msg::{decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok((version, env)) = decode(data) {
        let again = encode(version, &env);
        assert_eq!(
            again, data,
            "decoded {env:?} (version {version}) but it encodes differently"
        );
        assert_eq!(
            decode(&again),
            Ok((version, env)),
            "re-encoding changes the message"
        );
    }
});
