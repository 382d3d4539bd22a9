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
    let mut check = InductionCheck::new(Some(proofs::known::known));
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
