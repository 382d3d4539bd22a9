//! Running the checker on a configuration and collecting what it found.

use crate::config::Config;
use crate::properties;
use crate::trace;
use crate::{property_name, Action, Invariants, SpriteModel, State, ALL_INVARIANTS};
use serde::Serialize;
use stateright::{Checker, HasDiscoveries, Model, Path};
use std::time::{Duration, Instant};
use vocab::{InvariantId, Switch};

/// How the checker walks the state space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Search {
    /// Breadth first: the first counterexample found is among the shortest, and the queue
    /// holds a whole frontier of states (memory grows with the widest depth).
    Bfs,
    /// Depth first: the stack holds one path's worth of siblings, so memory stays small
    /// however large the space; counterexamples are then shortened by bounded re-runs.
    Dfs,
    /// Depth first for open configurations (alphabets: millions of states, where depth
    /// first is about twice as fast and needs a fraction of the memory), breadth first for
    /// scripted ones (small, and their counterexamples come out shortest).
    Auto,
}

impl Search {
    /// The order used for `cfg`.
    pub fn resolve(self, cfg: &Config) -> Search {
        match self {
            Search::Auto if cfg.is_open() => Search::Dfs,
            Search::Auto => Search::Bfs,
            s => s,
        }
    }
}

/// How to run the checker.
#[derive(Clone, Debug)]
pub struct Options {
    pub threads: usize,
    pub search: Search,
    /// Explore paths of at most this many steps: every state reachable in at most that many
    /// steps along the path the search took is checked, and none is expanded further. If
    /// some state was not expanded, the result is partial.
    pub max_depth: Option<usize>,
    /// Stop once about this many states have been *generated* (stateright's bound: it
    /// counts every successor, duplicates included, and checks it after each block of
    /// states). If the bound was reached, the result is partial.
    pub max_states: Option<usize>,
    /// Stop after this long. If the time ran out, the result is partial.
    pub timeout: Option<Duration>,
    /// Called about every 100 ms while the checker runs.
    pub progress: Option<fn(&Progress)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            search: Search::Auto,
            max_depth: None,
            max_states: None,
            timeout: None,
            progress: None,
        }
    }
}

/// Where a run is, for progress lines.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    pub config: &'a str,
    pub states: usize,
    pub unique: usize,
    pub depth: usize,
    /// Unique states generated and not yet checked: the checker's queue (states a depth
    /// bound skips stay in it). `None` when the invariants are checked one property each,
    /// a run that does not count the states it checked.
    pub queue: Option<usize>,
    pub elapsed: Duration,
    pub done: bool,
}

