//! Scenario files (TOML): a cluster, initial files and processes, design switches, a seed,
//! and a list of steps (operations of processes and cluster events), each optionally with
//! the result it must give. Operations are written the way traces print them:
//!
//! ```toml
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
//! name = "/f0"
//! data = [1, 2, 3]
//!
//! [[process]]
//! pid = "p0.0"          # starts on its home, h0
//! pages = 4
//! ```
//!
//! Operation syntax: `open /fN r|w|rw [create]`, `read fdN`, `write fdN SYM`,
//! `lseek fdN POS`, `close fdN`, `unlink /fN`, `dup fdN`, `fork`, `exec [hN]`,
//! `exit STATUS`, `wait`, `getpid`, `gettimeofday`, `kill pH.I`, `memread pgN`,
//! `memwrite pgN SYM`, `migrate hN`, `pipe` (an unnamed, non-blocking pipe: two new
//! descriptors, the read end first), `getpgrp`, `setpgid pH.I` (join that process group),
//! `killpg pH.I` (signal every member of that group). Events: `crash hN`, `reboot hN`,
//! `owner-returns hN`, `owner-leaves hN`. An `expect` is the printed outcome (`data 7`,
//! `EOF`, `ok`, `ESRCH`, `EAGAIN`, `EPIPE`, `pipe fd0 fd1`, `p0.0`, `migration refused:
//! ...`, `blocked`, `killed`); a trailing `*` matches a prefix.
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
//! Errors name the file, the line and the problem; nothing panics on input.

