//! Which kinds of model step a run took: every operation, every migration step, signal
//! delivery, each cluster event. The checker records each step it takes (a successor it
//! generates); after the run, what a configuration *claims* to cover (the operations of its
//! scripts and alphabets, its events, the migration steps when it can migrate, ...) and
//! never took is a gap in what its "holds" means, as TLC's coverage report shows.
//!
//! One bit per kind in an atomic word shared by the checker's threads: a step reads the
//! word and writes only the first time its kind is taken, so the cost is a load per step.

use crate::config::Config;
use crate::Action;
use std::sync::atomic::{AtomicU64, Ordering};
use vocab::{ClusterEvent, Op};

/// The kinds, in the order of their bits.
pub const KINDS: [&str; 42] = [
    "open",
    "read",
    "write",
    "lseek",
    "lseek relative",
    "close",
    "unlink",
    "dup",
    "fork",
    "exec",
    "exec on a host",
    "exit",
    "wait",
    "getpid",
    "gettimeofday",
    "kill",
    "memread",
    "memwrite",
    "migrate",
    "pipe",
    "getpgrp",
    "setpgid",
    "killpg",
    "MIG_INIT",
    "MIG_STATE",
    "STREAM_MOVE",
    "STREAM_MOVE (register first)",
    "STREAM_RELEASE (late)",
    "close on source (reopen-files)",
    "reopen on target (reopen-files)",
    "HOME_UPDATE",
    "RESUME",
    "SIGNAL delivery",
    "PAGE_FLUSH arrives",
    "crash",
    "reboot",
    "owner returns",
    "owner leaves",
    "clock tick",
    "WRITE_BACK (delayed write)",
    "stat",
    "EXIT_NOTICE arrives (wait-on-current)",
];

fn op_kind(op: &Op) -> usize {
    match op {
        Op::Open { .. } => 0,
        Op::Read { .. } => 1,
        Op::Write { .. } => 2,
        Op::Lseek { .. } => 3,
        Op::LseekCur { .. } => 4,
        Op::Close { .. } => 5,
        Op::Unlink { .. } => 6,
        Op::Stat { .. } => 40,
        Op::Dup { .. } => 7,
        Op::Fork => 8,
        Op::Exec { target: None } => 9,
        Op::Exec { target: Some(_) } => 10,
        Op::Exit { .. } => 11,
        Op::Wait => 12,
        Op::Getpid => 13,
        Op::Gettimeofday => 14,
        Op::Kill { .. } => 15,
        Op::MemRead { .. } => 16,
        Op::MemWrite { .. } => 17,
        Op::Migrate { .. } => 18,
        Op::Pipe => 19,
        Op::Getpgrp => 20,
        Op::Setpgid { .. } => 21,
        Op::Killpg { .. } => 22,
    }
}

fn event_kind(e: &ClusterEvent) -> usize {
    match e {
        ClusterEvent::Crash(_) => 34,
        ClusterEvent::Reboot(_) => 35,
        ClusterEvent::OwnerReturns(_) => 36,
        ClusterEvent::OwnerLeaves(_) => 37,
        ClusterEvent::ClockTick(_) => 38,
    }
}

/// The kind of a step.
pub fn kind(a: &Action) -> usize {
    match a {
        Action::Run(_, op) => op_kind(op),
        Action::MigInit(_) => 23,
        Action::MigState(_) => 24,
        Action::StreamMove(..) => 25,
        Action::StreamRegister(..) => 26,
        Action::StreamRelease(..) => 27,
        Action::StreamClose(..) => 28,
        Action::StreamReopen(..) => 29,
        Action::HomeUpdate(_) => 30,
        Action::Resume(_) => 31,
        Action::DeliverSignal { .. } => 32,
        Action::FlushArrives(..) => 33,
        Action::WriteBack(..) => 39,
        Action::ExitNoticeArrives { .. } => 41,
        Action::Event(e) => event_kind(e),
    }
}

/// The kinds of step a run has taken, the guarded situations its states showed
/// (`crate::clauses`), and how many states it checked.
#[derive(Default)]
pub struct Coverage {
    taken: AtomicU64,
    situations: AtomicU64,
    /// States whose invariants were evaluated (the checker's progress: the unique states
    /// generated but not yet checked are its queue).
    checked: AtomicU64,
}

