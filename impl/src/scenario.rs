//! Scenario files (TOML): a cluster, initial files and processes, design switches, a seed,
//! and a list of steps (operations of processes and cluster events), each optionally with
//! the result it must give. Operations are written the way traces print them:
//!
//! ```toml
//! name = "temp-file"             # optional: a name and what the scenario is for (the
//! about = "create, unlink, migrate, read back"   # model's reports use them; ignored here)
//! pages = 1                      # optional: pages of every process without its own
//! seed = 7
//! switches = "sprite"            # or e.g. "no-vm-flush+local-time"
//! mode = "sequential"            # each step runs to quiescence; or "concurrent"
//! precopy_runs = true            # optional: with precopy-vm, the process runs during the
//!                                # copy rounds (V); default false, the model's frozen copy
//! schedule = [0, 2, 1]           # optional: indices into the enabled events, then the seed
//! steps = [
//!   { pid = "p0.0", op = "open /f1 rw create", expect = "fd0" },
//!   { pid = "p0.0", op = "migrate h1" },
//!   { event = "owner-returns h1" },
//!   { event = "crash h1", after = "MIG_STATE p0.0" },   # inside the next steps' run
//!   { settle = true },            # concurrent mode: run what is queued to quiescence first
//! ]
//!
//! [[host]]
//! id = 0
//! clock_skew_ms = 0   # optional
//! version = 1         # optional
//! owner = false       # optional: the owner is at the console
//!
//! [[file]]
//! name = "/f0"                      # or an absolute path such as "/tmp/data"
//! data = [1, 2, 3]
//!
//! [[process]]
//! pid = "p0.0"          # starts on its home, h0
//! start_on = "h1"       # optional: starts on h1 instead, as if it had migrated there
//! pages = 4             # optional: the top-level `pages`, else 0
//! shares_memory = false # optional: may never migrate (also `maps_device`)
//! ```
//!
//! The model checker reads the same files (`cargo run --release --bin check -- --file
//! f.toml`, `model::file`): there every process runs the operations the steps give it, in
//! every interleaving, and each event step may happen once at any point. The model's
//! configuration files may also have keys the implementation cannot run, which are refused
//! here with a message saying they are model-only: `alphabet`, `budget`,
//! `children_alphabet` and `children_budget` in a `[[process]]` (every program over an
//! alphabet), and a top-level `events` (events at any point).
//!
//! A file is named `/fN` (`N` below 128) or by any absolute path without spaces, quotes or
//! backslashes, up to 64 characters (`/tmp/data`); a path is given a file number the first
//! time it is seen, and printed as written.
//! Operation syntax (parsed by `vocab::syntax`, shared with the model's files):
//! `open /fN r|w|rw [create]`, `read fdN`, `write fdN SYM`,
//! `lseek fdN POS`, `lseek fdN +K` or `-K` (relative to the current
//! position, SEEK_CUR; `+0` reads it), `close fdN`, `unlink /fN`, `stat /fN` (the file's size,
//! `size N`), `dup fdN`, `fork`, `exec [hN]`,
//! `exit STATUS`, `wait`, `getpid`, `gettimeofday`, `kill pH.I`, `memread pgN`,
//! `memwrite pgN SYM`, `migrate hN`, `pipe` (an unnamed, non-blocking pipe: two new
//! descriptors, the read end first), `getpgrp`, `setpgid pH.I` (join that process group),
//! `killpg pH.I` (signal every member of that group). Events: `crash hN`, `reboot hN`,
//! `owner-returns hN`, `owner-leaves hN`. A pid is `pH.I`, or `pH.I.G` for generation `G`
//! of a slot given again (results print pids so). An `expect` is the printed outcome (`data 7`,
//! `EOF`, `ok`, `ESRCH`, `EAGAIN`, `EPIPE`, `pipe fd0 fd1`, `p0.0`, `migration refused:
//! ...`, `blocked`, `killed`); a trailing `*` matches a prefix. An operation's step may name
//! its result with `id = "t0"` (a letter, then letters, digits, `_`), and a later step's
//! `expect` may then be a relation with it, `>= t0` (also `>`, `<=`, `<`, `==`, `!=`): the
//! numbers the two results carry are compared (`time 5003`, `pos 2`, `data 7`, `mem 3`),
//! and a result without a number fails it.
//!
//! An event step happens where it stands among the steps, between two of them, unless it
//! has an `after`: then it waits, while the later steps run, for a moment of one process
//! and happens right after it, inside a migration or an operation. The moments are the
//! model's step names (the implementation's refinement witnesses, `vocab::Trigger`):
//! `start pH.I` (its next operation has started and not completed), `run pH.I` (its
//! operation takes effect), `MIG_INIT`, `MIG_STATE`, `STREAM_MOVE` (any of its streams),
//! `HOME_UPDATE`, `RESUME` and `SIGNAL` (a signal reaches it), each with a pid. The first
//! such moment after the step is reached counts; one that never comes fails the run. When
//! one step of the implementation performs several model steps, the event comes after all
//! of them. `scenarios/crash-mid-migration.toml` is an example.
//!
//! A `[final]` table states what the cluster must look like once the run is over: files
//! reclaimed or not, cacheable, their dirty blocks and contents; where each process ended
//! and how many signals reached it; what each migration cost (RPCs, pages flushed and
//! faulted, blocks written back, files moved) and how it ended; the run's RPCs. The keys
//! are documented in [`crate::final_state`]; `scenarios/temp-file.toml` uses them.
//!
//! Instead of `steps`, a scenario may run pmakes through the host-selection layer (load
//! daemons, migd; see `policy`), on a simulated clock in ms:
//!
//! ```toml
//! timed = [                      # cluster events at simulated times
//!   { at_ms = 42000, event = "owner-returns h1" },
//! ]
//!
//! [policy]                       # optional: load-daemon parameters, each optional
//! no_input_ms = 30000            # no input this long before a host may be idle
//! accept_below = [0.75, 1.0, 1.5]
//! refuse_above = [2.5, 2.75, 3.0]
//! sample_ms = 5000
//! report_ms = 60000
//!
//! [[pmake]]                      # one table per pmake run side by side
//! client = "p0.0"                # a listed process with at least one page
//! jobs = 8                       # job J computes `steps` times `step_ms`, writing memory
//! steps = 8                      # after each step, then writes file /f(first_file + J)
//! step_ms = 5000
//! local_slots = 1                # optional: jobs at home when migd has no host (1)
//! first_file = 0                 # optional (0)
//! start_ms = 35000               # optional: when pmake starts (default: no_input_ms +
//!                                # sample_ms, the first time hosts can be idle)
//! expect = { completed = 8, evictions = 1, remigrations = 1 }   # optional, each optional
//! ```
//!
//! Every pmake result is replayed on the one-machine Unix (TR), as steps are.
//!
//! Errors name the file, the line and the problem; nothing panics on input. Every number
//! is range-checked here, so no arithmetic on it can overflow later:
//!
//! | what | allowed |
//! | --- | --- |
//! | the file | at most [`MAX_SCENARIO_BYTES`]; no array longer than [`MAX_ARRAY_LEN`], at most [`MAX_ITEMS`] keys and values in all (checked on the tokens, before a tree is built, so memory stays bounded) |
//! | `steps` | at most [`MAX_STEPS`]; a step's `pid` is a listed process, or a pid of a host that one of the forks before the step can create (its index is below the host's listed processes plus those forks) |
//! | `clock_skew_ms` | at most [`MAX_SKEW_MS`] either way (clocks are `u32` ms) |
//! | `exec_args_bytes` | at most [`crate::migrate::MAX_EXEC_ARGS`] |
//! | `exec_args` | real arguments instead of `exec_args_bytes` of filler (not both): at most [`crate::migrate::MAX_EXEC_ARGS`] bytes with a NUL after each, no NUL inside; every `exec` starts its program with them, and `[final]` can check them where the process ends up |
//! | `at_ms`, `step_ms`, `start_ms`, the `[policy]` times | at most [`MAX_SIM_MS`] each; `steps` times `step_ms` too |
//! | `local_slots` | at most 256 |
//! | `[cost_model]` | finite, not negative; bandwidths and sizes positive |
//!
//! An error quotes at most [`QUOTE_CHARS`] characters of the offending text.

