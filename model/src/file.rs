//! Configuration files: a configuration of the model written in TOML, in the vocabulary of
//! the implementation's scenario files (`impl/src/scenario.rs`), so that one file can be
//! checked exhaustively on the model (`check --file f.toml`) and run on the implementation
//! (`scenario f.toml`). `check show NAME` writes any built-in configuration this way.
//!
//! ```toml
//! name = "temp-file"                 # optional (default: the file's name without .toml)
//! about = "create, unlink, migrate, read back"   # optional
//! switches = "sprite"                # optional: or design switches joined by `+`
//! pages = 1                          # optional: pages of every process (default 0)
//! delayed_writes = true              # optional: hosts may write dirty blocks back at any
//!                                    # moment, each a step (`Config::delayed_writes`)
//! steps = [                          # each process's operations, in order
//!   { pid = "p0.0", op = "open /f0 rw create", expect = "fd0" },
//!   { pid = "p0.0", op = "fork" },                # its child is p0.1 (see below)
//!   { pid = "p0.1", op = "migrate h1" },
//!   { event = "owner-returns h1" },               # may happen once, at any point
//! ]
//!
//! [[host]]
//! id = 0                             # hosts are h0, h1, ... (at most 4), without gaps
//! clock_skew_ms = 10000              # optional: the model's clock reads 10 (whole seconds)
//! version = 1                        # optional: the kernel's migration version
//! owner = false                      # optional: the owner is at the console
//!
//! [[file]]
//! name = "/f0"                      # or an absolute path such as "/tmp/data"
//! data = [1, 2]                      # at most 3 symbols
//!
//! [[process]]
//! pid = "p0.0"                       # starts on its home, h0
//! start_on = "h1"                    # optional: starts on h1 instead, as if it had moved
//! pages = 1                          # optional: the top-level `pages`
//! shares_memory = false              # optional: may never migrate (also `maps_device`)
//! ```
//!
//! **What a scenario means on the model.** The steps naming a process, in the order they
//! are listed, are its script (`Script::new`); the checker explores every interleaving of
//! the scripts. Each `event` step is an event that may happen once at any point (an event
//! listed n times may happen n times), so an event's `after` (the moment the implementation
//! makes it happen, inside a migration or an operation) is checked and not used: every
//! moment is among the points the model explores. `expect`, `id` and `settle` are not used: the model
//! compares every result with one Unix machine, in every order. The implementation's keys
//! that choose one run among those the checker explores, price it or check its end (`seed`,
//! `schedule`, `mode`, `exec_args_bytes`, `exec_args`, `[cost_model]`, `[final]`), are accepted and not
//! used; those the model
//! cannot express (`[[pmake]]`, `[policy]`, `timed`, `precopy_runs = true`) are refused.
//!
//! **Forked children.** On the model the k-th `fork` of a script starts the script
//! `children[k]` (`Script::forking`). In a file the child's operations are the steps naming
//! the pid Sprite gives it, followed through the steps in their order: a fork's child gets
//! the smallest slot index on its parent's home that no process holds (alive, exited and not
//! yet collected by `wait`, or naming a live process's group), in the slot's next
//! generation. So after `p0.0` forks twice (no other process of h0 listed), the children
//! are `p0.1` and `p0.2`; if the first has exited and been collected before the second
//! fork, the second is `p0.1.1` (slot 1, generation 1). `wait` collects the exited child
//! with the smallest pid, or blocks until a child exits. What the steps cannot tell is
//! refused: a step naming a process after its `exit`; a fork, exit, wait or setpgid of a
//! process still blocked in `wait`; and the children of forks after a crash step, under the
//! `local-pids` switch, or on a home where an alphabet may fork (their pids are unknown, so
//! no step may name them).
//!
//! **Open configurations.** Model-only keys (the implementation's `scenario` refuses them,
//! saying they are model-only) let a process run *every* program of at most `budget`
//! operations over an alphabet (`Script::alphabet`, `Script::alphabet_forking`), and let
//! events happen at any point a given number of times:
//!
//! ```toml
//! events = [{ event = "owner-returns h1", times = 1 }]   # at most 8 events, 15 times each
//!
//! [[process]]
//! pid = "p0.0"
//! alphabet = ["open /f0 rw create", "read fd0", "fork", "migrate h1"]
//! budget = 4                         # at most 15
//! children_alphabet = ["read fd0", "migrate h0"]   # optional: what its children run
//! children_budget = 2                # (default: the parent's alphabet, continuing its count)
//! ```
//!
//! A process runs either an alphabet or the steps naming it, not both. The model's events
//! are those of `events`, in order, then those of the steps, in the order they first appear.
//!
//! **Limits.** Everything is range-checked here, so that the model never indexes outside a
//! table: at most [`MAX_HOSTS`] hosts; every process has the same number of pages (the
//! model has one `pages` for all); a clock is a whole, non-negative number of seconds
//! (`clock_skew_ms` a multiple of 1000); versions at most 255; at most [`MAX_FILES`] files;
//! at most [`MAX_EVENTS`] events, each at most [`MAX_EVENT_TIMES`] times (four bits each
//! in `State::events_used`), on listed hosts; budgets at most [`MAX_BUDGET`]; scripts at
//! most [`MAX_SCRIPT_OPS`] operations, and at most [`MAX_OPENS`] files, `open`s and `pipe`s
//! (two each) in all; at most [`MAX_PROGRAMS`] programs; the file at most
//! [`MAX_FILE_BYTES`]. (An alphabet is not bounded this way: one with `fork`, `open` or
//! `pipe` and a large budget could make more files or streams than the model numbers, but
//! its states would be far too many to check long before.) Errors are
//! `file:line:col: problem`, quoting at most `vocab::syntax::QUOTE_CHARS` characters of the
//! input; nothing panics on input.

