use model::SpriteModel;
use proofs::generate::{candidates, reachable};
use proofs::inductive::{all_hold, InductionCheck};

fn main() {
    let mut total = InductionCheck::new(None);
    if std::env::var("DROP").is_ok() {
        use proofs::inductive::{lemma_bit, standard_targets, Target};
        let mut targets = Vec::new();
        for t in standard_targets() {
            for (name, _) in proofs::lemmas::LEMMAS {
                if t.mask & lemma_bit(name) != 0 {
                    targets.push(Target {
                        id: t.id,
                        label: format!("{} without {}", t.label, name),
                        mask: t.mask & !lemma_bit(name),
                    });
                }
            }
        }
        total.targets = targets;
    }
    for cfg in model::configs::suite("scripts").unwrap() {
        let m = SpriteModel::new(cfg.clone());
        let init = m.initial();
        let bad = all_hold(&m, &init);
        if !bad.is_empty() {
            println!("{}: initial state breaks {:?}", cfg.name, bad);
        }
        let states = reachable(&cfg);
        println!("{}: {} reachable", cfg.name, states.len());
        for s in &states {
            let bad = all_hold(&m, s);
            if !bad.is_empty() {
                println!("{}: reachable state breaks {:?}", cfg.name, bad);
                break;
            }
        }
        let perturb = std::env::args().nth(1).is_some() && states.len() < 5000;
        for s in &states {
            total.examine(&m, s);
            if perturb {
                for t in candidates(&m, s) {
                    total.examine(&m, &t);
                }
            }
        }
    }
    println!("{}", total.summary());
    for f in &total.failures {
        println!(
            "{} [{}] {} {} broken: {} | before: {:?}",
            f.id,
            f.label,
            f.config,
            f.action,
            f.broken,
            proofs::abstraction::disagreement(&f.state, 1)
        );
    }
    for f in total.failures.iter().take(3) {
        if std::env::var("SHOW").is_ok() {
            println!("{f}");
        }
    }
}
