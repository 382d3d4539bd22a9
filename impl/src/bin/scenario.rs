//! `scenario`: runs a scenario file on the simulated Sprite cluster and prints each result
//! beside the one-machine Unix's, optionally the trace, and the cost of every migration.
//! `scenario --report` prints the per-page transfer table per VM strategy, SPE Table 1
//! with each row labelled calibrated, input or predicted, the predictions of figures the
//! papers measured separately with their errors, and pmake's speedup curve.
//!
//! Exit codes: 0 all results as expected; 1 an expectation failed or the cluster disagreed
//! with one Unix machine (TR); 2 bad input; 3 nothing failed, but the comparison with one
//! Unix machine could not be decided (its search budget ran out, or the history needs more
//! streams, inodes or pids than the one machine numbers): not a pass.

use clap::Parser;
use sprite::cost::CostModel;
use sprite::scenario;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "scenario",
    version,
    about = "Run a Sprite migration scenario on the simulated cluster"
)]
struct Args {
    /// The scenario file (TOML).
    file: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long, allow_negative_numbers = true, value_parser = vocab::cli::whole_number::<u64>)]
    seed: Option<u64>,
    /// Override the design switches (`sprite`, or names joined with `+`).
    #[arg(long)]
    switches: Option<String>,
    /// With `precopy-vm`: processes run during the copy rounds (V), as the scenario key
    /// `precopy_runs = true` does.
    #[arg(long)]
    precopy_runs: bool,
    /// Print every message, phase and result.
    #[arg(long)]
    trace: bool,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// A TOML file overriding cost-model inputs (parameters and the measurements the
    /// constants are calibrated on; see impl/sparcstation1.toml).
    #[arg(long)]
    cost_model: Option<PathBuf>,
    /// Print the transfer table per VM strategy, SPE Table 1 (each row calibrated, input
    /// or predicted), the predictions beside the papers, and pmake's speedup curve.
    #[arg(long)]
    report: bool,
    /// With --report: write the speedup plot (SVG) to this file.
    #[arg(long, requires = "report")]
    speedup_svg: Option<PathBuf>,
}

/// A word of a shell command, quoted if the shell would split or expand it.
fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./+=:,@%".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The command that runs `s` again exactly as this run did: the file, the seed, the design
/// switches in force (whether the file or `--switches` set them) and the options that
/// change what runs.
fn replay_command(args: &Args, path: &std::path::Path, s: &sprite::scenario::Scenario) -> String {
    let mut cmd = format!(
        "cargo run --release -p sprite --bin scenario -- {} --seed {}",
        shell_word(&path.display().to_string()),
        s.seed
    );
    if args.switches.is_some() || !s.cluster.switches.is_sprite() {
        cmd.push_str(&format!(" --switches {}", s.cluster.switches));
    }
    if args.precopy_runs {
        cmd.push_str(" --precopy-runs");
    }
    if let Some(m) = &args.cost_model {
        cmd.push_str(&format!(
            " --cost-model {}",
            shell_word(&m.display().to_string())
        ));
    }
    cmd
}

