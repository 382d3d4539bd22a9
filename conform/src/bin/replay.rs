//! Replays one scenario on the implementation and the model, and prints the report. The
//! scenario is the hex of its generating bytes, a file of raw bytes (a fuzz artifact), or a
//! JSON scenario file (a regression case); `--save <file.json>` writes it as JSON.
//! `--mid-event` reads the bytes as the generator of `tests/mid_migration_events.rs` does
//! (a cluster event in the middle of a migration).
//!
//! `cargo run -p conform --bin replay -- <hex|file> [--impl-switches <switches>] [--mid-event] [--save <file.json>]`

use conform::{report, run, Options, Scenario};
use std::process::ExitCode;

fn main() -> ExitCode {
    vocab::cli::quiet_on_closed_pipe();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(input) = args.first() else {
        eprintln!(
            "usage: replay <hex|file> [--impl-switches <sprite|switch+switch>] [--mid-event] [--save <file.json>]"
        );
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
    let json = input.ends_with(".json");
    let mid_event = args.iter().any(|a| a == "--mid-event");
    let sc = if json {
        match std::str::from_utf8(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Scenario>(t).map_err(|e| e.to_string()))
        {
            Ok(sc) => sc,
            Err(e) => {
                eprintln!("{input}: not a scenario: {e}");
                return ExitCode::from(2);
            }
        }
    } else if mid_event {
        Scenario::from_bytes_with_mid_migration_event(&bytes)
    } else {
        Scenario::from_bytes(&bytes)
    };
    if let Some(i) = args.iter().position(|a| a == "--save") {
        let Some(out) = args.get(i + 1) else {
            eprintln!("--save needs a file name");
            return ExitCode::from(2);
        };
        let text = serde_json::to_string_pretty(&sc).unwrap_or_default();
        if let Err(e) = std::fs::write(out, text + "\n") {
            eprintln!("{out}: {e}");
            return ExitCode::from(2);
        }
        println!("saved the scenario to {out}");
    }
    let r = run(&sc, &opts);
    match r.mismatch {
        Some(m) => {
            let cmd = if json {
                let mut c = format!("cargo run -p conform --bin replay -- {input}");
                if let Some(sw) = opts.impl_switches {
                    c.push_str(&format!(" --impl-switches {sw}"));
                }
                c
            } else if mid_event {
                report::replay_command(&bytes, opts.impl_switches) + " --mid-event"
            } else {
                report::replay_command(&bytes, opts.impl_switches)
            };
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