use crate::config::{Config, HostSpec, ProcSpec, Script};
use serde::Deserialize;
use std::fmt::Write as _;
use std::ops::Range;
use toml::Spanned;
use vocab::syntax::{self, quote, Source, TextError};
use vocab::{ClusterEvent, FileName, HostId, Op, Pid, Switch, Switches};

/// Largest configuration file read.
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Most hosts (the state keeps four inline, and the configurations need no more).
pub const MAX_HOSTS: usize = 4;
/// Largest budget of an alphabet: every program of up to this many operations.
pub const MAX_BUDGET: u8 = 15;
/// Most distinct cluster events (`State::events_used` keeps four bits for each in a u32).
pub const MAX_EVENTS: usize = 8;
/// Most times one event may happen (four bits).
pub const MAX_EVENT_TIMES: u8 = 15;
/// Most operations in one script (a process's position in it is a u8).
pub const MAX_SCRIPT_OPS: usize = 255;
/// Most programs, scripts and alphabets, in a configuration (a process names its program
/// with a u8).
pub const MAX_PROGRAMS: usize = 255;
/// Most initial files (inodes are u8, and files created and pipes made need some too).
pub const MAX_FILES: usize = 16;
/// Most files and streams the initial files and the scripts' `open`s and `pipe`s (two
/// streams each) may make in all: the model numbers inodes and streams with a u8.
pub const MAX_OPENS: usize = 250;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: Option<String>,
    about: Option<String>,
    pages: Option<u8>,
    switches: Option<Spanned<String>>,
    delayed_writes: Option<bool>,
    #[serde(default)]
    events: Vec<EventSpec>,
    #[serde(default)]
    steps: Vec<StepSpec>,
    #[serde(default)]
    host: Vec<HostEntry>,
    #[serde(default)]
    file: Vec<FileEntry>,
    #[serde(default)]
    process: Vec<ProcEntry>,
    // The implementation's keys that choose or price one run: accepted, not used.
    #[allow(dead_code)]
    seed: Option<u64>,
    #[allow(dead_code)]
    schedule: Option<Vec<usize>>,
    mode: Option<Spanned<String>>,
    #[allow(dead_code)]
    exec_args_bytes: Option<u32>,
    #[allow(dead_code)]
    exec_args: Option<Vec<String>>,
    #[allow(dead_code)]
    cost_model: Option<toml::Value>,
    /// The implementation's checks on its cluster at the end of one run: the model checks
    /// its invariants in every state instead. Accepted, not used.
    #[allow(dead_code)]
    #[serde(rename = "final")]
    final_state: Option<toml::Value>,
    // The implementation's keys the model cannot express: refused.
    precopy_runs: Option<Spanned<bool>>,
    policy: Option<Spanned<toml::Value>>,
    pmake: Option<Spanned<toml::Value>>,
    timed: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSpec {
    event: Spanned<String>,
    times: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    pid: Option<Spanned<String>>,
    op: Option<Spanned<String>>,
    event: Option<Spanned<String>>,
    #[allow(dead_code)]
    expect: Option<Spanned<String>>,
    settle: Option<Spanned<bool>>,
    /// The moment an event happens on the implementation (`after = "MIG_STATE p0.0"`):
    /// checked, not used, since the model lets the event happen at every point.
    after: Option<Spanned<String>>,
    /// A name for a result that a later `expect` compares with: not used, like `expect`.
    #[allow(dead_code)]
    id: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostEntry {
    id: Spanned<u8>,
    version: Option<Spanned<u16>>,
    clock_skew_ms: Option<Spanned<i64>>,
    owner: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    name: Spanned<String>,
    data: Option<Spanned<Vec<u8>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcEntry {
    pid: Spanned<String>,
    /// Where it runs at the start, if not its home.
    start_on: Option<Spanned<String>>,
    pages: Option<Spanned<u8>>,
    #[serde(default)]
    shares_memory: bool,
    #[serde(default)]
    maps_device: bool,
    alphabet: Option<Spanned<Vec<Spanned<String>>>>,
    budget: Option<Spanned<i64>>,
    children_alphabet: Option<Spanned<Vec<Spanned<String>>>>,
    children_budget: Option<Spanned<i64>>,
}

/// A program being built: its operations, its budget if it is an alphabet, its children
/// (indices into the builder's programs).
struct Program {
    ops: Vec<Op>,
    budget: Option<u8>,
    children: Vec<usize>,
}

/// The name a file gives a configuration by default: its file name without `.toml`.
fn default_name(file: &str) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    base.strip_suffix(".toml").unwrap_or(base).to_string()
}

/// Parses and validates a configuration file. `file` names it in errors and gives the
/// default name.
pub fn load(file: &str, text: &str) -> Result<Config, TextError> {
    let cx = Source::new(file, text);
    if text.len() > MAX_FILE_BYTES {
        return Err(cx.err(
            0..0,
            format!(
                "the file has {} bytes, more than the {MAX_FILE_BYTES} a configuration may have",
                text.len()
            ),
        ));
    }
    let spec: FileSpec = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        cx.err(span, e.message().to_string())
    })?;
    Loader { cx: &cx }.build(spec)
}

/// Reads and loads a configuration file.
pub fn load_path(path: &std::path::Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    load(&path.display().to_string(), &text).map_err(|e| e.to_string())
}

struct Loader<'a> {
    cx: &'a Source<'a>,
}

