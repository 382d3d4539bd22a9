//! Checker throughput: how long exhausting each standard configuration takes (and so the
//! states per second), on one thread and on all cores.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use model::run::{check, Options};

fn exhaust(c: &mut Criterion) {
    let mut group = c.benchmark_group("exhaust");
    group.sample_size(10);
    for cfg in model::configs::all() {
        let states = check(&cfg, &Options::default()).states as u64;
        group.throughput(Throughput::Elements(states));
        for threads in [1, 2] {
            let opts = Options {
                threads,
                ..Options::default()
            };
            group.bench_function(format!("{}/{threads}-thread", cfg.name), |b| {
                b.iter(|| check(&cfg, &opts))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, exhaust);
criterion_main!(benches);
