//! Replays the model's counterexample for every design switch on the implementation:
//! with the switch on (implementation only) it must be caught; with it off it must pass.
//!
//! `cargo run --release -p conform --bin alt -- [seeds]`

use conform::alt::replay_switch;
use std::process::ExitCode;
use vocab::Switch;

fn main() -> ExitCode {
    vocab::cli::quiet_on_closed_pipe();
    let seeds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut bad = false;
    println!("| switch | model path (actions) | translated steps | caught with switch on | off: failing seeds of {seeds} | notes |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for sw in Switch::ALL.into_iter().filter(|s| s.breaks().is_some()) {
        let Some(r) = replay_switch(sw, seeds) else {
            println!("| {sw} | no counterexample | | | | |");
            bad = true;
            continue;
        };
        if std::env::var("CONFORM_VERBOSE").is_ok() {
            eprintln!("{sw}: path {:?}", r.translated.path);
            for s in &r.translated.steps {
                eprintln!("   {}", conform::report::step_text(s));
            }
        }
        bad |= r.caught.is_none() || !r.off_failures.is_empty();
        println!(
            "| {sw} | {} | {} | {} | {} | {} |",
            r.translated.path.len(),
            r.translated.steps.len(),
            r.caught
                .as_ref()
                .map_or("NO".into(), |(seed, l)| format!("seed {seed}: {l}")),
            if r.off_failures.is_empty() {
                "none".into()
            } else {
                format!("{:?}", r.off_failures)
            },
            r.translated.notes.join("; ")
        );
    }
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
