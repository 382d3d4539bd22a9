//! The auxiliary facts the strengthenings are built from. Each is a predicate over the
//! model's state in one configuration (`SpriteModel`), named and listed in [`LEMMAS`] so
//! that a failing check can say which fact a step broke. The proofs (`proofs/*.md`) refer
//! to them by these names.
//!
//! Notation used in the doc comments: `ref(p, fd)` is `State::ref_host`, the host holding
//! process `p`'s reference for descriptor `fd`; `count(h, s)` is the number of descriptors
//! `(p, fd)` on stream `s` with `ref(p, fd) = h`.

use crate::abstraction::{group_of, latest, live_position, page_value, signals_accounted, waiting};
use model::state::{Kind, Loc, Phase, State, Status};
use model::SpriteModel;
use std::collections::{BTreeMap, BTreeSet};
use unix::ProcState;
use vocab::small::SmallSet;
use vocab::{HostId, Op, PageNo, Pid, StreamId, Switches, MAX_FILE_LEN, PIPE_CAPACITY};

pub type Lemma = fn(&SpriteModel, &State) -> bool;

/// Every auxiliary fact, by name.
pub const LEMMAS: &[(&str, Lemma)] = &[
    ("shape", shape),
    ("up", up),
    ("migrations", migrations),
    ("home_tables", home_tables),
    ("groups", groups),
    ("rendezvous", rendezvous),
    ("streams", streams),
    ("files", files),
    ("cacheability", cacheability),
    ("cache_data", cache_data),
    ("signals", signals),
    ("signal_pids", signal_pids),
    ("mem_clean", mem_clean),
    ("time", time),
    ("g_files", g_files),
    ("g_data", g_data),
    ("g_streams", g_streams),
    ("g_pos", g_pos),
    ("g_procs", g_procs),
    ("g_gen", g_gen),
    ("g_mem", g_mem),
    ("g_sig", g_sig),
];

/// Looks a lemma up by name.
pub fn lemma(name: &str) -> Lemma {
    LEMMAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no lemma {name}"))
}

fn host_ok(s: &State, h: HostId) -> bool {
    (h.0 as usize) < s.hosts.len()
}

/// shape: the state fits its configuration and Sprite's design: one host record per
/// configured host; the design switches are Sprite's (no page flushes or exit notices in
/// flight, no residual pages, no copy-on-reference source); each process runs a configured script
/// with its pc within it, has the configured number of pages, at most `MAX_FDS`
/// descriptors numbered below `MAX_FDS`, valid hosts, a live parent with the same home, and
/// its home's user (`login` is the pid's home, which EVICT's "foreign" relies on);
/// every in-flight signal is a home-forwarded one to a valid host, counted at least once.
pub fn shape(m: &SpriteModel, s: &State) -> bool {
    let cfg = &m.cfg;
    s.hosts.len() == cfg.hosts.len()
        && cfg.switches == Switches::SPRITE
        && (cfg.events.len() >= 8 || s.events_used >> (4 * cfg.events.len()) == 0)
        && (0..cfg.events.len()).all(|i| s.event_count(i) <= cfg.events[i].1)
        && s.flushes.is_empty()
        && s.exit_notices.is_empty()
        && s.hosts.iter().all(|h| h.residue.is_empty())
        && s.procs.iter().all(|(pid, p)| {
            host_ok(s, pid.home)
                && host_ok(s, p.host)
                && (p.script as usize) < cfg.scripts.len()
                && p.pc as usize <= cfg.scripts[p.script as usize].ops.len()
                && p.pages.len() == cfg.pages as usize
                && p.fds.len() <= unix::MAX_FDS as usize
                && p.fds.keys().all(|fd| fd.0 < unix::MAX_FDS)
                && p.lazy_from.is_none()
                && p.login == pid.home
                && p.parent
                    .is_none_or(|q| q != *pid && q.home == pid.home && s.procs.contains_key(&q))
        })
        && s.signals
            .iter()
            .all(|(msg, n)| *n > 0 && !msg.direct && host_ok(s, msg.to))
        && s.hosts
            .iter()
            .all(|h| h.held_signals.values().all(|n| *n > 0))
}

