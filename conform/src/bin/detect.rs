//! Measures, for every design switch turned on in the implementation only, how many
//! proptest cases (fixed seed) and how long the harness needs to detect it, and which
//! invariant the shrunk counterexample speaks for. Prints a Markdown table.
//!
//! `cargo run --release -p conform --bin detect -- [max-cases] [seed]`

use conform::detect::detect;
use vocab::Switch;

fn main() {
    vocab::cli::quiet_on_closed_pipe();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let max = args.first().and_then(|s| s.parse().ok()).unwrap_or(5000);
    let seed = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(conform::suite_seed);
    println!("seed {seed}, at most {max} cases per switch (impl only; model: Sprite)\n");
    println!("| switch | breaks | detected after (cases) | time to detection (incl. shrinking) | shrunk report says |");
    println!("| --- | --- | --- | --- | --- |");
    // `remote-to-remote` changes which migrations are refused: the implementation alone
    // with it differs from the model by design (switches::remote_to_remote_on_both_sides_conforms
    // runs it on both sides instead).
    for sw in Switch::ALL
        .into_iter()
        .filter(|s| *s != Switch::RemoteToRemote)
    {
        let d = detect(sw, max, seed);
        let says = d
            .report
            .as_deref()
            .and_then(|r| {
                r.lines()
                    .find(|l| l.contains("speaks for") || l.contains("fails on the"))
            })
            .map(|l| l.trim().chars().take(90).collect::<String>())
            .unwrap_or_else(|| "-".into());
        println!(
            "| {sw} | {} | {} | {:.2} s | {} |",
            sw.breaks().map_or("- (correct)".into(), |i| i.to_string()),
            d.cases.map_or(format!("not in {max}"), |c| c.to_string()),
            d.time.as_secs_f64(),
            says.replace('|', "/")
        );
    }
}
