//! The invariant catalogue as properties: one function per ID (`inv_del` for DEL, ...),
//! each the conjunction of what the steps saw (result comparisons with the one-machine
//! Unix, flagged in `State::violated`) and a predicate on the state itself. Plus the
//! `sometimes` properties that show the interesting situations are reachable, so that a
//! vacuous model cannot pass.

use crate::state::{Kind, Loc, Phase, State, Status};
use crate::SpriteModel;
use std::collections::{BTreeMap, BTreeSet};
use unix::ProcState;
use vocab::{InvariantId, Pid};

type Check = fn(&SpriteModel, &State) -> bool;

/// Every invariant with its check, in catalogue order.
pub const INVARIANTS: [(InvariantId, Check); 16] = {
    use InvariantId::*;
    [
        (TR, inv_tr as Check),
        (DEL, inv_del),
        (CONS, inv_cons),
        (CACHE, inv_cache),
        (OFF, inv_off),
        (MEM, inv_mem),
        (PID, inv_pid),
        (SIG, inv_sig),
        (WAIT, inv_wait),
        (TIME, inv_time),
        (HOME, inv_home),
        (RES, inv_res),
        (EVICT, inv_evict),
        (LIVE, inv_live),
        (REFUSE, inv_refuse),
        (FAIL, inv_fail),
    ]
};

/// Every invariant with its check, in catalogue order.
pub fn invariants() -> Vec<(InvariantId, Check)> {
    INVARIANTS.to_vec()
}

/// A reachability property: a short key (the checker's property name: stateright hashes it
/// for every property of every state it visits, so it is kept short), the sentence shown
/// to readers, and the predicate.
#[derive(Clone, Copy)]
pub struct Reach {
    pub key: &'static str,
    pub title: &'static str,
    pub check: Check,
}

/// The reachability properties.
pub fn reachables() -> Vec<Reach> {
    let r = |key, title, check: Check| Reach { key, title, check };
    vec![
        r(
            "reach:unlinked-remote",
            "reach: a migrated process holds an unlinked file open",
            reach_unlinked_remote,
        ),
        r(
            "reach:shared-stream",
            "reach: a stream shared across hosts",
            reach_shared_stream,
        ),
        r(
            "reach:shared-pipe",
            "reach: a pipe shared across hosts",
            reach_shared_pipe,
        ),
        r(
            "reach:evict-dirty",
            "reach: an eviction with dirty pages",
            reach_evict_dirty,
        ),
        r(
            "reach:signal-mid-migration",
            "reach: a signal arrives mid-migration",
            reach_signal_mid_migration,
        ),
        r(
            "reach:remote-fork",
            "reach: a remote fork",
            reach_remote_fork,
        ),
        r(
            "reach:wait-across-hosts",
            "reach: a wait across hosts",
            reach_wait_across_hosts,
        ),
    ]
}

/// Every invariant holds (the one property of `Invariants::Together`).
pub fn all_hold(m: &SpriteModel, s: &State) -> bool {
    s.violated == 0 && INVARIANTS.iter().all(|(_, check)| check(m, s))
}

fn ok(s: &State, id: InvariantId) -> bool {
    !s.flagged(id)
}

fn live_ghost(s: &State) -> impl Iterator<Item = (&Pid, &unix::Proc)> {
    s.ghost
        .procs
        .iter()
        .filter(|(_, p)| !matches!(p.state, ProcState::Zombie(_)))
}

/// TR: every result so far equals the one-machine Unix's (checked at each step).
pub fn inv_tr(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::TR)
}

/// DEL: the server has exactly the files and pipes the one-machine Unix has: none
/// reclaimed while a process anywhere holds it open (also mid-migration), none left after
/// the last close (a pipe: once both ends are closed everywhere).
pub fn inv_del(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::DEL)
        && s.server.files.keys().eq(s.ghost.inodes.keys())
        && s.server.files.keys().all(|ino| {
            let g = &s.ghost.inodes[ino];
            s.server.files[ino].linked == g.linked && s.server.pipes.contains(ino) == g.pipe
        })
        && s.server
            .pipes
            .iter()
            .all(|p| s.server.files.contains_key(p))
}