/// up: every process's current host and home are up, as are the source of its migration
/// and, past MIG_INIT, the target; a down host holds nothing (no home table, rendezvous,
/// held signals, streams, cache or residue), and no signal is on its way to it.
pub fn up(_: &SpriteModel, s: &State) -> bool {
    let isup = |h: HostId| s.hosts.get(h.0 as usize).is_some_and(|x| x.up);
    s.procs
        .iter()
        .all(|(pid, p)| isup(p.host) && isup(pid.home))
        && s.migrations
            .values()
            .all(|m| isup(m.source) && (m.phase == Phase::Init || isup(m.target)))
        && s.hosts.iter().all(|h| {
            h.up || (h.home_table.is_empty()
                && h.rendezvous.zombies.is_empty()
                && h.rendezvous.waiters.is_empty()
                && h.held_signals.is_empty()
                && h.streams.is_empty()
                && h.cache.is_empty()
                && h.residue.is_empty())
        })
        && s.signals.keys().all(|msg| isup(msg.to))
}

/// migrations: a process is `Migrating` exactly when a migration of it is in progress; a
/// migration goes between two different valid hosts one of which is the home, to the home
/// if it is an eviction, and skips MIG_INIT when it goes home; past MIG_INIT the versions
/// agree (or it goes home); the process's PCB is on the source up to MIG_STATE and on the
/// target after; only the stream phase has moved some but not all descriptors (before, none;
/// after, all); no two-step stream move is half done (Sprite's exchange is one step); a
/// voluntary or exec migration is the script's current operation (`migrate`/`exec` to that
/// target); only an eviction can resume its process waiting; a process that may not move
/// (shares memory, maps a device) has no migration and is at home.
pub fn migrations(m: &SpriteModel, s: &State) -> bool {
    let cfg = &m.cfg;
    s.procs.iter().all(|(pid, p)| {
        let pinned = p.pinned.is_some();
        (p.status == Status::Migrating) == s.migrations.contains_key(pid)
            && (!pinned || (p.host == pid.home && !s.migrations.contains_key(pid)))
    }) && s.migrations.iter().all(|(pid, mg)| {
        let Some(p) = s.procs.get(pid) else {
            return false;
        };
        let fds: SmallSet<_, 4> = p.fds.keys().copied().collect();
        let script = &cfg.scripts[p.script as usize];
        let op = script.ops.get(p.pc as usize).copied();
        host_ok(s, mg.target)
            && mg.source != mg.target
            && (mg.source == pid.home || mg.target == pid.home)
            && (mg.kind != Kind::Evict || mg.target == pid.home)
            && (mg.phase != Phase::Init || mg.target != pid.home)
            && (mg.phase == Phase::Init
                || mg.target == pid.home
                || cfg.hosts[mg.target.0 as usize].version
                    == cfg.hosts[mg.source.0 as usize].version)
            && match mg.phase {
                Phase::Init | Phase::State => p.host == mg.source && mg.moved.is_empty(),
                Phase::Streams => {
                    p.host == mg.target && mg.moved.is_subset(&fds) && mg.moved != fds
                }
                Phase::HomeUpdate | Phase::Resume => p.host == mg.target && mg.moved == fds,
            }
            && mg.half.is_none()
            && mg.reopen.is_none()
            && (!mg.resume_waiting || mg.kind == Kind::Evict)
            && match mg.kind {
                Kind::Voluntary => op == Some(Op::Migrate { target: mg.target }),
                Kind::Exec => {
                    op == Some(Op::Exec {
                        target: Some(mg.target),
                    })
                }
                Kind::Evict => true,
            }
    })
}

/// home_tables: each up host's home table lists exactly the live processes whose home it
/// is, and says where each is (HOME): `At(cur)` when no migration is in progress;
/// `At(source)` before MIG_START (phase MIG_INIT), `Moving(source, target)` from MIG_START to
/// HOME_UPDATE, `At(target)` after HOME_UPDATE (phase RESUME).
pub fn home_tables(_: &SpriteModel, s: &State) -> bool {
    s.hosts.iter().enumerate().all(|(i, h)| {
        let mine: BTreeSet<Pid> = s
            .procs
            .keys()
            .filter(|p| p.home.0 as usize == i)
            .copied()
            .collect();
        !h.up || h.home_table.keys().copied().collect::<BTreeSet<_>>() == mine
    }) && s.procs.iter().all(|(pid, p)| {
        let Some(loc) = s.host(pid.home).home_table.get(pid) else {
            return false;
        };
        match s.migrations.get(pid) {
            None => *loc == Loc::At(p.host),
            Some(mg) => match mg.phase {
                Phase::Init => *loc == Loc::At(mg.source),
                Phase::State | Phase::Streams | Phase::HomeUpdate => {
                    *loc == Loc::Moving(mg.source, mg.target)
                }
                Phase::Resume => *loc == Loc::At(mg.target),
            },
        }
    })
}

