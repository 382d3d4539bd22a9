//! What a step did, in words: the lines of a readable counterexample and of a Mermaid
//! sequence diagram. Built only when someone asks (the checker's hot path passes a
//! disabled log, so no string is formatted there).

use vocab::HostId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Host(HostId),
    Server,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Host(h) => write!(f, "{h}"),
            Actor::Server => write!(f, "fs"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A message from one actor to another.
    Msg {
        from: Actor,
        to: Actor,
        text: String,
    },
    /// Something that happened at one actor (an operation and its result).
    Note { at: Actor, text: String },
    /// Where the one-machine Unix disagrees, or an invariant was seen broken.
    Alarm { at: Actor, text: String },
    /// An operation of a process returned, with what the same operation returns on one
    /// Unix machine when the step compared them (`None`: no comparison at this step).
    Outcome {
        at: Actor,
        pid: vocab::Pid,
        op: vocab::Op,
        outcome: vocab::Outcome,
        ghost: Option<vocab::Outcome>,
    },
}

#[derive(Debug, Default)]
pub struct Log {
    lines: Option<Vec<Line>>,
    /// Only [`Line::Outcome`]s are kept (no text is formatted).
    outcomes_only: bool,
    /// Broken invariants seen during the current step: written after the step's other
    /// lines (`end_step`), so that a reader meets the cause before the alarm.
    broken: Vec<Line>,
}

impl Log {
    pub fn off() -> Log {
        Log {
            lines: None,
            outcomes_only: false,
            broken: Vec::new(),
        }
    }
    pub fn on() -> Log {
        Log {
            lines: Some(Vec::new()),
            outcomes_only: false,
            broken: Vec::new(),
        }
    }
    /// Keeps the operations' results only: cheap enough for a harness that applies many
    /// actions to follow an implementation.
    pub fn outcomes_only() -> Log {
        Log {
            lines: Some(Vec::new()),
            outcomes_only: true,
            broken: Vec::new(),
        }
    }
    fn text_lines(&mut self) -> Option<&mut Vec<Line>> {
        self.lines.as_mut().filter(|_| !self.outcomes_only)
    }
    pub fn msg(&mut self, from: Actor, to: Actor, text: impl FnOnce() -> String) {
        if let Some(l) = self.text_lines() {
            if from != to {
                l.push(Line::Msg {
                    from,
                    to,
                    text: text(),
                });
            }
        }
    }
    pub fn note(&mut self, at: Actor, text: impl FnOnce() -> String) {
        if let Some(l) = self.text_lines() {
            l.push(Line::Note { at, text: text() });
        }
    }
    pub fn alarm(&mut self, at: Actor, text: impl FnOnce() -> String) {
        if let Some(l) = self.text_lines() {
            l.push(Line::Alarm { at, text: text() });
        }
    }
    /// An invariant seen broken in this step: kept aside until the step ends, so that it
    /// follows what caused it (the result, the message) whatever order the step found them.
    pub fn broken(&mut self, at: Actor, text: impl FnOnce() -> String) {
        if self.text_lines().is_some() {
            self.broken.push(Line::Alarm { at, text: text() });
        }
    }
    /// The step is over: its broken invariants go after its other lines.
    pub fn end_step(&mut self) {
        if let Some(l) = &mut self.lines {
            l.append(&mut self.broken);
        }
    }
    pub fn outcome(
        &mut self,
        at: Actor,
        pid: vocab::Pid,
        op: vocab::Op,
        outcome: vocab::Outcome,
        ghost: Option<vocab::Outcome>,
    ) {
        if let Some(l) = &mut self.lines {
            l.push(Line::Outcome {
                at,
                pid,
                op,
                outcome,
                ghost,
            });
        }
    }
    /// The operations that returned, in order.
    pub fn outcomes(&self) -> Vec<(vocab::Pid, vocab::Op, vocab::Outcome)> {
        self.lines
            .iter()
            .flatten()
            .filter_map(|l| match l {
                Line::Outcome {
                    pid, op, outcome, ..
                } => Some((*pid, *op, *outcome)),
                _ => None,
            })
            .collect()
    }
    pub fn into_lines(mut self) -> Vec<Line> {
        self.end_step();
        self.lines.unwrap_or_default()
    }
}
