//! The invariant catalogue as properties: one function per ID (`inv_del` for DEL, ...),
//! each the conjunction of what the steps saw (result comparisons with the one-machine
//! Unix, flagged in `State::violated`) and a predicate on the state itself. Plus the
//! `sometimes` properties that show the interesting situations are reachable, so that a
//! vacuous model cannot pass.

use crate::state::{Kind, Loc, Phase, State, Status};
use crate::SpriteModel;
use std::collections::{BTreeMap, BTreeSet};
use unix::ProcState;
use vocab::{HostId, InvariantId, Pid};

/// An invariant's check on a state.
pub type Check = fn(&SpriteModel, &State) -> bool;

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
    /// What a configuration must offer for the situation to arise at all, if not every
    /// configuration offers it: in words, and as a test of a configuration. A run none of
    /// whose configurations offers it does not attempt the situation, and says so, instead
    /// of failing for not reaching it.
    pub needs: Option<(&'static str, Offers)>,
}

/// Whether a configuration offers what a situation needs.
pub type Offers = fn(&crate::config::Config) -> bool;

/// Some program of the configuration can create a pipe.
fn has_pipes(cfg: &crate::config::Config) -> bool {
    cfg.scripts
        .iter()
        .any(|s| s.ops.iter().any(|op| matches!(op, vocab::Op::Pipe)))
}

/// The reachability properties.
pub fn reachables() -> Vec<Reach> {
    let r = |key, title, check: Check| Reach {
        key,
        title,
        check,
        needs: None,
    };
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
        Reach {
            needs: Some(("a program that creates a pipe", has_pipes)),
            ..r(
                "reach:shared-pipe",
                "reach: a pipe shared across hosts",
                reach_shared_pipe,
            )
        },
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
        r(
            "reach:two-refs-moving",
            "reach: a process moves with two references to a file it writes",
            reach_two_refs_moving,
        ),
    ]
}

/// Every invariant holds (the one property of `Invariants::Together`). Also records the
/// state as checked, with the guarded situations it shows (`crate::clauses`): this is where
/// the checker visits every state it explores.
pub fn all_hold(m: &SpriteModel, s: &State) -> bool {
    m.coverage.record_state(crate::clauses::situations(m, s));
    s.violated == 0 && INVARIANTS.iter().all(|(_, check)| check(m, s))
}

fn ok(s: &State, id: InvariantId) -> bool {
    !s.flagged(id)
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
/// is the one-machine Unix's; no two hosts hold dirty copies, and the one that does is the
/// file's last writer (so that the next open elsewhere recalls them); and every host whose
/// cached blocks of a cacheable file are of its current version holds exactly the latest
/// data, whether a process there uses the file or not (its next open would keep them: a
/// migration starts no new version, so the host a writing stream leaves drops them).
pub fn inv_cons(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::CONS)
        && s.server.files.iter().all(|(ino, f)| {
            let mut dirty = s
                .hosts
                .iter()
                .enumerate()
                .filter_map(|(i, h)| Some((i, h.cache.get(ino).filter(|e| e.dirty)?)));
            let latest = match (dirty.next(), dirty.next()) {
                (None, _) => &f.data,
                (Some((i, one)), None) if f.last_writer == Some(HostId(i as u8)) => &one.data,
                _ => return false,
            };
            s.ghost.inodes.get(ino).is_some_and(|i| &i.data == latest)
                && (!f.cacheable
                    || s.hosts.iter().all(|h| {
                        h.cache
                            .get(ino)
                            .is_none_or(|e| e.version != f.version || &e.data == latest)
                    }))
        })
}

/// The hosts using a file through the server's streams, as a bit set.
fn users(s: &State, ino: &unix::Ino) -> u64 {
    s.server
        .streams
        .values()
        .filter(|st| st.ino == *ino)
        .flat_map(|st| st.hosts.iter())
        .fold(0, |acc, h| acc | 1 << h.0)
}