/// groups: each host records a process group for exactly the processes in its home table
/// (so, by `home_tables` and `up`, for the live processes whose home it is), and every
/// group it records is named after a pid of that home: a group never spans homes, so the
/// home of a group's name knows all its members (killpg relies on it).
pub fn groups(_: &SpriteModel, s: &State) -> bool {
    s.hosts.iter().enumerate().all(|(i, h)| {
        h.groups.keys().eq(h.home_table.keys()) && h.groups.values().all(|g| g.home.0 as usize == i)
    })
}

/// rendezvous: a host's rendezvous records only its own processes: every uncollected exit
/// `c -> (parent, status)` has `c`'s home there, `c` is not alive, and its parent is alive
/// with the same home; the waiters are exactly the live processes of that home blocked in
/// wait. A process blocked in wait is at a `wait` of its script, has no uncollected exited
/// child, and has a live child.
pub fn rendezvous(m: &SpriteModel, s: &State) -> bool {
    s.hosts.iter().enumerate().all(|(i, h)| {
        let here = HostId(i as u8);
        h.rendezvous.zombies.iter().all(|(c, (parent, _))| {
            c.home == here
                && !s.procs.contains_key(c)
                && parent.home == here
                && s.procs.contains_key(parent)
        }) && (!h.up
            || h.rendezvous.waiters
                == s.procs
                    .keys()
                    .filter(|p| p.home == here && waiting(s, **p))
                    .copied()
                    .collect::<SmallSet<_, 2>>())
    }) && s.procs.iter().all(|(pid, p)| {
        !waiting(s, *pid)
            || (m.cfg.scripts[p.script as usize].ops.get(p.pc as usize) == Some(&Op::Wait)
                && !s
                    .host(pid.home)
                    .rendezvous
                    .zombies
                    .values()
                    .any(|(parent, _)| parent == pid)
                && s.procs.values().any(|c| c.parent == Some(*pid)))
    })
}

/// For each stream and host, how many descriptors of live processes refer to the stream
/// from that host (`count(h, s)`); `None` if some descriptor's reference is nowhere.
fn ref_counts(s: &State) -> Option<BTreeMap<(StreamId, HostId), u32>> {
    let mut counts = BTreeMap::new();
    for (pid, p) in &s.procs {
        for (fd, sid) in &p.fds {
            let h = s.ref_host(*pid, *fd)?;
            *counts.entry((*sid, h)).or_insert(0) += 1;
        }
    }
    Some(counts)
}

/// streams: every descriptor refers to a stream the server knows; the server's record of
/// each stream names an existing file and exactly the hosts `h` with `count(h, s) > 0`
/// (never none); each host's client stream table has an entry for exactly the streams
/// with `count(h, s) > 0`, with `refs = count(h, s)`. The position is in one place: with
/// two or more hosts, on the server (`shadow`) and on no client; with one host, either the
/// shadow or that client's `pos`, not both; positions are at most `MAX_FILE_LEN`.
pub fn streams(_: &SpriteModel, s: &State) -> bool {
    let Some(counts) = ref_counts(s) else {
        return false;
    };
    s.procs
        .values()
        .all(|p| p.fds.values().all(|sid| s.server.streams.contains_key(sid)))
        && s.server.streams.iter().all(|(sid, st)| {
            let hosts: SmallSet<HostId, 4> = counts
                .keys()
                .filter(|(x, _)| x == sid)
                .map(|(_, h)| *h)
                .collect();
            let client_pos: Vec<u8> = st
                .hosts
                .iter()
                .filter_map(|h| s.hosts.get(h.0 as usize)?.streams.get(sid)?.pos)
                .collect();
            s.server.files.contains_key(&st.ino)
                && !st.hosts.is_empty()
                && st.hosts == hosts
                && match st.hosts.len() {
                    1 => st.shadow.is_some() != (client_pos.len() == 1),
                    _ => st.shadow.is_some() && client_pos.is_empty(),
                }
                && st.shadow.is_none_or(|p| p <= MAX_FILE_LEN)
                && client_pos.iter().all(|p| *p <= MAX_FILE_LEN)
        })
        && s.hosts.iter().enumerate().all(|(i, h)| {
            let here = HostId(i as u8);
            h.streams.iter().all(|(sid, cs)| {
                counts.get(&(*sid, here)).copied() == Some(cs.refs as u32)
                    && s.server.streams.contains_key(sid)
            }) && counts
                .keys()
                .filter(|(_, x)| *x == here)
                .all(|(sid, _)| h.streams.contains_key(sid))
        })
}

