//! The scenario file parser: arbitrary text gives a scenario or a located error, never a
//! panic; a scenario it accepts builds a cluster or gives a configuration error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sc) = sprite::scenario::parse("fuzz.toml", text) {
        let _ = sprite::Cluster::new(&sc.cluster, sc.seed);
    }
});
