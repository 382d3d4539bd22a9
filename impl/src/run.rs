//! Runs a scenario on the cluster, beside the one-machine Unix ghost, and collects what the
//! command line prints: each result (with the ghost's, and the expectation), the trace,
//! and the cost of every migration.

use crate::cost::{CostModel, MigrationRecord};
use crate::scenario::{RunMode, Scenario, StepKind};
use crate::sim::{Cluster, OpId, OpState, SimError, TraceLine};
use crate::view::ClusterView;
use serde::Serialize;
use vocab::{Op, Outcome, Pid, Value};

#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub line: usize,
    pub step: String,
    /// The printed outcome: a value, an error, `blocked` or `killed`.
    pub outcome: String,
    /// What the one-machine Unix returns (none after a crash: the ghost has no crashes).
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
}

impl RunReport {
    /// True when every expectation held and the cluster agreed with the ghost.
    pub fn ok(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.expect_ok != Some(false) && s.agrees != Some(false))
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

fn comparable(op: &Op, ghost: &Outcome, got: Option<Outcome>) -> bool {
    match (op, got) {
        (Op::Migrate { .. }, _) => true,
        (Op::Gettimeofday, Some(Ok(Value::Time(_)))) => matches!(ghost, Ok(Value::Time(_))),
        (_, g) => g == Some(*ghost),
    }
}

/// Runs the scenario; `trace` records every message and phase.
pub fn run(s: &Scenario, trace: bool, model: &CostModel) -> Result<RunReport, SimError> {
    let mut c = Cluster::new(&s.cluster, s.seed)?;
    c.set_tracing(trace);
    c.set_schedule(s.schedule.clone());
    let mut ghost = unix::Unix::new();
    for (name, data) in &s.cluster.files {
        ghost.add_file(*name, data.clone());
    }
    for p in &s.cluster.processes {
        ghost.add_process(p.pid, p.pages);
    }
    let mut ghost_valid = s.mode == RunMode::Sequential;
    let mut ids: Vec<Option<(OpId, Pid, Op)>> = Vec::new();
    let mut ghost_results: Vec<Option<Outcome>> = vec![None; s.steps.len()];
    let mut blocked: Vec<(Pid, usize)> = Vec::new();
    for (i, step) in s.steps.iter().enumerate() {
        match &step.kind {
            StepKind::Settle => {
                c.run_until_quiescent()?;
                ids.push(None);
            }
            StepKind::Event(e) => {
                if matches!(e, vocab::ClusterEvent::Crash(_)) {
                    ghost_valid = false;
                }
                c.event(*e)?;
                ids.push(None);
            }
            StepKind::Op(pid, op) => {
                let id = c.submit(*pid, *op);
                ids.push(Some((id, *pid, *op)));
                if ghost_valid {
                    let st = ghost.apply(*pid, op);
                    ghost_results[i] = st.outcome;
                    if st.outcome.is_none() {
                        blocked.push((*pid, i));
                    }
                    if let Some((w, out)) = st.woke {
                        if let Some(k) = blocked.iter().position(|(p, _)| *p == w) {
                            let (_, j) = blocked.remove(k);
                            ghost_results[j] = Some(out);
                        }
                    }
                }
            }
        }
        if s.mode == RunMode::Sequential {
            c.run_until_quiescent()?;
        }
    }
    c.run_until_quiescent()?;
    let mut steps = Vec::new();
    for (i, step) in s.steps.iter().enumerate() {
        let (text, outcome, unix, agrees) = match (&step.kind, &ids[i]) {
            (StepKind::Op(pid, op), Some((id, _, _))) => {
                let got = c.outcome(*id);
                let g = ghost_results[i];
                let agrees = g.map(|g| comparable(op, &g, got)).or_else(|| {
                    // The ghost blocked (wait that never returns): so must the cluster.
                    (ghost_valid && matches!(op, Op::Wait)).then(|| got.is_none())
                });
                let unix = g.map(|g| vocab::outcome::show(&g)).or_else(|| {
                    (ghost_valid && matches!(op, Op::Wait)).then(|| "blocked".to_string())
                });
                (format!("{pid}: {op}"), show(&c, *id), unix, agrees)
            }
            (StepKind::Event(e), _) => (format!("event: {e}"), "done".into(), None, None),
            _ => continue,
        };
        let expect_ok = step.expect.as_ref().map(|e| matches_expect(e, &outcome));
        steps.push(StepResult {
            line: step.line,
            step: text,
            outcome,
            unix,
            agrees,
            expect: step.expect.clone(),
            expect_ok,
        });
    }
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
    Ok(RunReport {
        seed: s.seed,
        switches: s.cluster.switches.to_string(),
        steps,
        migrations,
        totals: c.ledger.totals.clone(),
        trace: c.trace().to_vec(),
        final_state: c.view(),
    })
}