/// CACHE: a file used on two or more hosts with a writer is uncacheable, and no host that
/// uses an uncacheable file has blocks of it in its cache (a host that stopped using the
/// file may keep clean blocks: version numbers invalidate them at its next open, as in
/// Sprite); caching was never turned off without two processes on different hosts sharing
/// the file with a writer (flagged when the server turns it off).
pub fn inv_cache(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::CACHE)
        && s.server.files.iter().all(|(ino, f)| {
            let users = users(s, ino);
            let writer = s
                .server
                .streams
                .values()
                .any(|st| st.ino == *ino && st.mode.writes());
            let write_shared = users.count_ones() >= 2 && writer;
            (!write_shared || !f.cacheable)
                && (f.cacheable
                    || s.hosts
                        .iter()
                        .enumerate()
                        .all(|(i, h)| !h.cache.contains_key(ino) || users & (1 << i) == 0))
        })
}

/// OFF: exactly one place holds each stream's access position (with users on two or more
/// hosts, the server's shadow stream and no client; with one, the shadow or that client's
/// copy, not both), and every descriptor of every process sees there the position the
/// one-machine Unix has for it.
pub fn inv_off(_: &SpriteModel, s: &State) -> bool {
    one_position(s) && positions_seen(s)
}

/// OFF's placement clause: where each stream's position is kept.
fn one_position(s: &State) -> bool {
    s.server.streams.iter().all(|(sid, st)| {
        let mut at_clients = st.hosts.iter().filter(|h| {
            s.host(**h)
                .streams
                .get(sid)
                .is_some_and(|c| c.pos.is_some())
        });
        // No user, no position to keep; else the shadow alone, or (one host) that
        // host's copy alone.
        matches!(
            (
                st.hosts.len(),
                st.shadow,
                at_clients.next(),
                at_clients.next()
            ),
            (0, ..) | (_, Some(_), None, _) | (1, None, Some(_), None)
        )
    })
}

/// OFF's value clause: what each descriptor sees is the one-machine Unix's position.
fn positions_seen(s: &State) -> bool {
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
/// left on a source), what the process last wrote there. A process one Unix machine does
/// not have is PID's finding, not MEM's: its memory has nothing to be compared with.
pub fn inv_mem(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::MEM)
        && s.procs.iter().all(|(pid, p)| {
            let Some(g) = s.ghost.procs.get(pid) else {
                return true;
            };
            (0..p.pages.len()).all(|i| g.mem.get(i) == Some(&page_read(s, *pid, i)))
        })
}

/// What page `i` of live process `pid` reads: the resident copy, else the copy left on a
/// lazy source, else the backing file (absent: zero).
fn page_read(s: &State, pid: Pid, i: usize) -> u8 {
    let p = &s.procs[&pid];
    let page = vocab::PageNo(i as u8);
    p.pages[i]
        .resident
        .or_else(|| {
            p.lazy_from
                .and_then(|h| s.host(h).residue.get(&pid))
                .and_then(|r| r.get(&page))
                .copied()
        })
        .unwrap_or_else(|| s.server.backing.get(&(pid, page)).copied().unwrap_or(0))
}

/// PID: the live pids are the one-machine Unix's (unique, never changed, each child's
/// from its home), and each is in its home's table and no other.
pub fn inv_pid(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::PID)
        && s.procs.keys().eq(s.ghost.live().map(|(p, _)| p))
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
    let view = WaitView::of(s);
    ok(s, InvariantId::WAIT)
        && view.zombies == view.ghost_zombies
        && s.procs
            .keys()
            .all(|pid| view.waiting.contains(pid) == view.ghost_waits(s, pid))
}

/// What WAIT compares: the exit statuses waiting to be collected and the processes blocked
/// in wait, on each side.
struct WaitView {
    zombies: BTreeMap<Pid, u8>,
    ghost_zombies: BTreeMap<Pid, u8>,
    waiting: BTreeSet<Pid>,
}

