//! Readable mismatch reports: the step, the operation, every side's result, the invariants
//! that fail on the implementation's mapped state, the field-by-field state diff, the
//! scenario in readable form, and one command that replays it.

use crate::gen::{Crashes, Scenario, Step, Who};
use crate::run::{Kind, Mismatch};
use std::fmt::Write;
use vocab::Switches;

fn who(w: &Who) -> String {
    match w {
        Who::Slot(i) => format!("process#{i}"),
        Who::Newest => "newest-child".into(),
        Who::Pid(p) => p.to_string(),
    }
}

/// The operation that starts a step's migration.
fn move_text(target: vocab::HostId, exec: bool) -> String {
    if exec {
        format!("exec(on {target})")
    } else {
        format!("migrate(to {target})")
    }
}

/// One step, readably.
pub fn step_text(s: &Step) -> String {
    match s {
        Step::Op { who: w, op } => format!("{}: {op}", who(w)),
        Step::Kill { who: w, target } => format!("{}: kill({})", who(w), who(target)),
        Step::During {
            mover,
            target,
            exec,
            after,
            other,
            op,
            then,
        } => format!(
            "{}: {} ; after {after} internal steps {}: {}{}",
            who(mover),
            move_text(*target, *exec),
            who(other),
            op.map_or(format!("kill({})", who(mover)), |o| o.to_string()),
            then.iter()
                .map(|o| format!(", then {o}"))
                .collect::<String>()
        ),
        Step::Pipe {
            who: w,
            first,
            second,
        } => {
            format!("{}: {first} then at once {second}", who(w))
        }
        Step::EventDuring {
            mover,
            target,
            exec,
            after,
            event,
        } => format!(
            "{}: {} ; after {after} internal steps event: {event}",
            who(mover),
            move_text(*target, *exec),
        ),
        Step::EventAmid {
            who: w,
            away,
            op,
            after,
            crash,
        } => format!(
            "{}{}: {op} ; after {after} internal steps, a crash of {}",
            who(w),
            away.map_or(String::new(), |k| format!(
                " (moved {} host{} on first)",
                1 + k,
                if k == 0 { "" } else { "s" }
            )),
            match crash {
                Crashes::Runner => "the host it runs on".to_string(),
                Crashes::Home => "its home".to_string(),
                Crashes::Host(h) => h.to_string(),
            }
        ),
        Step::Event(e) => format!("event: {e}"),
        Step::Sched(b) => format!("schedule choice {b}"),
    }
}

fn show(o: &Option<vocab::Outcome>) -> String {
    o.as_ref().map_or(
        "(no result: blocked or killed)".into(),
        vocab::outcome::show,
    )
}

/// The scenario, readably.
pub fn scenario_text(sc: &Scenario) -> String {
    let mut s = String::new();
    let _ =
        writeln!(
        s,
        "cluster: {} hosts {:?}; files {:?}; {} pages; processes p0.0{}{}; switches {}; seed {}",
        sc.hosts.len(),
        sc.hosts
            .iter()
            .map(|h| format!("v{} clock#{} owner={}", h.version, h.clock, h.owner))
            .collect::<Vec<_>>(),
        sc.files,
        sc.pages,
        if sc.second_proc { ", p1.0" } else { "" },
        if sc.pinned { " (p0.0 shares memory)" } else { "" },
        sc.switches,
        sc.seed
    );
    for (i, st) in sc.steps.iter().enumerate() {
        let _ = writeln!(s, "  {i:>2}. {}", step_text(st));
    }
    s
}

/// The replay command for a scenario given by its generating bytes.
pub fn replay_command(bytes: &[u8], impl_switches: Option<Switches>) -> String {
    let mut c = format!(
        "cargo run -p conform --bin replay -- {}",
        crate::to_hex(bytes)
    );
    if let Some(sw) = impl_switches {
        let _ = write!(c, " --impl-switches {sw}");
    }
    c
}

/// The whole report.
pub fn render(m: &Mismatch, sc: &Scenario, replay: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "MISMATCH at step {}: {}", m.step, m.step_text);
    if let Some((n, what)) = &m.impl_step {
        let _ = writeln!(s, "  at the implementation's step {n}: {what}");
    }
    match &m.kind {
        Kind::Outcome {
            pid,
            op,
            implementation,
            model,
            ghost,
        } => {
            let _ = writeln!(s, "  operation  {pid}: {op}");
            let _ = writeln!(s, "  impl       {}", show(implementation));
            let _ = writeln!(s, "  model      {}", show(model));
            let _ = writeln!(s, "  one Unix   {}", show(ghost));
        }
        Kind::Invariant(id, why) => {
            let _ = writeln!(s, "  {id} fails on the implementation's state: {why}");
        }
        Kind::State => {
            let _ = writeln!(
                s,
                "  the implementation took a step no model action matches: its state is \
                 neither the model's nor one a model action leads to"
            );
        }
        Kind::Model(ids, alarms) => {
            let _ = writeln!(
                s,
                "  the model itself flags {ids:?} (expected only with a design switch on)"
            );
            for a in alarms {
                let _ = writeln!(s, "    model: {a}");
            }
        }
        Kind::Liveness(e) => {
            let _ = writeln!(s, "  LIVE: {e}");
        }
        Kind::Witness {
            named,
            why,
            matched,
        } => {
            let _ = writeln!(
                s,
                "  wrong witness: the implementation named [{}]; {why}",
                named.join(", ")
            );
            let _ = writeln!(
                s,
                "  the model steps that do lead to the implementation's state: [{}]",
                matched.join(", ")
            );
        }
    }
    if let Some(id) = m.invariant() {
        let _ = writeln!(s, "  speaks for  {id}: {}", id.statement());
    }
    for (id, why) in &m.invariants {
        let _ = writeln!(s, "  invariant {id} fails on the mapped state: {why}");
    }
    if !m.diff.is_empty() {
        if m.model_path.is_empty() {
            let _ = writeln!(s, "  state diff (implementation mapped vs model):");
        } else {
            let _ = writeln!(
                s,
                "  state diff (implementation mapped vs the nearest model state, after {}):",
                m.model_path.join(", ")
            );
        }
        for d in &m.diff {
            let _ = writeln!(s, "    {d}");
        }
    }
    let mut shown = sc.clone();
    shown.steps.truncate(m.step + 1);
    let _ = writeln!(
        s,
        "scenario (up to the failing step):\n{}",
        scenario_text(&shown)
    );
    let _ = writeln!(s, "replay: {replay}");
    s
}

/// A short signature of a mismatch, to group many runs' mismatches by cause.
pub fn signature(m: &Mismatch) -> String {
    let first_key = m
        .diff
        .first()
        .map(|d| d.split(':').next().unwrap_or("").to_string())
        .unwrap_or_default();
    let first_key: String = first_key
        .split_whitespace()
        .filter(|w| !w.starts_with('p') || !w.contains('.'))
        .collect::<Vec<_>>()
        .join(" ");
    match &m.kind {
        Kind::Outcome { op, .. } => format!("outcome of {}", op.name()),
        Kind::Invariant(id, _) => format!("{id} on mapped state"),
        Kind::State => format!("state: {first_key}"),
        Kind::Model(ids, _) => format!("model flags {ids:?}"),
        Kind::Liveness(_) => "liveness".into(),
        Kind::Witness { .. } => format!("wrong witness: {first_key}"),
    }
}
