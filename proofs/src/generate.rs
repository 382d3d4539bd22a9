//! Candidate states for the inductiveness check: reachable states of the standard
//! configurations (collected with stateright's BFS checker), single-field perturbations of
//! them, and the same perturbations with the ghost recomputed by the refinement mapping (so
//! that the coupling facts hold and the interesting, unreachable states survive the filter).

use crate::abstraction::abstraction;
use model::state::{CacheEntry, Kind, Loc, Phase, SignalMsg, State, Status};
use model::{Config, SpriteModel};
use stateright::{Checker, Model};
use std::sync::{Arc, Mutex};
use vocab::{Fd, HostId, Mode, PageNo, Pid, MAX_FILE_LEN};

/// Whether every process of the configuration runs a script (no alphabet). The
/// strengthenings are stated for scripts: `migrations` and `rendezvous` read a frozen or
/// waiting process's operation at its `pc`, which for an alphabet is not the operation it is
/// in (`Proc::current`), so reachable states of the open configurations break them.
pub fn scripted(cfg: &Config) -> bool {
    !cfg.scripts.iter().any(|s| s.is_alphabet())
}

/// Every reachable state of a configuration (the checker runs to exhaustion; the standard
/// configurations have at most a few thousand states). Only states in which no invariant
/// was flagged are kept: a flagged state has no successors.
pub fn reachable(cfg: &Config) -> Vec<State> {
    let states = Arc::new(Mutex::new(Vec::new()));
    let sink = states.clone();
    let model = SpriteModel::new(cfg.clone());
    model
        .checker()
        .threads(1)
        .visitor(move |path: stateright::Path<State, model::Action>| {
            sink.lock()
                .expect("not poisoned")
                .push(path.last_state().clone());
        })
        .spawn_bfs()
        .join();
    let mut v = std::mem::take(&mut *states.lock().expect("not poisoned"));
    v.retain(|s| s.violated == 0);
    v
}

/// The state with the ghost replaced by the abstraction of the state (zombies keep the
/// ghost's memory and signals, which the model does not track).
pub fn reabstracted(m: &SpriteModel, s: &State) -> State {
    let mut t = s.clone();
    let mut g = abstraction(s, m.cfg.pages);
    for (pid, p) in &s.ghost.procs {
        if let (Some(q), unix::ProcState::Zombie(_)) = (g.procs.get_mut(pid), p.state) {
            q.mem = p.mem.clone();
            q.signals = p.signals;
            q.pgrp = p.pgrp;
        }
    }
    t.ghost = g.into();
    t
}

fn data_variants(d: &[u8]) -> Vec<vocab::small::Bytes> {
    let mut out = vec![Vec::new(), vec![0], vec![1], vec![0, 1], vec![1, 2, 3]];
    for i in 0..d.len() {
        let mut x = d.to_vec();
        x[i] = x[i].wrapping_add(1) % 5;
        out.push(x);
    }
    if d.len() < MAX_FILE_LEN as usize {
        let mut x = d.to_vec();
        x.push(1);
        out.push(x);
    }
    if !d.is_empty() {
        out.push(d[..d.len() - 1].to_vec());
    }
    out.retain(|x| x.as_slice() != d);
    out.into_iter().map(Into::into).collect()
}