impl Loader<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> TextError {
        self.cx.err(span, message)
    }

    fn op(&self, s: &Spanned<String>) -> Result<Op, TextError> {
        syntax::parse_op(s.get_ref()).map_err(|e| self.err(s.span(), e))
    }

    /// A budget, range-checked.
    fn budget(&self, key: &str, b: &Spanned<i64>) -> Result<u8, TextError> {
        match u8::try_from(*b.get_ref()) {
            Ok(v) if v <= MAX_BUDGET => Ok(v),
            _ => Err(self.err(
                b.span(),
                format!(
                    "{key} {} is out of range: from 0 to {MAX_BUDGET} operations",
                    b.get_ref()
                ),
            )),
        }
    }

    /// An alphabet: its operations, each once.
    fn alphabet(&self, key: &str, a: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<Op>, TextError> {
        let mut ops = Vec::new();
        for s in a.get_ref() {
            let op = self.op(s)?;
            if ops.contains(&op) {
                return Err(self.err(
                    s.span(),
                    format!("`{}` is twice in the {key}", quote(s.get_ref())),
                ));
            }
            ops.push(op);
        }
        if ops.is_empty() {
            return Err(self.err(a.span(), format!("an empty {key}")));
        }
        Ok(ops)
    }

    fn build(&self, spec: FileSpec) -> Result<Config, TextError> {
        self.refuse_implementation_only(&spec)?;
        let switches = match &spec.switches {
            None => Switches::SPRITE,
            Some(s) => s
                .get_ref()
                .parse()
                .map_err(|e: String| self.err(s.span(), e))?,
        };
        if let Some(m) = &spec.mode {
            if !matches!(m.get_ref().as_str(), "sequential" | "concurrent") {
                return Err(self.err(
                    m.span(),
                    format!(
                        "unknown mode `{}`; use `sequential` or `concurrent`",
                        quote(m.get_ref())
                    ),
                ));
            }
        }
        let hosts = self.hosts(&spec)?;
        let known = |h: HostId| usize::from(h.0) < hosts.len();
        let files = self.files(&spec)?;

        // The listed processes, each with its program.
        let mut programs: Vec<Program> = Vec::new();
        let mut procs: Vec<(ProcSpec, usize)> = Vec::new();
        let mut pages: Option<(u8, Pid)> = None;
        for p in &spec.process {
            let pid = syntax::parse_pid(p.pid.get_ref()).map_err(|e| self.err(p.pid.span(), e))?;
            if !known(pid.home) {
                return Err(self.err(
                    p.pid.span(),
                    format!("{pid}: its home {} is not a host", pid.home),
                ));
            }
            if procs.iter().any(|(q, _)| q.pid == pid) {
                return Err(self.err(p.pid.span(), format!("process {pid} is listed twice")));
            }
            let n = p
                .pages
                .as_ref()
                .map(|n| *n.get_ref())
                .or(spec.pages)
                .unwrap_or(0);
            match pages {
                None => pages = Some((n, pid)),
                Some((m, first)) if m != n => {
                    let span = p.pages.as_ref().map_or(p.pid.span(), |n| n.span());
                    return Err(self.err(
                        span,
                        format!(
                            "{pid} has {n} pages and {first} {m}: on the model every process \
                             has the same number of pages (write `pages` once, at the top)"
                        ),
                    ));
                }
                Some(_) => {}
            }
            let program = self.listed_program(p)?;
            if programs.len() + program.len() > MAX_PROGRAMS {
                return Err(self.err(
                    p.pid.span(),
                    format!("more than {MAX_PROGRAMS} processes and programs"),
                ));
            }
            let start_on = match &p.start_on {
                None => None,
                Some(h) => {
                    let at = syntax::parse_host(h.get_ref()).map_err(|e| self.err(h.span(), e))?;
                    if !known(at) {
                        return Err(
                            self.err(h.span(), format!("no host {at} in the configuration"))
                        );
                    }
                    let owner = hosts.get(usize::from(at.0)).is_some_and(|x| x.owner);
                    let why = (at != pid.home)
                        .then(|| syntax::cannot_start_away(owner, p.shares_memory || p.maps_device))
                        .flatten();
                    if let Some(why) = why {
                        return Err(
                            self.err(h.span(), format!("{pid} cannot start on {at}: {why}"))
                        );
                    }
                    (at != pid.home).then_some(at)
                }
            };
            procs.push((
                ProcSpec {
                    pid,
                    script: 0,
                    start_on,
                    shares_memory: p.shares_memory,
                    maps_device: p.maps_device,
                },
                programs.len(),
            ));
            programs.extend(program);
        }

        let mut events: Vec<(ClusterEvent, u8)> = Vec::new();
        for e in &spec.events {
            let ev = self.event(&e.event, &known)?;
            let times = match &e.times {
                None => 1,
                Some(t) => match u8::try_from(*t.get_ref()) {
                    Ok(n @ 1..=MAX_EVENT_TIMES) => n,
                    _ => {
                        return Err(self.err(
                            t.span(),
                            format!(
                                "times {} is out of range: from 1 to {MAX_EVENT_TIMES}",
                                t.get_ref()
                            ),
                        ))
                    }
                },
            };
            if events.iter().any(|(x, _)| *x == ev) {
                return Err(self.err(
                    e.event.span(),
                    format!(
                        "event `{}` is listed twice in `events` (use `times`)",
                        quote(e.event.get_ref())
                    ),
                ));
            }
            self.add_event(&mut events, ev, times, e.event.span())?;
        }

        // The steps: each process's script, its children's, the events.
        let listed: Vec<(Pid, usize, bool)> = procs
            .iter()
            .map(|(p, i)| {
                let forks = programs[*i].budget.is_some() && programs[*i].ops.contains(&Op::Fork);
                (p.pid, *i, forks)
            })
            .collect();
        let mut run = Pids::new(&listed, switches);
        let mut opens = files.len();
        for s in &spec.steps {
            if let Some(a) = &s.after {
                if s.event.is_none() || s.settle.is_some() {
                    return Err(self.err(a.span(), "only an `event` step has an `after`"));
                }
                let t = syntax::parse_trigger(a.get_ref()).map_err(|e| self.err(a.span(), e))?;
                if !known(t.pid.home) {
                    return Err(self.err(
                        a.span(),
                        format!("{}: its home {} is not a host", t.pid, t.pid.home),
                    ));
                }
            }
            if let Some(settle) = &s.settle {
                if s.pid.is_some() || s.op.is_some() || s.event.is_some() || s.expect.is_some() {
                    return Err(self.err(settle.span(), "a `settle` step has nothing else"));
                }
                if !settle.get_ref() {
                    return Err(self.err(settle.span(), "`settle` is only ever `true`"));
                }
                continue;
            }
            match (&s.pid, &s.op, &s.event) {
                (Some(pid_text), Some(op_text), None) => {
                    let span = pid_text.span();
                    let line = self.cx.line(op_text.span());
                    let pid = syntax::parse_pid(pid_text.get_ref())
                        .map_err(|e| self.err(span.clone(), e))?;
                    let op = self.op(op_text)?;
                    if !known(pid.home) {
                        return Err(
                            self.err(span, format!("{pid}: its home {} is not a host", pid.home))
                        );
                    }
                    let who = run.named(pid).map_err(|e| self.err(span.clone(), e))?;
                    let i = run.procs[who].program;
                    if programs[i].budget.is_some() {
                        return Err(self.err(
                            span,
                            format!(
                                "{pid} runs an alphabet: a process runs either an alphabet or \
                                 the steps naming it"
                            ),
                        ));
                    }
                    if programs[i].ops.len() >= MAX_SCRIPT_OPS {
                        return Err(self.err(
                            op_text.span(),
                            format!("{pid} has more than {MAX_SCRIPT_OPS} operations"),
                        ));
                    }
                    opens += match op {
                        Op::Open { .. } => 1,
                        Op::Pipe => 2,
                        _ => 0,
                    };
                    if opens > MAX_OPENS {
                        return Err(self.err(
                            op_text.span(),
                            format!(
                                "more than {MAX_OPENS} files, opens and pipes in all: the model \
                                 numbers files and streams with a byte"
                            ),
                        ));
                    }
                    programs[i].ops.push(op);
                    let child = programs.len();
                    if run
                        .step(who, op, line, child)
                        .map_err(|e| self.err(op_text.span(), e))?
                    {
                        if child >= MAX_PROGRAMS {
                            return Err(self.err(
                                op_text.span(),
                                format!("more than {MAX_PROGRAMS} processes and children"),
                            ));
                        }
                        programs[i].children.push(child);
                        programs.push(Program {
                            ops: Vec::new(),
                            budget: None,
                            children: Vec::new(),
                        });
                    }
                }
                (None, None, Some(ev)) => {
                    let e = self.event(ev, &known)?;
                    if matches!(e, ClusterEvent::Crash(_)) {
                        run.crash(self.cx.line(ev.span()));
                    }
                    self.add_event(&mut events, e, 1, ev.span())?;
                }
                (_, _, Some(ev)) => {
                    return Err(self.err(ev.span(), "a step is either `pid` and `op`, or `event`"))
                }
                (Some(pid), None, None) => {
                    return Err(self.err(pid.span(), "step has a `pid` but no `op`"))
                }
                (None, Some(op), None) => {
                    return Err(self.err(op.span(), "step has an `op` but no `pid`"))
                }
                (None, None, None) => {
                    let span = s.expect.as_ref().map(|e| e.span()).unwrap_or(0..0);
                    return Err(self.err(span, "empty step"));
                }
            }
        }

        // Number the programs depth first: each listed process's, then its children's.
        let mut scripts: Vec<Script> = Vec::new();
        let mut procs_out = Vec::new();
        for (mut p, i) in procs {
            p.script = number(&programs, i, &mut scripts);
            procs_out.push(p);
        }
        Ok(Config {
            name: spec.name.unwrap_or_else(|| default_name(self.cx.file)),
            about: spec.about.unwrap_or_default(),
            hosts,
            files,
            procs: procs_out,
            scripts,
            pages: pages.map_or(spec.pages.unwrap_or(0), |(n, _)| n),
            events,
            switches,
            delayed_writes: spec.delayed_writes.unwrap_or(false),
        })
    }

    fn refuse_implementation_only(&self, spec: &FileSpec) -> Result<(), TextError> {
        let refuse = |key: &str, span: Range<usize>, why: &str| {
            Err(self.err(
                span,
                format!("`{key}` cannot be checked on the model ({why}); run it with `scenario`"),
            ))
        };
        if let Some(p) = spec.precopy_runs.as_ref().filter(|p| *p.get_ref()) {
            return refuse(
                "precopy_runs",
                p.span(),
                "a process the model moves with precopy-vm is frozen during the copy",
            );
        }
        for (key, v) in [
            ("pmake", &spec.pmake),
            ("policy", &spec.policy),
            ("timed", &spec.timed),
        ] {
            if let Some(v) = v {
                return refuse(key, v.span(), "the model has no load daemons and no clock");
            }
        }
        Ok(())
    }

    fn hosts(&self, spec: &FileSpec) -> Result<Vec<HostSpec>, TextError> {
        if spec.host.is_empty() {
            return Err(self.err(0..0, "no [[host]] in the configuration"));
        }
        if let Some(h) = spec.host.get(MAX_HOSTS) {
            return Err(self.err(
                h.id.span(),
                format!("more than {MAX_HOSTS} hosts: the model has at most {MAX_HOSTS}"),
            ));
        }
        let n = spec.host.len();
        let mut hosts: Vec<Option<HostSpec>> = vec![None; n];
        for h in &spec.host {
            let id = *h.id.get_ref();
            let Some(slot) = hosts.get_mut(usize::from(id)) else {
                return Err(self.err(
                    h.id.span(),
                    format!(
                        "host h{id}: the model numbers its {n} hosts h0 to h{} (no gaps)",
                        n - 1
                    ),
                ));
            };
            if slot.is_some() {
                return Err(self.err(h.id.span(), format!("host h{id} is listed twice")));
            }
            let version = match &h.version {
                None => 1,
                Some(v) => u8::try_from(*v.get_ref()).map_err(|_| {
                    self.err(
                        v.span(),
                        format!("version {} is more than the model's 255", v.get_ref()),
                    )
                })?,
            };
            let clock = match &h.clock_skew_ms {
                None => 0,
                Some(k) => {
                    let ms = *k.get_ref();
                    match u32::try_from(ms / 1000) {
                        Ok(s) if ms % 1000 == 0 && ms >= 0 => s,
                        _ => {
                            return Err(self.err(
                                k.span(),
                                format!(
                                    "clock_skew_ms {ms}: the model's clocks read whole seconds \
                                     from 0 (clock_skew_ms / 1000), so it must be a multiple \
                                     of 1000 from 0 to {}",
                                    u64::from(u32::MAX) * 1000
                                ),
                            ))
                        }
                    }
                }
            };
            *slot = Some(HostSpec {
                version,
                clock,
                owner: h.owner.unwrap_or(false),
            });
        }
        Ok(hosts
            .into_iter()
            .map(|h| h.expect("every slot filled"))
            .collect())
    }

    fn files(&self, spec: &FileSpec) -> Result<Vec<(FileName, Vec<u8>)>, TextError> {
        let mut files: Vec<(FileName, Vec<u8>)> = Vec::new();
        for f in &spec.file {
            let name =
                syntax::parse_name(f.name.get_ref()).map_err(|e| self.err(f.name.span(), e))?;
            if files.iter().any(|(n, _)| *n == name) {
                return Err(self.err(f.name.span(), format!("file {name} is listed twice")));
            }
            if files.len() == MAX_FILES {
                return Err(self.err(f.name.span(), format!("more than {MAX_FILES} files")));
            }
            let data = match &f.data {
                None => Vec::new(),
                Some(d) if d.get_ref().len() > usize::from(vocab::MAX_FILE_LEN) => {
                    return Err(self.err(
                        d.span(),
                        format!("at most {} symbols per file", vocab::MAX_FILE_LEN),
                    ))
                }
                Some(d) => d.get_ref().clone(),
            };
            files.push((name, data));
        }
        Ok(files)
    }

    /// The program of a listed process, and its children's if it is an alphabet with a
    /// `children_alphabet` (the first is the process's).
    fn listed_program(&self, p: &ProcEntry) -> Result<Vec<Program>, TextError> {
        let empty = |ops, budget| Program {
            ops,
            budget,
            children: Vec::new(),
        };
        let (alphabet, budget) = match (&p.alphabet, &p.budget) {
            (None, None) => {
                if let Some(c) = p.children_alphabet.as_ref() {
                    return Err(self.err(
                        c.span(),
                        "`children_alphabet` without an `alphabet`: the children of a \
                         process that runs steps run the steps naming them",
                    ));
                }
                if let Some(c) = p.children_budget.as_ref() {
                    return Err(self.err(c.span(), "`children_budget` without an `alphabet`"));
                }
                return Ok(vec![empty(Vec::new(), None)]);
            }
            (Some(a), Some(b)) => (self.alphabet("alphabet", a)?, self.budget("budget", b)?),
            (Some(a), None) => return Err(self.err(a.span(), "an `alphabet` needs a `budget`")),
            (None, Some(b)) => return Err(self.err(b.span(), "a `budget` needs an `alphabet`")),
        };
        let mut parent = empty(alphabet, Some(budget));
        let child = match (&p.children_alphabet, &p.children_budget) {
            (None, None) => return Ok(vec![parent]),
            (Some(a), Some(b)) => {
                if !parent.ops.contains(&Op::Fork) {
                    return Err(self.err(
                        a.span(),
                        "`children_alphabet`, but the `alphabet` has no `fork`",
                    ));
                }
                empty(
                    self.alphabet("children_alphabet", a)?,
                    Some(self.budget("children_budget", b)?),
                )
            }
            (Some(a), None) => {
                return Err(self.err(a.span(), "a `children_alphabet` needs a `children_budget`"))
            }
            (None, Some(b)) => {
                return Err(self.err(b.span(), "a `children_budget` needs a `children_alphabet`"))
            }
        };
        // The child is the next program: the builder puts it right after its parent.
        parent.children.push(usize::MAX);
        Ok(vec![parent, child])
    }

    fn event(
        &self,
        ev: &Spanned<String>,
        known: &impl Fn(HostId) -> bool,
    ) -> Result<ClusterEvent, TextError> {
        let e = syntax::parse_event(ev.get_ref()).map_err(|e| self.err(ev.span(), e))?;
        if !known(e.host()) {
            return Err(self.err(
                ev.span(),
                format!("no host {} in the configuration", e.host()),
            ));
        }
        Ok(e)
    }

    fn add_event(
        &self,
        events: &mut Vec<(ClusterEvent, u8)>,
        e: ClusterEvent,
        times: u8,
        span: Range<usize>,
    ) -> Result<(), TextError> {
        let full = events.len() == MAX_EVENTS;
        match events.iter_mut().find(|(x, _)| *x == e) {
            Some((_, n)) if *n + times > MAX_EVENT_TIMES => Err(self.err(
                span,
                format!(
                    "event `{}` more than {MAX_EVENT_TIMES} times",
                    syntax::event_text(&e)
                ),
            )),
            Some((_, n)) => {
                *n += times;
                Ok(())
            }
            None if full => Err(self.err(
                span,
                format!(
                    "more than {MAX_EVENTS} different events: the model keeps at most {MAX_EVENTS}"
                ),
            )),
            None => {
                events.push((e, times));
                Ok(())
            }
        }
    }
}

