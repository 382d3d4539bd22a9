//! `check`: the main job. Exhausts the standard configurations of the Sprite model, checks
//! every invariant and reachability property, tries every design alternative, and prints
//! tables and readable counterexamples. Exit status 0 only if every invariant holds in
//! Sprite's design, every `reach:` property is reached, and every alternative is caught.

/// mimalloc instead of the system allocator: the checker allocates and frees a shared
/// state part for every write (`vocab::shared`), and glibc's malloc was 5 % of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use model::config::Config;
use model::run::{self, AlternativeResult, Options, Progress, Report, Search, Verdict};
use model::{configs, trace, Action, SpriteModel};
use stateright::Model;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use vocab::{Switch, Switches};

#[derive(Parser, Debug)]
#[command(
    name = "check",
    version,
    about = "Model-check Sprite's transparent process migration",
    long_about = "Exhausts bounded configurations of the Sprite model, checks the invariant \
                  catalogue (TR, DEL, CONS, ...), shows that each interesting situation is \
                  reachable, and shows that every rejected design alternative breaks the \
                  invariant the papers say it breaks. With no subcommand, runs a suite."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args, Debug, Clone)]
struct RunArgs {
    /// Suite of configurations to check: default or full.
    #[arg(long, default_value = "default")]
    suite: String,
    /// Check only these configurations (repeatable); overrides --suite.
    #[arg(long = "config", value_name = "NAME")]
    configs: Vec<String>,
    /// Check the configuration written in this TOML file (repeatable; also overrides
    /// --suite). `check show NAME` writes a built-in one; the format is in model/src/file.rs.
    #[arg(long = "file", value_name = "PATH")]
    files: Vec<PathBuf>,
    /// Turn on design switches in the checked configurations (repeatable; `a+b` also works).
    #[arg(long = "switch", value_name = "SWITCH")]
    switches: Vec<String>,
    /// Checker threads (default: all cores).
    #[arg(long, global = true, allow_negative_numbers = true, value_parser = vocab::cli::whole_number::<usize>)]
    threads: Option<usize>,
    /// Expand no state that is this many steps from the start. If some state is cut off
    /// this way, the run is partial: it says `partial` and exits with status 3.
    #[arg(long, global = true, allow_negative_numbers = true, value_parser = vocab::cli::whole_number::<usize>)]
    max_depth: Option<usize>,
    /// Stop once about this many states have been generated, duplicates included
    /// (stateright's bound). If it is reached, the run is partial (exit status 3).
    #[arg(long, global = true, allow_negative_numbers = true, value_parser = vocab::cli::whole_number::<usize>)]
    max_states: Option<usize>,
    /// Stop each configuration after this many seconds. If the time runs out, the run is
    /// partial (exit status 3).
    #[arg(long, value_name = "SECONDS", global = true, allow_negative_numbers = true, value_parser = vocab::cli::whole_number::<u64>)]
    timeout: Option<u64>,
    /// Search order: bfs (shortest counterexamples first), dfs (small memory, faster), or
    /// auto: dfs for open configurations (alphabets), bfs for scripted ones.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "bfs", "dfs"])]
    search: String,
    /// Skip the design-alternative table.
    #[arg(long)]
    no_alternatives: bool,
    /// Print results as JSON on stdout instead of tables (schema: model/README.md, "JSON
    /// output").
    #[arg(long, global = true)]
    json: bool,
    /// Write each alternative's counterexample as Markdown with a Mermaid diagram.
    #[arg(long)]
    write_figures: bool,
    /// Where --write-figures writes.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/counterexamples"))]
    figures_dir: PathBuf,
    /// Do not print counterexample traces (tables only).
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the configurations, suites and design switches.
    List,
    /// Try one design alternative and print its counterexample.
    Alt {
        /// The switch, as the catalogue spells it (reopen-files, ...).
        switch: String,
    },
    /// Print a configuration (built-in, or --file) as a TOML file that `--file` checks.
    Show {
        /// A built-in configuration (`check list` names them).
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        name: Option<String>,
        /// A configuration file instead (it is printed as `check` reads it).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Replay a path (printed with every counterexample) step by step.
    Replay {
        #[arg(
            long = "config",
            required_unless_present = "file",
            conflicts_with = "file"
        )]
        config: Option<String>,
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        #[arg(long = "switch")]
        switches: Vec<String>,
        /// Comma-separated indices into the enabled actions of each state.
        #[arg(long)]
        path: String,
    },
    /// Browse the state space in stateright's Explorer (a web page on localhost).
    Explore {
        #[arg(long = "config", default_value = "files", conflicts_with = "file")]
        config: String,
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        #[arg(long = "switch")]
        switches: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
    },
}