fn read(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// How a run ended, for the exit code.
enum Verdict {
    Pass,
    Fail,
    Undecided,
}

fn main() -> ExitCode {
    vocab::cli::quiet_on_closed_pipe();
    let args = Args::parse();
    match run(&args) {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail) => ExitCode::from(1),
        Ok(Verdict::Undecided) => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn verdict(report: &sprite::run::RunReport) -> Verdict {
    if report.failed() {
        Verdict::Fail
    } else if report.undecided {
        Verdict::Undecided
    } else {
        Verdict::Pass
    }
}

fn run(args: &Args) -> Result<Verdict, String> {
    let mut model = match &args.cost_model {
        Some(p) => CostModel::from_toml(&read(p)?).map_err(|e| format!("{}: {e}", p.display()))?,
        None => CostModel::default(),
    };
    if args.report {
        let r = sprite::report::build(&model)?;
        if let Some(p) = &args.speedup_svg {
            std::fs::write(p, sprite::speedup::svg(&r.speedup.points))
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
            );
        } else {
            print!("{}", r.render());
        }
        if args.file.is_none() {
            return Ok(Verdict::Pass);
        }
    }
    let Some(path) = &args.file else {
        return Err("no scenario file given (see --help)".into());
    };
    let text = read(path)?;
    let mut s = scenario::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?;
    if let Some(seed) = args.seed {
        s.seed = seed;
    }
    s.precopy_runs |= args.precopy_runs;
    if let Some(sw) = &args.switches {
        s.cluster.switches = sw.parse().map_err(|e: String| format!("--switches: {e}"))?;
    }
    if args.cost_model.is_none() {
        model = s.cost_model.clone();
    }
    let report = sprite::run::run(&s, args.trace || args.json, &model).map_err(|e| {
        format!(
            "{}: {e} (replay: {})",
            path.display(),
            replay_command(args, path, &s)
        )
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
        return Ok(verdict(&report));
    }
    println!(
        "scenario {} (seed {}, switches {})",
        path.display(),
        report.seed,
        report.switches
    );
    if args.trace {
        println!("-- trace");
        for l in &report.trace {
            println!("{l}");
        }
        println!("-- results");
    }
    for r in &report.steps {
        let mut line = format!("line {:>3}  {:<34} = {}", r.line, r.step, r.outcome);
        if let Some(u) = &r.unix {
            if r.agrees == Some(false) {
                line.push_str(&format!("   DIFFERS from one Unix machine: {u}"));
            }
        }
        if let (Some(e), Some(false)) = (&r.expect, r.expect_ok) {
            line.push_str(&format!("   EXPECTED {e}"));
        }
        println!("{line}");
    }
    for p in &report.pmakes {
        let r = &p.report;
        let mut line = format!(
            "line {:>3}  pmake {}: {} job(s) done ({} remote, {} at home), {} evicted, {} \
             re-migrated; migd: {} request(s), {} grant(s), {} denial(s), {} release(s); \
             closed at {} ms",
            p.line,
            p.client,
            r.completed,
            r.ran_remotely,
            r.ran_locally,
            r.evictions,
            r.remigrations,
            r.requests,
            r.grants,
            r.denials,
            r.releases,
            r.finished_ms
        );
        if !p.expect_ok {
            line.push_str(&format!("   EXPECTED {:?}", p.expect));
        }
        println!("{line}");
        for (j, (hosts, out)) in r.placements.iter().zip(&r.outputs).enumerate() {
            let path: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
            let out = out
                .map(|v| v.to_string())
                .unwrap_or_else(|| "nothing".into());
            println!("           job {j}: {}, wrote {out}", path.join(" -> "));
        }
    }
    for m in &report.pmake_tr_mismatches {
        println!("DIFFERS from one Unix machine: {m}");
    }
    for f in &report.finals {
        let mut line = format!("line {:>3}  final: {} = {}", f.line, f.what, f.got);
        if !f.ok {
            line.push_str(&format!("   EXPECTED {}", f.want));
        }
        println!("{line}");
    }
    if !report.migrations.is_empty() {
        println!("-- migrations");
        println!(
            "{:<6} {:<9} {:<7} {:>4} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9} {:>9}  result",
            "pid",
            "move",
            "kind",
            "rpcs",
            "bytes",
            "pgout",
            "pgin",
            "blks",
            "files",
            "pred ms",
            "freeze"
        );
        for m in &report.migrations {
            let r = &m.record;
            println!(
                "{:<6} {:<9} {:<7} {:>4} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9.1} {:>9.1}  {}",
                r.pid.to_string(),
                format!("{}->{}", r.from, r.to),
                format!("{:?}", r.kind),
                m.rpcs,
                m.bytes,
                r.pages_flushed,
                r.pages_faulted,
                r.blocks_flushed,
                r.files_moved,
                m.predicted_ms,
                m.predicted_freeze_ms,
                match &r.result {
                    Some(Ok(())) => "ok".to_string(),
                    Some(Err(e)) => format!("refused: {e}"),
                    None => "unfinished".to_string(),
                }
            );
        }
        println!(
            "pred ms, freeze: predicted from these counts and the cost model, whose fixed \
             terms are calibrated: {}",
            model
                .calibration
                .rows
                .iter()
                .map(|c| format!(
                    "{} {:.2} ms (from {} ms, {})",
                    c.constant, c.value_ms, c.paper_ms, c.measurement
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if !report.totals.is_empty() {
        println!("-- messages");
        for (kind, c) in &report.totals {
            println!(
                "{:<22} {:>5} msgs {:>5} rpcs {:>7} bytes",
                kind.name(),
                c.msgs,
                c.rpcs,
                c.bytes
            );
        }
    }
    let v = verdict(&report);
    match v {
        Verdict::Pass => {}
        Verdict::Fail => println!("FAILED (replay: {})", replay_command(args, path, &s)),
        Verdict::Undecided => println!(
            "UNDECIDED: the comparison with one Unix machine was not decided ({}); no \
             result differed, but that is not a pass (exit status 3)",
            report
                .undecided_why
                .as_deref()
                .unwrap_or("could not be decided")
        ),
    }
    Ok(v)
}