/// Where a process is in its life as the steps run one after another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Alive,
    /// Blocked in the `wait` of this line.
    Waiting(usize),
    /// Exited; its parent has not collected the status.
    Zombie,
    Gone,
}

#[derive(Debug)]
struct Tracked {
    pid: Pid,
    /// The program it runs (an index of the loader's programs).
    program: usize,
    parent: Option<usize>,
    pgrp: Pid,
    life: Life,
    /// The line of its `exit`.
    exited: Option<usize>,
}

/// The pids of a file's processes, followed through its steps in order as Sprite gives
/// them (the model's `fork`, `exit`, `wait` and `setpgid` do the same): a fork's child gets
/// the smallest index below 255 on its parent's home that no process there holds (alive,
/// exited and not yet collected, or naming the process group of a live process), in the
/// slot's next generation, so a slot is reused once its process has exited and been
/// collected; `wait` collects the exited child with the smallest pid, or blocks until a
/// child exits. Where this cannot be known
/// from the steps alone, a fork's child has no known pid and no step may name it: after a
/// crash, under `local-pids`, on a home where an alphabet may fork.
struct Pids {
    procs: Vec<Tracked>,
    /// The process each pid names now (the last one given it).
    now: std::collections::BTreeMap<Pid, usize>,
    /// Homes whose pids the steps cannot follow, and why.
    unknown: std::collections::BTreeMap<HostId, String>,
    /// Forks whose child has no known pid: the line and why.
    unnamed: Option<(usize, String)>,
    local_pids: bool,
    /// Why no pid is known after a crash.
    crashed: Option<String>,
    /// The generation the next process given each slot gets.
    gens: std::collections::BTreeMap<(HostId, u8), u8>,
}

