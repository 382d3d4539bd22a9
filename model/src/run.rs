//! Running the checker on a configuration and collecting what it found.

use crate::config::Config;
use crate::properties;
use crate::trace;
use crate::{property_name, Action, SpriteModel, State};
use serde::Serialize;
use stateright::{Checker, Model, Path};
use std::time::{Duration, Instant};
use vocab::{InvariantId, Switch};

/// How to run the checker.
#[derive(Clone, Debug)]
pub struct Options {
    pub threads: usize,
    /// Stop exploring below this depth (the result is then partial).
    pub max_depth: Option<usize>,
    /// Stop after about this many states (the result is then partial).
    pub max_states: Option<usize>,
    /// Call this every so often with the unique state count so far.
    pub progress: Option<fn(&str, usize)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_depth: None,
            max_states: None,
            progress: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// An invariant held in every state explored.
    Holds,
    /// An invariant failed; the (minimised) counterexample.
    Violated {
        steps: usize,
    },
    /// A `sometimes` property was reached.
    Reached {
        steps: usize,
    },
    NotReached,
}

#[derive(Clone, Debug, Serialize)]
pub struct PropertyResult {
    pub name: &'static str,
    pub invariant: Option<InvariantId>,
    pub verdict: Verdict,
    #[serde(skip)]
    pub path: Option<Vec<Action>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub config: &'static str,
    pub switches: String,
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub seconds: f64,
    /// Whether the state space was exhausted (no depth or state bound cut it).
    pub complete: bool,
    pub properties: Vec<PropertyResult>,
}

impl Report {
    pub fn states_per_second(&self) -> f64 {
        self.states as f64 / self.seconds.max(1e-9)
    }
    pub fn invariant(&self, id: InvariantId) -> Option<&PropertyResult> {
        self.properties.iter().find(|p| p.invariant == Some(id))
    }
    /// Invariants the checker found broken.
    pub fn violated(&self) -> impl Iterator<Item = &PropertyResult> {
        self.properties
            .iter()
            .filter(|p| matches!(p.verdict, Verdict::Violated { .. }))
    }
}

/// Exhausts the configuration's state space (or up to the bounds) and reports every
/// property, with counterexamples cut at the first violating state and minimised.
pub fn check(cfg: &Config, opts: &Options) -> Report {
    let model = SpriteModel::new(cfg.clone());
    let start = Instant::now();
    let mut builder = model.clone().checker().threads(opts.threads.max(1));
    if let Some(d) = opts.max_depth {
        builder = builder.target_max_depth(d);
    }
    if let Some(n) = opts.max_states {
        builder = builder.target_state_count(n);
    }
    let checker = builder.spawn_bfs();
    if let Some(p) = opts.progress {
        while !checker.is_done() {
            std::thread::sleep(Duration::from_millis(100));
            p(cfg.name, checker.unique_state_count());
        }
    }
    let checker = checker.join();
    let seconds = start.elapsed().as_secs_f64();
    let discoveries = checker.discoveries();
    let mut properties = Vec::new();
    for prop in model.properties() {
        let invariant = crate::invariant_of(prop.name);
        let found: Option<&Path<State, Action>> = discoveries.get(prop.name);
        let (verdict, path) = match (invariant, found) {
            (Some(id), Some(path)) => {
                let actions = shortest(&model, id, &path.clone().into_actions(), opts.threads);
                (
                    Verdict::Violated {
                        steps: actions.len(),
                    },
                    Some(actions),
                )
            }
            (Some(_), None) => (Verdict::Holds, None),
            (None, Some(path)) => {
                let actions = path.clone().into_actions();
                (
                    Verdict::Reached {
                        steps: actions.len(),
                    },
                    Some(actions),
                )
            }
            (None, None) => (Verdict::NotReached, None),
        };
        properties.push(PropertyResult {
            name: prop.name,
            invariant,
            verdict,
            path,
        });
    }
    let complete = opts
        .max_states
        .is_none_or(|n| checker.unique_state_count() < n)
        && opts.max_depth.is_none_or(|d| checker.max_depth() < d);
    Report {
        config: cfg.name,
        switches: cfg.switches.to_string(),
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        complete,
        properties,
    }
}

/// A short counterexample: the checker's path cut and minimised, then depth-bounded
/// re-runs of the checker look for anything shorter until none is found. (stateright's
/// BFS may report a longer path than the shortest when several threads race.)
fn shortest(model: &SpriteModel, id: InvariantId, found: &[Action], threads: usize) -> Vec<Action> {
    let mut best = trace::minimise(model, found, id);
    while !best.is_empty() {
        let bounded = model
            .clone()
            .checker()
            .threads(threads.max(1))
            .target_max_depth(best.len())
            .spawn_bfs()
            .join();
        let Some(path) = bounded.discovery(property_name(id)) else {
            break;
        };
        let candidate = trace::minimise(model, &path.into_actions(), id);
        if candidate.len() >= best.len() {
            break;
        }
        best = candidate;
    }
    best
}

/// The outcome of trying one design alternative.
#[derive(Clone, Debug, Serialize)]
pub struct AlternativeResult {
    pub switch: Switch,
    pub config: &'static str,
    /// The invariant the catalogue says it breaks (`None`: a correct VM strategy).
    pub expected: Option<InvariantId>,
    /// Whether the checker found what the catalogue says.
    pub as_expected: bool,
    /// Counterexample length for the expected invariant.
    pub steps: Option<usize>,
    /// Every invariant the checker found broken.
    pub broken: Vec<InvariantId>,
    #[serde(skip)]
    pub report: Report,
}

impl AlternativeResult {
    /// The counterexample to the invariant the alternative is expected to break.
    pub fn path(&self) -> Option<&[Action]> {
        let id = self.expected?;
        self.report.invariant(id)?.path.as_deref()
    }
}

pub fn try_alternative(sw: Switch, opts: &Options) -> AlternativeResult {
    let cfg = crate::configs::for_switch(sw);
    // One thread, so that the counterexample found (and the figure written from it) is
    // the same on every run.
    let opts = Options {
        threads: 1,
        ..opts.clone()
    };
    let report = check(&cfg, &opts);
    let broken: Vec<InvariantId> = report.violated().filter_map(|p| p.invariant).collect();
    let expected = sw.breaks();
    let (as_expected, steps) = match expected {
        Some(id) => match report.invariant(id).map(|p| &p.verdict) {
            Some(Verdict::Violated { steps }) => (true, Some(*steps)),
            _ => (false, None),
        },
        None => (broken.is_empty() && report.complete, None),
    };
    AlternativeResult {
        switch: sw,
        config: cfg.name,
        expected,
        as_expected,
        steps,
        broken,
        report,
    }
}

/// The names of the reachability properties.
pub fn reachable_names() -> Vec<&'static str> {
    properties::reachables()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}
