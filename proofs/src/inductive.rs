//! The inductiveness check: for every candidate state that satisfies a strengthening, every
//! enabled action (`SpriteModel::enabled`, then `SpriteModel::apply`) must lead to a state
//! that satisfies it again. A step that panics counts as a failure: the strengthening did
//! not exclude a state on which the model's step is undefined.

use crate::lemmas::LEMMAS;
use crate::strengthening::{first_broken, STRENGTHENINGS, WF};
use model::log::Log;
use model::state::State;
use model::{Action, SpriteModel};
use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;
use vocab::InvariantId;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}
static HOOK: Once = Once::new();

/// Runs `f`, catching a panic without printing it.
pub fn quietly<T>(f: impl FnOnce() -> T) -> Option<T> {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                default(info)
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    r.ok()
}

/// Which conjuncts hold in a state: bit `i` for `LEMMAS[i]`, bit `32 + k` for the invariant
/// of `STRENGTHENINGS[k]`.
pub fn evaluate(m: &SpriteModel, s: &State) -> u64 {
    let mut bits = 0u64;
    for (i, (_, f)) in LEMMAS.iter().enumerate() {
        if f(m, s) {
            bits |= 1 << i;
        }
    }
    for (k, st) in STRENGTHENINGS.iter().enumerate() {
        // inv_live runs the next migration step: on an ill-formed state it may panic.
        if quietly(|| (st.invariant)(m, s)).unwrap_or(false) {
            bits |= 1 << (32 + k);
        }
    }
    bits
}

/// The bits a strengthening needs.
pub fn required(k: usize) -> u64 {
    let st = &STRENGTHENINGS[k];
    let idx = |name: &str| {
        LEMMAS
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("unknown lemma {name}"))
    };
    let mut bits = 1u64 << (32 + k);
    for name in WF.iter().chain(st.extra.iter()) {
        bits |= 1 << idx(name);
    }
    bits
}

/// A state satisfying a strengthening, and an action after which it does not hold.
#[derive(Clone, Debug)]
pub struct Failure {
    pub id: InvariantId,
    /// The strengthening's function name (or an experiment's label).
    pub label: String,
    pub config: String,
    pub state: State,
    pub action: Action,
    /// The conjunct broken afterwards, or the panic.
    pub broken: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} ({}): not preserved in configuration {} by action {:?} ({}): {} broken afterwards",
            self.id, self.label, self.config, self.action, self.action, self.broken
        )?;
        writeln!(f, "state before: {:?}", self.state)
    }
}

/// What a run of the check saw.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Distinct candidate states examined.
    pub candidates: usize,
    /// Per ID: candidates satisfying the strengthening, and steps checked from them.
    pub satisfying: BTreeMap<InvariantId, (usize, usize)>,
}

/// A predicate recognising a known, documented failure (a model bug reported upstream),
/// which the check reports separately instead of failing.
pub type Known = fn(InvariantId, &SpriteModel, &State, &Action) -> Option<&'static str>;

/// One predicate to check for inductiveness: a strengthening (or, in experiments, a
/// variant of one), as the set of conjunct bits it needs.
#[derive(Clone, Debug)]
pub struct Target {
    pub id: InvariantId,
    pub label: String,
    pub mask: u64,
}

/// The strengthenings as targets.
pub fn standard_targets() -> Vec<Target> {
    STRENGTHENINGS
        .iter()
        .enumerate()
        .map(|(k, st)| Target {
            id: st.id,
            label: st.function.to_string(),
            mask: required(k),
        })
        .collect()
}

/// The bit of a lemma.
pub fn lemma_bit(name: &str) -> u64 {
    1 << LEMMAS
        .iter()
        .position(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("unknown lemma {name}"))
}

pub struct InductionCheck {
    pub targets: Vec<Target>,
    pub stats: Stats,
    pub failures: Vec<Failure>,
    /// Known failures seen: name -> count.
    pub known: BTreeMap<&'static str, usize>,
    seen: HashSet<u64>,
    /// Stop recording failures for an (ID, action kind) after this many.
    per_kind: usize,
    kinds: BTreeMap<(InvariantId, String), usize>,
    known_filter: Option<Known>,
}