impl Pids {
    /// The listed processes: (pid, program, whether it runs an alphabet that forks).
    fn new(listed: &[(Pid, usize, bool)], switches: Switches) -> Pids {
        let mut unknown = std::collections::BTreeMap::new();
        for (pid, _, _) in listed.iter().filter(|l| l.2) {
            unknown.insert(
                pid.home,
                format!(
                    "{pid} runs an alphabet with `fork`, whose children take pids of {} too",
                    pid.home
                ),
            );
        }
        Pids {
            procs: listed
                .iter()
                .map(|&(pid, program, _)| Tracked {
                    pid,
                    program,
                    parent: None,
                    pgrp: pid,
                    life: Life::Alive,
                    exited: None,
                })
                .collect(),
            now: listed.iter().enumerate().map(|(i, l)| (l.0, i)).collect(),
            unknown,
            unnamed: None,
            local_pids: switches.has(Switch::LocalPids),
            crashed: None,
            gens: listed
                .iter()
                .map(|(p, _, _)| ((p.home, p.index), (p.gen + 1) % Pid::GENERATIONS))
                .collect(),
        }
    }

    fn live(&self, i: usize) -> bool {
        matches!(self.procs[i].life, Life::Alive | Life::Waiting(_))
    }

    /// The process a step naming `pid` is about.
    fn named(&self, pid: Pid) -> Result<usize, String> {
        let mut m = match self.now.get(&pid) {
            Some(&i) => match self.procs[i].exited {
                None => return Ok(i),
                Some(line) => {
                    let mut m = format!(
                        "{pid} exited at line {line}: on the model nothing runs after `exit`"
                    );
                    let later = self.now.iter().find(|(p, i)| {
                        (p.home, p.index) == (pid.home, pid.index)
                            && p.gen != pid.gen
                            && self.procs[**i].exited.is_none()
                    });
                    if let Some((later, _)) = later {
                        let _ = write!(m, " (a fork since gave its slot to {later})");
                    }
                    m
                }
            },
            None => format!(
                "{pid} is not a listed process, and no fork before this step creates it (a \
                 fork's child gets the smallest index free on its parent's home)"
            ),
        };
        if let Some((line, why)) = &self.unnamed {
            let _ = write!(
                m,
                "; the child of the fork at line {line} has no known pid: {why}"
            );
        }
        Err(m)
    }

