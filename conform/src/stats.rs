//! How often generation reaches the interesting situations: the model's `reach:`
//! properties (evaluated on every model state a run passes through) plus two the runner
//! sees itself: "an unlink while a holder migrates" (when it issues the unlink) and "a
//! crash cuts messages on the wire" (when it applies a crash).

use arbitrary::Unstructured;
use model::SpriteModel;
use model::State;

/// Bit for "an unlink while a holder migrates" (after the model's `reach:` properties).
pub fn unlink_while_moving() -> u32 {
    1 << model::properties::reachables().len()
}

/// Bit for "a crash cuts messages on the wire": when the runner applies a crash, a
/// message from or to the crashed host is still in flight (after the settled ones arrived),
/// so the crash drops it or its receiver dies before it arrives.
pub fn crash_cuts_messages() -> u32 {
    unlink_while_moving() << 1
}

/// Names of the situations, by bit.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = model::properties::reachables()
        .into_iter()
        .map(|r| r.title.trim_start_matches("reach: ").to_string())
        .collect();
    v.push("an unlink while a holder migrates".into());
    v.push("a crash cuts messages on the wire".into());
    v
}

/// The situations a model state is in, as bits.
pub fn situations(m: &SpriteModel, s: &State) -> u32 {
    model::properties::reachables()
        .into_iter()
        .enumerate()
        .filter(|(_, r)| (r.check)(m, s))
        .fold(0, |acc, (i, _)| acc | (1 << i))
}

/// Counts, over `n` scenarios generated from a deterministic byte stream derived from
/// `seed`, how many reach each situation. Returns (name, count) and the number of
/// scenarios that ran clean.
pub fn measure(seed: u64, n: usize, len: usize) -> (Vec<(String, usize)>, usize) {
    let names = names();
    let mut counts = vec![0usize; names.len()];
    let mut clean = 0;
    let mut rng = crate::SplitMix(seed);
    for _ in 0..n {
        let bytes = rng.bytes(len);
        let sc = crate::gen::Scenario::from_bytes(&bytes);
        let _ = Unstructured::new(&bytes);
        let r = crate::run::run(&sc, &Default::default());
        if r.mismatch.is_none() {
            clean += 1;
        }
        for (i, c) in counts.iter_mut().enumerate() {
            if r.reached & (1 << i) != 0 {
                *c += 1;
            }
        }
    }
    (names.into_iter().zip(counts).collect(), clean)
}
