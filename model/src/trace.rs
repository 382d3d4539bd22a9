//! Counterexamples: replayed, cut at the first violating state, minimised, and rendered
//! as a numbered message sequence or a Mermaid sequence diagram.

use crate::log::{Line, Log};
use crate::properties;
use crate::{Action, SpriteModel, State};
use vocab::InvariantId;

/// Replays actions from the initial state; `None` if one is not enabled where it occurs.
pub fn replay(model: &SpriteModel, actions: &[Action]) -> Option<Vec<State>> {
    let mut states = vec![model.initial()];
    for a in actions {
        let s = states.last().expect("non-empty");
        let mut enabled = Vec::new();
        model.enabled(s, &mut enabled);
        if !enabled.contains(a) {
            return None;
        }
        states.push(model.apply(s, *a, &mut Log::off())?);
    }
    Some(states)
}

fn holds(model: &SpriteModel, s: &State, id: InvariantId) -> bool {
    let check = properties::invariants()
        .into_iter()
        .find(|(i, _)| *i == id)
        .expect("every ID has a check")
        .1;
    check(model, s)
}

/// The prefix of `actions` that ends at the first state violating `id`, if any.
fn cut(model: &SpriteModel, actions: &[Action], id: InvariantId) -> Option<Vec<Action>> {
    let states = replay(model, actions)?;
    let first = states.iter().position(|s| !holds(model, s, id))?;
    Some(actions[..first].to_vec())
}

/// Shortens a counterexample: cut at the first violation, then drop any action whose
/// removal still leaves a valid path to a violation of the same invariant, until no
/// single removal works. Deterministic.
pub fn minimise(model: &SpriteModel, actions: &[Action], id: InvariantId) -> Vec<Action> {
    let Some(mut best) = cut(model, actions, id) else {
        return actions.to_vec();
    };
    loop {
        let mut improved = false;
        let mut i = 0;
        while i < best.len() {
            let mut shorter = best.clone();
            shorter.remove(i);
            match cut(model, &shorter, id) {
                Some(c) if c.len() < best.len() => {
                    best = c;
                    improved = true;
                }
                _ => i += 1,
            }
        }
        if !improved {
            return best;
        }
    }
}

/// The log lines of each step of a path.
pub fn steps(model: &SpriteModel, actions: &[Action]) -> Vec<(Action, Vec<Line>)> {
    let mut s = model.initial();
    let mut out = Vec::new();
    for a in actions {
        let mut log = Log::on();
        match model.apply(&s, *a, &mut log) {
            Some(next) => {
                out.push((*a, log.into_lines()));
                s = next;
            }
            None => break,
        }
    }
    out
}

/// A numbered, readable message sequence.
pub fn render(model: &SpriteModel, actions: &[Action]) -> String {
    let mut out = String::new();
    for (i, (a, lines)) in steps(model, actions).into_iter().enumerate() {
        out.push_str(&format!("{:>3}. {a}\n", i + 1));
        for l in lines {
            let text = match l {
                Line::Msg { from, to, text } => format!("{from} -> {to}: {text}"),
                Line::Note { at, text } => format!("[{at}] {text}"),
                Line::Alarm { at, text } => format!("[{at}] !! {text}"),
                Line::Outcome {
                    at,
                    pid,
                    op,
                    outcome,
                } => format!("[{at}] {pid}: {op} -> {}", vocab::outcome::show(&outcome)),
            };
            out.push_str(&format!("       {text}\n"));
        }
    }
    out
}

fn mermaid_text(s: &str) -> String {
    s.replace([';', '#'], " ").replace("->", "to")
}

/// A Mermaid sequence diagram of a path.
pub fn mermaid(model: &SpriteModel, actions: &[Action]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    for h in 0..model.cfg.hosts.len() {
        out.push_str(&format!("    participant h{h}\n"));
    }
    out.push_str("    participant fs as file server\n");
    for (i, (_, lines)) in steps(model, actions).into_iter().enumerate() {
        for l in lines {
            let line = match l {
                Line::Msg { from, to, text } => {
                    format!("    {from}->>{to}: {}. {}\n", i + 1, mermaid_text(&text))
                }
                Line::Note { at, text } => {
                    format!("    Note over {at}: {}. {}\n", i + 1, mermaid_text(&text))
                }
                Line::Alarm { at, text } => {
                    format!(
                        "    Note over {at}: {}. BROKEN {}\n",
                        i + 1,
                        mermaid_text(&text)
                    )
                }
                Line::Outcome {
                    at,
                    pid,
                    op,
                    outcome,
                } => {
                    let text = format!("{pid}: {op} -> {}", vocab::outcome::show(&outcome));
                    format!("    Note over {at}: {}. {}\n", i + 1, mermaid_text(&text))
                }
            };
            out.push_str(&line);
        }
    }
    out
}

/// The index of each action among the actions enabled where it occurs (what `replay
/// --path` takes).
pub fn indices(model: &SpriteModel, actions: &[Action]) -> Vec<usize> {
    let mut s = model.initial();
    let mut out = Vec::new();
    for a in actions {
        let mut enabled = Vec::new();
        model.enabled(&s, &mut enabled);
        let Some(i) = enabled.iter().position(|e| e == a) else {
            break;
        };
        out.push(i);
        s = model.apply(&s, *a, &mut Log::off()).expect("enabled");
    }
    out
}

/// The actions a list of indices picks, or why the list is not a path.
pub fn from_indices(model: &SpriteModel, indices: &[usize]) -> Result<Vec<Action>, String> {
    let mut s = model.initial();
    let mut out = Vec::new();
    for (step, i) in indices.iter().enumerate() {
        let mut enabled = Vec::new();
        model.enabled(&s, &mut enabled);
        let a = *enabled.get(*i).ok_or_else(|| {
            format!(
                "step {}: index {i} but only {} actions are enabled there",
                step + 1,
                enabled.len()
            )
        })?;
        s = model.apply(&s, a, &mut Log::off()).expect("enabled");
        out.push(a);
    }
    Ok(out)
}

/// Why each broken invariant is broken in `s`, one line each.
pub fn explain(model: &SpriteModel, s: &State) -> Vec<String> {
    properties::invariants()
        .into_iter()
        .filter(|(_, check)| !check(model, s))
        .map(|(id, _)| {
            format!(
                "{}: {}",
                crate::invariant_title(id),
                properties::why(id, model, s)
            )
        })
        .collect()
}
