//! The refinement mapping from the model's distributed state to the one-machine Unix.
//!
//! `abstraction(s)` computes, from the model's state alone (never reading `s.ghost`), the
//! one-machine Unix that the cluster stands for:
//!
//! | one-machine Unix | computed from |
//! | --- | --- |
//! | `dir` | the server's directory |
//! | `inodes[f].data` | the one dirty cached copy of `f` if a host has one, else the server's data |
//! | `inodes[f].linked` | the server's `linked` bit |
//! | `inodes[f].pipe` | whether the server lists `f` among its pipes |
//! | `streams[s]` (file, mode) | the server's stream record |
//! | `streams[s].pos` | the shadow position on the server if set, else the position kept by the one client holding it |
//! | `streams[s].refs` | the number of descriptors, over all live processes, that refer to `s` |
//! | live `procs[p]` | `p`'s parent and descriptors; memory page by page from the resident copy, else the residue on a lazy source, else the backing file (absent = 0); `Waiting` if blocked in wait (also while frozen by a migration that resumes it waiting), else `Running`; signals = received + in flight + held by the home; process group = the one `p`'s home records |
//! | zombie `procs[c]` | the rendezvous entries `c -> (parent, status)` on every host |
//!
//! The model drops the memory, the signal count and the process group of an exited process,
//! so a zombie's `mem`, `signals` and `pgrp` are not determined by the model's state:
//! [`ghost_agrees`] compares the ghost with the abstraction up to those three fields of
//! zombies, and [`abstraction`] fills them with zeros (the zombie's own pid for the group).

use model::state::{State, Status};
use unix::{Inode, ProcState, Stream, Unix};
use vocab::{HostId, PageNo, Pid};

/// The contents of a file as the cluster would return them: the one dirty cached copy if
/// some host holds one, else the server's data. `None` if the file does not exist or two
/// hosts hold dirty copies (no single latest version: CONS is broken).
pub fn latest(s: &State, ino: unix::Ino) -> Option<vocab::small::Bytes> {
    let f = s.server.files.get(&ino)?;
    let mut dirty = s
        .hosts
        .iter()
        .filter_map(|h| h.cache.get(&ino).filter(|e| e.dirty));
    match (dirty.next(), dirty.next()) {
        (None, _) => Some(f.data.clone()),
        (Some(e), None) => Some(e.data.clone()),
        _ => None,
    }
}

/// The live access position of a stream: the shadow on the server, else the position kept
/// by a client (the strengthening says there is exactly one such client).
pub fn live_position(s: &State, sid: vocab::StreamId) -> Option<u8> {
    let st = s.server.streams.get(&sid)?;
    st.shadow.or_else(|| {
        st.hosts
            .iter()
            .find_map(|h| s.hosts.get(h.0 as usize)?.streams.get(&sid)?.pos)
    })
}

/// The value process `pid` reads from `page` now, wherever the page is (`Ctx::page_value`).
pub fn page_value(s: &State, pid: Pid, page: PageNo) -> u8 {
    let p = &s.procs[&pid];
    if let Some(v) = p.pages.get(page.0 as usize).and_then(|pg| pg.resident) {
        return v;
    }
    if let Some(v) = p
        .lazy_from
        .and_then(|src| s.hosts.get(src.0 as usize))
        .and_then(|h| h.residue.get(&pid))
        .and_then(|r| r.get(&page))
    {
        return *v;
    }
    s.server.backing.get(&(pid, page)).copied().unwrap_or(0)
}

/// Whether the process is blocked in wait (also while frozen by a migration that will
/// resume it waiting).
pub fn waiting(s: &State, pid: Pid) -> bool {
    let p = &s.procs[&pid];
    p.status == Status::Waiting
        || (p.status == Status::Migrating
            && s.migrations.get(&pid).is_some_and(|m| m.resume_waiting))
}

/// Signals sent to `pid` and not lost: received, in flight, or held by a home.
pub fn signals_accounted(s: &State, pid: Pid) -> u32 {
    let in_flight: u32 = s
        .signals
        .iter()
        .filter(|(m, _)| m.pid == pid)
        .map(|(_, n)| *n as u32)
        .sum();
    let held: u32 = s
        .hosts
        .iter()
        .filter_map(|h| h.held_signals.get(&pid))
        .map(|n| *n as u32)
        .sum();
    s.procs.get(&pid).map_or(0, |p| p.signals as u32) + in_flight + held
}