/// files: the directory names existing files, no file twice, and a file is linked exactly
/// when a name refers to it; an unlinked file, and a file whose caching is off, is used by
/// some stream (else it would have been reclaimed, or made cacheable again); data are at most
/// `MAX_FILE_LEN` symbols; the last writer is a valid host. Every pipe is a file of the
/// server that is unlinked, not cacheable, has no last writer, holds at most
/// `PIPE_CAPACITY` symbols and is in no host's cache (so no flush can write over it).
pub fn files(_: &SpriteModel, s: &State) -> bool {
    let named: Vec<unix::Ino> = s.server.dir.values().copied().collect();
    let unique: BTreeSet<unix::Ino> = named.iter().copied().collect();
    let used = |ino: unix::Ino| s.server.streams.values().any(|st| st.ino == ino);
    named.len() == unique.len()
        && named.iter().all(|i| s.server.files.contains_key(i))
        && s.server.files.iter().all(|(ino, f)| {
            f.linked == unique.contains(ino)
                && (f.linked || used(*ino))
                && (f.cacheable || used(*ino))
                && f.data.len() <= MAX_FILE_LEN as usize
                && f.last_writer.is_none_or(|w| host_ok(s, w))
        })
        && s.server.pipes.iter().all(|ino| {
            s.server.files.get(ino).is_some_and(|f| {
                !f.linked
                    && !f.cacheable
                    && f.last_writer.is_none()
                    && f.data.len() <= PIPE_CAPACITY as usize
            }) && s.hosts.iter().all(|h| !h.cache.contains_key(ino))
        })
}

/// Whether two or more hosts use the file through the server's streams, one of them for
/// writing (the server's view of write-sharing).
pub fn write_shared(s: &State, ino: unix::Ino) -> bool {
    let streams = s.server.streams.values().filter(|st| st.ino == ino);
    let users: BTreeSet<_> = streams.clone().flat_map(|st| st.hosts.iter()).collect();
    users.len() >= 2 && streams.clone().any(|st| st.mode.writes())
}

/// cacheability: cached entries are of existing files, at most `MAX_FILE_LEN` symbols,
/// with a version no later than the file's; an entry of an uncacheable file is clean,
/// stale (an older version than the file's) and on a host that does not use the file (a
/// host that stopped using a file keeps its clean blocks when caching is turned off: only
/// the users' and the last writer's entries are removed); a file write-shared in the
/// server's view (streams of it used on two or more hosts, one open for writing) is not
/// cacheable.
pub fn cacheability(_: &SpriteModel, s: &State) -> bool {
    s.hosts.iter().enumerate().all(|(i, h)| {
        let here = HostId(i as u8);
        h.cache.iter().all(|(ino, e)| {
            s.server.files.get(ino).is_some_and(|f| {
                e.data.len() <= MAX_FILE_LEN as usize
                    && e.version <= f.version
                    && (f.cacheable
                        || (!e.dirty && e.version < f.version && !users(s, *ino).contains(&here)))
            })
        })
    }) && s
        .server
        .files
        .iter()
        .all(|(ino, f)| !write_shared(s, *ino) || !f.cacheable)
}

/// The hosts using a file through the server's streams.
pub fn users(s: &State, ino: unix::Ino) -> BTreeSet<HostId> {
    s.server
        .streams
        .values()
        .filter(|st| st.ino == ino)
        .flat_map(|st| st.hosts.iter().copied())
        .collect()
}