/// CONS: the latest data of every file (the one dirty cached copy, else the server's)
/// is the one-machine Unix's, and no two hosts hold dirty copies.
pub fn inv_cons(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::CONS)
        && s.server.files.iter().all(|(ino, f)| {
            let dirty: Vec<_> = s
                .hosts
                .iter()
                .filter_map(|h| h.cache.get(ino).filter(|e| e.dirty))
                .collect();
            let latest = match dirty[..] {
                [] => &f.data,
                [one] => &one.data,
                _ => return false,
            };
            s.ghost.inodes.get(ino).is_some_and(|i| &i.data == latest)
        })
}

/// CACHE: a file used on two or more hosts with a writer is uncacheable, and no host that
/// uses an uncacheable file has blocks of it in its cache (a host that stopped using the
/// file may keep clean blocks: version numbers invalidate them at its next open, as in
/// Sprite); caching was never turned off without two processes on different hosts sharing
/// the file with a writer (flagged when the server turns it off).
pub fn inv_cache(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::CACHE)
        && s.server.files.iter().all(|(ino, f)| {
            let streams = s.server.streams.values().filter(|st| st.ino == *ino);
            // Hosts using the file, as a bit set.
            let users: u64 = streams
                .clone()
                .flat_map(|st| st.hosts.iter())
                .fold(0, |acc, h| acc | 1 << h.0);
            let writer = streams.clone().any(|st| st.mode.writes());
            let write_shared = users.count_ones() >= 2 && writer;
            (!write_shared || !f.cacheable)
                && (f.cacheable
                    || s.hosts
                        .iter()
                        .enumerate()
                        .all(|(i, h)| !h.cache.contains_key(ino) || users & (1 << i) == 0))
        })
}

/// OFF: every descriptor of every process sees the access position the one-machine Unix
/// has for it.
pub fn inv_off(_: &SpriteModel, s: &State) -> bool {
    s.procs.iter().all(|(pid, p)| {
        p.fds.iter().all(|(fd, sid)| {
            let Some(gsid) = s.ghost.stream_of(*pid, *fd) else {
                return false;
            };
            let want = s.ghost.streams[&gsid].pos;
            match s.server.streams.get(sid).and_then(|st| st.shadow) {
                Some(pos) => pos == want,
                None => {
                    let host = s.ref_host(*pid, *fd).unwrap_or(p.host);
                    s.host(host)
                        .streams
                        .get(sid)
                        .and_then(|c| c.pos)
                        .is_none_or(|pos| pos == want)
                }
            }
        })
    })
}

/// MEM: every page of every process holds, wherever it is (resident, backing file, or
/// left on a source), what the process last wrote there.
pub fn inv_mem(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::MEM)
        && s.procs.iter().all(|(pid, p)| {
            let Some(g) = s.ghost.procs.get(pid) else {
                return false;
            };
            p.pages.iter().enumerate().all(|(i, pg)| {
                let page = vocab::PageNo(i as u8);
                let v = pg.resident.or_else(|| {
                    p.lazy_from
                        .and_then(|h| s.host(h).residue.get(pid))
                        .and_then(|r| r.get(&page))
                        .copied()
                });
                let v =
                    v.unwrap_or_else(|| s.server.backing.get(&(*pid, page)).copied().unwrap_or(0));
                g.mem.get(i) == Some(&v)
            })
        })
}

/// PID: the live pids are the one-machine Unix's (unique, never changed, each child's
/// from its home), and each is in its home's table and no other.
pub fn inv_pid(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::PID)
        && s.procs.keys().eq(live_ghost(s).map(|(p, _)| p))
        && s.procs.keys().all(|pid| {
            s.hosts
                .iter()
                .enumerate()
                .all(|(i, h)| h.home_table.contains_key(pid) == (i == pid.home.0 as usize))
        })
}

