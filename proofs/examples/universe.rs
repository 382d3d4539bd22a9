use model::SpriteModel;
use proofs::inductive::{all_hold, InductionCheck};
use proofs::universe::{self, Bounds};

fn main() {
    let large = std::env::args().nth(1).is_some();
    let b = if large {
        Bounds::large()
    } else {
        Bounds::small()
    };
    let m = SpriteModel::new(universe::config());
    let mut check = InductionCheck::new(None);
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
        check.targets = targets;
    }
    let t = std::time::Instant::now();
    let mut n = 0usize;
    let mut any = 0usize;
    universe::all(&m, b, &mut |s| {
        n += 1;
        if all_hold(&m, &s).len() < 16 {
            any += 1;
        }
        check.examine(&m, &s);
    });
    println!(
        "{n} enumerated, {any} satisfy some strengthening, {:?}",
        t.elapsed()
    );
    println!("{}", check.summary());
    for f in check.failures.iter() {
        println!("{} [{}] {} broken: {}", f.id, f.label, f.action, f.broken);
    }
    for f in check.failures.iter().take(2) {
        println!("{f}");
    }
}
