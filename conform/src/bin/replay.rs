//! Replays one scenario on the implementation and the model, and prints the report. The
//! scenario is the hex of its generating bytes, a file of raw bytes (a fuzz artifact), or a
//! JSON scenario file (a regression case); `--save <file.json>` writes it as JSON.
//! `--mid-event` reads the bytes as the generator of `tests/mid_migration_events.rs` does
//! (a cluster event in the middle of a migration).
//!
//! `cargo run -p conform --bin replay -- <hex|file> [--impl-switches <switches>] [--mid-event] [--save <file.json>] [--bytes]`
//!
//! Exit codes: 0 no mismatch; 1 a mismatch (the report and its replay command); 2 bad
//! input: an unknown flag, neither a file nor hex, a JSON file that is not a scenario or
//! is out of the generator's range (`Scenario::check`), a text file given as raw bytes
//! (a scenario for the `scenario` binary, a README: pass `--bytes` to replay its bytes
//! anyway), or input that generates no steps.

use clap::Parser;
use conform::{report, run, Options, Scenario};
use std::path::Path;
use std::process::ExitCode;
use vocab::Switches;

#[derive(Parser, Debug)]
#[command(
    name = "replay",
    about = "Replay one conformance scenario on the implementation and the model",
    long_about = "Replay one conformance scenario on the implementation and the model.\n\n\
                  INPUT is the hex of the scenario's generating bytes (a report's `replay:` \
                  line), a fuzz artifact (a file of raw bytes), or a saved JSON scenario \
                  (a file ending in .json).\n\n\
                  Exit status: 0 no mismatch, 1 a mismatch, 2 bad input."
)]
struct Args {
    /// Hex of the generating bytes, a fuzz artifact, or a JSON scenario file (.json).
    input: String,
    /// Design switches of the implementation only (`sprite`, or names joined with `+`).
    #[arg(long, value_name = "SWITCHES")]
    impl_switches: Option<Switches>,
    /// Design switches of both sides, replacing the scenario's own (a suite that runs a
    /// correct alternative on both sides prints this).
    #[arg(long, value_name = "SWITCHES")]
    switches: Option<Switches>,
    /// Read the bytes as the mid-migration-event suite's generator does.
    #[arg(long)]
    mid_event: bool,
    /// Write the scenario as JSON to this file.
    #[arg(long, value_name = "FILE")]
    save: Option<String>,
    /// Replay a file's bytes as generator input even if it looks like text.
    #[arg(long)]
    bytes: bool,
}

/// Whether `b` looks like a text file (UTF-8 lines of printable characters), which a
/// fuzz artifact rarely is and a mistaken argument (a README, a `scenario` TOML file)
/// always is.
fn looks_like_text(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|t| {
        t.contains('\n')
            && t.chars()
                .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
    })
}

/// How the input was given: its bytes and whether it was JSON.
struct Input {
    sc: Scenario,
    bytes: Vec<u8>,
    json: bool,
}

fn read_input(a: &Args) -> Result<Input, String> {
    let input = &a.input;
    let path = Path::new(input);
    if path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| format!("{input}: {e}"))?;
        if path.extension().is_some_and(|x| x == "json") {
            let sc = std::str::from_utf8(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str::<Scenario>(t).map_err(|e| e.to_string()))
                .map_err(|e| format!("{input}: not a scenario: {e}"))?;
            sc.check()
                .map_err(|e| format!("{input}: not a scenario the harness runs: {e}"))?;
            return Ok(Input {
                sc,
                bytes,
                json: true,
            });
        }
        if bytes.is_empty() {
            return Err(format!("{input}: an empty file generates nothing"));
        }
        if looks_like_text(&bytes) && !a.bytes {
            return Err(format!(
                "{input} is a text file, not a fuzz artifact or a JSON scenario (.json); \
                 if it is a scenario for the implementation, run it with `cargo run -p \
                 sprite --bin scenario -- {input}`; to replay its bytes as generator input \
                 anyway, add --bytes"
            ));
        }
        return Ok(generated(bytes, a.mid_event));
    }
    if input.is_empty() || input.starts_with('-') {
        return Err(format!("`{input}` is neither a file nor hex"));
    }
    match conform::from_hex(input) {
        Some(b) if !b.is_empty() => Ok(generated(b, a.mid_event)),
        _ => Err(format!(
            "`{}` is neither a file nor hex",
            sprite::scenario::quote(input)
        )),
    }
}

fn generated(bytes: Vec<u8>, mid_event: bool) -> Input {
    let sc = if mid_event {
        Scenario::from_bytes_with_mid_migration_event(&bytes)
    } else {
        Scenario::from_bytes(&bytes)
    };
    Input {
        sc,
        bytes,
        json: false,
    }
}

fn main() -> ExitCode {
    vocab::cli::quiet_on_closed_pipe();
    let a = Args::parse();
    let Input {
        mut sc,
        bytes,
        json,
    } = match read_input(&a) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if sc.steps.is_empty() {
        eprintln!(
            "error: {}: these bytes generate no steps: nothing to replay",
            sprite::scenario::quote(&a.input)
        );
        return ExitCode::from(2);
    }
    if let Some(sw) = a.switches {
        sc.switches = sw;
    }
    let opts = Options {
        impl_switches: a.impl_switches,
    };
    if let Some(out) = &a.save {
        let text = serde_json::to_string_pretty(&sc).unwrap_or_default();
        if let Err(e) = std::fs::write(out, text + "\n") {
            eprintln!("error: {out}: {e}");
            return ExitCode::from(2);
        }
        println!("saved the scenario to {out}");
    }
    let r = run(&sc, &opts);
    match r.mismatch {
        Some(m) => {
            let mut cmd = if json {
                let mut c = format!("cargo run -p conform --bin replay -- {}", a.input);
                if let Some(sw) = opts.impl_switches {
                    c.push_str(&format!(" --impl-switches {sw}"));
                }
                c
            } else if a.mid_event {
                report::replay_command(&bytes, opts.impl_switches) + " --mid-event"
            } else {
                report::replay_command(&bytes, opts.impl_switches)
            };
            if let Some(sw) = a.switches {
                cmd.push_str(&format!(" --switches {sw}"));
            }
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