    /// Process `who` performs `op` (at `line`); a fork's child runs program `child`.
    /// Whether `op` was a fork (its child is the last process).
    fn step(&mut self, who: usize, op: Op, line: usize, child: usize) -> Result<bool, String> {
        let pid = self.procs[who].pid;
        if let Life::Waiting(at) = self.procs[who].life {
            if matches!(
                op,
                Op::Fork | Op::Exit { .. } | Op::Wait | Op::Setpgid { .. }
            ) {
                return Err(format!(
                    "{pid} is still blocked in the `wait` of line {at} here (no child of its has \
                     exited since): when this `{}` runs depends on its children, so the pids \
                     after it cannot be told",
                    syntax::op_text(&op)
                ));
            }
        }
        match op {
            Op::Fork => {
                self.fork(who, line, child)?;
                return Ok(true);
            }
            Op::Exit { .. } => self.exit(who, line),
            Op::Wait => self.wait(who, line),
            Op::Setpgid { pgrp } => {
                let exists = pgrp.home == pid.home
                    && (0..self.procs.len()).any(|i| self.live(i) && self.procs[i].pgrp == pgrp);
                if pgrp == pid || exists {
                    self.procs[who].pgrp = pgrp;
                }
            }
            _ => {}
        }
        Ok(false)
    }

    fn fork(&mut self, who: usize, line: usize, program: usize) -> Result<(), String> {
        let parent = &self.procs[who];
        let home = parent.pid.home;
        let why = if self.local_pids {
            Some("under `local-pids` a child's pid depends on where its parent runs".to_string())
        } else {
            self.crashed
                .clone()
                .or_else(|| self.unknown.get(&home).cloned())
        };
        let mut pid = None;
        if why.is_none() {
            let held = self.procs.iter().enumerate().flat_map(|(i, p)| {
                let me = (p.pid.home == home && p.life != Life::Gone).then_some(p.pid.index);
                let group = (self.live(i) && p.pgrp.home == home).then_some(p.pgrp.index);
                me.into_iter().chain(group)
            });
            let index = vocab::small::smallest_free(held)
                .filter(|i| *i < 255)
                .ok_or_else(|| format!("no free pid on {home} for this fork"))?;
            let gen = self.gens.get(&(home, index)).copied().unwrap_or(0);
            self.gens
                .insert((home, index), (gen + 1) % Pid::GENERATIONS);
            pid = Some(Pid::with_gen(home, index, gen));
        }
        let child = Tracked {
            // A child with no known pid holds an unknown one: its home's pids are unknown.
            pid: pid.unwrap_or(Pid::new(home.0, 255)),
            program,
            parent: Some(who),
            pgrp: parent.pgrp,
            life: Life::Alive,
            exited: None,
        };
        self.procs.push(child);
        match (pid, why) {
            (Some(pid), _) => {
                self.now.insert(pid, self.procs.len() - 1);
            }
            (None, Some(why)) => {
                self.unknown.insert(home, why.clone());
                self.unnamed = Some((line, why));
            }
            (None, None) => unreachable!("a pid or a reason"),
        }
        Ok(())
    }