fn main() -> ExitCode {
    vocab::cli::quiet_on_closed_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Arguments clap rejects: its message on stderr, and with --json the same
            // envelope as any other bad argument on stdout.
            if e.use_stderr() && std::env::args().any(|a| a == "--json") {
                println!(
                    "{}",
                    model::json::error(e.kind().as_str().unwrap_or("bad arguments"))
                );
            }
            e.exit();
        }
    };
    let json = cli.run.json;
    match run_cli(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("check: {e}");
            if json {
                println!("{}", model::json::error(&e));
            }
            ExitCode::from(2)
        }
    }
}

/// A configuration with more design switches on (the ones a file gives stay on).
fn plus_switches(cfg: Config, more: Switches) -> Config {
    let switches = more.iter().fold(cfg.switches, |acc, sw| acc.with(sw));
    cfg.with_switches(switches)
}

/// A configuration to check, and how a command names it (`--config NAME`, `--file PATH`).
fn named(config: Option<&str>, file: Option<&Path>) -> Result<(Config, String), String> {
    match (config, file) {
        (_, Some(path)) => Ok((
            model::file::load_path(path)?,
            format!("--file {}", path.display()),
        )),
        (Some(name), None) => Ok((find_config(name)?, format!("--config {name}"))),
        (None, None) => Err("give a configuration: --config NAME or --file PATH".into()),
    }
}

fn parse_switches(list: &[String]) -> Result<Switches, String> {
    list.iter().try_fold(Switches::SPRITE, |acc, s| {
        let more: Switches = s.parse()?;
        Ok(more.iter().fold(acc, |a, sw| a.with(sw)))
    })
}

fn find_config(name: &str) -> Result<Config, String> {
    configs::by_name(name).ok_or_else(|| {
        let names: Vec<_> = configs::all().into_iter().map(|c| c.name).collect();
        format!(
            "unknown configuration `{name}`; known: {}",
            names.join(", ")
        )
    })
}

fn options(args: &RunArgs) -> Result<Options, String> {
    if args.threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    let progress: fn(&Progress) = if std::io::stderr().is_terminal() {
        progress_bar
    } else {
        progress_lines
    };
    Ok(Options {
        threads: args.threads.unwrap_or(Options::default().threads),
        search: match args.search.as_str() {
            "dfs" => Search::Dfs,
            "bfs" => Search::Bfs,
            _ => Search::Auto,
        },
        max_depth: args.max_depth,
        max_states: args.max_states,
        timeout: args.timeout.map(Duration::from_secs),
        progress: Some(progress),
    })
}

fn progress_text(p: &Progress) -> String {
    p.line()
}

/// On a terminal: one line, redrawn in place, cleared when the configuration is done.
fn progress_bar(p: &Progress) {
    use std::sync::OnceLock;
    static BAR: OnceLock<indicatif::ProgressBar> = OnceLock::new();
    let bar = BAR.get_or_init(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg}").expect("valid template"),
        );
        b
    });
    if p.done {
        bar.set_message(String::new());
        bar.finish_and_clear();
        // A finished bar stays finished: start a new one for the next configuration.
        bar.reset();
    } else {
        bar.set_message(progress_text(p));
        bar.tick();
    }
}