use crate::cost::{CostInputs, CostModel};
use crate::policy::{IdleRule, Job};
use crate::sim::{ClusterConfig, HostConfig, ProcConfig, SERVER_VERSION};
use serde::Deserialize;
use std::fmt;
use toml::Spanned;
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Pid, Switches};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    seed: Option<u64>,
    switches: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    exec_args_bytes: Option<u32>,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PmakeTable {
    client: Spanned<String>,
    jobs: Spanned<u16>,
    steps: u8,
    step_ms: u64,
    local_slots: Option<usize>,
    first_file: Option<u8>,
    start_ms: Option<u64>,
    #[serde(default)]
    expect: PmakeExpect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimedSpec {
    at_ms: u64,
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
    clock_skew_ms: Option<i64>,
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
    #[serde(default)]
    pages: u8,
    #[serde(default)]
    shares_memory: bool,
    #[serde(default)]
    maps_device: bool,
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
}

/// A problem with a scenario file, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map(|i| offset - i).unwrap_or(offset + 1);
    (line, col)
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, column) = line_col(self.text, span.start);
        ScenarioError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// Parses and validates a scenario. `file` is only used in error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let cx = Ctx { file, text };
    let spec: FileSpec = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        cx.err(span, e.message().to_string())
    })?;
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
                format!("unknown mode `{other}`; use `sequential` or `concurrent`"),
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
        hosts.push(HostConfig {
            id,
            version: h.version.unwrap_or(SERVER_VERSION),
            clock_skew_ms: h.clock_skew_ms.unwrap_or(0),
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
    for p in &spec.process {
        let pid = parse_pid(p.pid.get_ref()).map_err(|e| cx.err(p.pid.span(), e))?;
        if !known(pid.home) {
            return Err(cx.err(
                p.pid.span(),
                format!("{pid}: its home {} is not a host", pid.home),
            ));
        }
        if processes.iter().any(|x: &ProcConfig| x.pid == pid) {
            return Err(cx.err(p.pid.span(), format!("process {pid} is listed twice")));
        }
        processes.push(ProcConfig {
            pid,
            pages: p.pages,
            shares_memory: p.shares_memory,
            maps_device: p.maps_device,
        });
    }
    let policy = match &spec.policy {
        Some(r) => {
            r.get_ref().check().map_err(|e| cx.err(r.span(), e))?;
            Some(r.get_ref().clone())
        }
        None => None,
    };
    // The inputs of a `[cost_model]` table are calibrated on the implementation's counts
    // (crate::calibrate); the default model is calibrated once per process.
    let cost_model = match &spec.cost_model {
        None => CostModel::default(),
        Some(t) => CostModel::calibrate(t.get_ref()).map_err(|e| cx.err(t.span(), e))?,
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
        let (line, _) = line_col(text, span.start);
        pmakes.push(PmakeStep {
            client,
            jobs: vec![
                Job {
                    steps: t.steps,
                    step_ms: t.step_ms,
                };
                jobs as usize
            ],
            local_slots: t.local_slots.unwrap_or(1),
            first_file,
            start_ms: t.start_ms.unwrap_or(rule.no_input_ms + rule.sample_ms),
            expect: t.expect.clone(),
            line,
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
        let (line, _) = line_col(text, span.start);
        timed.push((t.at_ms, e, line));
    }
    let mut steps = Vec::new();
    for s in &spec.steps {
        if let Some(settle) = &s.settle {
            if s.pid.is_some() || s.op.is_some() || s.event.is_some() || s.expect.is_some() {
                return Err(cx.err(settle.span(), "a `settle` step has nothing else"));
            }
            if !settle.get_ref() {
                return Err(cx.err(settle.span(), "`settle` is only ever `true`"));
            }
            let (line, _) = line_col(text, settle.span().start);
            steps.push(ScenarioStep {
                kind: StepKind::Settle,
                expect: None,
                line,
            });
            continue;
        }
        let (kind, span) = match (&s.pid, &s.op, &s.event) {
            (Some(pid), Some(op), None) => {
                let p = parse_pid(pid.get_ref()).map_err(|e| cx.err(pid.span(), e))?;
                let o = parse_op(op.get_ref()).map_err(|e| cx.err(op.span(), e))?;
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
        let (line, _) = line_col(text, span.start);
        steps.push(ScenarioStep {
            kind,
            expect: s.expect.as_ref().map(|e| e.get_ref().clone()),
            line,
        });
    }
    Ok(Scenario {
        cluster: ClusterConfig {
            hosts,
            files,
            processes,
            switches,
            exec_args_bytes: spec.exec_args_bytes.unwrap_or(1024),
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
    })
}

fn num<T: std::str::FromStr>(s: &str, prefix: &str, what: &str) -> Result<T, String> {
    s.strip_prefix(prefix)
        .unwrap_or(s)
        .parse()
        .map_err(|_| format!("bad {what} `{s}` (expected e.g. `{prefix}0`)"))
}

pub fn parse_pid(s: &str) -> Result<Pid, String> {
    let body = s
        .strip_prefix('p')
        .ok_or_else(|| format!("bad pid `{s}` (expected e.g. `p0.1`)"))?;
    let (h, i) = body
        .split_once('.')
        .ok_or_else(|| format!("bad pid `{s}` (expected e.g. `p0.1`)"))?;
    let home = h
        .parse()
        .map_err(|_| format!("bad pid `{s}`: home `{h}` is not a number"))?;
    let index = i
        .parse()
        .map_err(|_| format!("bad pid `{s}`: index `{i}` is not a number"))?;
    Ok(Pid::new(home, index))
}

pub fn parse_host(s: &str) -> Result<HostId, String> {
    num(s, "h", "host").map(HostId)
}

pub fn parse_name(s: &str) -> Result<FileName, String> {
    num(s, "/f", "file name").map(FileName)
}

fn args<const N: usize>(words: &[&str], usage: &str) -> Result<[String; N], String> {
    if words.len() != N + 1 {
        return Err(format!("`{}` takes {N} argument(s): {usage}", words[0]));
    }
    Ok(std::array::from_fn(|i| words[i + 1].to_string()))
}

/// Parses an operation in trace syntax (see the module documentation).
pub fn parse_op(s: &str) -> Result<Op, String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let Some(first) = words.first() else {
        return Err("empty operation".into());
    };
    let fd = |w: &str| num(w, "fd", "descriptor").map(Fd);
    let sym = |w: &str| num::<u8>(w, "", "symbol");
    let page = |w: &str| num(w, "pg", "page").map(PageNo);
    Ok(match *first {
        "open" => {
            if !(3..=4).contains(&words.len()) {
                return Err(
                    "`open` takes a name, a mode and optionally `create`: open /f0 rw create"
                        .into(),
                );
            }
            let mode = match words[2] {
                "r" => Mode::Read,
                "w" => Mode::Write,
                "rw" => Mode::ReadWrite,
                m => return Err(format!("bad mode `{m}` (use r, w or rw)")),
            };
            let create = match words.get(3) {
                None => false,
                Some(&"create") => true,
                Some(w) => return Err(format!("unexpected `{w}` after the mode (only `create`)")),
            };
            Op::Open {
                name: parse_name(words[1])?,
                mode,
                create,
            }
        }
        "read" => Op::Read {
            fd: fd(&args::<1>(&words, "read fd0")?[0])?,
        },
        "write" => {
            let [f, v] = args::<2>(&words, "write fd0 7")?;
            Op::Write {
                fd: fd(&f)?,
                sym: sym(&v)?,
            }
        }
        "lseek" => {
            let [f, v] = args::<2>(&words, "lseek fd0 0")?;
            Op::Lseek {
                fd: fd(&f)?,
                pos: sym(&v)?,
            }
        }
        "close" => Op::Close {
            fd: fd(&args::<1>(&words, "close fd0")?[0])?,
        },
        "unlink" => Op::Unlink {
            name: parse_name(&args::<1>(&words, "unlink /f0")?[0])?,
        },
        "dup" => Op::Dup {
            fd: fd(&args::<1>(&words, "dup fd0")?[0])?,
        },
        "fork" => {
            args::<0>(&words, "fork")?;
            Op::Fork
        }
        "exec" => match words.len() {
            1 => Op::Exec { target: None },
            2 => Op::Exec {
                target: Some(parse_host(words[1])?),
            },
            _ => return Err("`exec` takes at most a host: exec h1".into()),
        },
        "exit" => Op::Exit {
            status: sym(&args::<1>(&words, "exit 0")?[0])?,
        },
        "wait" => {
            args::<0>(&words, "wait")?;
            Op::Wait
        }
        "getpid" => {
            args::<0>(&words, "getpid")?;
            Op::Getpid
        }
        "gettimeofday" => {
            args::<0>(&words, "gettimeofday")?;
            Op::Gettimeofday
        }
        "kill" => Op::Kill {
            pid: parse_pid(&args::<1>(&words, "kill p0.1")?[0])?,
        },
        "memread" => Op::MemRead {
            page: page(&args::<1>(&words, "memread pg0")?[0])?,
        },
        "memwrite" => {
            let [p, v] = args::<2>(&words, "memwrite pg0 7")?;
            Op::MemWrite {
                page: page(&p)?,
                sym: sym(&v)?,
            }
        }
        "migrate" => Op::Migrate {
            target: parse_host(&args::<1>(&words, "migrate h1")?[0])?,
        },
        "pipe" => {
            args::<0>(&words, "pipe")?;
            Op::Pipe
        }
        "getpgrp" => {
            args::<0>(&words, "getpgrp")?;
            Op::Getpgrp
        }
        "setpgid" => Op::Setpgid {
            pgrp: parse_pid(&args::<1>(&words, "setpgid p0.1")?[0])?,
        },
        "killpg" => Op::Killpg {
            pgrp: parse_pid(&args::<1>(&words, "killpg p0.0")?[0])?,
        },
        other => return Err(format!("unknown operation `{other}`")),
    })
}

pub fn parse_event(s: &str) -> Result<ClusterEvent, String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let [what, host] = words.as_slice() else {
        return Err(format!("bad event `{s}` (expected e.g. `crash h1`)"));
    };
    let h = parse_host(host)?;
    Ok(match *what {
        "crash" => ClusterEvent::Crash(h),
        "reboot" => ClusterEvent::Reboot(h),
        "owner-returns" => ClusterEvent::OwnerReturns(h),
        "owner-leaves" => ClusterEvent::OwnerLeaves(h),
        other => {
            return Err(format!(
                "unknown event `{other}` (crash, reboot, owner-returns, owner-leaves)"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for s in [
            "",
            "open",
            "write fd0",
            "kill p0",
            "migrate hx",
            "exec h1 h2",
            "lseek fd0 999",
            "pipe fd0",
            "getpgrp p0.0",
            "setpgid",
            "killpg h1",
        ] {
            assert!(parse_op(s).is_err(), "{s}");
        }
    }
}