/// SIG: every signal sent to a live process (by kill, or by killpg to a group it is in) is
/// delivered, in flight, or held by its home: none lost, none twice. A killpg that missed a
/// member, or reached a process outside the group, shows here as a count that differs from
/// the one-machine Unix's. (That each home records its processes' groups as the one-machine
/// Unix has them is a fact of the proofs' strengthening, `g_procs`, not part of SIG: the
/// conformance harness maps the implementation's state without the groups.)
pub fn inv_sig(_: &SpriteModel, s: &State) -> bool {
    s.procs.iter().all(|(pid, p)| {
        let sent = s.ghost.procs.get(pid).map_or(0, |g| g.signals as u32);
        p.signals as u32 + s.signals_pending(*pid) == sent
    })
}

/// WAIT: the processes blocked in wait are the one-machine Unix's, and the exit
/// statuses waiting to be collected are exactly its zombies (each returned once).
pub fn inv_wait(_: &SpriteModel, s: &State) -> bool {
    let waiting = |pid: &Pid| {
        let p = &s.procs[pid];
        p.status == Status::Waiting
            || (p.status == Status::Migrating
                && s.migrations.get(pid).is_some_and(|m| m.resume_waiting))
    };
    let zombies: BTreeMap<Pid, u8> = s
        .hosts
        .iter()
        .flat_map(|h| h.rendezvous.zombies.iter().map(|(c, (_, st))| (*c, *st)))
        .collect();
    let ghost_zombies: BTreeMap<Pid, u8> = s
        .ghost
        .procs
        .iter()
        .filter_map(|(pid, p)| match p.state {
            ProcState::Zombie(st) => Some((*pid, st)),
            _ => None,
        })
        .collect();
    ok(s, InvariantId::WAIT)
        && zombies == ghost_zombies
        && s.procs.keys().all(|pid| {
            waiting(pid)
                == s.ghost
                    .procs
                    .get(pid)
                    .is_some_and(|g| g.state == ProcState::Waiting)
        })
}

/// TIME: no process ever read a time earlier than one it read before (checked at each
/// gettimeofday).
pub fn inv_time(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::TIME)
}

/// HOME: the home's table says where each process is, or that it moves between the two
/// hosts it is in fact moving between.
pub fn inv_home(_: &SpriteModel, s: &State) -> bool {
    s.procs.iter().all(|(pid, p)| {
        let Some(loc) = s.host(pid.home).home_table.get(pid) else {
            return false;
        };
        match (s.migrations.get(pid), loc) {
            (None, Loc::At(h)) => *h == p.host,
            (None, Loc::Moving(..)) => false,
            (Some(m), Loc::At(h)) => {
                (*h == m.source && m.phase == Phase::Init)
                    || (*h == m.target && m.phase == Phase::Resume)
            }
            (Some(m), Loc::Moving(a, b)) => *a == m.source && *b == m.target,
        }
    })
}