use crate::cost::{CostInputs, CostModel};
use crate::migrate::MAX_EXEC_ARGS;
use crate::policy::{IdleRule, Job};
use crate::sim::{ClusterConfig, HostConfig, ProcConfig, SERVER_VERSION};
use serde::Deserialize;
use toml::Spanned;
pub use vocab::syntax::{
    parse_event, parse_host, parse_name, parse_op, parse_pid, quote, QUOTE_CHARS,
};
use vocab::syntax::{Source, TextError};
use vocab::{ClusterEvent, FileName, HostId, Op, Pid, Switches};

/// Largest scenario file read.
pub const MAX_SCENARIO_BYTES: usize = 16 << 20;
/// Most values in one TOML array (the steps are the longest).
pub const MAX_ARRAY_LEN: usize = 200_000;
/// Most steps.
pub const MAX_STEPS: usize = MAX_ARRAY_LEN;
/// Most keys, values, arrays and tables in a file: what `toml` holds in memory while it
/// parses (a few hundred bytes each), so this bounds the parse's memory. A step written
/// `{ pid = "p0.0", op = "getpid" }` counts 5.
pub const MAX_ITEMS: usize = 1_000_000;
/// Largest clock skew either way, in ms (a host's clock reads `u32` ms).
pub const MAX_SKEW_MS: i64 = u32::MAX as i64;
/// Latest simulated time a scenario may name, and longest duration, in ms (one day).
pub const MAX_SIM_MS: u64 = 24 * 60 * 60 * 1000;
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    /// A name and a line saying what the scenario is for: `check show` writes them, the
    /// model names its report with them; nothing here uses them.
    #[allow(dead_code)]
    name: Option<String>,
    #[allow(dead_code)]
    about: Option<String>,
    /// Pages of every listed process that does not give its own `pages`.
    pages: Option<u8>,
    /// Model-only: events that may happen at any point (refused here, see [`model_only`]).
    events: Option<Spanned<toml::Value>>,
    /// Model-only: hosts may write dirty blocks back at any moment, which the model then
    /// explores. Accepted and not used: the implementation writes back when its protocol
    /// does (at a migration's flush, a stream exchange, a callback), one of the behaviours
    /// the key allows.
    #[allow(dead_code)]
    delayed_writes: Option<bool>,
    seed: Option<u64>,
    switches: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    exec_args_bytes: Option<Spanned<u32>>,
    /// The arguments every `exec` starts its program with (real ones, checked on arrival
    /// with `[final]`), instead of `exec_args_bytes` of filler.
    exec_args: Option<Spanned<Vec<String>>>,
    precopy_runs: Option<bool>,
    #[serde(default)]
    schedule: Vec<usize>,
    #[serde(default)]
    steps: Vec<StepSpec>,
    #[serde(default)]
    host: Vec<HostSpec>,
    #[serde(default)]
    file: Vec<InitFile>,
    #[serde(default)]
    process: Vec<ProcSpec>,
    cost_model: Option<Spanned<CostInputs>>,
    policy: Option<Spanned<IdleRule>>,
    #[serde(default)]
    pmake: Vec<PmakeTable>,
    #[serde(default)]
    timed: Vec<TimedSpec>,
    /// Expectations on the cluster once the run is over (`crate::final_state`).
    #[serde(rename = "final")]
    final_state: Option<crate::final_state::FinalSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PmakeTable {
    client: Spanned<String>,
    jobs: Spanned<u16>,
    steps: u8,
    step_ms: Spanned<u64>,
    local_slots: Option<Spanned<usize>>,
    first_file: Option<u8>,
    start_ms: Option<Spanned<u64>>,
    #[serde(default)]
    expect: PmakeExpect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimedSpec {
    at_ms: Spanned<u64>,
    event: Spanned<String>,
}

/// What a pmake run must give (each field optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PmakeExpect {
    pub completed: Option<u32>,
    pub evictions: Option<u32>,
    pub remigrations: Option<u32>,
}

impl PmakeExpect {
    /// Whether `r` meets every expectation given.
    pub fn holds(&self, r: &crate::policy::PmakeReport) -> bool {
        let ok = |want: Option<u32>, got: u32| want.is_none_or(|w| w == got);
        ok(self.completed, r.completed)
            && ok(self.evictions, r.evictions)
            && ok(self.remigrations, r.remigrations)
    }
}