impl Progress<'_> {
    /// The progress line `check` prints: configuration, states generated, unique states,
    /// the queue when known, depth, unique states per second, elapsed seconds.
    pub fn line(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let queue = self.queue.map_or(String::new(), |q| format!(", queue {q}"));
        format!(
            "{}: {} states, {} unique{queue}, depth {}, {:.0} unique/s, {:.1}s",
            self.config,
            self.states,
            self.unique,
            self.depth,
            self.unique as f64 / secs.max(1e-9),
            secs
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// An invariant held in every state: the state space was exhausted.
    Holds,
    /// No state explored broke the invariant, but the run was cut (see `Report::cut`):
    /// nothing is claimed about the states not explored.
    HoldsSoFar,
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

/// Why a run did not exhaust the state space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cut {
    /// Some state at the depth bound had successors that were not explored.
    MaxDepth,
    /// The bound on generated states was reached.
    MaxStates,
    /// The time ran out.
    Timeout,
}

impl Cut {
    pub fn flag(self) -> &'static str {
        match self {
            Cut::MaxDepth => "--max-depth",
            Cut::MaxStates => "--max-states",
            Cut::Timeout => "--timeout",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub config: String,
    pub switches: String,
    pub search: Search,
    /// States generated, duplicates included.
    pub states: usize,
    /// Distinct states generated. In a complete run every one was checked; in a cut run
    /// some at the frontier were generated but not checked.
    pub unique_states: usize,
    /// The longest path explored, in steps (actions) from the initial state.
    pub max_depth: usize,
    pub seconds: f64,
    /// Whether the state space was exhausted: no bound cut it (`cut` is empty).
    pub complete: bool,
    /// The bounds that cut the run.
    pub cut: Vec<Cut>,
    pub properties: Vec<PropertyResult>,
    /// The kinds of step the run took, and those the configuration claims to cover
    /// (`crate::coverage`): bits of `coverage::KINDS`.
    pub taken: u64,
    pub claimed: u64,
    /// The guarded situations some explored state showed (`crate::clauses`): bits of
    /// `clauses::CLAUSES`.
    pub situations: u64,
}

impl Report {
    pub fn states_per_second(&self) -> f64 {
        self.states as f64 / self.seconds.max(1e-9)
    }
    pub fn unique_per_second(&self) -> f64 {
        self.unique_states as f64 / self.seconds.max(1e-9)
    }
    pub fn invariant(&self, id: InvariantId) -> Option<&PropertyResult> {
        self.properties.iter().find(|p| p.invariant == Some(id))
    }
    /// The kinds the configuration claims to cover that the run never took.
    pub fn claimed_untaken(&self) -> Vec<&'static str> {
        crate::coverage::names(self.claimed & !self.taken)
    }
    /// The guarded situations no explored state showed: the clauses this run checked only
    /// vacuously. Those only a design switch produces are left out of a run of Sprite's
    /// design.
    pub fn unexercised(&self) -> Vec<String> {
        let sprite = self.switches == vocab::Switches::SPRITE.to_string();
        crate::clauses::unexercised(self.situations, sprite)
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
///
/// The invariants are first checked as one property (see `Invariants`); only if that finds a
/// violation does the checker run again with one property per invariant, to say which are
/// broken and give each its own counterexample.
pub fn check(cfg: &Config, opts: &Options) -> Report {
    let together = explore(cfg, opts, Invariants::Together, None);
    let found = together
        .properties
        .iter()
        .any(|p| p.name == ALL_INVARIANTS && matches!(p.verdict, Verdict::Violated { .. }));
    if !found {
        return together;
    }
    let mut each = explore(cfg, opts, Invariants::Each, None);
    each.seconds += together.seconds;
    // Only the run with the invariants together records the situations it visited.
    each.situations |= together.situations;
    each
}

/// One run of the checker. `stop_at`: stop as soon as this property has a discovery.
fn explore(
    cfg: &Config,
    opts: &Options,
    invariants: Invariants,
    stop_at: Option<&'static str>,
) -> Report {
    let model = SpriteModel::new(cfg.clone()).with_invariants(invariants);
    let start = Instant::now();
    let mut builder = model.clone().checker().threads(opts.threads.max(1));
    // stateright numbers the initial state depth 1 and skips (neither checks nor expands) a
    // state whose depth reaches the target; `max_depth + 2` therefore checks every state
    // `max_depth` steps away and expands none of them.
    if let Some(d) = opts.max_depth {
        builder = builder.target_max_depth(d + 2);
    }
    if let Some(n) = opts.max_states {
        builder = builder.target_state_count(n);
    }
    if let Some(t) = opts.timeout {
        builder = builder.timeout(t);
    }
    if let Some(name) = stop_at {
        builder = builder.finish_when(HasDiscoveries::AnyOf([name].into()));
    }
    let opts = &Options {
        search: opts.search.resolve(cfg),
        ..opts.clone()
    };
    match opts.search {
        Search::Dfs => finish(cfg, opts, &model, builder.spawn_dfs(), start),
        _ => finish(cfg, opts, &model, builder.spawn_bfs(), start),
    }
}

fn finish(
    cfg: &Config,
    opts: &Options,
    model: &SpriteModel,
    checker: impl Checker<SpriteModel>,
    start: Instant,
) -> Report {
    let progress = |checker: &dyn Checker<SpriteModel>, done| Progress {
        config: &cfg.name,
        states: checker.state_count(),
        unique: checker.unique_state_count(),
        depth: checker.max_depth().saturating_sub(1),
        queue: (model.invariants == Invariants::Together).then(|| {
            checker
                .unique_state_count()
                .saturating_sub(model.coverage.checked() as usize)
        }),
        elapsed: start.elapsed(),
        done,
    };
    // Short runs should not wait for a tick: poll from 1 ms, up to every 100 ms. At the
    // deadline the model stops offering steps (`SpriteModel::halt`), so the threads drain
    // what they hold and stop: stateright's own deadline is looked at only when a thread
    // runs out of work.
    let mut nap = Duration::from_millis(1);
    while !checker.is_done() {
        if opts.timeout.is_some_and(|t| start.elapsed() >= t) {
            model.halt.store(true, std::sync::atomic::Ordering::Relaxed);
            break;
        }
        if opts.progress.is_none() && opts.timeout.is_none() {
            break;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(100));
        if let Some(p) = opts.progress {
            p(&progress(&checker, false));
        }
    }
    if opts.timeout.is_some_and(|t| start.elapsed() >= t) {
        model.halt.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let checker = checker.join();
    // The threads are done; paths to what they found are rebuilt by replaying the model's
    // steps, which must be offered again.
    model
        .halt
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let seconds = start.elapsed().as_secs_f64();
    if let Some(p) = opts.progress {
        p(&progress(&checker, true));
    }
    let mut cut = Vec::new();
    // A state deeper than the bound was generated (and skipped): something was not explored.
    if opts.max_depth.is_some_and(|d| checker.max_depth() >= d + 2) {
        cut.push(Cut::MaxDepth);
    }
    if opts.max_states.is_some_and(|n| checker.state_count() >= n) {
        cut.push(Cut::MaxStates);
    }
    // stateright does not say whether its threads stopped for the deadline or because they
    // ran out of states; a run that lasted the whole time is counted as cut.
    if opts.timeout.is_some_and(|t| start.elapsed() >= t) {
        cut.push(Cut::Timeout);
    }
    let complete = cut.is_empty();
    let discoveries = checker.discoveries();
    let mut properties = Vec::new();
    if model.invariants == Invariants::Together && !discoveries.contains_key(ALL_INVARIANTS) {
        // The one property held in every state explored: so did each invariant.
        for (id, _) in properties::INVARIANTS {
            let verdict = if complete {
                Verdict::Holds
            } else {
                Verdict::HoldsSoFar
            };
            properties.push(PropertyResult {
                name: property_name(id),
                invariant: Some(id),
                verdict,
                path: None,
            });
        }
    }
    for prop in model.properties() {
        if prop.name == ALL_INVARIANTS && properties.len() == properties::INVARIANTS.len() {
            continue;
        }
        let invariant = crate::invariant_of(prop.name);
        let found: Option<&Path<State, Action>> = discoveries.get(prop.name);
        let (verdict, path) = match (invariant, found) {
            // The stand-in for all invariants was broken: `check` runs again to say which.
            (None, Some(path)) if prop.name == ALL_INVARIANTS => (
                Verdict::Violated {
                    steps: path.clone().into_actions().len(),
                },
                None,
            ),
            (Some(id), Some(path)) => {
                let actions = shortest(model, id, &path.clone().into_actions(), opts);
                (
                    Verdict::Violated {
                        steps: actions.len(),
                    },
                    Some(actions),
                )
            }
            (Some(_), None) if complete => (Verdict::Holds, None),
            (Some(_), None) => (Verdict::HoldsSoFar, None),
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
    Report {
        config: cfg.name.to_string(),
        switches: cfg.switches.to_string(),
        search: opts.search,
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth().saturating_sub(1),
        seconds,
        complete,
        cut,
        properties,
        taken: model.coverage.bits(),
        claimed: crate::coverage::claimed(cfg),
        situations: model.coverage.situations(),
    }
}

/// A short counterexample: the checker's path cut and minimised, then depth-bounded
/// re-runs of the checker look for anything shorter until none is found. (stateright's
/// BFS may report a longer path than the shortest when several threads race; with one
/// thread its queue is first in, first out and a property is checked as a state leaves
/// it, so the first state found breaking it is at the least depth, and a re-run could
/// only find the same length: it is skipped.)
fn shortest(model: &SpriteModel, id: InvariantId, found: &[Action], opts: &Options) -> Vec<Action> {
    let threads = opts.threads;
    let mut best = trace::minimise(model, found, id);
    if threads <= 1 && matches!(opts.search, Search::Bfs) {
        return best;
    }
    while !best.is_empty() {
        let bounded = model
            .clone()
            .checker()
            .threads(threads.max(1))
            // Every state fewer than `best.len()` steps away (see `explore` on depths).
            .target_max_depth(best.len() + 1)
            .finish_when(HasDiscoveries::AnyOf([property_name(id)].into()))
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
    pub config: String,
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
    try_alternative_in(sw, crate::configs::for_switch(sw), opts)
}

/// Tries design alternative `sw` in configuration `cfg` (its switches replaced by `sw`).
pub fn try_alternative_in(sw: Switch, cfg: Config, opts: &Options) -> AlternativeResult {
    let cfg = cfg.with_switches(vocab::Switches::only(sw));
    // One thread, so that the counterexample found (and the figure written from it) is
    // the same on every run.
    let opts = Options {
        threads: 1,
        search: Search::Bfs,
        ..opts.clone()
    };
    let expected = sw.breaks();
    // An alternative expected to break an invariant: the search stops at the first state
    // that breaks it (breadth first, so among the shortest); `broken` lists what was found
    // broken by then. A correct one: the whole space, every invariant.
    let report = match expected {
        Some(id) => explore(&cfg, &opts, Invariants::Each, Some(property_name(id))),
        None => check(&cfg, &opts),
    };
    let broken: Vec<InvariantId> = report.violated().filter_map(|p| p.invariant).collect();
    let (as_expected, steps) = match expected {
        Some(id) => match report.invariant(id).map(|p| &p.verdict) {
            Some(Verdict::Violated { steps }) => (true, Some(*steps)),
            _ => (false, None),
        },
        None => (broken.is_empty() && report.complete, None),
    };
    AlternativeResult {
        switch: sw,
        config: cfg.name.clone(),
        expected,
        as_expected,
        steps,
        broken,
        report,
    }
}

/// The reachability properties that none of `cfgs` can reach, each with what it needs
/// (`properties::Reach::needs`).
pub fn not_attempted(cfgs: &[Config]) -> Vec<(&'static str, &'static str)> {
    properties::reachables()
        .into_iter()
        .filter_map(|r| r.needs.map(|(what, offers)| (r.key, what, offers)))
        .filter(|(_, _, offers)| !cfgs.iter().any(offers))
        .map(|(key, what, _)| (key, what))
        .collect()
}

/// The names of the reachability properties.
pub fn reachable_names() -> Vec<&'static str> {
    properties::reachables()
        .into_iter()
        .map(|r| r.key)
        .collect()
}