/// cache_data: at most one host holds dirty data for a file, and that host `w` is the
/// file's last writer, its entry has the file's current version, and every stream of the
/// file is used on `w` only; a clean entry with the current version holds exactly the
/// file's latest contents, which are also the server's data (a host that holds a dirty
/// copy makes every other copy of the version stale), and no stream of the file open for
/// writing is used on another host.
pub fn cache_data(_: &SpriteModel, s: &State) -> bool {
    s.hosts.iter().enumerate().all(|(i, h)| {
        let here = HostId(i as u8);
        h.cache.iter().all(|(ino, e)| {
            let Some(f) = s.server.files.get(ino) else {
                return false;
            };
            let streams = || s.server.streams.values().filter(|st| st.ino == *ino);
            if e.dirty {
                f.last_writer == Some(here)
                    && e.version == f.version
                    && streams().all(|st| st.hosts.iter().all(|x| *x == here))
            } else {
                e.version != f.version
                    || (latest(s, *ino).as_ref() == Some(&e.data)
                        && e.data == f.data
                        && streams()
                            .all(|st| !st.mode.writes() || st.hosts.iter().all(|x| *x == here)))
            }
        })
    }) && s.server.files.keys().all(|ino| {
        s.hosts
            .iter()
            .filter(|h| h.cache.get(ino).is_some_and(|e| e.dirty))
            .count()
            <= 1
    })
}

/// signals: a signal held by a home is for a live process of that home which is moving
/// (its home table says `Moving`).
pub fn signals(_: &SpriteModel, s: &State) -> bool {
    s.hosts.iter().enumerate().all(|(i, h)| {
        h.held_signals.keys().all(|pid| {
            pid.home.0 as usize == i
                && s.procs.contains_key(pid)
                && matches!(h.home_table.get(pid), Some(Loc::Moving(..)))
        })
    })
}

/// signal_pids: every live process, and every process a SIGNAL in flight is for, has a pid
/// its home has already handed out: the slot's next generation at the home is above the
/// pid's (generations counted without wrap-around, see `proofs/README.md`). So the pid a fork
/// hands out next has no SIGNAL on its way to it, and a SIGNAL for a process that has exited
/// never counts for a later one.
pub fn signal_pids(_: &SpriteModel, s: &State) -> bool {
    let handed_out = |p: &Pid| {
        s.hosts
            .get(p.home.0 as usize)
            .and_then(|h| h.generations.get(&p.index))
            .is_some_and(|g| *g > p.gen)
    };
    s.procs.keys().all(handed_out) && s.signals.keys().all(|m| handed_out(&m.pid))
}

/// mem_clean: a resident page that is not dirty holds what the backing file holds for it
/// (an absent backing page reads 0), so dropping it loses nothing.
pub fn mem_clean(_: &SpriteModel, s: &State) -> bool {
    s.procs.iter().all(|(pid, p)| {
        p.pages.iter().enumerate().all(|(i, pg)| {
            pg.dirty
                || pg.resident.is_none_or(|v| {
                    v == s
                        .server
                        .backing
                        .get(&(*pid, PageNo(i as u8)))
                        .copied()
                        .unwrap_or(0)
                })
        })
    }) && s.server.backing.keys().all(|(pid, pg)| {
        s.procs
            .get(pid)
            .is_some_and(|p| (pg.0 as usize) < p.pages.len())
    })
}

/// time: the last time a process read is at most its home's clock now (clocks only move
/// forward: a `ClockTick` adds a second).
pub fn time(m: &SpriteModel, s: &State) -> bool {
    s.procs
        .iter()
        .all(|(pid, p)| p.last_time.is_none_or(|t| t <= s.clock(&m.cfg, pid.home)))
}

/// g_files: the ghost's directory is the server's, and its files are the server's files,
/// linked alike, the ghost's pipes being the server's pipes.
pub fn g_files(_: &SpriteModel, s: &State) -> bool {
    s.ghost.dir == s.server.dir
        && s.ghost.inodes.keys().eq(s.server.files.keys())
        && s.server.files.iter().all(|(ino, f)| {
            let g = &s.ghost.inodes[ino];
            g.linked == f.linked && g.pipe == s.server.pipes.contains(ino)
        })
        && s.server
            .pipes
            .iter()
            .all(|p| s.server.files.contains_key(p))
}