impl std::fmt::Debug for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Coverage({:#x})", self.bits())
    }
}

impl Coverage {
    pub fn record(&self, a: &Action) {
        let bit = 1u64 << kind(a);
        if self.taken.load(Ordering::Relaxed) & bit == 0 {
            self.taken.fetch_or(bit, Ordering::Relaxed);
        }
    }

    pub fn bits(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    /// Records a state checked, with the situations (bits of `clauses::CLAUSES`) it shows.
    pub fn record_state(&self, bits: u64) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        if bits & !self.situations.load(Ordering::Relaxed) != 0 {
            self.situations.fetch_or(bits, Ordering::Relaxed);
        }
    }

    /// How many states `record_state` saw.
    pub fn checked(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }

    pub fn situations(&self) -> u64 {
        self.situations.load(Ordering::Relaxed)
    }

    pub fn reset(&self) {
        self.taken.store(0, Ordering::Relaxed);
        self.situations.store(0, Ordering::Relaxed);
        self.checked.store(0, Ordering::Relaxed);
    }
}

/// The kinds a configuration claims to cover: the operations its processes run, its
/// events, the migration steps when a process can move (a migrate, an exec on another host,
/// or an owner's return that evicts), STREAM_MOVE when a moving process can hold a file or
/// a pipe, and signal delivery when some process signals. The switches' own steps are
/// claimed under their switch.
pub fn claimed(cfg: &Config) -> u64 {
    let mut bits = 0u64;
    let mut set = |k: usize| bits |= 1 << k;
    let ops: Vec<Op> = cfg.scripts.iter().flat_map(|s| s.ops.clone()).collect();
    for op in &ops {
        set(op_kind(op));
    }
    for (e, _) in &cfg.events {
        set(event_kind(e));
    }
    let moves = ops
        .iter()
        .any(|o| matches!(o, Op::Migrate { .. } | Op::Exec { target: Some(_) }))
        || cfg
            .events
            .iter()
            .any(|(e, _)| matches!(e, ClusterEvent::OwnerReturns(_)));
    if moves {
        for k in [23, 24, 30, 31] {
            set(k);
        }
        if holds_while_moving(cfg) {
            set(25);
        }
    }
    if ops
        .iter()
        .any(|o| matches!(o, Op::Kill { .. } | Op::Killpg { .. }))
    {
        set(32);
    }
    let writes = ops.iter().any(|o| matches!(o, Op::Write { .. }));
    if cfg.delayed_writes && writes {
        set(39);
    }
    bits
}

/// Whether some process can hold a stream and move: its program (or an ancestor's, whose
/// streams it inherits) opens a file or makes a pipe, and it migrates, execs on another
/// host, or may be evicted (an owner's return is among the events).
fn holds_while_moving(cfg: &Config) -> bool {
    let evictable = cfg
        .events
        .iter()
        .any(|(e, _)| matches!(e, ClusterEvent::OwnerReturns(_)));
    let opens = |ops: &[Op]| ops.iter().any(|o| matches!(o, Op::Open { .. } | Op::Pipe));
    let moves = |ops: &[Op]| {
        evictable
            || ops
                .iter()
                .any(|o| matches!(o, Op::Migrate { .. } | Op::Exec { target: Some(_) }))
    };
    // Each program, with whether an ancestor opened something, from the listed processes'.
    let mut todo: Vec<(usize, bool)> = cfg
        .procs
        .iter()
        .map(|p| (usize::from(p.script), false))
        .collect();
    let mut seen = 0usize;
    while let Some((i, inherited)) = todo.pop() {
        seen += 1;
        let Some(s) = cfg.scripts.get(i) else {
            continue;
        };
        let has = inherited || opens(&s.ops);
        if has && moves(&s.ops) {
            return true;
        }
        if seen <= cfg.scripts.len() * 4 {
            todo.extend(s.children.iter().map(|c| (usize::from(*c), has)));
        }
    }
    false
}

/// The names of the kinds in `bits`.
pub fn names(bits: u64) -> Vec<&'static str> {
    (0..KINDS.len())
        .filter(|k| bits & (1 << k) != 0)
        .map(|k| KINDS[k])
        .collect()
}
