//! Replays one scenario (hex of its generating bytes, or a file of raw bytes such as a
//! fuzz artifact) on the implementation and the model, and prints the report.
//!
//! `cargo run -p conform --bin replay -- <hex|file> [--impl-switches <switches>]`

use conform::{report, run, Options, Scenario};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(input) = args.first() else {
        eprintln!("usage: replay <hex|file> [--impl-switches <sprite|switch+switch>]");
        return ExitCode::from(2);
    };
    let mut opts = Options::default();
    if let Some(i) = args.iter().position(|a| a == "--impl-switches") {
        match args.get(i + 1).map(|s| s.parse()) {
            Some(Ok(sw)) => opts.impl_switches = Some(sw),
            Some(Err(e)) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
            None => {
                eprintln!("--impl-switches needs a value");
                return ExitCode::from(2);
            }
        }
    }
    let bytes = match std::fs::read(input) {
        Ok(b) => b,
        Err(_) => match conform::from_hex(input) {
            Some(b) => b,
            None => {
                eprintln!("`{input}` is neither a file nor hex");
                return ExitCode::from(2);
            }
        },
    };
    let sc = Scenario::from_bytes(&bytes);
    let r = run(&sc, &opts);
    match r.mismatch {
        Some(m) => {
            let cmd = report::replay_command(&bytes, opts.impl_switches);
            print!("{}", report::render(&m, &sc, &cmd));
            ExitCode::FAILURE
        }
        None => {
            print!("{}", report::scenario_text(&sc));
            println!(
                "ok: {} steps executed, {} operations compared, no mismatch",
                r.executed, r.ops
            );
            ExitCode::SUCCESS
        }
    }
}
