//! Which guarded clauses of the invariants a run exercised. Many clauses of the catalogue
//! have the form "if the situation arises, then ...": the shadow stream clause of OFF needs
//! a stream used on two hosts, CONS's last-writer clause needs dirty blocks in a cache, SIG's
//! held signals need a signal that arrives while its process moves. A run in which the
//! situation never arises checks the clause vacuously, and its "holds" says nothing about it.
//! As TLC's coverage report does for actions, `check` says, per configuration, which of these
//! situations no state it visited had.
//!
//! Each situation is a bit; the checker records the bits of every state on which it
//! evaluates the invariants (`properties::all_hold`), in an atomic word shared by its
//! threads: a load per state, a write only when a state shows something new.

use crate::state::{Loc, State, Status};
use crate::SpriteModel;
use vocab::InvariantId;

/// A guarded situation: the invariant whose clause it exercises, and what it is.
pub struct Clause {
    pub invariant: InvariantId,
    pub situation: &'static str,
    /// Sprite's design never produces it: only a design switch can (so a run of Sprite's
    /// design is expected to leave it unexercised).
    pub switch_only: bool,
}

const fn c(invariant: InvariantId, situation: &'static str) -> Clause {
    Clause {
        invariant,
        situation,
        switch_only: false,
    }
}

use InvariantId::*;

/// The situations, in the order of their bits.
pub const CLAUSES: [Clause; 21] = [
    c(
        CONS,
        "a file's latest data dirty in a cache (last-writer clause)",
    ),
    c(
        CONS,
        "a host that uses a cacheable file holds blocks of its current version",
    ),
    c(CACHE, "a file whose caching is off"),
    c(OFF, "a stream used on two or more hosts (shadow clause)"),
    c(
        OFF,
        "a stream back on one host with its position on the server",
    ),
    c(DEL, "an unlinked file still open"),
    c(DEL, "a migration moving a process's open streams"),
    c(MEM, "a written page held only in the backing file"),
    c(HOME, "a process away from its home"),
    c(HOME, "a home table saying a process is moving"),
    c(SIG, "a signal held at a home for a moving process"),
    c(SIG, "a signal in flight"),
    c(WAIT, "an exit status waiting at a home"),
    c(WAIT, "a parent blocked in wait"),
    c(PID, "a process forked away from its home"),
    c(
        TIME,
        "a process away from home on a host whose clock differs from its home's",
    ),
    c(EVICT, "a foreign process on a host whose owner is present"),
    c(LIVE, "a migration in progress"),
    c(FAIL, "a host down"),
    Clause {
        invariant: RES,
        situation: "pages left on a host after a migration (copy-on-reference)",
        switch_only: true,
    },
    c(RES, "a parent waiting at its home's rendezvous"),
];

/// The situations state `s` shows, as bits of [`CLAUSES`].
pub fn situations(m: &SpriteModel, s: &State) -> u64 {
    let mut bits = 0u64;
    let mut set = |i: usize, on: bool| bits |= (on as u64) << i;
    set(0, s.hosts.iter().any(|h| h.cache.values().any(|e| e.dirty)));
    set(
        1,
        s.server.streams.values().any(|st| {
            let Some(f) = s.server.files.get(&st.ino) else {
                return false;
            };
            f.cacheable
                && st.hosts.iter().any(|h| {
                    s.host(*h)
                        .cache
                        .get(&st.ino)
                        .is_some_and(|e| e.version == f.version)
                })
        }),
    );
    set(
        2,
        s.server
            .files
            .iter()
            .any(|(ino, f)| !f.cacheable && !s.server.pipes.contains(ino)),
    );
    set(3, s.server.streams.values().any(|st| st.hosts.len() >= 2));
    set(
        4,
        s.server
            .streams
            .values()
            .any(|st| st.hosts.len() == 1 && st.shadow.is_some()),
    );
    set(
        5,
        s.server
            .files
            .iter()
            .any(|(ino, f)| !f.linked && !s.server.pipes.contains(ino)),
    );
    set(
        6,
        s.migrations.iter().any(|(pid, mg)| {
            mg.phase == crate::state::Phase::Streams
                && s.procs.get(pid).is_some_and(|p| !p.fds.is_empty())
        }),
    );
    set(
        7,
        s.procs.iter().any(|(pid, p)| {
            p.pages.iter().enumerate().any(|(i, pg)| {
                pg.resident.is_none()
                    && s.server
                        .backing
                        .contains_key(&(*pid, vocab::PageNo(i as u8)))
            })
        }),
    );
    set(8, s.procs.iter().any(|(pid, p)| p.host != pid.home));
    set(
        9,
        s.hosts
            .iter()
            .any(|h| h.home_table.values().any(|l| matches!(l, Loc::Moving(..)))),
    );
    set(10, s.hosts.iter().any(|h| !h.held_signals.is_empty()));
    set(11, !s.signals.is_empty());
    set(12, s.hosts.iter().any(|h| !h.rendezvous.zombies.is_empty()));
    set(13, s.procs.values().any(|p| p.status == Status::Waiting));
    set(14, s.procs.values().any(|p| p.born_remote));
    set(
        15,
        s.procs.iter().any(|(pid, p)| {
            p.host != pid.home && s.clock(&m.cfg, p.host) != s.clock(&m.cfg, pid.home)
        }),
    );
    set(
        16,
        s.procs
            .iter()
            .any(|(pid, p)| s.host(p.host).owner && p.host != pid.home),
    );
    set(17, !s.migrations.is_empty());
    set(18, s.hosts.iter().any(|h| !h.up));
    set(19, s.hosts.iter().any(|h| !h.residue.is_empty()));
    set(20, s.hosts.iter().any(|h| !h.rendezvous.waiters.is_empty()));
    bits
}

/// The descriptions of the situations in `bits`, each with its invariant.
pub fn names(bits: u64) -> Vec<String> {
    CLAUSES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, c)| format!("{}: {}", c.invariant, c.situation))
        .collect()
}

/// The bits of every situation.
pub fn all() -> u64 {
    (1u64 << CLAUSES.len()) - 1
}

/// The situations a run whose states showed `seen` never exercised: its vacuous clauses,
/// described. In a run of Sprite's design (`sprite`), those only a switch produces are not
/// expected and left out.
pub fn unexercised(seen: u64, sprite: bool) -> Vec<String> {
    let expected = if sprite {
        all() & !switch_only()
    } else {
        all()
    };
    names(expected & !seen)
}

/// The bits of the situations only a design switch produces.
pub fn switch_only() -> u64 {
    CLAUSES
        .iter()
        .enumerate()
        .filter(|(_, c)| c.switch_only)
        .fold(0, |acc, (i, _)| acc | 1 << i)
}