    fn exit(&mut self, who: usize, line: usize) {
        self.procs[who].exited = Some(line);
        // Its exited children are reaped; live ones lose their parent.
        for c in &mut self.procs {
            if c.parent == Some(who) {
                c.parent = None;
                if c.life == Life::Zombie {
                    c.life = Life::Gone;
                }
            }
        }
        let parent = self.procs[who].parent.filter(|p| self.live(*p));
        self.procs[who].life = match parent.map(|p| self.procs[p].life) {
            Some(Life::Waiting(_)) => {
                self.procs[parent.expect("some")].life = Life::Alive;
                Life::Gone
            }
            Some(_) => Life::Zombie,
            None => Life::Gone,
        };
    }

    fn wait(&mut self, who: usize, line: usize) {
        let children: Vec<usize> = (0..self.procs.len())
            .filter(|c| self.procs[*c].parent == Some(who))
            .collect();
        let zombie = children
            .iter()
            .copied()
            .filter(|c| self.procs[*c].life == Life::Zombie)
            .min_by_key(|c| self.procs[*c].pid);
        match zombie {
            Some(c) => self.procs[c].life = Life::Gone,
            None if children.iter().any(|c| self.live(*c)) => {
                self.procs[who].life = Life::Waiting(line)
            }
            None => {}
        }
    }

    /// A crash may end processes anywhere (those whose home or current host it is): no pid
    /// a fork gives after it is known.
    fn crash(&mut self, line: usize) {
        self.crashed.get_or_insert_with(|| {
            format!("the crash at line {line} may have ended processes and freed their pids")
        });
    }
}

/// Numbers program `i` and its descendants depth first into `out`; its index there.
fn number(programs: &[Program], i: usize, out: &mut Vec<Script>) -> u8 {
    let me = out.len();
    let p = &programs[i];
    out.push(Script {
        ops: p.ops.clone(),
        children: Vec::new(),
        budget: p.budget,
    });
    // An alphabet's `children_alphabet` is the program right after it (`usize::MAX`).
    let children = p
        .children
        .iter()
        .map(|&c| number(programs, if c == usize::MAX { i + 1 } else { c }, out))
        .collect();
    out[me].children = children;
    me as u8
}

/// `cfg` with its programs renumbered as [`load`] numbers them: depth first from the listed
/// processes, one program per process and per fork (a program two processes share is
/// copied), a child that runs its parent's own program written as no entry (the default),
/// children beyond the forks dropped. Two configurations that differ only in how their
/// programs are numbered and shared have the same canonical form, and the checker explores
/// the same states for both up to the programs' numbers.
pub fn canonical(cfg: &Config) -> Config {
    fn visit(cfg: &Config, old: u8, stack: &mut Vec<(u8, u8)>, out: &mut Vec<Script>) -> u8 {
        let me = out.len() as u8;
        let s = &cfg.scripts[usize::from(old)];
        out.push(Script {
            ops: s.ops.clone(),
            children: Vec::new(),
            budget: s.budget,
        });
        stack.push((old, me));
        let forks = if s.is_alphabet() {
            usize::from(s.ops.contains(&Op::Fork))
        } else {
            s.ops.iter().filter(|o| **o == Op::Fork).count()
        };
        let mut children: Vec<u8> = (0..forks)
            .map(|k| {
                let c = s.children.get(k).copied().unwrap_or(old);
                match stack.iter().find(|(o, _)| *o == c) {
                    Some(&(_, n)) => n,
                    None => visit(cfg, c, stack, out),
                }
            })
            .collect();
        while children.last() == Some(&me) {
            children.pop();
        }
        stack.pop();
        out[usize::from(me)].children = children;
        me
    }
    let mut out = Vec::new();
    let mut c = cfg.clone();
    for p in &mut c.procs {
        p.script = visit(cfg, p.script, &mut Vec::new(), &mut out);
    }
    c.scripts = out;
    c
}