/// RES: no host keeps state for a process it has no business with. Pages left behind
/// (copy-on-reference residue) exist only on the process's home, its current host, or the
/// two hosts of its migration in progress. A home keeps only what the papers
/// allow: a table entry and a process group for each of its live processes, signals held
/// only while the home's table says the process is moving, a waiting parent only while it waits, and exit
/// statuses only of its own processes' children [TH §4.2, App. A]. (The model keeps one PCB
/// per process, with its host, so a PCB left on a former host cannot even be written
/// down; the implementation's can, and the conformance harness maps it. Dirty blocks are
/// not attributed to processes: a closed file's delayed writes stay in a cache whatever
/// migrates, so they are CONS's business, not RES's. Not yet checked here: that a host's
/// stream table counts exactly the references living there; the implementation's states
/// in the middle of a stream exchange do not map onto that clause yet: open work, `specs/invariants.md`, RES.)
pub fn inv_res(_: &SpriteModel, s: &State) -> bool {
    let live_of = |here: vocab::HostId, pid: &Pid| pid.home == here && s.procs.contains_key(pid);
    s.hosts.iter().enumerate().all(|(i, h)| {
        let here = vocab::HostId(i as u8);
        h.residue.keys().all(|pid| {
            pid.home == here
                || s.procs.get(pid).is_some_and(|p| p.host == here)
                || s.migrations
                    .get(pid)
                    .is_some_and(|m| m.source == here || m.target == here)
        }) && h.home_table.keys().all(|pid| live_of(here, pid))
            && h.groups.keys().all(|pid| live_of(here, pid))
            && h.held_signals.keys().all(|pid| {
                live_of(here, pid) && matches!(h.home_table.get(pid), Some(Loc::Moving(..)))
            })
            && h.rendezvous.waiters.iter().all(|pid| {
                s.procs
                    .get(pid)
                    .is_some_and(|p| p.status == Status::Waiting || p.status == Status::Migrating)
            })
            && h.rendezvous
                .zombies
                .iter()
                .all(|(child, (parent, _))| child.home == here && parent.home == here)
    })
}

/// EVICT: on a host whose owner is present, every foreign process is on its way out
/// (or in, to be sent home on arrival), and evictions always go home. Together with
/// LIVE this bounds the steps until no foreign process runs there.
pub fn inv_evict(_: &SpriteModel, s: &State) -> bool {
    s.migrations
        .iter()
        .all(|(pid, m)| m.kind != Kind::Evict || m.target == pid.home)
        && s.procs.iter().all(|(pid, p)| {
            !s.host(p.host).owner || pid.home == p.host || p.status == Status::Migrating
        })
}

/// LIVE: every step of a migration lowered its rank (checked at each step), so it ends
/// within `rank` of its own steps; and no migration in progress waits on a host that is
/// down: the hosts its next step needs are up (a crash must have ended or aborted every
/// migration it touched, see `migrate::stuck`).
pub fn inv_live(m: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::LIVE)
        && s.migrations
            .iter()
            .all(|(pid, mg)| crate::migrate::stuck(&m.cfg, s, *pid, mg).is_none())
}

/// REFUSE: processes that may not move never did; no migration in progress goes to a
/// host of another version or takes a foreign process anywhere but home; a refused
/// migration left its process untouched (checked when refused).
pub fn inv_refuse(m: &SpriteModel, s: &State) -> bool {
    let cfg = &m.cfg;
    ok(s, InvariantId::REFUSE)
        && s.procs.iter().all(|(pid, p)| {
            p.pinned.is_none() || (p.host == pid.home && !s.migrations.contains_key(pid))
        })
        && s.migrations.iter().all(|(pid, mg)| {
            (mg.source == pid.home || mg.target == pid.home)
                && (mg.phase == Phase::Init
                    || mg.target == pid.home
                    || cfg.hosts[mg.target.0 as usize].version
                        == cfg.hosts[mg.source.0 as usize].version)
        })
}

/// FAIL: no process survives on a crashed host or with a crashed home, and the processes
/// alive are exactly those the one-machine Unix has; and each crash killed exactly the
/// processes `crash_victims` names, computed from `specs/failures.md`'s table and not from
/// the crash step's own choice, and moved no survivor (checked at each crash).
pub fn inv_fail(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::FAIL)
        && s.procs
            .iter()
            .all(|(pid, p)| s.host(p.host).up && s.host(pid.home).up)
        && s.procs.keys().eq(live_ghost(s).map(|(p, _)| p))
}

