//! The message codec: arbitrary bytes decode to an error, or to an envelope that encodes
//! back to the same message.
//!
//! With `CONFORM_STRICT=1` it must be exactly the same bytes. The codec does not pass that
//! yet (KNOWN-9 in conform/README.md): postcard accepts non-canonical varints, such as
//! `80 00` for 0, so two byte strings decode to one message; the seed
//! `seeds/codec/noncanonical-varint` shows it. By default the target checks the weaker
//! property: re-encoding the decoded message and decoding that again gives the same
//! message and version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sprite::msg::{decode, encode};
use std::sync::OnceLock;

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var("CONFORM_STRICT").is_ok_and(|v| v == "1"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok((version, env)) = decode(data) {
        let again = encode(version, &env);
        if strict() {
            assert_eq!(
                again, data,
                "decoded {env:?} (version {version}) but it encodes differently"
            );
        }
        assert_eq!(
            decode(&again),
            Ok((version, env)),
            "re-encoding changes the message"
        );
    }
});