/// A TOML string.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `cfg` as a configuration file that [`load`] reads back as `canonical(cfg)`. Scripts are
/// written as steps (each process's operations, a child's right after the fork that
/// starts it) and, when no process runs an alphabet, events as event steps at the end, so
/// that the file also runs on the implementation; with an alphabet, events are written as
/// `events`. An error says what cannot be written: a fork whose child runs its parent's
/// script again, a child of a script running an alphabet or the other way round, an
/// alphabet's grandchildren running another program, operations after `exit`.
pub fn show(cfg: &Config) -> Result<String, String> {
    let cfg = &canonical(cfg);
    let open = cfg.scripts.iter().any(Script::is_alphabet);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# `check show {}`: check it with `check --file FILE` (format: model/src/file.rs).",
        cfg.name
    );
    let _ = writeln!(out, "name = {}", toml_str(&cfg.name));
    let _ = writeln!(out, "about = {}", toml_str(&cfg.about));
    let _ = writeln!(out, "switches = \"{}\"", cfg.switches);
    let _ = writeln!(out, "pages = {}", cfg.pages);
    if cfg.delayed_writes {
        let _ = writeln!(out, "delayed_writes = true");
    }
    if open && !cfg.events.is_empty() {
        let _ = writeln!(out, "events = [");
        for (e, times) in &cfg.events {
            let _ = writeln!(
                out,
                "  {{ event = \"{}\", times = {times} }},",
                syntax::event_text(e)
            );
        }
        let _ = writeln!(out, "]");
    }
    // The steps: each listed process's script, each child's right after its fork, in
    // the order `load` follows their pids.
    let listed: Vec<(Pid, usize, bool)> = cfg
        .procs
        .iter()
        .map(|p| {
            let s = &cfg.scripts[usize::from(p.script)];
            (
                p.pid,
                usize::from(p.script),
                s.is_alphabet() && s.ops.contains(&Op::Fork),
            )
        })
        .collect();
    let mut run = Pids::new(&listed, cfg.switches);
    let mut steps: Vec<(Pid, Op)> = Vec::new();
    for (i, p) in cfg.procs.iter().enumerate() {
        if !cfg.scripts[usize::from(p.script)].is_alphabet() {
            script_steps(cfg, &mut run, i, p.script, &mut steps, 0)?;
        }
    }
    if !steps.is_empty() || (!open && !cfg.events.is_empty()) {
        let _ = writeln!(out, "steps = [");
        for (pid, op) in &steps {
            let _ = writeln!(
                out,
                "  {{ pid = \"{pid}\", op = \"{}\" }},",
                syntax::op_text(op)
            );
        }
        if !open {
            for (e, times) in &cfg.events {
                for _ in 0..*times {
                    let _ = writeln!(out, "  {{ event = \"{}\" }},", syntax::event_text(e));
                }
            }
        }
        let _ = writeln!(out, "]");
    }
    for (i, h) in cfg.hosts.iter().enumerate() {
        let _ = writeln!(out, "\n[[host]]\nid = {i}");
        let _ = writeln!(out, "clock_skew_ms = {}", u64::from(h.clock) * 1000);
        let _ = writeln!(out, "version = {}", h.version);
        let _ = writeln!(out, "owner = {}", h.owner);
    }
    for (name, data) in &cfg.files {
        let data: Vec<String> = data.iter().map(|b| b.to_string()).collect();
        let _ = writeln!(
            out,
            "\n[[file]]\nname = \"{name}\"\ndata = [{}]",
            data.join(", ")
        );
    }
    for p in &cfg.procs {
        let _ = writeln!(out, "\n[[process]]\npid = \"{}\"", p.pid);
        if let Some(at) = p.start_on {
            let _ = writeln!(out, "start_on = \"{at}\"");
        }
        if p.shares_memory {
            let _ = writeln!(out, "shares_memory = true");
        }
        if p.maps_device {
            let _ = writeln!(out, "maps_device = true");
        }
        let s = &cfg.scripts[usize::from(p.script)];
        let Some(budget) = s.budget else { continue };
        write_alphabet(&mut out, "alphabet", &s.ops);
        let _ = writeln!(out, "budget = {budget}");
        if let Some(&c) = s.children.first() {
            let child = &cfg.scripts[usize::from(c)];
            let Some(child_budget) = child.budget else {
                return Err(format!(
                    "{}: the children of {}'s alphabet run a script, which a file cannot say",
                    cfg.name, p.pid
                ));
            };
            if !child.children.is_empty() {
                return Err(format!(
                    "{}: the grandchildren of {} run a program of their own, which a file \
                     cannot say",
                    cfg.name, p.pid
                ));
            }
            write_alphabet(&mut out, "children_alphabet", &child.ops);
            let _ = writeln!(out, "children_budget = {child_budget}");
        }
    }
    Ok(out)
}

fn write_alphabet(out: &mut String, key: &str, ops: &[Op]) {
    let _ = writeln!(out, "{key} = [");
    for op in ops {
        let _ = writeln!(out, "  \"{}\",", syntax::op_text(op));
    }
    let _ = writeln!(out, "]");
}

/// The steps of process `who` of `run`, which runs script `script`, each child's right
/// after its fork.
fn script_steps(
    cfg: &Config,
    run: &mut Pids,
    who: usize,
    script: u8,
    steps: &mut Vec<(Pid, Op)>,
    depth: usize,
) -> Result<(), String> {
    let s = &cfg.scripts[usize::from(script)];
    let pid = run.procs[who].pid;
    if s.is_alphabet() {
        return Err(format!(
            "{}: {pid}, a child of a script, runs an alphabet, which a file cannot say",
            cfg.name
        ));
    }
    if depth > MAX_PROGRAMS {
        return Err(format!(
            "{}: forks nest more than {MAX_PROGRAMS} deep",
            cfg.name
        ));
    }
    let mut forks = 0;
    for (i, op) in s.ops.iter().enumerate() {
        steps.push((pid, *op));
        if matches!(op, Op::Exit { .. }) && i + 1 < s.ops.len() {
            return Err(format!(
                "{}: {pid}'s script goes on after `exit`, which a file cannot say",
                cfg.name
            ));
        }
        let child = match op {
            Op::Fork => *s.children.get(forks).ok_or_else(|| {
                format!(
                    "{}: the child of {pid}'s fork number {} runs its parent's script again, \
                     which steps cannot say",
                    cfg.name,
                    forks + 1
                )
            })?,
            _ => 0,
        };
        let forked = run
            .step(who, *op, 0, usize::from(child))
            .map_err(|e| format!("{}: {e}", cfg.name))?;
        if forked {
            forks += 1;
            let c = run.procs.len() - 1;
            let named = run.now.get(&run.procs[c].pid) == Some(&c);
            if named {
                script_steps(cfg, run, c, child, steps, depth + 1)?;
            } else if !cfg.scripts[usize::from(child)].ops.is_empty() {
                let why = run.unnamed.as_ref().map_or("", |(_, w)| w.as_str());
                return Err(format!(
                    "{}: the child of {pid}'s fork number {forks} runs operations, but its pid \
                     cannot be known ({why})",
                    cfg.name
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        assert_eq!(default_name("model/configs/open-vm.toml"), "open-vm");
        assert_eq!(default_name("x"), "x");
    }
}
