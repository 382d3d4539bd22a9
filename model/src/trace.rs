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

/// Applies one action with the log on: the next state and what the step did, or `None`
/// if the action is not enabled in `s`.
pub fn step(model: &SpriteModel, s: &State, a: Action) -> Option<(State, Vec<Line>)> {
    let mut log = Log::on();
    let next = model.apply(s, a, &mut log)?;
    Some((next, log.into_lines()))
}

/// The log lines of each step of a path.
pub fn steps(model: &SpriteModel, actions: &[Action]) -> Vec<(Action, Vec<Line>)> {
    let mut s = model.initial();
    let mut out = Vec::new();
    for a in actions {
        match step(model, &s, *a) {
            Some((next, lines)) => {
                out.push((*a, lines));
                s = next;
            }
            None => break,
        }
    }
    out
}

/// An operation's result, and beside it what the same operation returns on one Unix
/// machine when the step compared the two.
pub fn result_text(
    op: &vocab::Op,
    outcome: &vocab::Outcome,
    ghost: Option<&vocab::Outcome>,
) -> String {
    let got = vocab::outcome::show(outcome);
    match ghost {
        // Times are not compared with one machine's clock (TIME orders them instead).
        Some(_) if matches!(op, vocab::Op::Gettimeofday) => got,
        Some(g) if g == outcome => format!("{got}, as on one Unix machine"),
        Some(g) => format!("{got}, but {} on one Unix machine", vocab::outcome::show(g)),
        None => got,
    }
}

/// One log line as the numbered trace shows it: a message `from -> to: text`, a note
/// `[at] text`, an alarm `[at] !! text`, a result `[at] pid: op -> result`.
pub fn line_text(l: &Line) -> String {
    match l {
        Line::Msg { from, to, text } => format!("{from} -> {to}: {text}"),
        Line::Note { at, text } => format!("[{at}] {text}"),
        Line::Alarm { at, text } => format!("[{at}] !! {text}"),
        Line::Outcome {
            at,
            pid,
            op,
            outcome,
            ghost,
        } => format!(
            "[{at}] {pid}: {op} -> {}",
            result_text(op, outcome, ghost.as_ref())
        ),
    }
}

/// One step as text: the action, then what it did, one line each, indented by `indent`
/// (the numbered trace and the Explorer both show steps this way).
pub fn step_text(action: &Action, lines: &[Line], indent: &str) -> String {
    let mut out = format!("{action}\n");
    for l in lines {
        out.push_str(indent);
        out.push_str(&line_text(l));
        out.push('\n');
    }
    out
}

/// A numbered, readable message sequence.
pub fn render(model: &SpriteModel, actions: &[Action]) -> String {
    let mut out = String::new();
    for (i, (a, lines)) in steps(model, actions).into_iter().enumerate() {
        out.push_str(&format!(
            "{:>3}. {}",
            i + 1,
            step_text(&a, &lines, "       ")
        ));
    }
    out
}

/// Text for a Mermaid sequence diagram: the characters Mermaid reads as syntax (`;` ends
/// a statement, `#` starts an entity, `<` and `>` may open markup) are written as entity
/// codes, and an arrow `->` as the arrow character.
pub fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'>') => {
                chars.next();
                out.push('\u{2192}');
            }
            ';' => out.push_str("#59;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid sequence diagram of a path. It ends with the invariants broken at its end,
/// in a red box spanning every participant.
pub fn mermaid(model: &SpriteModel, actions: &[Action]) -> String {
    let hosts = model.cfg.hosts.len();
    let mut out = String::from("sequenceDiagram\n");
    for h in 0..hosts {
        out.push_str(&format!("    participant h{h}\n"));
    }
    out.push_str("    participant fs as file server\n");
    let red = |out: &mut String, note: String| {
        out.push_str("    rect rgb(255, 221, 221)\n");
        out.push_str(&note);
        out.push_str("    end\n");
    };
    for (i, (_, lines)) in steps(model, actions).into_iter().enumerate() {
        for l in &lines {
            let n = i + 1;
            match l {
                Line::Msg { from, to, text } => {
                    out.push_str(&format!("    {from}->>{to}: {n}. {}\n", mermaid_text(text)))
                }
                Line::Alarm { at, text } => red(
                    &mut out,
                    format!("    Note over {at}: {n}. !! {}\n", mermaid_text(text)),
                ),
                Line::Note { at, .. } | Line::Outcome { at, .. } => {
                    let text = line_text(l);
                    let text = text.strip_prefix(&format!("[{at}] ")).unwrap_or(&text);
                    out.push_str(&format!(
                        "    Note over {at}: {n}. {}\n",
                        mermaid_text(text)
                    ))
                }
            }
        }
    }
    let broken = explain_path(model, actions);
    if !broken.is_empty() {
        let span = if hosts > 0 { "h0,fs" } else { "fs" };
        let notes: String = broken
            .iter()
            .map(|b| {
                format!(
                    "    Note over {span}: BROKEN after step {}. {}\n",
                    actions.len(),
                    mermaid_text(&b.to_string())
                )
            })
            .collect();
        red(&mut out, notes);
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

/// An invariant broken at the end of a path, and why in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub id: InvariantId,
    pub why: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", crate::invariant_title(self.id), self.why)
    }
}

/// Why each invariant broken at the end of a path is broken: for one that a step saw
/// broken (a result that differs from one Unix machine's, a transition check), the step
/// and what it saw there; for the others, what is wrong in the last state.
pub fn explain_path(model: &SpriteModel, actions: &[Action]) -> Vec<Broken> {
    let mut states = vec![model.initial()];
    let mut logs = Vec::new();
    for a in actions {
        let Some((next, lines)) = step(model, states.last().expect("non-empty"), *a) else {
            break;
        };
        states.push(next);
        logs.push(lines);
    }
    let last = states.last().expect("non-empty");
    properties::invariants()
        .into_iter()
        .filter(|(_, check)| !check(model, last))
        .map(|(id, _)| {
            let Some(k) = states.iter().position(|s| s.flagged(id)).filter(|k| *k > 0) else {
                let why = properties::why(id, model, last);
                return Broken { id, why };
            };
            let prefix = format!("{id} broken: ");
            let seen: Vec<&str> = logs[k - 1]
                .iter()
                .filter_map(|l| match l {
                    Line::Alarm { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .filter_map(|t| {
                    if id == InvariantId::TR {
                        // A result compared with one Unix machine's: the alarm is named
                        // after the invariant the operation speaks for.
                        t.contains("one Unix machine")
                            .then(|| t.split_once(" broken: ").map_or(t, |(_, r)| r))
                    } else {
                        t.strip_prefix(&prefix)
                    }
                })
                .collect();
            let why = if seen.is_empty() {
                format!("seen at step {k} (marked !!)")
            } else {
                format!("at step {k}, {}", seen.join("; "))
            };
            Broken { id, why }
        })
        .collect()
}

/// A list in words: `a`, `a and b`, `a, b and c`; `empty` if there is nothing.
pub fn list(items: &[String], empty: &str) -> String {
    match items {
        [] => empty.to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