/// The process group `pid`'s home records for it (its own pid if none: only in ill-formed
/// states, which the strengthenings exclude).
pub fn group_of(s: &State, pid: Pid) -> Pid {
    s.hosts
        .get(pid.home.0 as usize)
        .and_then(|h| h.groups.get(&pid))
        .copied()
        .unwrap_or(pid)
}

/// The refinement mapping: the one-machine Unix the model's state stands for. Zombies get
/// zero memory, no signals and their own pid as group (the model does not keep them).
pub fn abstraction(s: &State, pages: u8) -> Unix {
    let mut u = Unix::new();
    u.dir = s.server.dir.clone();
    for (ino, f) in &s.server.files {
        u.inodes.insert(
            *ino,
            Inode {
                data: latest(s, *ino).unwrap_or_else(|| f.data.clone()),
                linked: f.linked,
                pipe: s.server.pipes.contains(ino),
            },
        );
    }
    for (sid, st) in &s.server.streams {
        let refs = s
            .procs
            .values()
            .flat_map(|p| p.fds.values())
            .filter(|x| *x == sid)
            .count();
        u.streams.insert(
            *sid,
            Stream {
                ino: st.ino,
                mode: st.mode,
                pos: live_position(s, *sid).unwrap_or(0),
                refs: refs.min(255) as u8,
            },
        );
    }
    for (pid, p) in &s.procs {
        let mem = (0..p.pages.len())
            .map(|i| page_value(s, *pid, PageNo(i as u8)))
            .collect();
        u.procs.insert(
            *pid,
            unix::Proc {
                parent: p.parent,
                fds: p.fds.clone(),
                mem,
                state: if waiting(s, *pid) {
                    ProcState::Waiting
                } else {
                    ProcState::Running
                },
                signals: signals_accounted(s, *pid).min(255) as u8,
                pgrp: group_of(s, *pid),
            }
            .into(),
        );
    }
    for h in &s.hosts {
        for (c, (parent, status)) in &h.rendezvous.zombies {
            u.procs.insert(
                *c,
                unix::Proc {
                    parent: Some(*parent),
                    fds: Default::default(),
                    mem: vocab::inline![0; pages as usize],
                    state: ProcState::Zombie(*status),
                    signals: 0,
                    pgrp: *c,
                }
                .into(),
            );
        }
    }
    // The homes' slot generations are the one machine's: both give the same next pid.
    for (h, host) in s.hosts.iter().enumerate() {
        for (slot, gen) in host.generations.iter() {
            u.generations.insert((HostId(h as u8), *slot), *gen);
        }
    }
    u
}

/// A copy of a one-machine Unix with the fields the model does not keep blanked out: the
/// memory, signal count and process group of zombies.
fn normalised(u: &Unix, pages: u8) -> Unix {
    let mut u = u.clone();
    for (pid, p) in u.procs.iter_mut() {
        if matches!(p.state, ProcState::Zombie(_)) {
            p.mem = vocab::inline![0; pages as usize];
            p.signals = 0;
            p.pgrp = *pid;
        }
    }
    u
}

/// The coupling of the refinement: the ghost equals the abstraction of the model's state,
/// up to the memory, signal count and process group of zombies.
pub fn ghost_agrees(s: &State, pages: u8) -> bool {
    normalised(&s.ghost, pages) == abstraction(s, pages)
}

/// The first component in which the ghost and the abstraction differ (for reports).
pub fn disagreement(s: &State, pages: u8) -> Option<String> {
    let g = normalised(&s.ghost, pages);
    let a = abstraction(s, pages);
    if g.dir != a.dir {
        return Some(format!("dir: ghost {:?}, abstraction {:?}", g.dir, a.dir));
    }
    if g.inodes != a.inodes {
        return Some(format!(
            "inodes: ghost {:?}, abstraction {:?}",
            g.inodes, a.inodes
        ));
    }
    if g.streams != a.streams {
        return Some(format!(
            "streams: ghost {:?}, abstraction {:?}",
            g.streams, a.streams
        ));
    }
    if g.procs != a.procs {
        return Some(format!(
            "procs: ghost {:?}, abstraction {:?}",
            g.procs, a.procs
        ));
    }
    None
}
