//! Every reachable state of every scripted configuration (the `full` suite without its open
//! configurations) satisfies every strengthening (a strengthening must at least be an
//! invariant).
use model::SpriteModel;
use proofs::generate::{reachable, scripted};
use proofs::inductive::all_hold;

fn main() {
    for cfg in model::configs::all().into_iter().filter(scripted) {
        let t = std::time::Instant::now();
        let m = SpriteModel::new(cfg.clone());
        let states = reachable(&cfg);
        let bad = states.iter().find_map(|s| {
            let b = all_hold(&m, s);
            (!b.is_empty()).then(|| (b, s.clone()))
        });
        println!(
            "{}: {} states, {:?}, {:?}",
            cfg.name,
            states.len(),
            t.elapsed(),
            bad.as_ref().map(|b| &b.0)
        );
    }
}