/// The processes a crash of `h` in state `s` must kill, by `specs/failures.md`: those whose
/// current host or home is `h`, and those in a migration whose source is `h` or whose target
/// is `h` once the state was sent (before that, the migration is aborted and the process runs
/// on at its source).
pub fn crash_victims(s: &State, h: vocab::HostId) -> Vec<Pid> {
    s.procs
        .iter()
        .filter(|(pid, p)| {
            let migration = s.migrations.get(pid).is_some_and(|m| {
                m.source == h || (m.target == h && !matches!(m.phase, Phase::Init | Phase::State))
            });
            pid.home == h || p.host == h || migration
        })
        .map(|(pid, _)| *pid)
        .collect()
}

/// Whether a crash of `h` took `before` to `after` as FAIL demands: the processes gone are
/// exactly `crash_victims(before, h)`, and every survivor is where it was.
pub fn crash_outcome_ok(before: &State, after: &State, h: vocab::HostId) -> bool {
    let victims = crash_victims(before, h);
    before.procs.iter().all(|(pid, p)| {
        let dead = victims.contains(pid);
        match after.procs.get(pid) {
            None => dead,
            Some(q) => !dead && q.host == p.host,
        }
    }) && after.procs.keys().all(|pid| before.procs.contains_key(pid))
}

fn reach_unlinked_remote(_: &SpriteModel, s: &State) -> bool {
    s.procs.iter().any(|(pid, p)| {
        p.host != pid.home
            && p.status != Status::Migrating
            && p.fds.values().any(|sid| {
                s.server
                    .streams
                    .get(sid)
                    .filter(|st| !s.server.pipes.contains(&st.ino))
                    .and_then(|st| s.server.files.get(&st.ino))
                    .is_some_and(|f| !f.linked)
            })
    })
}

fn reach_shared_stream(_: &SpriteModel, s: &State) -> bool {
    s.server.streams.values().any(|st| st.hosts.len() >= 2)
}

/// A pipe whose ends are used from two or more hosts (the pmake idiom after the child
/// migrated), with no migration in progress.
fn reach_shared_pipe(_: &SpriteModel, s: &State) -> bool {
    s.migrations.is_empty()
        && s.server.pipes.iter().any(|ino| {
            let hosts: BTreeSet<_> = s
                .server
                .streams
                .values()
                .filter(|st| st.ino == *ino)
                .flat_map(|st| st.hosts.iter())
                .collect();
            hosts.len() >= 2
        })
}

fn reach_evict_dirty(_: &SpriteModel, s: &State) -> bool {
    s.migrations.iter().any(|(pid, m)| {
        m.kind == Kind::Evict
            && m.phase == Phase::State
            && s.procs[pid].pages.iter().any(|pg| pg.dirty)
    })
}

fn reach_signal_mid_migration(_: &SpriteModel, s: &State) -> bool {
    s.hosts.iter().any(|h| !h.held_signals.is_empty())
        || s.signals.keys().any(|m| s.migrations.contains_key(&m.pid))
}

fn reach_remote_fork(_: &SpriteModel, s: &State) -> bool {
    s.procs.values().any(|p| p.born_remote)
}

fn reach_wait_across_hosts(_: &SpriteModel, s: &State) -> bool {
    s.procs.iter().any(|(pid, p)| {
        p.status == Status::Waiting
            && s.procs
                .values()
                .any(|c| c.parent == Some(*pid) && c.host != p.host)
    })
}

