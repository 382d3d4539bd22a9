//! Generates N scenarios from a printed seed, runs each, and prints how often each
//! interesting situation was reached and how many runs disagreed (with the first report).
//!
//! `cargo run --release -p conform --bin stats -- [seed] [n] [bytes] [--impl-switches S]
//! [--mid-event]`: `--mid-event` generates as the mid-migration-event suite and the
//! `migrate_events` fuzz target do (`Scenario::from_bytes_with_mid_migration_event`).

use conform::{report, run, Options, Scenario, SplitMix};
use std::time::Instant;

fn main() {
    vocab::cli::quiet_on_closed_pipe();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let seed = num(0, 1);
    let n = num(1, 500) as usize;
    let len = num(2, 256) as usize;
    let mut opts = Options::default();
    if let Some(i) = args.iter().position(|a| a == "--impl-switches") {
        opts.impl_switches = args.get(i + 1).and_then(|s| s.parse().ok());
    }
    let mid_event = args.iter().any(|a| a == "--mid-event");
    let suffix = if mid_event { " --mid-event" } else { "" };
    println!(
        "seed {seed}, {n} scenarios of {len} bytes{}, impl switches {:?}",
        if mid_event {
            ", generated with a mid-migration event"
        } else {
            ""
        },
        opts.impl_switches.map(|s| s.to_string())
    );
    let names = conform::stats::names();
    let mut counts = vec![0usize; names.len()];
    let mut bad = 0;
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    let mut first: Option<String> = None;
    let mut rng = SplitMix(seed);
    let mut ops = 0;
    let mut impl_steps = 0;
    let (mut hits, mut misses) = (0usize, 0usize);
    let mut checked = 0usize;
    let t = Instant::now();
    for case in 0..n {
        let bytes = rng.bytes(len);
        let sc = if mid_event {
            Scenario::from_bytes_with_mid_migration_event(&bytes)
        } else {
            Scenario::from_bytes(&bytes)
        };
        let replay = report::replay_command(&bytes, opts.impl_switches) + suffix;
        let r = run(&sc, &opts);
        ops += r.ops;
        impl_steps += r.impl_steps;
        hits += r.witness_hits;
        misses += r.witness_misses;
        checked += r.states_checked;
        for (i, c) in counts.iter_mut().enumerate() {
            if r.reached & (1 << i) != 0 {
                *c += 1;
            }
        }
        if let Some(m) = r.mismatch {
            bad += 1;
            let k = conform::report::signature(&m);
            *kinds.entry(k.clone()).or_default() += 1;
            if std::env::var("CONFORM_ALL").is_ok() && kinds[&k] <= 1 {
                let txt = report::render(&m, &sc, &replay);
                println!("--- case {case} [{k}]\n{}", txt);
            }
            if first.is_none() {
                first = Some(format!("case {case}\n{}", report::render(&m, &sc, &replay)));
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{n} scenarios in {secs:.1}s ({:.0}/s), {ops} operations compared, {impl_steps} \
         implementation steps followed by the model",
        n as f64 / secs
    );
    println!(
        "witnesses: {hits} steps followed as the implementation named them, {misses} not (each a mismatch)"
    );
    println!("invariants evaluated on {checked} mapped states (every invariant, every clause)");
    println!("situations reached (scenarios out of {n}):");
    for (name, c) in names.iter().zip(&counts) {
        println!(
            "  {:>5} ({:>5.1}%)  {name}",
            c,
            100.0 * *c as f64 / n as f64
        );
    }
    println!("mismatches: {bad}");
    for (k, c) in &kinds {
        println!("  {c:>5}  {k}");
    }
    if let Some(f) = first {
        println!("first mismatch:\n{f}");
    }
}