impl WaitView {
    /// The statuses are the rendezvous' (wherever they are kept) and, under
    /// `wait-on-current`, those of the exit notices on their way to a live parent: a notice
    /// in flight is a status not yet lost. A waiting parent with a notice on its way counts
    /// as answered by the one that one Unix machine's wait returned (the one that is not
    /// among its zombies): it is woken when that notice arrives (`exit_notice_arrives`
    /// checks it then).
    fn of(s: &State) -> WaitView {
        let mut zombies: BTreeMap<Pid, u8> = s
            .hosts
            .iter()
            .flat_map(|h| h.rendezvous.zombies.iter().map(|(c, (_, st))| (*c, *st)))
            .collect();
        zombies.extend(
            s.exit_notices
                .iter()
                .filter(|(_, n)| s.procs.contains_key(&n.parent))
                .map(|(c, n)| (*c, n.status)),
        );
        let ghost_zombies: BTreeMap<Pid, u8> = s
            .ghost
            .procs
            .iter()
            .filter_map(|(pid, p)| match p.state {
                ProcState::Zombie(st) => Some((*pid, st)),
                _ => None,
            })
            .collect();
        let mut waiting = BTreeSet::new();
        for (pid, p) in s.procs.iter() {
            let waits = p.status == Status::Waiting
                || (p.status == Status::Migrating
                    && s.migrations.get(pid).is_some_and(|m| m.resume_waiting));
            if !waits {
                continue;
            }
            let answer = s
                .exit_notices
                .iter()
                .find(|(c, n)| n.parent == *pid && !ghost_zombies.contains_key(c))
                .map(|(c, _)| *c);
            match answer {
                Some(c) => {
                    zombies.remove(&c);
                }
                None => {
                    waiting.insert(*pid);
                }
            }
        }
        WaitView {
            zombies,
            ghost_zombies,
            waiting,
        }
    }

    fn ghost_waits(&self, s: &State, pid: &Pid) -> bool {
        s.ghost
            .procs
            .get(pid)
            .is_some_and(|g| g.state == ProcState::Waiting)
    }
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
/// migrates, so they are CONS's business, not RES's.) And each host's stream table holds
/// exactly the references of the descriptors living there, so a host a process left keeps
/// no stream reference for it.
pub fn inv_res(m: &SpriteModel, s: &State) -> bool {
    stream_refs_exact(s) && homes_keep_only_their_own(m, s)
}

/// RES's stream-reference clause: each host's stream table holds exactly the references
/// of descriptors living there (a descriptor's reference is on its process's host, or,
/// in the middle of a migration, on the source until its file's exchange moved it), with
/// the count of them; so a host a process left keeps no reference for it. A descriptor
/// that a design switch has half moved (`Migration::half`: registered by the target before
/// the source released it, or closed by the source and not yet reopened) may be counted
/// by either end of its migration or by none.
fn stream_refs_exact(s: &State) -> bool {
    s.hosts.iter().enumerate().all(|(i, h)| {
        let here = vocab::HostId(i as u8);
        h.streams.iter().all(|(sid, cs)| {
            let (sure, maybe) = refs_on(s, here, sid);
            cs.refs > 0 && (sure..=sure + maybe).contains(&(cs.refs as usize))
        })
    }) && s.procs.iter().all(|(pid, p)| {
        p.fds.iter().all(|(fd, sid)| {
            s.ref_host(*pid, *fd)
                .is_none_or(|h| s.host(h).streams.contains_key(sid))
        })
    })
}

/// How many descriptors' references to `sid` are on `here` for sure, and how many half
/// moved ones may be (see `stream_refs_exact`).
fn refs_on(s: &State, here: vocab::HostId, sid: &vocab::StreamId) -> (usize, usize) {
    let (mut sure, mut maybe) = (0, 0);
    for (pid, p) in s.procs.iter() {
        for (fd, x) in p.fds.iter() {
            if x != sid {
                continue;
            }
            match s.ref_host(*pid, *fd) {
                Some(h) if h == here => sure += 1,
                Some(_) => {}
                None => {
                    let m = &s.migrations[pid];
                    if m.source == here || m.target == here {
                        maybe += 1;
                    }
                }
            }
        }
    }
    (sure, maybe)
}

/// RES's home clauses and the copy-on-reference residue.
fn homes_keep_only_their_own(m: &SpriteModel, s: &State) -> bool {
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
                .all(|(_, (parent, _))| rendezvous_place(m, s, here, parent))
    })
}

/// Where a rendezvous may keep a parent's exit statuses: its home, and under
/// `wait-on-current` the host it runs on (not a residual dependency either).
fn rendezvous_place(m: &SpriteModel, s: &State, here: vocab::HostId, parent: &Pid) -> bool {
    parent.home == here
        || (m.cfg.switches.has(vocab::Switch::WaitOnCurrent)
            && s.procs.get(parent).is_some_and(|p| p.host == here))
}