/// g_data: each file's ghost contents are its latest contents (the dirty cached copy, else
/// the server's).
pub fn g_data(_: &SpriteModel, s: &State) -> bool {
    s.server
        .files
        .keys()
        .all(|ino| s.ghost.inodes.get(ino).map(|i| &i.data) == latest(s, *ino).as_ref())
}

/// g_streams: the ghost's streams are the server's, with the same file and mode, and each
/// counts exactly the descriptors of live processes that refer to it.
pub fn g_streams(_: &SpriteModel, s: &State) -> bool {
    s.ghost.streams.keys().eq(s.server.streams.keys())
        && s.server.streams.iter().all(|(sid, st)| {
            let g = &s.ghost.streams[sid];
            let refs = s
                .procs
                .values()
                .flat_map(|p| p.fds.values())
                .filter(|x| *x == sid)
                .count();
            g.ino == st.ino && g.mode == st.mode && g.refs as usize == refs
        })
}

/// g_pos: each stream's ghost position is its live position (shadow, else client).
pub fn g_pos(_: &SpriteModel, s: &State) -> bool {
    s.ghost
        .streams
        .iter()
        .all(|(sid, g)| live_position(s, *sid) == Some(g.pos))
}

/// g_procs: the ghost's live processes are the model's, with the same parents and
/// descriptors, blocked in wait exactly when the model's are, in the process group their
/// home records; the ghost's zombies are
/// exactly the rendezvous records, with the same parents and statuses, and hold no
/// descriptors.
pub fn g_procs(_: &SpriteModel, s: &State) -> bool {
    let zombies: BTreeMap<Pid, (Pid, u8)> = s
        .hosts
        .iter()
        .flat_map(|h| h.rendezvous.zombies.iter().map(|(c, v)| (*c, *v)))
        .collect();
    s.ghost.procs.len() == s.procs.len() + zombies.len()
        && s.ghost.procs.iter().all(|(pid, g)| match g.state {
            ProcState::Zombie(st) => {
                g.fds.is_empty() && zombies.get(pid) == g.parent.map(|pp| (pp, st)).as_ref()
            }
            gs => s.procs.get(pid).is_some_and(|p| {
                p.parent == g.parent
                    && p.fds == g.fds
                    && (gs == ProcState::Waiting) == waiting(s, *pid)
                    && g.pgrp == group_of(s, *pid)
            }),
        })
}

/// g_gen: each home's slot generations are the ghost's (`Host::generations`,
/// `Unix::generations`): for every host `h` and slot `i`, the generation the next process
/// given slot `i` of home `h` gets is the same on both sides, so a fork's child pid, which
/// carries it, is the ghost's `next_pid` (PID).
pub fn g_gen(_: &SpriteModel, s: &State) -> bool {
    let model: BTreeMap<(HostId, u8), u8> = s
        .hosts
        .iter()
        .enumerate()
        .flat_map(|(h, host)| {
            host.generations
                .iter()
                .map(move |(slot, g)| ((HostId(h as u8), *slot), *g))
        })
        .collect();
    s.ghost.generations.len() == model.len()
        && s.ghost
            .generations
            .iter()
            .all(|(k, g)| model.get(k) == Some(g))
}

/// g_mem: each page of each live process reads (resident copy, else backing file) what
/// the ghost's memory holds.
pub fn g_mem(_: &SpriteModel, s: &State) -> bool {
    s.procs.iter().all(|(pid, p)| {
        s.ghost.procs.get(pid).is_some_and(|g| {
            g.mem.len() == p.pages.len()
                && (0..p.pages.len()).all(|i| g.mem[i] == page_value(s, *pid, PageNo(i as u8)))
        })
    })
}

/// g_sig: the ghost's signal count of each live process is the number received, in flight
/// and held.
pub fn g_sig(_: &SpriteModel, s: &State) -> bool {
    s.procs.keys().all(|pid| {
        s.ghost
            .procs
            .get(pid)
            .is_some_and(|g| g.signals as u32 == signals_accounted(s, *pid))
    })
}
