//! Every reachable state of every configuration of the `full` suite satisfies every
//! strengthening (a strengthening must at least be an invariant).
use model::SpriteModel;
use proofs::generate::reachable;
use proofs::inductive::all_hold;

fn main() {
    for cfg in model::configs::all() {
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