fn fingerprint(s: &State) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

fn action_kind(a: &Action) -> String {
    let dbg = format!("{a:?}");
    dbg.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

impl Default for InductionCheck {
    fn default() -> Self {
        Self::new(None)
    }
}

impl InductionCheck {
    pub fn new(known: Option<Known>) -> InductionCheck {
        InductionCheck {
            targets: standard_targets(),
            stats: Stats::default(),
            failures: Vec::new(),
            known: BTreeMap::new(),
            seen: HashSet::new(),
            per_kind: 1,
            kinds: BTreeMap::new(),
            known_filter: known,
        }
    }

    /// Examines one candidate: for each strengthening it satisfies, every enabled action
    /// must preserve it; and the strengthening must imply the invariant.
    pub fn examine(&mut self, m: &SpriteModel, s: &State) {
        if !self.seen.insert(fingerprint(s)) {
            return;
        }
        self.stats.candidates += 1;
        let before = evaluate(m, s);
        let holding: Vec<usize> = (0..self.targets.len())
            .filter(|k| before & self.targets[*k].mask == self.targets[*k].mask)
            .collect();
        if holding.is_empty() {
            return;
        }
        for k in &holding {
            let t = &self.targets[*k];
            // The strengthening implies the invariant as the model states it.
            let st = crate::strengthening::of(t.id);
            assert!(
                quietly(|| (st.invariant)(m, s)).unwrap_or(false),
                "{} does not imply {}",
                t.label,
                st.property
            );
            self.stats.satisfying.entry(t.id).or_default().0 += 1;
        }
        let mut actions = Vec::new();
        m.enabled(s, &mut actions);
        for a in actions {
            let next = quietly(|| m.apply(s, a, &mut Log::off()));
            let after = match &next {
                Some(Some(t)) => Some(evaluate(m, t)),
                Some(None) => continue,
                None => None,
            };
            for k in &holding {
                let target = &self.targets[*k];
                let id = target.id;
                self.stats.satisfying.entry(id).or_default().1 += 1;
                let ok = after.is_some_and(|b| b & target.mask == target.mask);
                if ok {
                    continue;
                }
                if let Some(name) = self.known_filter.and_then(|f| f(id, m, s, &a)) {
                    *self.known.entry(name).or_default() += 1;
                    continue;
                }
                let broken = match (&next, after) {
                    (Some(Some(_)), Some(bits)) => broken_name(target.mask & !bits),
                    _ => "the step panicked".to_string(),
                };
                let key = (
                    id,
                    format!("{}:{}:{}", target.label, action_kind(&a), broken),
                );
                let n = self.kinds.entry(key).or_default();
                *n += 1;
                if *n <= self.per_kind {
                    self.failures.push(Failure {
                        id,
                        label: target.label.clone(),
                        config: m.cfg.name.clone(),
                        state: s.clone(),
                        action: a,
                        broken,
                    });
                }
            }
        }
    }

    /// A one-paragraph summary.
    pub fn summary(&self) -> String {
        let mut out = format!("{} distinct candidate states;", self.stats.candidates);
        for (id, (n, steps)) in &self.stats.satisfying {
            out.push_str(&format!(" {id}: {n} satisfy, {steps} steps;"));
        }
        if !self.known.is_empty() {
            out.push_str(&format!(" known failures: {:?}", self.known));
        }
        out
    }
}

/// The names of the conjuncts whose bits are set.
fn broken_name(bits: u64) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (i, (n, _)) in LEMMAS.iter().enumerate() {
        if bits & (1 << i) != 0 {
            names.push(n);
        }
    }
    for (k, st) in STRENGTHENINGS.iter().enumerate() {
        if bits & (1 << (32 + k)) != 0 {
            names.push(st.property);
        }
    }
    names.join("+")
}

/// Whether every strengthening holds in `s` (used for initial states).
pub fn all_hold(m: &SpriteModel, s: &State) -> Vec<(InvariantId, &'static str)> {
    STRENGTHENINGS
        .iter()
        .filter_map(|st| first_broken(st.id, m, s).map(|b| (st.id, b)))
        .collect()
}