/// In logs and pipes: a plain line on stderr every 5 s of a configuration's run, and one when
/// a run that printed progress ends.
fn progress_lines(p: &Progress) {
    use std::sync::Mutex;
    static LAST: Mutex<u64> = Mutex::new(0);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let tick = p.elapsed.as_secs() / 5;
    if p.done {
        if *last > 0 {
            eprintln!("{} (done)", progress_text(p));
        }
        *last = 0;
    } else if tick > *last {
        *last = tick;
        eprintln!("{}", progress_text(p));
    }
}

/// The checking options given on the command line (they may come before or after a
/// subcommand), for the subcommands that take none.
fn check_options_given(args: &RunArgs) -> Vec<&'static str> {
    let mut given = Vec::new();
    let flags = [
        (args.threads.is_some(), "--threads"),
        (args.max_depth.is_some(), "--max-depth"),
        (args.max_states.is_some(), "--max-states"),
        (args.timeout.is_some(), "--timeout"),
        (args.search != "auto", "--search"),
        (args.json, "--json"),
        (args.quiet, "--quiet"),
    ];
    for (on, flag) in flags {
        if on {
            given.push(flag);
        }
    }
    given
}

fn run_cli(cli: Cli) -> Result<ExitCode, String> {
    let name = match &cli.command {
        None | Some(Command::Alt { .. }) => None,
        Some(Command::List) => Some("list"),
        Some(Command::Show { .. }) => Some("show"),
        Some(Command::Replay { .. }) => Some("replay"),
        Some(Command::Explore { .. }) => Some("explore"),
    };
    if let Some(name) = name {
        let given = check_options_given(&cli.run);
        if !given.is_empty() {
            return Err(format!(
                "{} does nothing with `check {name}`; it applies to a checking run (`check`, `check alt`)",
                given.join(", ")
            ));
        }
    }
    match cli.command {
        None => run_suite(&cli.run),
        Some(Command::List) => {
            list();
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Alt { switch }) => {
            let sw: Switch = switch.parse()?;
            let opts = options(&cli.run)?;
            let r = run::try_alternative(sw, &opts);
            if cli.run.json {
                let mut doc = model::json::alternative(&r);
                doc["schema"] = model::json::SCHEMA.into();
                doc["ok"] = r.as_expected.into();
                doc["exit_status"] = u8::from(!r.as_expected).into();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&doc).expect("serialisable")
                );
            } else {
                print_alternatives(std::slice::from_ref(&r));
                if !cli.run.quiet {
                    print_alternative_trace(&r);
                }
            }
            Ok(if r.as_expected {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Some(Command::Show { name, file }) => {
            let (cfg, _) = named(name.as_deref(), file.as_deref())?;
            print!("{}", model::file::show(&cfg)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Replay {
            config,
            file,
            switches,
            path,
        }) => replay(config.as_deref(), file.as_deref(), &switches, &path),
        Some(Command::Explore {
            config,
            file,
            switches,
            addr,
        }) => {
            let (cfg, _) = named(Some(&config), file.as_deref())?;
            let cfg = plus_switches(cfg, parse_switches(&switches)?);
            let at = explorer_address(&addr)?;
            println!(
                "Explorer for `{}` ({}) on http://{at}",
                cfg.name, cfg.switches
            );
            SpriteModel::new(cfg).checker().serve(at);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The address the Explorer will listen on, checked before it starts: stateright's server
/// panics on an address it cannot use, so the checks here give the message instead.
fn explorer_address(addr: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let at = addr
        .to_socket_addrs()
        .map_err(|e| format!("--addr `{addr}`: not an address to listen on ({e}); give HOST:PORT, such as 127.0.0.1:3000"))?
        .next()
        .ok_or_else(|| format!("--addr `{addr}`: names no address"))?;
    // Free the port again at once; the server binds it a moment later.
    std::net::TcpListener::bind(at).map_err(|e| {
        format!(
            "--addr {at}: cannot listen there ({e}); is another Explorer running? try another port"
        )
    })?;
    Ok(at)
}

fn list() {
    println!("configurations:");
    for c in configs::all() {
        println!("  {:<14} {}", c.name, c.about);
    }
    println!("suites: {}", configs::SUITES.join(", "));
    println!(
        "files: `check --file PATH` checks a configuration written in TOML (model/configs/ has \
         examples); `check show NAME` writes any of the above that way"
    );
    println!("design switches:");
    for sw in Switch::ALL {
        let breaks = sw
            .breaks()
            .map_or("nothing (compare costs)".to_string(), |i| i.to_string());
        println!(
            "  {:<20} breaks {breaks}; tried in `{}`",
            sw.name(),
            configs::for_switch(sw).name
        );
    }
}

fn run_suite(args: &RunArgs) -> Result<ExitCode, String> {
    let opts = options(args)?;
    let switches = parse_switches(&args.switches)?;
    // Each configuration, and how a replay command names it.
    let cfgs: Vec<(Config, String)> = if args.configs.is_empty() && args.files.is_empty() {
        configs::suite(&args.suite)
            .ok_or_else(|| {
                format!(
                    "unknown suite `{}`; known: {}",
                    args.suite,
                    configs::SUITES.join(", ")
                )
            })?
            .into_iter()
            .map(|c| {
                let source = format!("--config {}", c.name);
                (c, source)
            })
            .collect()
    } else {
        let builtin = args.configs.iter().map(|n| named(Some(n), None));
        let files = args.files.iter().map(|f| named(None, Some(f)));
        builtin.chain(files).collect::<Result<_, _>>()?
    };
    let (cfgs, sources): (Vec<Config>, Vec<String>) = cfgs
        .into_iter()
        .map(|(c, source)| (plus_switches(c, switches), source))
        .unzip();
    let reports: Vec<Report> = cfgs.iter().map(|c| run::check(c, &opts)).collect();
    // Every situation must be reachable somewhere in a suite, and the alternatives are part
    // of a suite's run; a hand-picked list of configurations is not expected to reach them
    // all, and does not try the alternatives (`check alt NAME` tries one).
    let whole_suite = args.configs.is_empty() && args.files.is_empty();
    let alt_start = std::time::Instant::now();
    let alternatives: Vec<AlternativeResult> = if args.no_alternatives || !whole_suite {
        Vec::new()
    } else {
        Switch::ALL
            .iter()
            .map(|sw| run::try_alternative(*sw, &opts))
            .collect()
    };
    let alt_seconds = alt_start.elapsed().as_secs_f64();

    let broken: Vec<(usize, &Report, &run::PropertyResult)> = reports
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.violated().map(move |p| (i, r, p)))
        .collect();
    // A situation no configuration of the run can produce is not attempted: said, not
    // counted as unreached.
    let not_attempted = run::not_attempted(&cfgs);
    let unreached: Vec<&str> = run::reachable_names()
        .into_iter()
        .filter(|name| !not_attempted.iter().any(|(key, _)| key == name))
        .filter(|name| {
            !reports.iter().any(|r| {
                r.properties
                    .iter()
                    .any(|p| p.name == *name && matches!(p.verdict, Verdict::Reached { .. }))
            })
        })
        .collect();
    let missed: Vec<&AlternativeResult> = alternatives.iter().filter(|a| !a.as_expected).collect();
    let partial = reports.iter().any(|r| !r.complete);
    // What makes the run fail: an invariant broken in Sprite's design (a configuration with
    // a design switch on is expected to break some), a situation never reached by a whole
    // suite, an alternative not caught.
    let mut failed: Vec<&str> = Vec::new();
    if broken.iter().any(|(i, _, _)| cfgs[*i].switches.is_sprite()) {
        failed.push("invariant broken");
    }
    if !unreached.is_empty() && whole_suite {
        failed.push("situation not reached");
    }
    if !missed.is_empty() {
        failed.push("alternative not caught");
    }

    let exit_status: u8 = if !failed.is_empty() {
        1
    } else if partial {
        3
    } else {
        0
    };
    if args.json {
        let run = model::json::Run {
            configurations: cfgs
                .iter()
                .zip(&sources)
                .zip(&reports)
                .map(|((c, s), r)| (c, s.as_str(), r))
                .collect(),
            alternatives: &alternatives,
            unreached: &unreached,
            not_attempted: &not_attempted,
            failed: &failed,
            complete: !partial,
            exit_status,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&model::json::document(&run)).expect("serialisable")
        );
    } else {
        print_configs(&reports);
        print_properties(&reports);
        if !alternatives.is_empty() {
            print_alternatives(&alternatives);
        }
        if !args.quiet {
            for (i, r, p) in &broken {
                println!(
                    "\n=== {} broken in `{}` ({}) ===",
                    model::property_title(p.name),
                    r.config,
                    r.switches
                );
                print_trace(&cfgs[*i], &sources[*i], p.path.as_deref().unwrap_or(&[]));
            }
            for a in &alternatives {
                print_alternative_trace(a);
            }
        }
        if !whole_suite && !args.no_alternatives {
            println!(
                "(design alternatives are tried with a whole suite; `check alt NAME` tries one)"
            );
        }
        println!();
        println!("{}", summary(args, &reports, &alternatives, alt_seconds));
        if partial {
            let cut: Vec<String> = reports
                .iter()
                .filter(|r| !r.complete)
                .map(|r| {
                    let why: Vec<_> = r.cut.iter().map(|c| c.flag()).collect();
                    format!("{} (cut by {})", r.config, why.join(", "))
                })
                .collect();
            println!(
                "PARTIAL: {} not exhausted; nothing is claimed about the states not explored.",
                cut.join(", ")
            );
        }
        let uncovered: Vec<String> = reports
            .iter()
            .filter(|r| !r.claimed_untaken().is_empty())
            .map(|r| format!("`{}`: {}", r.config, r.claimed_untaken().join(", ")))
            .collect();
        if uncovered.is_empty() {
            println!("coverage: every configuration took every kind of step it claims to cover");
        } else {
            for u in &uncovered {
                println!("NOT COVERED (claimed, never taken) in {u}");
            }
        }
        print_vacuity(&reports);
        for (_, r, p) in &broken {
            println!(
                "BROKEN: {} in `{}` ({})",
                model::property_title(p.name),
                r.config,
                r.switches
            );
        }
        for name in &unreached {
            let severity = if whole_suite {
                "NOT REACHED"
            } else {
                "note: not reached"
            };
            println!(
                "{severity} in the configurations checked: {}",
                model::property_title(name)
            );
        }
        for (name, needs) in &not_attempted {
            println!(
                "not attempted: {} (it needs {needs}, and no configuration checked has one)",
                model::property_title(name)
            );
        }
        for a in &missed {
            println!(
                "NOT CAUGHT: design alternative {} ({:?} expected)",
                a.switch, a.expected
            );
        }
        if failed.is_empty() && !partial {
            let alts = if alternatives.is_empty() {
                ""
            } else {
                ", every alternative is caught"
            };
            let reach = match (whole_suite, not_attempted.len()) {
                (false, _) => String::new(),
                (true, 0) => ", every situation is reached".to_string(),
                (true, n) => format!(
                    ", every situation is reached that its configurations can produce ({n} not attempted, above)"
                ),
            };
            if broken.is_empty() {
                println!("OK: every invariant holds{reach}{alts}.");
            } else {
                // Only configurations with design switches on broke something: that is
                // what they are for, so the run does not fail, but it does not hold either.
                println!(
                    "OK as expected: the invariants above are broken only with design switches on; every other holds{reach}{alts}."
                );
            }
        }
    }
    if args.write_figures {
        write_figures(&args.figures_dir, &alternatives)?;
    }
    Ok(ExitCode::from(exit_status))
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The one line that sums a run up: what was checked, how much, how fast.
fn summary(
    args: &RunArgs,
    reports: &[Report],
    alternatives: &[AlternativeResult],
    alt_seconds: f64,
) -> String {
    let what = if args.configs.is_empty() {
        format!("suite `{}`", args.suite)
    } else {
        "selected configurations".to_string()
    };
    let unique: usize = reports.iter().map(|r| r.unique_states).sum();
    let states: usize = reports.iter().map(|r| r.states).sum();
    let seconds: f64 = reports.iter().map(|r| r.seconds).sum();
    let exhausted = reports.iter().filter(|r| r.complete).count();
    let mut line = format!(
        "{what}: {} configurations ({exhausted} exhausted),\n  {} unique states ({} generated) in {seconds:.1} s, {} unique/s",
        reports.len(),
        thousands(unique),
        thousands(states),
        thousands((unique as f64 / seconds.max(1e-9)) as usize),
    );
    if !alternatives.is_empty() {
        let caught = alternatives.iter().filter(|a| a.as_expected).count();
        line.push_str(&format!(
            ";\n  {caught}/{} design alternatives as expected in {alt_seconds:.1} s",
            alternatives.len()
        ));
    }
    line
}

fn print_configs(reports: &[Report]) {
    println!(
        "{:<14} {:<10} {:>10} {:>10} {:>6} {:>8} {:>12}",
        "configuration", "switches", "states", "unique", "depth", "time", "states/s"
    );
    for r in reports {
        println!(
            "{:<14} {:<10} {:>10} {:>10} {:>6} {:>7.2}s {:>12.0}{}",
            r.config,
            r.switches,
            r.states,
            r.unique_states,
            r.max_depth,
            r.seconds,
            r.states_per_second(),
            if r.complete { "" } else { "  (partial)" }
        );
    }
    println!();
}

fn cell(v: &Verdict) -> String {
    match v {
        Verdict::Holds => "holds".into(),
        Verdict::HoldsSoFar => "partial".into(),
        Verdict::Violated { steps } => format!("BROKEN/{steps}"),
        Verdict::Reached { steps } => format!("yes/{steps}"),
        Verdict::NotReached => "-".into(),
    }
}

/// The widest line a table prints.
const TABLE_COLUMNS: usize = 120;

/// Properties down, configurations across; as many configurations side by side as fit in
/// [`TABLE_COLUMNS`], the rest in further blocks below.
fn print_properties(reports: &[Report]) {
    let Some(first) = reports.first() else {
        return;
    };
    const LABEL: usize = 58;
    let width = |r: &Report| r.config.len().max(9);
    let mut blocks: Vec<&[Report]> = Vec::new();
    let mut rest = reports;
    while !rest.is_empty() {
        let mut used = LABEL;
        let n = rest
            .iter()
            .take_while(|r| {
                used += 1 + width(r);
                used <= TABLE_COLUMNS
            })
            .count()
            .max(1);
        blocks.push(&rest[..n]);
        rest = &rest[n..];
    }
    for (b, block) in blocks.iter().enumerate() {
        if b > 0 {
            println!();
        }
        print!("{:<LABEL$}", "property");
        for r in *block {
            print!(" {:>w$}", r.config, w = width(r));
        }
        println!();
        for (i, p) in first.properties.iter().enumerate() {
            print!("{:<LABEL$}", model::property_title(p.name));
            for r in *block {
                print!(" {:>w$}", cell(&r.properties[i].verdict), w = width(r));
            }
            println!();
        }
    }
    println!("(holds: true in every state; BROKEN/n: counterexample of n steps;\n yes/n: reached in n steps)\n");
}

fn print_alternatives(alts: &[AlternativeResult]) {
    println!(
        "{:<20} {:<14} {:<8} {:>6} {:>8}  broken when caught",
        "design alternative", "configuration", "breaks", "steps", "caught"
    );
    for a in alts {
        let expected = a.expected.map_or("-".to_string(), |i| i.to_string());
        let steps = a.steps.map_or("-".to_string(), |s| s.to_string());
        let broken: Vec<_> = a.broken.iter().map(|i| i.to_string()).collect();
        let broken = if broken.is_empty() {
            "none".to_string()
        } else {
            broken.join(" ")
        };
        let caught = match (a.expected, a.as_expected) {
            (Some(_), true) => "yes",
            (None, true) => "correct",
            _ => "NO",
        };
        println!(
            "{:<20} {:<14} {:<8} {:>6} {:>8}  {}",
            a.switch.name(),
            a.config,
            expected,
            steps,
            caught,
            broken
        );
    }
}

fn print_alternative_trace(a: &AlternativeResult) {
    let Some(path) = a.path() else {
        return;
    };
    let cfg = configs::for_switch(a.switch);
    println!(
        "\n=== {}: {} broken in `{}` ===",
        a.switch,
        a.expected.expect("has a path"),
        cfg.name
    );
    print_trace(&cfg, &format!("--config {}", cfg.name), path);
}

/// A counterexample, and the command that replays it (`source` names the configuration).
fn print_trace(cfg: &Config, source: &str, path: &[Action]) {
    let model = SpriteModel::new(cfg.clone());
    print!("{}", trace::render(&model, path));
    for line in trace::explain_path(&model, path) {
        println!("     !! {line}");
    }
    println!(
        "replay: {}",
        model::figures::replay_command_from(source, cfg, path)
    );
}

fn replay(
    config: Option<&str>,
    file: Option<&Path>,
    switches: &[String],
    path: &str,
) -> Result<ExitCode, String> {
    let (cfg, _) = named(config, file)?;
    let cfg = plus_switches(cfg, parse_switches(switches)?);
    let indices: Vec<usize> = path
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("--path: `{s}` is not an action index"))
        })
        .collect::<Result<_, _>>()?;
    let model = SpriteModel::new(cfg.clone());
    let actions = trace::from_indices(&model, &indices)?;
    print!("{}", trace::render(&model, &actions));
    // Each broken invariant with the step that broke it, in words.
    let problems = trace::explain_path(&model, &actions);
    for line in &problems {
        println!("     !! {line}");
    }
    if problems.is_empty() {
        println!("every invariant holds at the end of this path");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

fn write_figures(dir: &PathBuf, alts: &[AlternativeResult]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir = dir.canonicalize().unwrap_or(dir.clone());
    for a in alts {
        let Some(text) = model::figures::markdown(a) else {
            continue;
        };
        let file = dir.join(format!("{}.md", a.switch));
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        eprintln!("wrote {}", file.display());
    }
    Ok(())
}

/// The guarded clauses the run checked only vacuously (`model::clauses`): for one
/// configuration, each situation none of its states showed; for a suite, those no
/// configuration showed, and how many each configuration left out (details in `--json`).
fn print_vacuity(reports: &[Report]) {
    let total = model::clauses::CLAUSES.len();
    if let [r] = reports {
        let missing = r.unexercised();
        if missing.is_empty() {
            println!("clauses: every guarded situation arose in `{}`", r.config);
        } else {
            println!(
                "clauses: {} of {total} guarded situations arose in `{}`; checked only vacuously (no state showed the situation):",
                total - missing.len(),
                r.config
            );
            for m in &missing {
                println!("  - {m}");
            }
        }
        return;
    }
    let seen = reports.iter().fold(0, |acc, r| acc | r.situations);
    let sprite = reports
        .iter()
        .all(|r| r.switches == Switches::SPRITE.to_string());
    let missing = model::clauses::unexercised(seen, sprite);
    let per: Vec<String> = reports
        .iter()
        .map(|r| format!("{} {}", r.config, r.situations.count_ones()))
        .collect();
    if missing.is_empty() {
        println!("clauses: every guarded situation arose in some configuration; of {total}, per configuration:");
    } else {
        println!("clauses: NEVER EXERCISED in this run (no state of any configuration showed it):");
        for m in &missing {
            println!("  - {m}");
        }
        println!("  of {total}, per configuration:");
    }
    // The counts, wrapped to stay within the tables' width.
    let mut line = String::from(" ");
    let n = per.len();
    for (i, p) in per.into_iter().enumerate() {
        let item = if i + 1 < n {
            format!(" {p},")
        } else {
            format!(" {p}")
        };
        if line.len() + item.len() > 110 {
            println!("{line}");
            line = String::from(" ");
        }
        line.push_str(&item);
    }
    println!("{line}");
}
