//! Runs a scenario on the cluster, beside the one-machine Unix ghost, and collects what the
//! command line prints: each result (with the ghost's, and the expectation), the trace,
//! and the cost of every migration.
//!
//! Every result is checked against the ghost, in every mode: after the run, the recorded
//! history (when each operation started and completed) goes to [`crate::history`], which
//! applies each operation to the ghost at its linearization point: in completion order if
//! that explains every result, else in another order real time allows (that module's doc
//! says why completion alone is not enough). Sequential runs have one possible order.

use crate::cost::{CostModel, MigrationRecord};
use crate::final_state::{FinalResult, NameHistory};
use crate::history::{self, Entry, Expect};
use crate::policy::{check_tr, merged_log, run_all, Pmake, PmakeReport};
use crate::scenario::{number_of, PmakeExpect, Relation, RunMode, Scenario, StepKind};
use crate::sim::{Cluster, Enabled, OpId, OpState, SimError, TraceLine};
use crate::view::ClusterView;
use serde::Serialize;
use vocab::{Errno, Op, Pid};

#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub line: usize,
    pub step: String,
    /// The printed outcome: a value, an error, `blocked` or `killed`.
    pub outcome: String,
    /// What the one-machine Unix returns at this operation's place in the order found
    /// (none after a crash, the ghost has no crashes, and none for migrate, which has
    /// nothing to do on one machine).
    pub unix: Option<String>,
    /// Whether the cluster agrees with the ghost (TR); gettimeofday values and migrate
    /// results are not compared.
    pub agrees: Option<bool>,
    pub expect: Option<String>,
    pub expect_ok: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MigrationCost {
    #[serde(flatten)]
    pub record: MigrationRecord,
    pub rpcs: u32,
    pub bytes: u64,
    pub predicted_ms: f64,
    pub predicted_freeze_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub seed: u64,
    pub switches: String,
    pub steps: Vec<StepResult>,
    pub migrations: Vec<MigrationCost>,
    /// Messages, RPCs and bytes per message kind over the whole run.
    pub totals: std::collections::BTreeMap<vocab::MsgKind, crate::cost::Counter>,
    pub trace: Vec<TraceLine>,
    pub final_state: ClusterView,
    /// The `[[pmake]]` runs, if the scenario has any.
    pub pmakes: Vec<PmakeResult>,
    /// pmake results that differ from one Unix machine's (TR).
    pub pmake_tr_mismatches: Vec<String>,
    /// The comparison with the ghost could not decide (too many orders to try, or more
    /// streams, inodes or pids than the one machine numbers): nothing decided, see
    /// `undecided_why`. Never counted as agreement.
    pub undecided: bool,
    pub undecided_why: Option<String>,
    /// How many independent parts the history was checked in (`history::partition`).
    pub history_parts: usize,
    /// The ghost needed an order other than the order in which operations completed.
    pub reordered: bool,
    /// The `[final]` expectations, checked on the cluster once the run is over.
    pub finals: Vec<FinalResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PmakeResult {
    pub line: usize,
    pub client: Pid,
    pub report: PmakeReport,
    pub expect: PmakeExpect,
    pub expect_ok: bool,
}

impl RunReport {
    /// True when every expectation held and the cluster agreed with the ghost (decided).
    pub fn ok(&self) -> bool {
        !self.undecided && !self.failed()
    }

    /// True when an expectation failed or the cluster disagreed with the ghost.
    pub fn failed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.expect_ok == Some(false) || s.agrees == Some(false))
            || self.pmakes.iter().any(|p| !p.expect_ok)
            || !self.pmake_tr_mismatches.is_empty()
            || self.finals.iter().any(|f| !f.ok)
    }
}

fn show(c: &Cluster, id: OpId) -> String {
    match c.op(id) {
        Some(r) if r.state == OpState::Killed => "killed".into(),
        Some(r) => r
            .outcome
            .map(|o| vocab::outcome::show(&o))
            .unwrap_or_else(|| "blocked".into()),
        None => "?".into(),
    }
}

fn matches_expect(expect: &str, got: &str) -> bool {
    match expect.strip_suffix('*') {
        Some(prefix) => got.starts_with(prefix),
        None => expect == got,
    }
}

/// The history the cluster recorded, for [`history::check`]: every operation that started
/// before `cut` (the first crash), moves with no effect left out. Returns the entries and, for each,
/// its operation id.
fn history_of(c: &Cluster, cut: Option<u64>) -> (Vec<Entry>, Vec<OpId>) {
    let before = |t: u64| cut.is_none_or(|x| t < x);
    let mut recs: Vec<(OpId, &crate::sim::OpRecord)> = c
        .ops()
        .iter()
        .enumerate()
        .map(|(i, r)| (OpId(i), r))
        // Migrate has no effect on one machine; nor has a refused exec-time migration.
        .filter(|(_, r)| !matches!(r.op, Op::Migrate { .. }))
        .filter(|(_, r)| !(r.op.moves() && matches!(r.outcome, Some(Err(Errno::Refused(_))))))
        .filter(|(_, r)| r.started_at.is_some_and(before))
        .collect();
    // Each process's operations in the order it ran them.
    recs.sort_by_key(|(id, r)| (r.pid, r.started_at, *id));
    recs.into_iter()
        .map(|(id, r)| {
            let end = r.done_at.filter(|t| before(*t));
            let expect = match (r.state, r.outcome, end) {
                (OpState::Done, Some(o), Some(_)) => Expect::Result(o),
                // At rest with no crash: an operation still running blocks for good.
                (OpState::Running, _, _) if cut.is_none() => Expect::Blocked,
                _ => Expect::Any,
            };
            let e = Entry {
                pid: r.pid,
                op: r.op,
                start: r.started_at.unwrap_or(0),
                end: if expect == Expect::Any { None } else { end },
                expect,
            };
            (e, id)
        })
        .unzip()
}

