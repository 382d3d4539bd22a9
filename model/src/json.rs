//! `check --json`: the results as one JSON document, in a shape with a version.
//!
//! The schema (version [`SCHEMA`]) is documented in `model/README.md`, "JSON output"; a
//! test reads the binary's output against it. The rules the shape keeps:
//!
//! - every verdict, of a property or of an alternative, is an object with a `verdict`
//!   string and the same optional fields, never a bare string in one place and a nested
//!   object in another;
//! - switch and cut names are spelled as the command line spells them (`reopen-files`,
//!   `--max-depth`);
//! - each counterexample and each reached situation carries its path (the indices
//!   `check replay --path` takes) and the one command that replays it;
//! - `ok` is true exactly when the exit status is 0, and `exit_status` says which.

use crate::config::Config;
use crate::figures::replay_command_from;
use crate::run::{AlternativeResult, PropertyResult, Report, Verdict};
use crate::{configs, property_title, trace, Action, SpriteModel};
use serde_json::{json, Value};

/// The schema's name and version. A change that removes or renames a field, or changes
/// a field's meaning, makes a new version; adding a field does not.
pub const SCHEMA: &str = "sprite-check/1";

/// A path as `replay --path` takes it, and the command, for a path in `cfg`.
fn path_fields(cfg: &Config, source: &str, path: Option<&[Action]>) -> (Value, Value) {
    match path {
        Some(p) => {
            let model = SpriteModel::new(cfg.clone());
            (
                json!(trace::indices(&model, p)),
                json!(replay_command_from(source, cfg, p)),
            )
        }
        None => (Value::Null, Value::Null),
    }
}

/// A verdict's name and its step count (null where it has none).
fn verdict(v: &Verdict) -> (&'static str, Option<usize>) {
    match v {
        Verdict::Holds => ("holds", None),
        Verdict::HoldsSoFar => ("holds-so-far", None),
        Verdict::Violated { steps } => ("broken", Some(*steps)),
        Verdict::Reached { steps } => ("reached", Some(*steps)),
        Verdict::NotReached => ("not-reached", None),
    }
}

fn property(cfg: &Config, source: &str, p: &PropertyResult) -> Value {
    let (name, steps) = verdict(&p.verdict);
    let path = match p.verdict {
        Verdict::Violated { .. } | Verdict::Reached { .. } => p.path.as_deref(),
        _ => None,
    };
    let (indices, replay) = path_fields(cfg, source, path);
    json!({
        "name": p.name,
        "kind": if p.invariant.is_some() { "invariant" } else { "reachable" },
        "title": property_title(p.name),
        "verdict": name,
        "steps": steps,
        "path": indices,
        "replay": replay,
    })
}

/// The names of the switches on in `cfg`, as `--switch` takes them (empty: Sprite's design).
fn switch_names(cfg: &Config) -> Vec<&'static str> {
    cfg.switches.iter().map(|s| s.name()).collect()
}

/// One configuration's report; `source` is how a command names it (`--config NAME`).
pub fn configuration(cfg: &Config, source: &str, r: &Report) -> Value {
    json!({
        "name": r.config,
        "source": source,
        "switches": switch_names(cfg),
        "search": match r.search {
            crate::run::Search::Bfs => "bfs",
            crate::run::Search::Dfs => "dfs",
            crate::run::Search::Auto => "auto",
        },
        "states": r.states,
        "unique_states": r.unique_states,
        "max_depth": r.max_depth,
        "seconds": r.seconds,
        "complete": r.complete,
        "cut": r.cut.iter().map(|c| c.flag()).collect::<Vec<_>>(),
        "steps_taken": crate::coverage::names(r.taken),
        "claimed_not_taken": r.claimed_untaken(),
        "situations_seen": crate::clauses::names(r.situations),
        "situations_not_seen": r.unexercised(),
        "properties": r.properties.iter().map(|p| property(cfg, source, p)).collect::<Vec<_>>(),
    })
}

/// One design alternative's result.
pub fn alternative(a: &AlternativeResult) -> Value {
    let cfg = configs::for_switch(a.switch);
    let source = format!("--config {}", cfg.name);
    let (indices, replay) = path_fields(&cfg, &source, a.path());
    let name = match (a.expected, a.as_expected) {
        (Some(_), true) => "caught",
        (None, true) => "correct",
        (Some(_), false) => "not-caught",
        (None, false) => "broken",
    };
    json!({
        "switch": a.switch.name(),
        "configuration": a.config,
        "expected": a.expected.map(|i| i.as_str()),
        "verdict": name,
        "as_expected": a.as_expected,
        "steps": a.steps,
        "broken": a.broken.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
        "path": indices,
        "replay": replay,
    })
}

/// Everything a run found, and how it ends.
pub struct Run<'a> {
    /// Each configuration checked, how a command names it, and its report.
    pub configurations: Vec<(&'a Config, &'a str, &'a Report)>,
    pub alternatives: &'a [AlternativeResult],
    /// Reachability properties no configuration reached.
    pub unreached: &'a [&'a str],
    /// Reachability properties no configuration could reach, with what they need.
    pub not_attempted: &'a [(&'a str, &'a str)],
    /// Why the run fails (empty: it does not).
    pub failed: &'a [&'a str],
    /// Whether every configuration was exhausted.
    pub complete: bool,
    pub exit_status: u8,
}

/// The whole document.
pub fn document(run: &Run) -> Value {
    json!({
        "schema": SCHEMA,
        "ok": run.exit_status == 0,
        "exit_status": run.exit_status,
        "complete": run.complete,
        "failed": run.failed,
        "configurations": run
            .configurations
            .iter()
            .map(|(cfg, source, r)| configuration(cfg, source, r))
            .collect::<Vec<_>>(),
        "alternatives": run.alternatives.iter().map(alternative).collect::<Vec<_>>(),
        "unreached": run.unreached,
        "not_attempted": run
            .not_attempted
            .iter()
            .map(|(name, needs)| json!({ "name": name, "needs": needs }))
            .collect::<Vec<_>>(),
    })
}

/// A run that could not start (bad arguments): the same envelope, with the error.
pub fn error(message: &str) -> Value {
    json!({
        "schema": SCHEMA,
        "ok": false,
        "exit_status": 2,
        "error": message,
    })
}