/// EVICT: on a host whose owner is present, every foreign process is on its way out
/// (or in, to be sent home on arrival), and evictions always go home. Together with
/// LIVE this bounds the steps until no foreign process runs there. Foreign means the
/// work of another host's user (`Proc::login`), whatever the design calls the process's
/// home; in Sprite the two agree.
pub fn inv_evict(_: &SpriteModel, s: &State) -> bool {
    s.migrations
        .iter()
        .all(|(pid, m)| m.kind != Kind::Evict || m.target == pid.home)
        && s.procs.iter().all(|(_, p)| {
            !s.host(p.host).owner || p.login == p.host || p.status == Status::Migrating
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

/// Whether a migration between these hosts involves the home (Sprite's rule), or the
/// `remote-to-remote` alternative allows it anyway.
fn home_rule_ok(cfg: &crate::config::Config, pid: Pid, source: HostId, target: HostId) -> bool {
    source == pid.home || target == pid.home || cfg.switches.has(vocab::Switch::RemoteToRemote)
}

/// REFUSE: processes that may not move never did; no migration in progress goes to a
/// host of another version or takes a foreign process anywhere but home (unless the
/// `remote-to-remote` alternative is on); a refused migration left its process untouched
/// (checked when refused).
pub fn inv_refuse(m: &SpriteModel, s: &State) -> bool {
    let cfg = &m.cfg;
    ok(s, InvariantId::REFUSE)
        && s.procs.iter().all(|(pid, p)| {
            p.pinned.is_none() || (p.host == pid.home && !s.migrations.contains_key(pid))
        })
        && s.migrations.iter().all(|(pid, mg)| {
            home_rule_ok(cfg, *pid, mg.source, mg.target)
                && (mg.phase == Phase::Init
                    || mg.target == pid.home
                    || cfg.hosts[mg.target.0 as usize].version
                        == cfg.hosts[mg.source.0 as usize].version)
        })
}

/// FAIL: each crash killed exactly the processes `crash_victims` names, computed from
/// `specs/failures.md`'s table and not from the crash step's own choice, and moved no
/// survivor (checked at each crash); and no process survives on a crashed host or with a
/// crashed home. That the live processes are one Unix machine's (which is told of each
/// kill) is PID's clause: a run without a crash can break it (a pid from the wrong host),
/// and that is not a failure of crash handling.
pub fn inv_fail(_: &SpriteModel, s: &State) -> bool {
    ok(s, InvariantId::FAIL)
        && s.procs
            .iter()
            .all(|(pid, p)| s.host(p.host).up && s.host(pid.home).up)
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

/// A migration past MIG_STATE of a process holding two descriptors on one file, one of
/// them writing, not yet moved: where the per-file exchange differs from Sprite's
/// per-slot one (`per-slot-exchange`).
fn reach_two_refs_moving(_: &SpriteModel, s: &State) -> bool {
    s.migrations.iter().any(|(pid, m)| {
        m.phase == Phase::Streams
            && s.procs.get(pid).is_some_and(|p| {
                let on = |ino| {
                    p.fds.iter().filter(move |(fd, sid)| {
                        !m.moved.contains(fd)
                            && s.server.streams.get(sid).is_some_and(|st| st.ino == ino)
                    })
                };
                p.fds.values().any(|sid| {
                    s.server.streams.get(sid).is_some_and(|st| {
                        on(st.ino).count() >= 2
                            && on(st.ino).any(|(_, x)| {
                                s.server.streams.get(x).is_some_and(|y| y.mode.writes())
                            })
                    })
                })
            })
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

/// A one-line reason why invariant `id` fails in `s` (for counterexample reports), in
/// words: what in the state is wrong, not the invariant's statement again.
pub fn why(id: InvariantId, m: &SpriteModel, s: &State) -> String {
    use InvariantId::*;
    if s.flagged(id) {
        return "seen at the step marked !! above".into();
    }
    let detail = match id {
        DEL => why_del(s),
        CONS => why_cons(s),
        CACHE => why_cache(s),
        OFF => why_off(s),
        MEM => s.procs.iter().find_map(|(pid, p)| {
            let g = s.ghost.procs.get(pid)?;
            (0..p.pages.len()).find_map(|i| {
                let v = page_read(s, *pid, i);
                let want = g.mem.get(i).copied();
                (want != Some(v)).then(|| {
                    let page = vocab::PageNo(i as u8);
                    let flushing = if s.flushes.contains_key(&(*pid, page)) {
                        " (its flush to the backing file is still on the way)"
                    } else {
                        ""
                    };
                    format!(
                        "{pid}'s {page} would read {v}, but the process last wrote {} there{flushing}",
                        want.map_or("nothing".to_string(), |w| w.to_string())
                    )
                })
            })
        }),
        PID => why_pid(s),
        SIG => s.procs.iter().find_map(|(pid, p)| {
            let sent = s.ghost.procs.get(pid).map_or(0, |g| g.signals);
            let in_flight: u8 = s
                .signals
                .iter()
                .filter(|(x, _)| x.pid == *pid)
                .map(|(_, n)| *n)
                .sum();
            let held: u8 = s.hosts.iter().filter_map(|h| h.held_signals.get(pid)).sum();
            let accounted = p.signals + in_flight + held;
            (accounted != sent).then(|| {
                let verdict = if accounted < sent {
                    format!("{} lost", sent - accounted)
                } else {
                    format!("{} too many", accounted - sent)
                };
                format!(
                    "{sent} signal{} sent to {pid}; {} delivered, {in_flight} in flight, {held} held by its home: {verdict}",
                    if sent == 1 { "" } else { "s" },
                    p.signals
                )
            })
        }),
        WAIT => why_wait(s),
        HOME => s.procs.iter().find_map(|(pid, p)| {
            let loc = s.host(pid.home).home_table.get(pid);
            (!inv_home(m, &only(s, *pid))).then(|| {
                let says = loc.map_or("nothing".to_string(), |l| l.to_string());
                match s.migrations.get(pid) {
                    Some(mg) => format!(
                        "{pid} moves from {} to {} (next: {}) but its home says {says}",
                        mg.source, mg.target, mg.phase
                    ),
                    None => format!("{pid} is on {} but its home says {says}", p.host),
                }
            })
        }),
        RES => why_res(m, s),
        EVICT => s
            .migrations
            .iter()
            .find_map(|(pid, mg)| {
                (mg.kind == Kind::Evict && mg.target != pid.home).then(|| {
                    format!("{pid} is evicted to {}, not to its home {}", mg.target, pid.home)
                })
            })
            .or_else(|| {
                s.procs.iter().find_map(|(pid, p)| {
                    (s.host(p.host).owner && p.login != p.host && p.status != Status::Migrating)
                        .then(|| {
                            let home = if pid.home == p.host {
                                format!(", which its pid names as its home, though it is work of {}'s user", p.login)
                            } else {
                                String::new()
                            };
                            format!("{pid} still runs on {} after its owner returned{home}", p.host)
                        })
                })
            }),
        LIVE => s.migrations.iter().find_map(|(pid, mg)| {
            crate::migrate::stuck(&m.cfg, s, *pid, mg)
                .map(|why| format!("the migration of {pid} cannot go on: {why}"))
        }),
        REFUSE => why_refuse(m, s),
        FAIL => s.procs.iter().find_map(|(pid, p)| {
            if !s.host(p.host).up {
                Some(format!("{pid} is alive on {}, which is down", p.host))
            } else if !s.host(pid.home).up {
                Some(format!("{pid} is alive though its home {} is down", pid.home))
            } else {
                None
            }
        }),
        TR | TIME => None,
    };
    detail.unwrap_or_else(|| {
        format!(
            "its check `inv_{}` (model/src/properties.rs) fails in the last state",
            id.as_str().to_lowercase()
        )
    })
}

fn names<T: ToString>(items: impl IntoIterator<Item = T>, empty: &str) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    crate::trace::list(&items, empty)
}

/// A file's contents in words.
fn contents(data: &[u8]) -> String {
    if data.is_empty() {
        "nothing".into()
    } else {
        let symbols: Vec<String> = data.iter().map(|b| b.to_string()).collect();
        format!("the symbols {}", symbols.join(" "))
    }
}

fn why_del(s: &State) -> Option<String> {
    if !s.server.files.keys().eq(s.ghost.inodes.keys()) {
        let missing: Vec<_> = s
            .ghost
            .inodes
            .keys()
            .filter(|i| !s.server.files.contains_key(i))
            .collect();
        let extra: Vec<_> = s
            .server
            .files
            .keys()
            .filter(|i| !s.ghost.inodes.contains_key(i))
            .collect();
        return Some(match (missing.is_empty(), extra.is_empty()) {
            (false, _) => {
                let open = missing.iter().all(|i| !s.ghost.inodes[*i].linked);
                format!(
                    "the file server has reclaimed {}, which one Unix machine still holds{}",
                    names(missing, ""),
                    if open {
                        " (unlinked, but still open)"
                    } else {
                        ""
                    }
                )
            }
            _ => format!(
                "the file server still holds {}, which one Unix machine has reclaimed",
                names(extra, "")
            ),
        });
    }
    s.server.files.iter().find_map(|(ino, f)| {
        let g = &s.ghost.inodes[ino];
        if f.linked != g.linked {
            Some(format!(
                "{ino} is {} on the file server but {} on one Unix machine",
                if f.linked { "linked" } else { "unlinked" },
                if g.linked { "linked" } else { "unlinked" }
            ))
        } else if s.server.pipes.contains(ino) != g.pipe {
            Some(format!("{ino} is a pipe on one side only"))
        } else {
            None
        }
    })
}

fn why_cons(s: &State) -> Option<String> {
    s.server.files.iter().find_map(|(ino, f)| {
        let dirty: Vec<_> = s
            .hosts
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.cache.get(ino).filter(|e| e.dirty).map(|e| (i, &e.data)))
            .collect();
        let want = s.ghost.inodes.get(ino).map(|i| &i.data);
        let want_text = want.map_or("no such file".to_string(), |d| contents(d));
        match dirty[..] {
            [] if Some(&f.data) != want => Some(format!(
                "{ino}: the file server has {}, one Unix machine has {want_text}",
                contents(&f.data)
            )),
            [(h, d)] if Some(d) != want => Some(format!(
                "{ino}: the latest data, dirty in h{h}'s cache, is {}; one Unix machine has {want_text}",
                contents(d)
            )),
            [_, _, ..] => Some(format!(
                "{ino} is dirty in the caches of {} at once ({}), so no one copy is the latest; one Unix machine has {want_text}",
                names(dirty.iter().map(|(h, _)| format!("h{h}")), ""),
                dirty.iter().map(|(h, d)| format!("h{h}: {}", contents(d))).collect::<Vec<_>>().join("; ")
            )),
            [(h, _)] if f.last_writer != Some(vocab::HostId(h as u8)) => Some(format!(
                "{ino} is dirty in h{h}'s cache, but the file server counts {} as its last writer: an open elsewhere would not recall the data",
                f.last_writer.map_or("no host".to_string(), |w| w.to_string())
            )),
            _ => {
                let latest = dirty.first().map_or(&f.data, |(_, d)| *d);
                s.hosts.iter().enumerate().find_map(|(i, h)| {
                    let e = h.cache.get(ino)?;
                    (f.cacheable && e.version == f.version && &e.data != latest)
                        .then(|| format!(
                            "h{i}'s cache holds {} of {ino}'s current version, but the latest data is {}: a read there (or after its next open) returns stale data",
                            contents(&e.data),
                            contents(latest)
                        ))
                })
            }
        }
    })
}

fn why_cache(s: &State) -> Option<String> {
    s.server.files.iter().find_map(|(ino, f)| {
        let streams: Vec<_> = s
            .server
            .streams
            .values()
            .filter(|st| st.ino == *ino)
            .collect();
        let users: BTreeSet<vocab::HostId> = streams
            .iter()
            .flat_map(|st| st.hosts.iter().copied())
            .collect();
        let writer = streams.iter().any(|st| st.mode.writes());
        if users.len() >= 2 && writer && f.cacheable {
            return Some(format!(
                "{ino} is open for writing on {} but still cacheable",
                names(&users, "")
            ));
        }
        if !f.cacheable {
            let cached: Vec<_> = users
                .iter()
                .filter(|h| s.host(**h).cache.contains_key(ino))
                .collect();
            if !cached.is_empty() {
                return Some(format!(
                    "{ino} is uncacheable but {} still holds blocks of it while using it",
                    names(cached, "")
                ));
            }
        }
        None
    })
}

fn why_off(s: &State) -> Option<String> {
    let placement = s.server.streams.iter().find_map(|(sid, st)| {
        let at: Vec<vocab::HostId> = st
            .hosts
            .iter()
            .copied()
            .filter(|h| s.host(*h).streams.get(sid).is_some_and(|c| c.pos.is_some()))
            .collect();
        let used = names(st.hosts.iter(), "no host");
        let clients = names(at.iter(), "");
        match (st.hosts.len(), st.shadow.is_some(), at.len()) {
            (0, ..) | (1, true, 0) | (1, false, 1) | (_, true, 0) => None,
            (n, false, 0) if n >= 1 => Some(format!(
                "{sid} is used on {used} but no place keeps its position (no client, no shadow on the file server)"
            )),
            (1, true, _) => Some(format!(
                "{sid}'s position is kept twice: on {clients} and on the file server"
            )),
            (_, shadow, _) => Some(format!(
                "{sid} is used on {used}, but its position is kept on {clients}{}: each host moves its own copy",
                if shadow { " as well as on the file server" } else { "" }
            )),
        }
    });
    placement.or_else(|| positions_wrong(s))
}

fn positions_wrong(s: &State) -> Option<String> {
    s.procs.iter().find_map(|(pid, p)| {
        p.fds.iter().find_map(|(fd, sid)| {
            let Some(g) = s.ghost.stream_of(*pid, *fd) else {
                return Some(format!("{pid} has {fd}, which one Unix machine does not have"));
            };
            let want = s.ghost.streams[&g].pos;
            let (got, place) = match s.server.streams.get(sid).and_then(|st| st.shadow) {
                Some(pos) => (Some(pos), "on the file server".to_string()),
                None => {
                    let host = s.ref_host(*pid, *fd).unwrap_or(p.host);
                    (s.host(host).streams.get(sid).and_then(|c| c.pos), format!("on {host}"))
                }
            };
            got.filter(|pos| *pos != want).map(|pos| {
                format!("{pid}'s {fd} is at position {pos} {place}, but one Unix machine has it at {want}")
            })
        })
    })
}

fn why_pid(s: &State) -> Option<String> {
    let ghost: Vec<_> = s.ghost.live().map(|(p, _)| *p).collect();
    if !s.procs.keys().eq(ghost.iter()) {
        let extra: Vec<_> = s.procs.keys().filter(|p| !ghost.contains(p)).collect();
        let missing: Vec<_> = ghost.iter().filter(|p| !s.procs.contains_key(p)).collect();
        return Some(format!(
            "the cluster has {} alive where one Unix machine has {}",
            names(extra, "no other process"),
            names(missing, "no other process")
        ));
    }
    s.procs.keys().find_map(|pid| {
        s.hosts.iter().enumerate().find_map(|(i, h)| {
            let home = i == pid.home.0 as usize;
            (h.home_table.contains_key(pid) != home).then(|| {
                if home {
                    format!("{pid} is missing from its home's table")
                } else {
                    format!("h{i}, not {pid}'s home, has it in its table")
                }
            })
        })
    })
}

fn why_wait(s: &State) -> Option<String> {
    let view = WaitView::of(s);
    if view.zombies != view.ghost_zombies {
        let show = |z: &BTreeMap<Pid, u8>| {
            names(z.iter().map(|(p, st)| format!("{p} (status {st})")), "none")
        };
        return Some(format!(
            "exit statuses kept for their parents to collect (at a rendezvous, or on their way to one): {}; one Unix machine has {}",
            show(&view.zombies),
            show(&view.ghost_zombies)
        ));
    }
    s.procs.keys().find_map(|pid| {
        let waits = view.waiting.contains(pid);
        (waits != view.ghost_waits(s, pid)).then(|| {
            if waits {
                format!("{pid} waits but on one Unix machine its wait has returned")
            } else {
                format!("{pid} does not wait but on one Unix machine it is blocked in wait")
            }
        })
    })
}

fn why_res(m: &SpriteModel, s: &State) -> Option<String> {
    why_stream_refs(s).or_else(|| why_home_res(m, s))
}

fn why_stream_refs(s: &State) -> Option<String> {
    let table = s.hosts.iter().enumerate().find_map(|(i, h)| {
        let here = vocab::HostId(i as u8);
        h.streams.iter().find_map(|(sid, cs)| {
            let (sure, maybe) = refs_on(s, here, sid);
            let expected = if maybe == 0 {
                sure.to_string()
            } else {
                format!("{sure} to {}", sure + maybe)
            };
            (cs.refs == 0 || !(sure..=sure + maybe).contains(&(cs.refs as usize))).then(|| {
                format!(
                    "{here} counts {} references to {sid}, but {expected} descriptors have their reference there",
                    cs.refs
                )
            })
        })
    });
    table.or_else(|| {
        s.procs.iter().find_map(|(pid, p)| {
            p.fds.iter().find_map(|(fd, sid)| {
                let h = s.ref_host(*pid, *fd)?;
                (!s.host(h).streams.contains_key(sid)).then(|| {
                    format!("{pid}'s {fd} refers to {sid} from {h}, whose stream table lacks it")
                })
            })
        })
    })
}

fn why_home_res(m: &SpriteModel, s: &State) -> Option<String> {
    let live_of = |here: vocab::HostId, pid: &Pid| pid.home == here && s.procs.contains_key(pid);
    s.hosts.iter().enumerate().find_map(|(i, h)| {
        let here = vocab::HostId(i as u8);
        let bad = |what: &str, pid: &Pid| Some(format!("{here} still holds {what} {pid}"));
        if let Some(pid) = h.residue.keys().find(|pid| {
            pid.home != here
                && !s.procs.get(pid).is_some_and(|p| p.host == here)
                && !s
                    .migrations
                    .get(pid)
                    .is_some_and(|m| m.source == here || m.target == here)
        }) {
            return bad("pages of", pid).map(|t| format!("{t}, which left it"));
        }
        if let Some(pid) = h.home_table.keys().find(|pid| !live_of(here, pid)) {
            return bad("a home-table entry for", pid);
        }
        if let Some(pid) = h.groups.keys().find(|pid| !live_of(here, pid)) {
            return bad("a process-group entry for", pid);
        }
        if let Some(pid) = h.held_signals.keys().find(|pid| {
            !live_of(here, pid) || !matches!(h.home_table.get(pid), Some(Loc::Moving(..)))
        }) {
            return bad("signals for", pid).map(|t| format!("{t}, which is not moving"));
        }
        if let Some(pid) = h.rendezvous.waiters.iter().find(|pid| {
            !s.procs
                .get(pid)
                .is_some_and(|p| p.status == Status::Waiting || p.status == Status::Migrating)
        }) {
            return bad("a wait by", pid).map(|t| format!("{t}, which does not wait"));
        }
        h.rendezvous
            .zombies
            .iter()
            .find(|(_, (parent, _))| !rendezvous_place(m, s, here, parent))
            .map(|(child, (parent, _))| {
                format!("{here} keeps the exit status of {child} for {parent}, though it is not {parent}'s home")
            })
    })
}

fn why_refuse(m: &SpriteModel, s: &State) -> Option<String> {
    let cfg = &m.cfg;
    s.procs
        .iter()
        .find_map(|(pid, p)| {
            (p.pinned.is_some() && (p.host != pid.home || s.migrations.contains_key(pid)))
                .then(|| format!("{pid} may never move, yet it is on {} or moving", p.host))
        })
        .or_else(|| {
            s.migrations.iter().find_map(|(pid, mg)| {
                if !home_rule_ok(cfg, *pid, mg.source, mg.target) {
                    Some(format!(
                        "{pid}, a foreign process, moves from {} to {}, neither of them its home",
                        mg.source, mg.target
                    ))
                } else if mg.phase != Phase::Init
                    && mg.target != pid.home
                    && cfg.hosts[mg.target.0 as usize].version
                        != cfg.hosts[mg.source.0 as usize].version
                {
                    Some(format!(
                        "{pid} moves to {}, whose version differs from {}'s",
                        mg.target, mg.source
                    ))
                } else {
                    None
                }
            })
        })
}

/// The state with only one process, to explain HOME per process.
fn only(s: &State, pid: Pid) -> State {
    let mut t = s.clone();
    t.procs.retain(|p, _| *p == pid);
    t
}