/// Runs the scenario; `trace` records every message and phase.
pub fn run(s: &Scenario, trace: bool, model: &CostModel) -> Result<RunReport, SimError> {
    let mut c = Cluster::new(&s.cluster, s.seed)?;
    c.set_tracing(trace);
    c.set_schedule(s.schedule.clone());
    c.set_precopy_runs(s.precopy_runs);
    if !s.pmakes.is_empty() {
        return run_pmakes(s, c, model);
    }
    let mut ghost = unix::Unix::new();
    for (name, data) in &s.cluster.files {
        ghost.add_file(*name, data.clone());
    }
    for p in &s.cluster.processes {
        ghost.add_process(p.pid, p.pages);
    }
    let mut ids: Vec<Option<OpId>> = Vec::new();
    let mut d = Driver {
        armed: Vec::new(),
        fired: vec![None; s.steps.len()],
        cut: None,
        names: s
            .finals
            .iter()
            .any(|f| matches!(f.subject, crate::final_state::Subject::File(_)))
            .then(NameHistory::default),
    };
    d.observe(&c);
    for (i, step) in s.steps.iter().enumerate() {
        match (&step.kind, step.after) {
            (StepKind::Settle, _) => {
                d.settle(&mut c)?;
                ids.push(None);
            }
            (StepKind::Event(e), Some(t)) => {
                d.armed.push((i, *e, t));
                ids.push(None);
            }
            (StepKind::Event(e), None) => {
                happen(&mut c, *e, &mut d.cut)?;
                d.fired[i] = Some(c.now());
                d.observe(&c);
                ids.push(None);
            }
            (StepKind::Op(pid, op), _) => ids.push(Some(c.submit(*pid, *op))),
        }
        if s.mode == RunMode::Sequential {
            d.settle(&mut c)?;
        }
    }
    d.settle(&mut c)?;
    let Driver {
        fired, cut, names, ..
    } = d;
    let (entries, entry_ids) = history_of(&c, cut);
    let verdict = history::check(&ghost, &entries);
    let bad = verdict.disagreement.as_ref().map(|d| entry_ids[d.entry]);
    // Each operation's entry, if it has one.
    let mut entry_of = vec![None; c.ops().len()];
    for (k, id) in entry_ids.iter().enumerate() {
        entry_of[id.0] = Some(k);
    }
    let mut steps = Vec::new();
    // The results of the steps with an `id`, for the relations of later ones.
    let mut named: std::collections::BTreeMap<String, String> = Default::default();
    for (i, step) in s.steps.iter().enumerate() {
        let (text, outcome, unix, agrees) = match (&step.kind, &ids[i]) {
            (StepKind::Op(pid, op), Some(id)) => {
                let k = entry_of.get(id.0).copied().flatten();
                let g = k.and_then(|k| verdict.ghost[k]);
                let unix = g.map(|g| {
                    g.map(|o| vocab::outcome::show(&o))
                        .unwrap_or_else(|| "blocked".into())
                });
                let agrees = match k.map(|k| entries[k].expect) {
                    _ if verdict.undecided => None,
                    _ if bad == Some(*id) => Some(false),
                    Some(Expect::Result(_) | Expect::Blocked) if g.is_some() => Some(true),
                    _ => None,
                };
                (format!("{pid}: {op}"), show(&c, *id), unix, agrees)
            }
            (StepKind::Event(e), _) => {
                let text = match step.after {
                    Some(t) => format!("event: {e} after {t}"),
                    None => format!("event: {e}"),
                };
                let outcome = match (fired[i], step.after) {
                    (Some(at), Some(_)) => format!("done (simulator step {at})"),
                    (Some(_), None) => "done".into(),
                    (None, _) => "never: the moment did not come".into(),
                };
                (text, outcome, None, None)
            }
            _ => continue,
        };
        // An event that waits for a moment is expected to happen.
        let expect = step
            .expect
            .clone()
            .or_else(|| step.after.map(|_| "done*".to_string()));
        let expect_ok = expect.as_ref().map(|e| match Relation::parse(e) {
            // A relation with an earlier step's result: the numbers they carry.
            Some((rel, name)) => named
                .get(name)
                .and_then(|earlier: &String| number_of(earlier))
                .zip(number_of(&outcome))
                .is_some_and(|(b, a)| rel.holds(a, b)),
            None => matches_expect(e, &outcome),
        });
        if let Some(id) = &step.id {
            named.insert(id.clone(), outcome.clone());
        }
        steps.push(StepResult {
            line: step.line,
            step: text,
            outcome,
            unix,
            agrees,
            expect,
            expect_ok,
        });
    }
    let mut r = report(s, &c, model, steps);
    r.finals = crate::final_state::check(&s.finals, &c, &names.unwrap_or_default());
    r.undecided = verdict.undecided;
    r.undecided_why = verdict.undecided_why;
    r.history_parts = verdict.parts;
    r.reordered = verdict.reordered;
    Ok(r)
}