/// A one-line reason why invariant `id` fails in `s` (for counterexample reports).
pub fn why(id: InvariantId, m: &SpriteModel, s: &State) -> String {
    use InvariantId::*;
    if s.flagged(id) {
        return "seen at the step marked !! above".into();
    }
    let detail = match id {
        DEL => Some(format!(
            "the file server holds {:?}, one Unix machine holds {:?}",
            s.server.files.keys().map(|i| i.to_string()).collect::<Vec<_>>(),
            s.ghost.inodes.keys().map(|i| i.to_string()).collect::<Vec<_>>()
        )),
        CONS => s.server.files.iter().find_map(|(ino, f)| {
            let dirty: Vec<_> = s
                .hosts
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.cache.get(ino).filter(|e| e.dirty).map(|e| (i, e.data.clone())))
                .collect();
            let want = s.ghost.inodes.get(ino).map(|i| i.data.clone());
            let latest = dirty.first().map_or(f.data.clone(), |(_, d)| d.clone());
            (dirty.len() > 1 || Some(&latest) != want.as_ref()).then(|| {
                format!("{ino}: latest data {latest:?} (dirty copies on {:?}), one Unix machine has {want:?}",
                    dirty.iter().map(|(h, _)| format!("h{h}")).collect::<Vec<_>>())
            })
        }),
        OFF => s.procs.iter().find_map(|(pid, p)| {
            p.fds.iter().find_map(|(fd, sid)| {
                let want = s.ghost.stream_of(*pid, *fd).map(|g| s.ghost.streams[&g].pos);
                let shadow = s.server.streams.get(sid).and_then(|st| st.shadow);
                let host = s.ref_host(*pid, *fd).unwrap_or(p.host);
                let got = shadow.or_else(|| s.host(host).streams.get(sid).and_then(|c| c.pos));
                (got.is_some() && got != want).then(|| {
                    format!("{pid} {fd} sees position {got:?} on {host}, one Unix machine has {want:?}")
                })
            })
        }),
        MEM => s.procs.iter().find_map(|(pid, p)| {
            let g = s.ghost.procs.get(pid)?;
            (0..p.pages.len()).find_map(|i| {
                let page = vocab::PageNo(i as u8);
                let backing = s.server.backing.get(&(*pid, page)).copied().unwrap_or(0);
                let v = p.pages[i].resident.unwrap_or(backing);
                (g.mem.get(i) != Some(&v)).then(|| {
                    format!("{pid} {page} would read {v} (resident or backing file), but the process last wrote {:?}", g.mem.get(i))
                })
            })
        }),
        SIG => s.procs.iter().find_map(|(pid, p)| {
            let sent = s.ghost.procs.get(pid).map_or(0, |g| g.signals);
            let in_flight: u8 = s.signals.iter().filter(|(x, _)| x.pid == *pid).map(|(_, n)| *n).sum();
            let held: u8 = s.hosts.iter().filter_map(|h| h.held_signals.get(pid)).sum();
            (p.signals + in_flight + held != sent).then(|| {
                format!("{sent} signals sent to {pid}; {} delivered, {in_flight} in flight, {held} held: {} lost", p.signals, sent.saturating_sub(p.signals + in_flight + held))
            })
        }),
        HOME => s.procs.iter().find_map(|(pid, p)| {
            let loc = s.host(pid.home).home_table.get(pid);
            (!inv_home(m, &only(s, *pid))).then(|| format!("{pid} is on {} but its home says {loc:?}", p.host))
        }),
        RES => s.hosts.iter().enumerate().find_map(|(i, h)| {
            h.residue.keys().next().map(|pid| format!("h{i} still holds pages of {pid}, which left it"))
        }),
        EVICT => s.procs.iter().find_map(|(pid, p)| {
            (s.host(p.host).owner && pid.home != p.host && p.status != Status::Migrating)
                .then(|| format!("{pid} still runs on {} after its owner returned", p.host))
        }),
        FAIL | PID => Some(format!(
            "live processes {:?}, one Unix machine has {:?}",
            s.procs.keys().map(|p| p.to_string()).collect::<Vec<_>>(),
            live_ghost(s).map(|(p, _)| p.to_string()).collect::<Vec<_>>()
        )),
        _ => None,
    };
    detail.unwrap_or_else(|| id.statement().to_string())
}

/// The state with only one process, to explain HOME per process.
fn only(s: &State, pid: Pid) -> State {
    let mut t = s.clone();
    t.procs.retain(|p, _| *p == pid);
    t
}