/// One `[[pmake]]` of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PmakeStep {
    pub client: Pid,
    pub jobs: Vec<Job>,
    pub local_slots: usize,
    pub first_file: u8,
    pub start_ms: u64,
    pub expect: PmakeExpect,
    pub line: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSpec {
    id: Spanned<u8>,
    version: Option<u16>,
    clock_skew_ms: Option<Spanned<i64>>,
    owner: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InitFile {
    name: Spanned<String>,
    data: Option<Spanned<Vec<u8>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcSpec {
    pid: Spanned<String>,
    /// Where it runs at the start, if not its home.
    start_on: Option<Spanned<String>>,
    pages: Option<u8>,
    #[serde(default)]
    shares_memory: bool,
    #[serde(default)]
    maps_device: bool,
    /// Model-only: an open configuration's process (refused here, see [`model_only`]).
    alphabet: Option<Spanned<toml::Value>>,
    budget: Option<Spanned<toml::Value>>,
    children_alphabet: Option<Spanned<toml::Value>>,
    children_budget: Option<Spanned<toml::Value>>,
}

/// The keys of the model's configuration files (`check --file`, `model::file`) that the
/// implementation cannot run: a process running an *alphabet* (every program of at most
/// `budget` of its operations, which the model checker explores) and events that may happen
/// at *any* point (`events`). A scenario with one is refused, saying so, rather than run
/// as a different world than the one checked.
fn model_only(cx: &Source, spec: &FileSpec) -> Result<(), ScenarioError> {
    let refuse = |key: &str, span: std::ops::Range<usize>, why: &str| {
        cx.err(
            span,
            format!(
                "`{key}` is a model-only key ({why}): `check --file` checks this file on the \
                 model, the implementation runs only `steps`"
            ),
        )
    };
    if let Some(e) = &spec.events {
        return Err(refuse(
            "events",
            e.span(),
            "events that may happen at any point; write `{ event = \"crash h1\" }` steps to \
             run them here",
        ));
    }
    for p in &spec.process {
        let keys = [
            ("alphabet", &p.alphabet),
            ("budget", &p.budget),
            ("children_alphabet", &p.children_alphabet),
            ("children_budget", &p.children_budget),
        ];
        if let Some((key, Some(v))) = keys.iter().find(|(_, v)| v.is_some()) {
            return Err(refuse(
                key,
                v.span(),
                "a process that may run any program over an alphabet",
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    pid: Option<Spanned<String>>,
    op: Option<Spanned<String>>,
    event: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
    /// In concurrent mode, a barrier: everything queued so far runs to quiescence before
    /// the later steps are queued (so a concurrent part can start from a set-up state).
    settle: Option<Spanned<bool>>,
    /// With `event`: the moment it happens, inside the run of the later steps (see
    /// [`vocab::Trigger`]), instead of between two steps.
    after: Option<Spanned<String>>,
    /// A name for this operation's result, which a later `expect` may compare with
    /// (`expect = ">= t0"`).
    id: Option<Spanned<String>>,
}

/// How steps are scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum RunMode {
    /// Each step runs to quiescence before the next (one order to compare with the ghost).
    Sequential,
    /// All operations are queued at once; the seed interleaves them (events still apply
    /// in order, each after the operations listed before it have been queued).
    Concurrent,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum StepKind {
    Op(Pid, Op),
    Event(ClusterEvent),
    /// Run to quiescence (a barrier in concurrent mode; every step settles in sequential
    /// mode anyway).
    Settle,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScenarioStep {
    pub kind: StepKind,
    pub expect: Option<String>,
    pub line: usize,
    /// An event's moment, when it is not between steps.
    pub after: Option<vocab::Trigger>,
    /// The name a later step's relation gives this operation's result.
    pub id: Option<String>,
}

/// How an `expect` compares a result with an earlier one's (`>= t0`): the numbers the two
/// results carry (`time 5003`, `pos 2`, `data 7`, `mem 3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Relation {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

impl Relation {
    const ALL: [(&'static str, Relation); 6] = [
        (">=", Relation::Ge),
        ("<=", Relation::Le),
        ("==", Relation::Eq),
        ("!=", Relation::Ne),
        (">", Relation::Gt),
        ("<", Relation::Lt),
    ];

    /// An `expect` that is a relation: the relation and the name it compares with.
    pub fn parse(expect: &str) -> Option<(Relation, &str)> {
        Relation::ALL.iter().find_map(|(text, r)| {
            expect
                .strip_prefix(text)
                .map(|rest| (*r, rest.trim()))
                .filter(|(_, name)| !name.is_empty())
        })
    }

    pub fn holds(self, a: i128, b: i128) -> bool {
        match self {
            Relation::Ge => a >= b,
            Relation::Gt => a > b,
            Relation::Le => a <= b,
            Relation::Lt => a < b,
            Relation::Eq => a == b,
            Relation::Ne => a != b,
        }
    }
}

/// The number a printed result carries (`time 5003` is 5003), if it carries one.
pub fn number_of(outcome: &str) -> Option<i128> {
    outcome.split_whitespace().last()?.parse().ok()
}

/// A validated scenario.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Scenario {
    pub cluster: ClusterConfig,
    pub seed: u64,
    /// An explicit schedule: indices into the enabled events, used before the seed.
    pub schedule: Vec<usize>,
    pub mode: RunMode,
    pub steps: Vec<ScenarioStep>,
    pub cost_model: CostModel,
    /// With `precopy-vm`, processes run during the copy rounds (V); see
    /// `Cluster::set_precopy_runs`.
    pub precopy_runs: bool,
    /// The load daemons' parameters, when the scenario runs pmakes.
    pub policy: Option<IdleRule>,
    pub pmakes: Vec<PmakeStep>,
    /// Cluster events at simulated times (ms), with their lines.
    pub timed: Vec<(u64, ClusterEvent, usize)>,
    /// Expectations on the cluster once the run is over (`[final]`).
    pub finals: Vec<crate::final_state::FinalExpect>,
}

/// A problem with a scenario file, located (`file:line:col: problem`).
pub type ScenarioError = TextError;

/// Bounds the file before `toml` builds its tree of it (a few hundred bytes per key or
/// value): on the tokens alone, with the lexer of `toml`'s own parser, no array may hold
/// more than [`MAX_ARRAY_LEN`] values and the file no more than [`MAX_ITEMS`] keys,
/// values, arrays and tables. A 10 MB `data = [1, 1, ...]` is refused at its `[` with
/// the memory of its text only. The count is an upper bound (a key counts as an item);
/// `toml` still judges the syntax.
fn prescan(cx: &Source) -> Result<(), ScenarioError> {
    use toml_parser::lexer::TokenKind as T;
    if cx.text.len() > MAX_SCENARIO_BYTES {
        return Err(cx.err(
            MAX_SCENARIO_BYTES..MAX_SCENARIO_BYTES,
            format!(
                "the file has {} bytes, more than the {MAX_SCENARIO_BYTES} a scenario may have",
                cx.text.len()
            ),
        ));
    }
    // Open arrays and inline tables: (is an array, where it starts, commas so far).
    let mut open: Vec<(bool, usize, usize)> = Vec::new();
    // On a `[table]` or `[[table]]` header line; after a top-level `=` on this line.
    let (mut header, mut value) = (false, false);
    let mut items = 0usize;
    for tok in toml_parser::Source::new(cx.text).lex() {
        let at = tok.span().start();
        match tok.kind() {
            T::Newline if open.is_empty() => (header, value) = (false, false),
            _ if header => {}
            T::Equals => value = true,
            T::LeftSquareBracket if open.is_empty() && !value => header = true,
            T::LeftSquareBracket | T::LeftCurlyBracket => {
                items += 1;
                open.push((tok.kind() == T::LeftSquareBracket, at, 0));
            }
            T::RightSquareBracket | T::RightCurlyBracket => {
                open.pop();
            }
            T::Comma => {
                if let Some((true, start, commas)) = open.last_mut() {
                    *commas += 1;
                    if *commas >= MAX_ARRAY_LEN {
                        return Err(cx.err(
                            *start..*start,
                            format!("an array of more than {MAX_ARRAY_LEN} values"),
                        ));
                    }
                }
            }
            T::Atom | T::BasicString | T::LiteralString | T::MlBasicString | T::MlLiteralString => {
                items += 1
            }
            _ => {}
        }
        if items > MAX_ITEMS {
            return Err(cx.err(
                at..at,
                format!("more than {MAX_ITEMS} keys and values in the file"),
            ));
        }
    }
    Ok(())
}

/// Parses and validates a scenario. `file` is only used in error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let cx = Source::new(file, text);
    prescan(&cx)?;
    let spec: FileSpec = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        cx.err(span, e.message().to_string())
    })?;
    model_only(&cx, &spec)?;
    let switches = match &spec.switches {
        None => Switches::SPRITE,
        Some(s) => s
            .get_ref()
            .parse()
            .map_err(|e: String| cx.err(s.span(), e))?,
    };
    let mode = match spec.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("sequential", _)) => RunMode::Sequential,
        Some(("concurrent", _)) => RunMode::Concurrent,
        Some((other, span)) => {
            return Err(cx.err(
                span,
                format!(
                    "unknown mode `{}`; use `sequential` or `concurrent`",
                    quote(other)
                ),
            ))
        }
    };
    if spec.host.is_empty() {
        return Err(cx.err(0..0, "no [[host]] in the scenario"));
    }
    let mut hosts = Vec::new();
    for h in &spec.host {
        let id = HostId(*h.id.get_ref());
        if hosts.iter().any(|x: &HostConfig| x.id == id) {
            return Err(cx.err(h.id.span(), format!("host {id} is listed twice")));
        }
        let clock_skew_ms = match &h.clock_skew_ms {
            None => 0,
            Some(k) if k.get_ref().unsigned_abs() <= MAX_SKEW_MS.unsigned_abs() => *k.get_ref(),
            Some(k) => {
                return Err(cx.err(
                    k.span(),
                    format!(
                        "clock_skew_ms {} is out of range: at most {MAX_SKEW_MS} ms either way \
                         (a clock reads u32 ms)",
                        k.get_ref()
                    ),
                ))
            }
        };
        hosts.push(HostConfig {
            id,
            version: h.version.unwrap_or(SERVER_VERSION),
            clock_skew_ms,
            owner_present: h.owner.unwrap_or(false),
        });
    }
    let known = |h: HostId| hosts.iter().any(|x| x.id == h);
    let mut files = Vec::new();
    for f in &spec.file {
        let name = parse_name(f.name.get_ref()).map_err(|e| cx.err(f.name.span(), e))?;
        if files.iter().any(|(n, _): &(FileName, Vec<u8>)| *n == name) {
            return Err(cx.err(f.name.span(), format!("file {name} is listed twice")));
        }
        let data = f
            .data
            .as_ref()
            .map(|d| d.get_ref().clone())
            .unwrap_or_default();
        if let Some(d) = f
            .data
            .as_ref()
            .filter(|d| d.get_ref().len() > vocab::MAX_FILE_LEN as usize)
        {
            return Err(cx.err(
                d.span(),
                format!("at most {} symbols per file", vocab::MAX_FILE_LEN),
            ));
        }
        files.push((name, data));
    }
    let mut processes = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    for p in &spec.process {
        let pid = parse_pid(p.pid.get_ref()).map_err(|e| cx.err(p.pid.span(), e))?;
        if !known(pid.home) {
            return Err(cx.err(
                p.pid.span(),
                format!("{pid}: its home {} is not a host", pid.home),
            ));
        }
        if !listed.insert(pid) {
            return Err(cx.err(p.pid.span(), format!("process {pid} is listed twice")));
        }
        let start_on = match &p.start_on {
            None => None,
            Some(h) => {
                let at = parse_host(h.get_ref()).map_err(|e| cx.err(h.span(), e))?;
                if !known(at) {
                    return Err(cx.err(h.span(), format!("no host {at} in the scenario")));
                }
                if at != pid.home {
                    if let Some(why) = vocab::syntax::cannot_start_away(
                        hosts
                            .iter()
                            .any(|x: &HostConfig| x.id == at && x.owner_present),
                        p.shares_memory || p.maps_device,
                    ) {
                        return Err(cx.err(h.span(), format!("{pid} cannot start on {at}: {why}")));
                    }
                }
                (at != pid.home).then_some(at)
            }
        };
        processes.push(ProcConfig {
            pid,
            start_on,
            pages: p.pages.or(spec.pages).unwrap_or(0),
            shares_memory: p.shares_memory,
            maps_device: p.maps_device,
        });
    }
    let policy = match &spec.policy {
        Some(r) => {
            let rule = r.get_ref();
            rule.check().map_err(|e| cx.err(r.span(), e))?;
            let times = [
                ("no_input_ms", rule.no_input_ms),
                ("sample_ms", rule.sample_ms),
                ("report_ms", rule.report_ms),
            ];
            if let Some((name, ms)) = times.iter().find(|(_, ms)| *ms > MAX_SIM_MS) {
                return Err(cx.err(
                    r.span(),
                    format!("{name} {ms} is more than {MAX_SIM_MS} ms"),
                ));
            }
            Some(rule.clone())
        }
        None => None,
    };
    let rule = policy.clone().unwrap_or_default();
    let mut pmakes = Vec::new();
    for t in &spec.pmake {
        let span = t.client.span();
        let client = parse_pid(t.client.get_ref()).map_err(|e| cx.err(span.clone(), e))?;
        match processes.iter().find(|p| p.pid == client) {
            None => return Err(cx.err(span, format!("{client} is not a listed process"))),
            Some(p) if p.pages == 0 => {
                return Err(cx.err(span, format!("{client} needs a page for its jobs")))
            }
            Some(_) => {}
        }
        if pmakes.iter().any(|p: &PmakeStep| p.client == client) {
            return Err(cx.err(span, format!("{client} runs two pmakes")));
        }
        let first_file = t.first_file.unwrap_or(0);
        let jobs = *t.jobs.get_ref();
        if first_file as usize + jobs as usize > 256 {
            return Err(cx.err(
                t.jobs.span(),
                format!("{jobs} jobs from /f{first_file}: more than 256 output files"),
            ));
        }
        let step_ms = *t.step_ms.get_ref();
        if step_ms.saturating_mul(t.steps.into()) > MAX_SIM_MS {
            return Err(cx.err(
                t.step_ms.span(),
                format!(
                    "{} steps of {step_ms} ms: more than {MAX_SIM_MS} ms",
                    t.steps
                ),
            ));
        }
        let start_ms = match &t.start_ms {
            Some(ms) if *ms.get_ref() > MAX_SIM_MS => {
                return Err(cx.err(
                    ms.span(),
                    format!("start_ms {} is more than {MAX_SIM_MS} ms", ms.get_ref()),
                ))
            }
            Some(ms) => *ms.get_ref(),
            // Both at most MAX_SIM_MS (checked above): no overflow.
            None => rule.no_input_ms + rule.sample_ms,
        };
        let local_slots = match &t.local_slots {
            None => 1,
            Some(n) if *n.get_ref() <= 256 => *n.get_ref(),
            Some(n) => {
                return Err(cx.err(
                    n.span(),
                    format!("local_slots {} is more than 256", n.get_ref()),
                ))
            }
        };
        pmakes.push(PmakeStep {
            client,
            jobs: vec![
                Job {
                    steps: t.steps,
                    step_ms
                };
                jobs as usize
            ],
            local_slots,
            first_file,
            start_ms,
            expect: t.expect.clone(),
            line: cx.line(span),
        });
    }
    if let (Some(p), false) = (spec.pmake.first(), spec.steps.is_empty()) {
        return Err(cx.err(
            p.client.span(),
            "a scenario runs either `steps` or `[[pmake]]`, not both",
        ));
    }
    let mut timed = Vec::new();
    for t in &spec.timed {
        let span = t.event.span();
        if spec.pmake.is_empty() {
            return Err(cx.err(
                span,
                "`timed` events need a `[[pmake]]` (steps have no clock)",
            ));
        }
        let e = parse_event(t.event.get_ref()).map_err(|e| cx.err(span.clone(), e))?;
        if !known(e.host()) {
            return Err(cx.err(span, format!("no host {} in the scenario", e.host())));
        }
        let at_ms = *t.at_ms.get_ref();
        if at_ms > MAX_SIM_MS {
            return Err(cx.err(
                t.at_ms.span(),
                format!("at_ms {at_ms} is more than {MAX_SIM_MS} ms"),
            ));
        }
        timed.push((at_ms, e, cx.line(span)));
    }
    if let Some(s) = spec.steps.get(MAX_STEPS) {
        let span = (s.pid.as_ref().map(|p| p.span()))
            .or(s.event.as_ref().map(|e| e.span()))
            .or(s.settle.as_ref().map(|e| e.span()))
            .unwrap_or(0..0);
        return Err(cx.err(span, format!("more than {MAX_STEPS} steps")));
    }
    // Listed processes per home, and the forks so far (see the pid check below).
    let mut listed_on = [0usize; 256];
    for p in &processes {
        listed_on[p.pid.home.0 as usize] += 1;
    }
    let mut forks = 0usize;
    let mut steps = Vec::new();
    let mut ids: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for s in &spec.steps {
        if let Some(settle) = &s.settle {
            if s.pid.is_some()
                || s.op.is_some()
                || s.event.is_some()
                || s.expect.is_some()
                || s.after.is_some()
                || s.id.is_some()
            {
                return Err(cx.err(settle.span(), "a `settle` step has nothing else"));
            }
            if !settle.get_ref() {
                return Err(cx.err(settle.span(), "`settle` is only ever `true`"));
            }
            steps.push(ScenarioStep {
                kind: StepKind::Settle,
                expect: None,
                line: cx.line(settle.span()),
                after: None,
                id: None,
            });
            continue;
        }
        let (kind, span) = match (&s.pid, &s.op, &s.event) {
            (Some(pid), Some(op), None) => {
                let p = parse_pid(pid.get_ref()).map_err(|e| cx.err(pid.span(), e))?;
                let o = parse_op(op.get_ref()).map_err(|e| cx.err(op.span(), e))?;
                if !known(p.home) {
                    return Err(cx.err(
                        pid.span(),
                        format!("{p}: its home {} is not a host", p.home),
                    ));
                }
                // A child's index is the smallest free on its host, and every index in use
                // there belongs to a listed process or to one a fork created (alive, or
                // naming a group), so a fork can only create indices below this.
                let reachable = listed_on[p.home.0 as usize] + forks;
                if !listed.contains(&p) && usize::from(p.index) >= reachable {
                    return Err(cx.err(
                        pid.span(),
                        format!(
                            "{p} is not a listed process, and no fork before this step can \
                             create it"
                        ),
                    ));
                }
                if o == Op::Fork {
                    forks += 1;
                }
                (StepKind::Op(p, o), op.span())
            }
            (None, None, Some(ev)) => {
                let e = parse_event(ev.get_ref()).map_err(|e| cx.err(ev.span(), e))?;
                let h = e.host();
                if !known(h) {
                    return Err(cx.err(ev.span(), format!("no host {h} in the scenario")));
                }
                (StepKind::Event(e), ev.span())
            }
            (_, _, Some(ev)) => {
                return Err(cx.err(ev.span(), "a step is either `pid` and `op`, or `event`"))
            }
            (Some(pid), None, None) => {
                return Err(cx.err(pid.span(), "step has a `pid` but no `op`"))
            }
            (None, Some(op), None) => {
                return Err(cx.err(op.span(), "step has an `op` but no `pid`"))
            }
            (None, None, None) => {
                let span = s.expect.as_ref().map(|e| e.span()).unwrap_or(0..0);
                return Err(cx.err(span, "empty step"));
            }
        };
        let after = match (&s.after, &kind) {
            (None, _) => None,
            (Some(a), StepKind::Event(_)) => {
                let t =
                    vocab::syntax::parse_trigger(a.get_ref()).map_err(|e| cx.err(a.span(), e))?;
                if !known(t.pid.home) {
                    return Err(cx.err(
                        a.span(),
                        format!("{}: its home {} is not a host", t.pid, t.pid.home),
                    ));
                }
                if s.expect.is_some() {
                    return Err(cx.err(
                        a.span(),
                        "an event with `after` has no `expect` (it reports when it happened)",
                    ));
                }
                Some(t)
            }
            (Some(a), _) => {
                return Err(cx.err(a.span(), "only an `event` step has an `after`"));
            }
        };
        let id = match (&s.id, &kind) {
            (None, _) => None,
            (Some(i), StepKind::Op(..)) => {
                let name = i.get_ref();
                let ok = !name.is_empty()
                    && name.len() <= 32
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && name.starts_with(|c: char| c.is_ascii_alphabetic());
                if !ok {
                    return Err(cx.err(
                        i.span(),
                        format!(
                            "bad id `{}`: a letter, then letters, digits or `_` (at most 32)",
                            quote(name)
                        ),
                    ));
                }
                if !ids.insert(name.clone()) {
                    return Err(cx.err(i.span(), format!("id `{name}` is given twice")));
                }
                Some(name.clone())
            }
            (Some(i), _) => return Err(cx.err(i.span(), "only an operation's step has an `id`")),
        };
        if let Some(e) = &s.expect {
            if let Some((_, name)) = Relation::parse(e.get_ref()) {
                let known_here = ids.contains(name) && id.as_deref() != Some(name);
                if !known_here {
                    return Err(cx.err(
                        e.span(),
                        format!(
                            "`{}` compares with `{}`, which no earlier step has as its `id`",
                            quote(e.get_ref()),
                            quote(name)
                        ),
                    ));
                }
            }
        }
        steps.push(ScenarioStep {
            kind,
            expect: s.expect.as_ref().map(|e| e.get_ref().clone()),
            line: cx.line(span),
            after,
            id,
        });
    }
    let exec_args = match &spec.exec_args {
        None => None,
        Some(a) => {
            if spec.exec_args_bytes.is_some() {
                return Err(cx.err(
                    a.span(),
                    "give `exec_args` or `exec_args_bytes`, not both (the size of real \
                     arguments is theirs)",
                ));
            }
            let n = crate::migrate::encode_args(a.get_ref()).len();
            if n > MAX_EXEC_ARGS as usize {
                return Err(cx.err(
                    a.span(),
                    format!(
                        "exec_args take {n} bytes, more than {MAX_EXEC_ARGS} (an exec's \
                         arguments travel in one message)"
                    ),
                ));
            }
            if a.get_ref().iter().any(|s| s.contains('\0')) {
                return Err(cx.err(a.span(), "an argument cannot contain a NUL character"));
            }
            Some(a.get_ref().clone())
        }
    };
    let exec_args_bytes = match &spec.exec_args_bytes {
        None if exec_args.is_some() => {
            crate::migrate::encode_args(exec_args.as_deref().unwrap_or_default()).len() as u32
        }
        None => 1024,
        Some(n) if *n.get_ref() <= MAX_EXEC_ARGS => *n.get_ref(),
        Some(n) => {
            return Err(cx.err(
                n.span(),
                format!(
                    "exec_args_bytes {} is more than {MAX_EXEC_ARGS} (an exec's arguments \
                     travel in one message)",
                    n.get_ref()
                ),
            ))
        }
    };
    // The inputs of a `[cost_model]` table are checked and calibrated on the
    // implementation's counts (crate::calibrate); the default model is calibrated once per
    // process.
    let cost_model = match &spec.cost_model {
        None => CostModel::default(),
        Some(t) => CostModel::calibrate(t.get_ref()).map_err(|e| cx.err(t.span(), e))?,
    };
    let finals = match &spec.final_state {
        None => Vec::new(),
        Some(_) if !pmakes.is_empty() => {
            return Err(cx.err(
                0..0,
                "`[final]` is checked after a run of `steps`, not with `[[pmake]]` (whose \
                 `expect` says what a pmake run must do)",
            ))
        }
        Some(f) => crate::final_state::validate(&cx, f, &known)?,
    };
    Ok(Scenario {
        cluster: ClusterConfig {
            hosts,
            files,
            processes,
            switches,
            exec_args_bytes,
            exec_args,
        },
        seed: spec.seed.unwrap_or(0),
        schedule: spec.schedule,
        mode,
        steps,
        cost_model,
        precopy_runs: spec.precopy_runs.unwrap_or(false),
        policy: (!pmakes.is_empty()).then_some(rule),
        pmakes,
        timed,
        finals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vocab::Mode;

    const GOOD: &str = r#"
seed = 3
steps = [
  { pid = "p0.0", op = "open /f1 rw create", expect = "fd0" },
  { event = "crash h1" },
]
[[host]]
id = 0
[[host]]
id = 1
[[process]]
pid = "p0.0"
pages = 2
"#;

    #[test]
    fn parses_a_good_scenario() {
        let s = parse("good.toml", GOOD).expect("parses");
        assert_eq!(s.seed, 3);
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[0].line, 4);
        assert_eq!(
            s.steps[0].kind,
            StepKind::Op(
                Pid::new(0, 0),
                Op::Open {
                    name: FileName(1),
                    mode: Mode::ReadWrite,
                    create: true
                }
            )
        );
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let bad = GOOD.replace("open /f1 rw create", "open /f1 rx");
        let e = parse("bad.toml", &bad).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("bad.toml", 4));
        assert!(e.message.contains("bad mode"), "{e}");
        let e = parse("x.toml", "seed = \n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("x.toml", &GOOD.replace("crash h1", "crash h7")).unwrap_err();
        assert!(e.message.contains("no host h7"), "{e}");
        let e = parse(
            "x.toml",
            &GOOD.replace("pages = 2", "pages = 2\ncolour = 3"),
        )
        .unwrap_err();
        assert!(e.message.contains("colour"), "{e}");
    }

    const PMAKE: &str = r#"
seed = 1
timed = [
  { at_ms = 40000, event = "owner-returns h1" },
]
[policy]
no_input_ms = 20000
[[pmake]]
client = "p0.0"
jobs = 3
steps = 2
step_ms = 1000
expect = { completed = 3 }
[[host]]
id = 0
[[host]]
id = 1
[[process]]
pid = "p0.0"
pages = 1
"#;

    #[test]
    fn parses_a_pmake_scenario() {
        let s = parse("pmake.toml", PMAKE).expect("parses");
        assert_eq!(s.pmakes.len(), 1);
        let p = &s.pmakes[0];
        assert_eq!((p.client, p.jobs.len(), p.line), (Pid::new(0, 0), 3, 9));
        assert_eq!(p.start_ms, 25_000, "no_input_ms + sample_ms by default");
        assert_eq!(
            s.timed,
            vec![(40_000, ClusterEvent::OwnerReturns(HostId(1)), 4)]
        );
        assert_eq!(s.policy.map(|r| r.no_input_ms), Some(20_000));
        assert_eq!(p.expect.completed, Some(3));
    }

    #[test]
    fn pmake_errors_are_located() {
        let cases = [
            (
                PMAKE.replace(
                    "seed = 1",
                    "seed = 1\nsteps = [{ pid = \"p0.0\", op = \"getpid\" }]",
                ),
                "either `steps` or `[[pmake]]`",
            ),
            (
                PMAKE.replace("client = \"p0.0\"", "client = \"p1.4\""),
                "p1.4 is not a listed process",
            ),
            (PMAKE.replace("pages = 1", "pages = 0"), "needs a page"),
            (
                PMAKE.replace("owner-returns h1", "owner-returns h8"),
                "no host h8",
            ),
            (
                PMAKE.replace("no_input_ms = 20000", "sample_ms = 0"),
                "must be positive",
            ),
            (PMAKE.replace("jobs = 3", "jobs = 300"), "more than 256"),
            (
                PMAKE.replace("steps = 2", "steps = 2\ncolour = 1"),
                "colour",
            ),
        ];
        for (text, want) in cases {
            let e = parse("p.toml", &text).unwrap_err();
            assert!(e.message.contains(want), "{e}");
            assert!(e.line > 1, "{e}");
        }
        let no_pmake = GOOD.replace(
            "seed = 3",
            "seed = 3\ntimed = [{ at_ms = 1, event = \"crash h1\" }]",
        );
        let e = parse("t.toml", &no_pmake).unwrap_err();
        assert!(e.message.contains("need a `[[pmake]]`"), "{e}");
    }

    #[test]
    fn pipe_and_group_operations_and_settle_parse() {
        assert_eq!(parse_op("pipe"), Ok(Op::Pipe));
        assert_eq!(parse_op("getpgrp"), Ok(Op::Getpgrp));
        assert_eq!(
            parse_op("setpgid p0.1"),
            Ok(Op::Setpgid {
                pgrp: Pid::new(0, 1)
            })
        );
        assert_eq!(
            parse_op("killpg p1.0"),
            Ok(Op::Killpg {
                pgrp: Pid::new(1, 0)
            })
        );
        let with_settle = GOOD.replace(
            "{ event = \"crash h1\" },",
            "{ settle = true },\n  { event = \"crash h1\" },",
        );
        let s = parse("settle.toml", &with_settle).expect("parses");
        assert_eq!(s.steps[1].kind, StepKind::Settle);
        for bad in [
            "{ settle = false },",
            "{ settle = true, pid = \"p0.0\", op = \"pipe\" },",
        ] {
            let text = GOOD.replace("{ event = \"crash h1\" },", bad);
            let e = parse("bad.toml", &text).unwrap_err();
            assert!(e.message.contains("settle"), "{e}");
            assert_eq!(e.line, 5);
        }
    }

    /// (message, line) of the error `text` gives.
    fn error_of(text: &str) -> (String, usize) {
        let e = parse("x.toml", text).unwrap_err();
        (e.message, e.line)
    }

    #[test]
    fn numbers_are_range_checked_where_they_are_written() {
        let host_key =
            |kv: &str| GOOD.replace("[[host]]\nid = 1", &format!("[[host]]\nid = 1\n{kv}"));
        for (text, want, line) in [
            (
                host_key("clock_skew_ms = 9223372036854775807"),
                "clock_skew_ms",
                11,
            ),
            (
                host_key("clock_skew_ms = -9223372036854775808"),
                "clock_skew_ms",
                11,
            ),
            (
                host_key("clock_skew_ms = 4294967296"),
                "at most 4294967295",
                11,
            ),
            (
                GOOD.replace("seed = 3", "exec_args_bytes = 16385"),
                "more than 16384",
                2,
            ),
            (
                GOOD.replace("seed = 3", "exec_args_bytes = 4294967296"),
                "expected u32",
                2,
            ),
            (
                format!("{GOOD}[cost_model]\nrpc_bandwidth_kb_s = 0.0\n"),
                "rpc_bandwidth_kb_s",
                14,
            ),
            (
                PMAKE.replace("at_ms = 40000", "at_ms = 9223372036854775807"),
                "at_ms",
                4,
            ),
            (
                PMAKE.replace("step_ms = 1000", "step_ms = 9223372036854775807"),
                "ms",
                12,
            ),
            (
                PMAKE.replace("step_ms = 1000", "step_ms = 1000\nstart_ms = 99999999999"),
                "start_ms",
                13,
            ),
            (
                PMAKE.replace("step_ms = 1000", "step_ms = 1000\nlocal_slots = 100000"),
                "local_slots",
                13,
            ),
            (
                PMAKE.replace("no_input_ms = 20000", "no_input_ms = 9223372036854775807"),
                "no_input_ms",
                6,
            ),
        ] {
            let (message, at) = error_of(&text);
            assert!(message.contains(want), "{message}");
            assert_eq!(at, line, "{message}");
        }
        // In range: accepted as written.
        let s = parse("x.toml", &host_key("clock_skew_ms = -4294967295")).expect("parses");
        assert_eq!(s.cluster.hosts[1].clock_skew_ms, -4_294_967_295);
        let s = parse(
            "x.toml",
            &GOOD.replace("seed = 3", "exec_args_bytes = 16384"),
        )
        .expect("ok");
        assert_eq!(s.cluster.exec_args_bytes, 16384);
    }

    #[test]
    fn a_step_names_a_process_that_can_exist() {
        let (m, line) = error_of(&GOOD.replace(
            "{ event = \"crash h1\" }",
            "{ pid = \"p0.5\", op = \"getpid\" }",
        ));
        assert!(m.contains("p0.5 is not a listed process"), "{m}");
        assert_eq!(line, 5);
        let (m, line) = error_of(&GOOD.replace(
            "{ event = \"crash h1\" }",
            "{ pid = \"p7.0\", op = \"getpid\" }",
        ));
        assert!(m.contains("its home h7 is not a host"), "{m}");
        assert_eq!(line, 5);
        // A child of a fork before the step: p0.1 (one listed on h0, one fork), not p0.2.
        let fork = |child: &str| {
            GOOD.replace(
                "{ event = \"crash h1\" }",
                &format!("{{ pid = \"p0.0\", op = \"fork\" }},\n  {{ pid = \"{child}\", op = \"getpid\" }}"),
            )
        };
        assert!(parse("x.toml", &fork("p0.1")).is_ok());
        assert!(
            parse("x.toml", &fork("p1.0")).is_ok(),
            "under local-pids h1 can have it"
        );
        let (m, line) = error_of(&fork("p0.2"));
        assert!(m.contains("p0.2 is not a listed process"), "{m}");
        assert_eq!(line, 6);
    }

    #[test]
    fn long_text_is_quoted_by_a_short_prefix() {
        let long = "x".repeat(1 << 20);
        for text in [
            GOOD.replace("open /f1 rw create", &long),
            GOOD.replace("open /f1 rw create", &format!("open /f1 {long}")),
            GOOD.replace("\"p0.0\", op", &format!("\"p{long}\", op")),
            GOOD.replace("crash h1", &format!("crash {long}")),
            GOOD.replace("seed = 3", &format!("switches = \"{long}\"")),
            GOOD.replace("seed = 3", &format!("mode = \"{long}\"")),
            GOOD.replace("id = 1", &format!("id = \"{long}\"")),
            GOOD.replace("seed = 3", &format!("{long} = 3")),
        ] {
            let e = parse("x.toml", &text).unwrap_err();
            assert!(
                e.message.len() < 500,
                "{} bytes: {}",
                e.message.len(),
                &e.message[..500]
            );
        }
        assert_eq!(quote("short"), "short");
        assert_eq!(
            quote(&long),
            format!("{}... (1048576 bytes)", &long[..QUOTE_CHARS])
        );
    }

    #[test]
    fn huge_arrays_are_refused_from_their_tokens() {
        let ones = vec!["1"; MAX_ARRAY_LEN + 1].join(", ");
        let text = GOOD.replace(
            "pages = 2",
            &format!("pages = 2\n[[file]]\nname = \"/f0\"\ndata = [{ones}]"),
        );
        let (m, line) = error_of(&text);
        assert!(m.contains("an array of more than"), "{m}");
        assert_eq!(line, 16);
        // Many arrays, each short enough: the total is bounded.
        let ones = vec!["1"; MAX_ARRAY_LEN - 1].join(", ");
        let files: String = (0..MAX_ITEMS / MAX_ARRAY_LEN + 1)
            .map(|i| format!("[[file]]\nname = \"/f{i}\"\ndata = [{ones}]\n"))
            .collect();
        let (m, _) = error_of(&format!("{GOOD}{files}"));
        assert!(m.contains("keys and values"), "{m}");
        // Under the bounds, the ordinary check says what is wrong.
        let text = GOOD.replace(
            "pages = 2",
            "pages = 2\n[[file]]\nname = \"/f0\"\ndata = [1, 2, 3, 4]",
        );
        assert!(error_of(&text).0.contains("at most 3 symbols per file"));
        // Brackets and commas inside strings and comments are not arrays.
        let text = GOOD.replace(
            "seed = 3",
            &format!(
                "seed = 3 # [{}]\nswitches = \"[,,,]\"",
                ",".repeat(MAX_ARRAY_LEN)
            ),
        );
        assert!(
            error_of(&text).0.contains("switch"),
            "parsed past the comment"
        );
    }

    #[test]
    fn lines_are_counted_right_far_into_a_file() {
        let steps: String = (0..3000)
            .map(|_| "  { pid = \"p0.0\", op = \"getpid\" },\n")
            .collect();
        let text = GOOD.replace("  { event = \"crash h1\" },\n", &steps);
        let s = parse("x.toml", &text).expect("parses");
        assert_eq!(s.steps.len(), 3001);
        assert_eq!(s.steps[3000].line, 3004);
        let bad = GOOD.replace(
            "  { event = \"crash h1\" },\n",
            &format!("{steps}  {{ pid = \"p0.0\", op = \"teleport\" }},\n"),
        );
        let e = parse("x.toml", &bad).unwrap_err();
        assert_eq!((e.line, e.column), (3005, 24), "{e}");
    }

    #[test]
    fn top_level_pages_and_names_are_read() {
        let text = GOOD
            .replace(
                "seed = 3",
                "name = \"x\"\nabout = \"y\"\npages = 3\nseed = 3",
            )
            .replace("pages = 2", "")
            .replace(
                "[[host]]\nid = 1",
                "[[host]]\nid = 1\n[[process]]\npid = \"p1.0\"\npages = 1",
            );
        let s = parse("x.toml", &text).expect("parses");
        let pages: Vec<u8> = s.cluster.processes.iter().map(|p| p.pages).collect();
        assert_eq!(
            pages,
            vec![1, 3],
            "p1.0 gives its own, p0.0 takes the top-level one"
        );
        let s = parse("x.toml", &GOOD.replace("pages = 2", "")).expect("parses");
        assert_eq!(s.cluster.processes[0].pages, 0, "no pages by default");
    }

    #[test]
    fn model_only_keys_are_refused_as_such() {
        for (text, key, line) in [
            (
                GOOD.replace("pages = 2", "pages = 2\nalphabet = [\"getpid\"]"),
                "alphabet",
                14,
            ),
            (
                GOOD.replace("pages = 2", "pages = 2\nbudget = 3"),
                "budget",
                14,
            ),
            (
                GOOD.replace("pages = 2", "pages = 2\nchildren_budget = 3"),
                "children_budget",
                14,
            ),
            (
                GOOD.replace(
                    "seed = 3",
                    "seed = 3\nevents = [{ event = \"crash h1\", times = 1 }]",
                ),
                "events",
                3,
            ),
        ] {
            let (m, at) = error_of(&text);
            assert!(
                m.contains(&format!("`{key}` is a model-only key")) && m.contains("check --file"),
                "{m}"
            );
            assert_eq!(at, line, "{m}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..4000 {
            let bytes = if rng.gen_bool(0.5) { GOOD } else { PMAKE }.as_bytes();
            let mut b = bytes.to_vec();
            for _ in 0..rng.gen_range(1..6) {
                let i = rng.gen_range(0..b.len());
                b[i] = rng.gen_range(b' '..b'~');
            }
            let _ = parse("fuzz.toml", &String::from_utf8_lossy(&b));
        }
        // Malformed operation texts: `vocab::syntax`'s own tests (the parser lives there).
    }
}