/// A cluster event between steps; a crash cuts the history compared with one machine.
fn happen(c: &mut Cluster, e: vocab::ClusterEvent, cut: &mut Option<u64>) -> Result<(), SimError> {
    if matches!(e, vocab::ClusterEvent::Crash(_)) && cut.is_none() {
        *cut = Some(c.now());
    }
    c.event(e)
}

/// What a scenario run keeps while it drives the cluster.
struct Driver {
    /// Events waiting for their moment (`after`): the step index, the event, the moment.
    armed: Vec<(usize, vocab::ClusterEvent, vocab::Trigger)>,
    /// When each event step happened: the simulator's step.
    fired: Vec<Option<u64>>,
    /// The first crash: the history compared with one machine ends there.
    cut: Option<u64>,
    /// What each file name referred to, when a `[final]` expectation is about a file.
    names: Option<NameHistory>,
}

impl Driver {
    fn observe(&mut self, c: &Cluster) {
        if let Some(n) = &mut self.names {
            n.observe(c);
        }
    }

    /// Runs what is queued to quiescence; each armed event happens right after the first
    /// step that is its moment (in the order the file gives them, when one step is the
    /// moment of several).
    fn settle(&mut self, c: &mut Cluster) -> Result<(), SimError> {
        if self.armed.is_empty() && self.names.is_none() {
            c.run_until_quiescent()?;
            return Ok(());
        }
        c.run_until_quiescent_with(|c, taken| {
            let now: Vec<(usize, vocab::ClusterEvent)> = self
                .armed
                .iter()
                .filter(|(_, _, t)| match (t.step, taken) {
                    (vocab::TriggerStep::Start, Enabled::Start { pid, .. }) => *pid == t.pid,
                    _ => c.witnessed().iter().any(|w| t.is_witnessed_by(w)),
                })
                .map(|(i, e, _)| (*i, *e))
                .collect();
            for (i, e) in now {
                self.armed.retain(|(j, _, _)| *j != i);
                happen(c, e, &mut self.cut)?;
                self.fired[i] = Some(c.now());
            }
            self.observe(c);
            Ok(())
        })?;
        Ok(())
    }
}

fn report(s: &Scenario, c: &Cluster, model: &CostModel, steps: Vec<StepResult>) -> RunReport {
    let migrations = c
        .ledger
        .migrations
        .iter()
        .map(|r| MigrationCost {
            rpcs: r.rpcs(),
            bytes: r.bytes(),
            predicted_ms: model.predict(r),
            predicted_freeze_ms: model.predict_freeze(r),
            record: r.clone(),
        })
        .collect();
    RunReport {
        seed: s.seed,
        switches: s.cluster.switches.to_string(),
        steps,
        migrations,
        totals: c.ledger.totals.clone(),
        trace: c.trace().to_vec(),
        final_state: c.view(),
        pmakes: Vec::new(),
        pmake_tr_mismatches: Vec::new(),
        undecided: false,
        undecided_why: None,
        history_parts: 0,
        reordered: false,
        finals: Vec::new(),
    }
}

/// Runs the scenario's pmakes side by side through migd, with its timed events, and
/// replays their results on the one-machine Unix.
fn run_pmakes(s: &Scenario, mut c: Cluster, model: &CostModel) -> Result<RunReport, SimError> {
    c.enable_policy(s.policy.clone().unwrap_or_default())?;
    for (at, ev, _) in &s.timed {
        c.schedule(*at, *ev)?;
    }
    let policy_err = |e: crate::policy::PmakeError| SimError::Policy(e.to_string());
    let mut ps = Vec::new();
    for p in &s.pmakes {
        let pm =
            Pmake::new(&c, p.client, &p.jobs, p.local_slots, p.first_file).map_err(policy_err)?;
        ps.push(pm.starting_at(p.start_ms));
    }
    let reports = run_all(&mut c, ps).map_err(policy_err)?;
    let mismatches = check_tr(&c.cfg, &merged_log(&reports));
    let mut r = report(s, &c, model, Vec::new());
    r.pmake_tr_mismatches = mismatches;
    r.pmakes = s
        .pmakes
        .iter()
        .zip(reports)
        .map(|(p, rep)| PmakeResult {
            line: p.line,
            client: p.client,
            expect_ok: p.expect.holds(&rep),
            expect: p.expect.clone(),
            report: rep,
        })
        .collect();
    Ok(r)
}