/// Single-field perturbations of `s`, each within a small domain.
pub fn perturb(m: &SpriteModel, s: &State) -> Vec<State> {
    let mut out: Vec<State> = Vec::new();
    let n_hosts = s.hosts.len();
    let hosts: Vec<HostId> = (0..n_hosts).map(|i| HostId(i as u8)).collect();
    let mut push = |f: &dyn Fn(&mut State)| {
        let mut t = s.clone();
        f(&mut t);
        if t != *s {
            out.push(t);
        }
    };
    // Processes.
    for (pid, p) in &s.procs {
        let pid = *pid;
        for h in &hosts {
            let h = *h;
            push(&|t| t.procs.get_mut(&pid).unwrap().host = h);
        }
        let len = m.cfg.scripts[p.script as usize].ops.len() as u8;
        for pc in [p.pc.wrapping_sub(1), p.pc + 1] {
            if pc <= len {
                push(&|t| t.procs.get_mut(&pid).unwrap().pc = pc);
            }
        }
        for st in [Status::Ready, Status::Waiting, Status::Migrating] {
            push(&|t| t.procs.get_mut(&pid).unwrap().status = st);
        }
        for i in 0..p.pages.len() {
            for r in [None, Some(0), Some(1), Some(2)] {
                push(&|t| t.procs.get_mut(&pid).unwrap().pages[i].resident = r);
            }
            push(&|t| {
                let pg = &mut t.procs.get_mut(&pid).unwrap().pages[i];
                pg.dirty = !pg.dirty;
            });
            for b in [None, Some(0), Some(1), Some(2)] {
                push(&|t| {
                    let k = (pid, PageNo(i as u8));
                    match b {
                        Some(v) => t.server.backing.insert(k, v),
                        None => t.server.backing.remove(&k),
                    };
                });
            }
        }
        push(&|t| t.procs.get_mut(&pid).unwrap().signals += 1);
        push(&|t| {
            let q = t.procs.get_mut(&pid).unwrap();
            q.signals = q.signals.saturating_sub(1)
        });
        push(&|t| t.procs.get_mut(&pid).unwrap().last_time = None);
        let top = m.cfg.hosts.iter().map(|h| h.clock).max().unwrap_or(0);
        for c in m.cfg.hosts.iter().map(|h| h.clock).chain([top + 1]) {
            push(&|t| t.procs.get_mut(&pid).unwrap().last_time = Some(c));
        }
        push(&|t| t.procs.get_mut(&pid).unwrap().parent = None);
        for fd in p.fds.keys() {
            let fd = *fd;
            push(&|t| {
                t.procs.get_mut(&pid).unwrap().fds.remove(&fd);
            });
        }
        if let Some((_, sid)) = p.fds.iter().next() {
            let sid = *sid;
            let free = (0..unix::MAX_FDS).find(|i| !p.fds.contains_key(&Fd(*i)));
            if let Some(f) = free {
                push(&|t| {
                    t.procs.get_mut(&pid).unwrap().fds.insert(Fd(f), sid);
                });
            }
        }
        for other in s.server.streams.keys() {
            let other = *other;
            if let Some(fd) = p.fds.keys().next() {
                let fd = *fd;
                push(&|t| {
                    t.procs.get_mut(&pid).unwrap().fds.insert(fd, other);
                });
            }
        }
        // A signal for it on the wire to each host; one fewer held or in flight.
        for h in &hosts {
            let msg = SignalMsg {
                pid,
                to: *h,
                direct: false,
            };
            push(&|t| *t.signals.entry(msg).or_default() += 1);
        }
        // Its process group: forgotten by its home, recorded as another pid's there (this
        // home's, another home's, or one nobody leads), or recorded by another host.
        let home = pid.home.0 as usize;
        if home < n_hosts {
            push(&|t| {
                t.hosts[home].groups.remove(&pid);
            });
            for g in s.procs.keys().copied().chain([Pid::new(pid.home.0, 7)]) {
                push(&|t| {
                    t.hosts[home].groups.insert(pid, g);
                });
            }
            let other = (home + 1) % n_hosts;
            push(&|t| {
                t.hosts[other].groups.insert(pid, pid);
            });
        }
        for i in 0..n_hosts {
            push(&|t| *t.hosts[i].held_signals.entry(pid).or_default() += 1);
            push(&|t| {
                t.hosts[i].home_table.remove(&pid);
            });
            for a in &hosts {
                let a = *a;
                push(&|t| {
                    t.hosts[i].home_table.insert(pid, Loc::At(a));
                });
                for b in &hosts {
                    let b = *b;
                    if a != b {
                        push(&|t| {
                            t.hosts[i].home_table.insert(pid, Loc::Moving(a, b));
                        });
                    }
                }
            }
            push(&|t| {
                let w = &mut t.hosts[i].rendezvous.waiters;
                if !w.remove(&pid) {
                    w.insert(pid);
                }
            });
        }
    }
    // Messages: one fewer of a kind on the wire, and one for the pid each home would hand
    // out next (no process has it yet).
    for h in &hosts {
        let next = s.ghost.next_pid(*h);
        let msg = SignalMsg {
            pid: next,
            to: *h,
            direct: false,
        };
        push(&|t| *t.signals.entry(msg).or_default() += 1);
    }
    for msg in s.signals.keys() {
        let msg = *msg;
        push(&|t| {
            t.signals.remove(&msg);
        });
    }
    // Hosts.
    for i in 0..n_hosts {
        push(&|t| t.hosts[i].up = !t.hosts[i].up);
        push(&|t| t.hosts[i].owner = !t.hosts[i].owner);
        let h = &s.hosts[i];
        // A slot's generation, and the generation of the next slot a fork would take.
        for slot in h.generations.keys() {
            let slot = *slot;
            push(&|t| {
                let g = t.hosts[i].generations.get_mut(&slot).unwrap();
                *g = (*g + 1) % Pid::GENERATIONS;
            });
        }
        let used: Vec<u8> = h.home_table.keys().map(|p| p.index).collect();
        if let Some(free) = (0..u8::MAX).find(|x| !used.contains(x)) {
            push(&|t| {
                let g = t.hosts[i].generations.entry(free).or_default();
                *g = (*g + 1) % Pid::GENERATIONS;
            });
        }
        for c in h.rendezvous.zombies.keys() {
            let c = *c;
            push(&|t| {
                t.hosts[i].rendezvous.zombies.remove(&c);
            });
        }
        for (sid, cs) in &h.streams {
            let sid = *sid;
            push(&|t| t.hosts[i].streams.get_mut(&sid).unwrap().refs += 1);
            if cs.refs > 1 {
                push(&|t| t.hosts[i].streams.get_mut(&sid).unwrap().refs -= 1);
            }
            for pos in [None, Some(0), Some(1), Some(2), Some(3)] {
                push(&|t| t.hosts[i].streams.get_mut(&sid).unwrap().pos = pos);
            }
            push(&|t| {
                t.hosts[i].streams.remove(&sid);
            });
        }
        for (ino, e) in &h.cache {
            let ino = *ino;
            for d in data_variants(&e.data) {
                push(&|t| t.hosts[i].cache.get_mut(&ino).unwrap().data = d.clone());
            }
            push(&|t| {
                let e = t.hosts[i].cache.get_mut(&ino).unwrap();
                e.dirty = !e.dirty;
            });
            push(&|t| {
                let e = t.hosts[i].cache.get_mut(&ino).unwrap();
                e.version = e.version.wrapping_add(1);
            });
            push(&|t| {
                let e = t.hosts[i].cache.get_mut(&ino).unwrap();
                e.version = e.version.wrapping_sub(1);
            });
            push(&|t| {
                t.hosts[i].cache.remove(&ino);
            });
        }
        for (ino, f) in &s.server.files {
            if h.cache.contains_key(ino) {
                continue;
            }
            let ino = *ino;
            for dirty in [false, true] {
                for version in [f.version, f.version.wrapping_sub(1)] {
                    for d in std::iter::once(f.data.clone()).chain(data_variants(&f.data)) {
                        push(&|t| {
                            t.hosts[i].cache.insert(
                                ino,
                                CacheEntry {
                                    data: d.clone(),
                                    dirty,
                                    version,
                                },
                            );
                        });
                    }
                }
            }
        }
    }
    // The server.
    for (ino, f) in &s.server.files {
        let ino = *ino;
        for d in data_variants(&f.data) {
            push(&|t| t.server.files.get_mut(&ino).unwrap().data = d.clone());
        }
        push(&|t| {
            if !t.server.pipes.remove(&ino) {
                t.server.pipes.insert(ino);
            }
        });
        push(&|t| {
            let f = t.server.files.get_mut(&ino).unwrap();
            f.linked = !f.linked;
        });
        push(&|t| {
            let f = t.server.files.get_mut(&ino).unwrap();
            f.cacheable = !f.cacheable;
        });
        push(&|t| {
            let f = t.server.files.get_mut(&ino).unwrap();
            f.version = f.version.wrapping_add(1);
        });
        push(&|t| t.server.files.get_mut(&ino).unwrap().last_writer = None);
        for h in &hosts {
            let h = *h;
            push(&|t| t.server.files.get_mut(&ino).unwrap().last_writer = Some(h));
        }
        push(&|t| {
            t.server.files.remove(&ino);
        });
    }
    for name in s.server.dir.keys() {
        let name = *name;
        push(&|t| {
            t.server.dir.remove(&name);
        });
    }
    for sid in s.server.streams.keys() {
        let sid = *sid;
        for h in &hosts {
            let h = *h;
            push(&|t| {
                let hs = &mut t.server.streams.get_mut(&sid).unwrap().hosts;
                if !hs.remove(&h) {
                    hs.insert(h);
                }
            });
        }
        for pos in [None, Some(0), Some(1), Some(2), Some(3)] {
            push(&|t| t.server.streams.get_mut(&sid).unwrap().shadow = pos);
        }
        for mode in [Mode::Read, Mode::Write, Mode::ReadWrite] {
            push(&|t| t.server.streams.get_mut(&sid).unwrap().mode = mode);
        }
    }
    // Migrations.
    for pid in s.migrations.keys() {
        let pid = *pid;
        for ph in [
            Phase::Init,
            Phase::State,
            Phase::Streams,
            Phase::HomeUpdate,
            Phase::Resume,
        ] {
            push(&|t| t.migrations.get_mut(&pid).unwrap().phase = ph);
        }
        for k in [Kind::Voluntary, Kind::Exec, Kind::Evict] {
            push(&|t| t.migrations.get_mut(&pid).unwrap().kind = k);
        }
        push(&|t| {
            let x = t.migrations.get_mut(&pid).unwrap();
            x.resume_waiting = !x.resume_waiting;
        });
        for h in &hosts {
            let h = *h;
            push(&|t| t.migrations.get_mut(&pid).unwrap().target = h);
            push(&|t| t.migrations.get_mut(&pid).unwrap().source = h);
        }
        for fd in s.procs[&pid].fds.keys() {
            let fd = *fd;
            push(&|t| {
                let mv = &mut t.migrations.get_mut(&pid).unwrap().moved;
                if !mv.remove(&fd) {
                    mv.insert(fd);
                }
            });
        }
        push(&|t| {
            t.migrations.remove(&pid);
        });
    }
    // The ghost alone (the coupling facts must reject these).
    for name in s.ghost.dir.keys() {
        let name = *name;
        push(&|t| {
            t.ghost.dir.remove(&name);
        });
    }
    for (ino, node) in &s.ghost.inodes {
        let ino = *ino;
        for d in data_variants(&node.data) {
            push(&|t| t.ghost.inodes.get_mut(&ino).unwrap().data = d.clone());
        }
        push(&|t| {
            let n = t.ghost.inodes.get_mut(&ino).unwrap();
            n.linked = !n.linked;
        });
        push(&|t| {
            let n = t.ghost.inodes.get_mut(&ino).unwrap();
            n.pipe = !n.pipe;
        });
    }
    for (sid, st) in &s.ghost.streams {
        let sid = *sid;
        push(&|t| t.ghost.streams.get_mut(&sid).unwrap().pos += 1);
        if st.pos > 0 {
            push(&|t| t.ghost.streams.get_mut(&sid).unwrap().pos -= 1);
        }
        push(&|t| t.ghost.streams.get_mut(&sid).unwrap().refs += 1);
        push(&|t| {
            t.ghost.streams.remove(&sid);
        });
    }
    for (pid, g) in &s.ghost.procs {
        let pid = *pid;
        push(&|t| {
            let g = t.ghost.procs.get_mut(&pid).unwrap();
            g.state = match g.state {
                unix::ProcState::Running => unix::ProcState::Waiting,
                unix::ProcState::Waiting => unix::ProcState::Running,
                unix::ProcState::Zombie(x) => unix::ProcState::Zombie(x.wrapping_add(1)),
            };
        });
        push(&|t| t.ghost.procs.get_mut(&pid).unwrap().signals += 1);
        push(&|t| t.ghost.procs.get_mut(&pid).unwrap().parent = None);
        push(&|t| {
            let g = t.ghost.procs.get_mut(&pid).unwrap();
            g.pgrp = if g.pgrp == pid {
                Pid::new(pid.home.0, 7)
            } else {
                pid
            };
        });
        for i in 0..g.mem.len() {
            push(&|t| {
                let b = &mut t.ghost.procs.get_mut(&pid).unwrap().mem[i];
                *b = (*b + 1) % 3;
            });
        }
        if !g.fds.is_empty() {
            push(&|t| {
                t.ghost.procs.get_mut(&pid).unwrap().fds.clear();
            });
        }
        push(&|t| {
            t.ghost.procs.remove(&pid);
        });
    }
    for i in 0..m.cfg.events.len().min(8) {
        push(&|t| t.events_used ^= 1 << (4 * i));
    }
    out
}

/// Perturbations of `s`, each both as is and with the ghost recomputed from it.
pub fn candidates(m: &SpriteModel, s: &State) -> Vec<State> {
    let mut out = Vec::new();
    for t in perturb(m, s) {
        let r = reabstracted(m, &t);
        if r != t {
            out.push(r);
        }
        out.push(t);
    }
    out
}
