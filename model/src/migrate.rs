//! The migration protocol, one model step per message exchange [TH §4.2; SPE "Mechanics of
//! Migration"]: MIG_INIT (with MIG_START to the home), MIG_STATE (with the page and block
//! flushes), one STREAM_MOVE three-party exchange per open file (moving every descriptor
//! the process holds on it), HOME_UPDATE, RESUME.

use crate::action::Action;
use crate::config::Config;
use crate::ctx::Ctx;
use crate::log::Actor;
use crate::state::State;
use crate::state::{Kind, Loc, Migration, Page, Phase, Status};
use vocab::shared::Shared;
use vocab::{Errno, Fd, HostId, InvariantId, Op, Outcome, Pid, Refusal, Switch, Value, VmStrategy};

impl Ctx<'_> {
    /// The process asks to move (migrate, or exec on another host). Checks the source can
    /// make before any state moves; a refusal leaves the process as it was (REFUSE).
    pub fn migrate(&mut self, pid: Pid, target: HostId, kind: Kind) {
        let p = &self.s.procs[&pid];
        let source = p.host;
        let refusal = if self.cfg.host_spec(target).is_none() {
            Some(Refusal::UnknownHost)
        } else if target == source {
            Some(Refusal::SameHost)
        } else if p.pinned.is_some() {
            p.pinned
        } else if source != pid.home && target != pid.home && !self.on(Switch::RemoteToRemote) {
            Some(Refusal::NotHome)
        } else {
            None
        };
        if let Some(r) = refusal {
            let op = self.current_op(pid);
            return self.complete(pid, &op, Err(Errno::Refused(r)), None);
        }
        self.start_migration(pid, target, kind);
    }

    pub fn start_migration(&mut self, pid: Pid, target: HostId, kind: Kind) {
        let p = self.s.procs.get_mut(&pid).expect("exists");
        let source = p.host;
        let resume_waiting = p.status == Status::Waiting;
        p.status = Status::Migrating;
        let phase = if target == pid.home {
            self.mig_start(pid, source, target);
            Phase::State
        } else {
            Phase::Init
        };
        self.log.note(Actor::Host(source), || {
            format!("{pid} freezes to move to {target} ({kind})")
        });
        self.s.migrations.insert(
            pid,
            Migration {
                source,
                target,
                kind,
                phase,
                moved: Default::default(),
                half: None,
                reopen: None,
                resume_waiting,
            }
            .into(),
        );
    }

    /// MIG_START: the home learns the process is moving between two named hosts (HOME).
    fn mig_start(&mut self, pid: Pid, source: HostId, target: HostId) {
        self.log
            .msg(Actor::Host(source), Actor::Host(pid.home), || {
                format!("MIG_START {pid} {source} -> {target}")
            });
        self.s
            .host_mut(pid.home)
            .home_table
            .insert(pid, Loc::Moving(source, target));
    }

    fn mig(&self, pid: Pid) -> Migration {
        Migration::clone(&self.s.migrations[&pid])
    }

    fn set_phase(&mut self, pid: Pid, phase: Phase) {
        self.s.migrations.get_mut(&pid).expect("in progress").phase = phase;
    }

    /// MIG_INIT: is the target up, idle and of the same migration version?
    pub fn mig_init(&mut self, pid: Pid) {
        let m = self.mig(pid);
        let (src, tgt) = (m.source, m.target);
        self.log.msg(Actor::Host(src), Actor::Host(tgt), || {
            format!("MIG_INIT {pid}")
        });
        let th = self.s.host(tgt);
        let refusal = if !th.up {
            Some(Refusal::HostDown)
        } else if th.owner {
            Some(Refusal::HostBusy)
        } else if self.cfg.hosts[tgt.0 as usize].version != self.cfg.hosts[src.0 as usize].version {
            Some(Refusal::VersionMismatch)
        } else {
            None
        };
        match refusal {
            Some(r) => {
                self.log.msg(Actor::Host(tgt), Actor::Host(src), || {
                    format!("MIG_INIT_REPLY refuse: {r}")
                });
                self.refuse(pid, r);
            }
            None => {
                self.log.msg(Actor::Host(tgt), Actor::Host(src), || {
                    "MIG_INIT_REPLY accept".into()
                });
                self.mig_start(pid, src, tgt);
                self.set_phase(pid, Phase::State);
            }
        }
    }

    /// The migration is over (done or refused): the process runs again, or keeps waiting if
    /// it was blocked in wait when it froze.
    fn end_migration(&mut self, pid: Pid) -> Shared<Migration> {
        let m = self.s.migrations.remove(&pid).expect("in progress");
        let p = self.s.procs.get_mut(&pid).expect("exists");
        p.status = if m.resume_waiting {
            Status::Waiting
        } else {
            Status::Ready
        };
        m
    }

    /// The target crashed after accepting the process and before MIG_STATE: MIG_ABORT
    /// tells the home the process is still on the source, and the migration ends as a
    /// refusal (HostDown).
    pub fn abort_migration(&mut self, pid: Pid, source: HostId) {
        self.log
            .msg(Actor::Host(source), Actor::Host(pid.home), || {
                format!("MIG_ABORT {pid}")
            });
        self.home_located(pid, source);
        self.refuse(pid, Refusal::HostDown);
    }

    /// The migration is refused before any state moved: undo the freeze, and check that
    /// the process is exactly where and as it was (REFUSE).
    fn refuse(&mut self, pid: Pid, r: Refusal) {
        let m = self.end_migration(pid);
        let p = &self.s.procs[&pid];
        let untouched = p.host == m.source
            && self.s.host(pid.home).home_table.get(&pid) == Some(&Loc::At(m.source))
            && !self.s.hosts.iter().any(|h| h.residue.contains_key(&pid))
            && self.s.procs[&pid]
                .fds
                .values()
                .all(|sid| self.s.host(m.source).streams.contains_key(sid));
        if !untouched {
            self.violate(InvariantId::REFUSE, m.source, || {
                format!("refused migration of {pid} left it changed")
            });
        }
        if m.kind != Kind::Evict {
            let op = self.current_op(pid);
            let outcome: Outcome = Err(Errno::Refused(r));
            self.complete(pid, &op, outcome, None);
        }
        // A foreign process whose move away was refused or aborted is still on the source;
        // if that host's owner came back meanwhile, it goes home now (EVICT). Only a move
        // between two remote hosts (`remote-to-remote`) can leave one there: under Sprite
        // a foreign process only moves home, and a move home is never refused.
        if self.s.host(m.source).owner && m.source != pid.home {
            self.log.note(Actor::Host(m.source), || {
                format!("EVICT {pid}: the owner is back")
            });
            self.start_migration(pid, pid.home, Kind::Evict);
        }
    }

    /// MIG_STATE: flush dirty file blocks and pages, then send the packed state; the PCB
    /// now lives on the target. Past this point the migration cannot be refused.
    pub fn mig_state(&mut self, pid: Pid) {
        let m = self.mig(pid);
        let (src, tgt) = (m.source, m.target);
        if m.kind == Kind::Exec {
            // exec-time migration: the old image is dropped, nothing of it moves.
            let ghost = self.s.ghost.apply(pid, &Op::Exec { target: Some(tgt) });
            debug_assert!(ghost.outcome == Some(Ok(Value::Unit)));
            self.clear_memory(pid);
            self.log.note(Actor::Host(src), || {
                format!("{pid}: exec drops the old image")
            });
        } else {
            self.move_memory(pid, src, tgt);
        }
        if !self.on(Switch::NoBlockFlush) {
            let inos: Vec<unix::Ino> = self.s.procs[&pid]
                .fds
                .values()
                .filter_map(|sid| self.s.server.streams.get(sid).map(|st| st.ino))
                .collect();
            for ino in inos {
                self.flush_blocks(src, ino);
            }
        }
        self.log.msg(Actor::Host(src), Actor::Host(tgt), || {
            format!("MIG_STATE {pid}")
        });
        self.s.procs.get_mut(&pid).expect("exists").host = tgt;
        if self.on(Switch::WaitOnCurrent) {
            self.move_rendezvous(pid, src, tgt);
        }
        let next = if self.s.procs[&pid].fds.is_empty() {
            Phase::HomeUpdate
        } else {
            Phase::Streams
        };
        self.set_phase(pid, next);
    }

    /// The VM module's part of MIG_STATE, by strategy [SPE "Virtual Memory Transfer"].
    fn move_memory(&mut self, pid: Pid, src: HostId, tgt: HostId) {
        let strategy = self.cfg.switches.vm();
        let pages = self.s.procs[&pid].pages.clone();
        match strategy {
            VmStrategy::Flush => {
                let lazy = self.cfg.switches.has(Switch::NoVmFlush);
                for (i, pg) in pages.iter().enumerate() {
                    let key = (pid, vocab::PageNo(i as u8));
                    if let (Some(v), true) = (pg.resident, pg.dirty) {
                        self.log.msg(Actor::Host(src), Actor::Server, || {
                            format!("PAGE_FLUSH {pid} pg{i}")
                        });
                        if lazy {
                            self.s.flushes.insert(key, v);
                        } else {
                            self.s.server.backing.insert(key, v);
                        }
                    }
                }
                let p = self.s.procs.get_mut(&pid).expect("exists");
                p.pages.iter_mut().for_each(|pg| {
                    *pg = Page {
                        resident: None,
                        dirty: false,
                    }
                });
            }
            VmStrategy::FullCopy | VmStrategy::PreCopy => {
                // Every page travels to the target (pre-copy sends most of them before the
                // freeze); the target starts with the whole address space resident.
                self.log.msg(Actor::Host(src), Actor::Host(tgt), || {
                    let how = match strategy {
                        VmStrategy::PreCopy => "pre-copy",
                        _ => "full copy",
                    };
                    format!("{} pages of {pid} copied ({how})", pages.len())
                });
            }
            VmStrategy::CopyOnReference => {
                // Pages the source has stay there until the target touches them.
                let mut left = vocab::small::SmallMap::new();
                for (i, pg) in pages.iter().enumerate() {
                    let page = vocab::PageNo(i as u8);
                    let v = match pg.resident {
                        Some(v) => Some(v),
                        None => self.residue_value(pid, page),
                    };
                    if let Some(v) = v {
                        left.insert(page, v);
                    }
                }
                for h in self.s.hosts.iter_mut() {
                    h.residue.remove(&pid);
                }
                self.s.host_mut(src).residue.insert(pid, left);
                let p = self.s.procs.get_mut(&pid).expect("exists");
                p.lazy_from = Some(src);
                p.pages.iter_mut().for_each(|pg| {
                    *pg = Page {
                        resident: None,
                        dirty: false,
                    }
                });
            }
        }
    }

    /// STREAM_MOVE: the target tells the server; inside the call the server has the source
    /// release its reference (STREAM_RELEASE) and return the access position
    /// (STREAM_RELEASE_REPLY). The reference moves and is never closed, and the server
    /// decides cacheability knowing the source is gone (DEL, CACHE).
    ///
    /// One exchange moves every descriptor the process has on the file of `fd` (several
    /// descriptors on one stream after dup, or several streams of the file), so that the
    /// server never sees the process itself on two hosts; and the source writes back the
    /// file's dirty blocks again, since another process on the source may have written it
    /// after MIG_STATE.
    pub fn stream_move(&mut self, pid: Pid, fd: Fd) {
        let m = self.mig(pid);
        let (src, tgt) = (m.source, m.target);
        let fds = self.s.procs[&pid].fds.clone();
        let ino = self.s.server.streams[&fds[&fd]].ino;
        // Under per-slot-exchange, Sprite's own granularity: this descriptor alone.
        let per_slot = self.on(Switch::PerSlotExchange);
        let group: Vec<(Fd, vocab::StreamId)> = fds
            .iter()
            .filter(|(f, sid)| {
                !m.moved.contains(f)
                    && if per_slot {
                        **f == fd
                    } else {
                        self.s.server.streams[sid].ino == ino
                    }
            })
            .map(|(f, sid)| (*f, *sid))
            .collect();
        if !self.on(Switch::NoBlockFlush) {
            self.flush_blocks(src, ino);
        }
        let mut moving = Vec::new();
        for (f, sid) in &group {
            let st = self.s.server.streams[sid].clone();
            let pos = self.position(src, *sid);
            self.log.msg(Actor::Host(tgt), Actor::Server, || {
                format!("STREAM_MOVE {sid} ({f}) of {pid} to {tgt}")
            });
            self.log.msg(Actor::Server, Actor::Host(src), || {
                format!("STREAM_RELEASE {sid}")
            });
            let still_used = self.unref_on_source(src, *sid);
            self.log.msg(Actor::Host(src), Actor::Server, || {
                format!("STREAM_RELEASE_REPLY pos {pos}, source still uses it: {still_used}")
            });
            self.mark_moved(pid, *f);
            moving.push((*sid, st, pos));
        }
        if moving.iter().any(|(_, st, _)| st.mode.writes()) {
            self.drop_left_blocks(src, ino);
        }
        for (sid, st, pos) in moving {
            self.register(tgt, sid, st.ino, st.mode, Some(pos), false);
        }
        self.stream_moved(pid, fd);
    }

    /// From now on the descriptor's reference counts as being on the target (the server
    /// decides cacheability with it there).
    fn mark_moved(&mut self, pid: Pid, fd: Fd) {
        let m = self.s.migrations.get_mut(&pid).expect("in progress");
        m.moved.insert(fd);
        m.half = None;
    }

    /// The source drops one reference to a moving stream, without closing it at the
    /// server. Returns whether the source still uses the stream.
    fn unref_on_source(&mut self, src: HostId, sid: vocab::StreamId) -> bool {
        let c = self
            .s
            .host_mut(src)
            .streams
            .get_mut(&sid)
            .expect("the source holds the stream");
        c.refs -= 1;
        if c.refs > 0 {
            return true;
        }
        self.s.host_mut(src).streams.remove(&sid);
        if let Some(st) = self.s.server.streams.get_mut(&sid) {
            st.hosts.remove(&src);
        }
        false
    }

    fn stream_moved(&mut self, pid: Pid, fd: Fd) {
        let m = self.s.migrations.get_mut(&pid).expect("in progress");
        m.moved.insert(fd);
        m.half = None;
        m.reopen = None;
        let all = self.s.procs[&pid].fds.keys().all(|f| m.moved.contains(f));
        if all {
            m.phase = Phase::HomeUpdate;
        }
    }

    /// notify-target-first, step 1: the target registers the stream while the source
    /// still holds it, so the server sees two hosts.
    pub fn stream_register(&mut self, pid: Pid, fd: Fd) {
        let m = self.mig(pid);
        let sid = self.s.procs[&pid].fds[&fd];
        let st = self.s.server.streams[&sid].clone();
        let pos = self.position(m.source, sid);
        self.log.msg(Actor::Host(m.target), Actor::Server, || {
            format!("STREAM_MOVE {sid} of {pid} (source not yet released)")
        });
        self.register(m.target, sid, st.ino, st.mode, Some(pos), false);
        self.s.migrations.get_mut(&pid).expect("in progress").half = Some(fd);
    }

    /// notify-target-first, step 2: the source lets go.
    pub fn stream_release(&mut self, pid: Pid, fd: Fd) {
        let m = self.mig(pid);
        let sid = self.s.procs[&pid].fds[&fd];
        self.log.msg(Actor::Server, Actor::Host(m.source), || {
            format!("STREAM_RELEASE {sid}")
        });
        self.unref_on_source(m.source, sid);
        let st = &self.s.server.streams[&sid];
        if let (true, ino) = (st.mode.writes(), st.ino) {
            self.drop_left_blocks(m.source, ino);
        }
        self.place_position(sid);
        self.stream_moved(pid, fd);
    }

    /// reopen-files, step 1: the source closes the stream as if the process had.
    pub fn stream_close(&mut self, pid: Pid, fd: Fd) {
        let m = self.mig(pid);
        let sid = self.s.procs[&pid].fds[&fd];
        let st = self.s.server.streams[&sid].clone();
        let pos = self.position(m.source, sid);
        self.release(m.source, sid);
        let mm = self.s.migrations.get_mut(&pid).expect("in progress");
        mm.half = Some(fd);
        mm.reopen = Some((st.ino, st.mode, pos));
    }

    /// reopen-files, step 2: the target opens the file again, if it still exists.
    pub fn stream_reopen(&mut self, pid: Pid, fd: Fd) {
        let m = self.mig(pid);
        let (ino, mode, pos) = m.reopen.expect("half-done reopen");
        let tgt = m.target;
        if self.s.server.files.contains_key(&ino) {
            let sid = crate::ops::smallest_free(self.s.server.streams.keys().map(|s| s.0))
                .map(vocab::StreamId)
                .expect("stream ids left");
            self.log.msg(Actor::Host(tgt), Actor::Server, || {
                format!("FILE_OP reopen {ino} as {sid}")
            });
            self.s
                .procs
                .get_mut(&pid)
                .expect("exists")
                .fds
                .insert(fd, sid);
            self.mark_moved(pid, fd);
            self.register(tgt, sid, ino, mode, Some(pos), true);
        } else {
            self.s.procs.get_mut(&pid).expect("exists").fds.remove(&fd);
            self.violate(InvariantId::DEL, tgt, || {
                format!("{pid} loses {fd}: {ino} was reclaimed while the process still had it open")
            });
        }
        self.stream_moved(pid, fd);
    }

    /// HOME_UPDATE: the home records the new host and sends on any signal it held.
    pub fn home_update(&mut self, pid: Pid) {
        let m = self.mig(pid);
        if m.source != pid.home && m.target != pid.home {
            // Only with `remote-to-remote`: the home is a third host, told by a message.
            self.log
                .msg(Actor::Host(m.source), Actor::Host(pid.home), || {
                    format!("HOME_UPDATE {pid} at {}", m.target)
                });
        } else {
            // The home is the source or the target: an update of its own table, no message
            // (the source makes it when MIG_STATE is answered, the target when RESUME
            // comes).
            self.log.note(Actor::Host(pid.home), || {
                format!("HOME_UPDATE {pid} at {}", m.target)
            });
        }
        self.home_located(pid, m.target);
        self.set_phase(pid, Phase::Resume);
    }

    /// The home learns where the process is (HOME_UPDATE, or MIG_ABORT: it never left) and
    /// sends on the signals it held while the process was moving.
    fn home_located(&mut self, pid: Pid, at: HostId) {
        let home = self.s.host_mut(pid.home);
        home.home_table.insert(pid, Loc::At(at));
        let held = home.held_signals.remove(&pid).unwrap_or(0);
        for _ in 0..held {
            self.home_forwards_signal(pid, Loc::At(at));
        }
    }

    /// RESUME: the process runs on the target. If the target's owner came back meanwhile,
    /// the process is sent straight home again (EVICT).
    pub fn resume(&mut self, pid: Pid) {
        let m = self.end_migration(pid);
        self.log
            .msg(Actor::Host(m.source), Actor::Host(m.target), || {
                format!("RESUME {pid}")
            });
        self.log.note(Actor::Host(m.target), || {
            format!(
                "{pid} runs on {} ({} keeps nothing of it)",
                m.target, m.source
            )
        });
        if m.kind != Kind::Evict {
            let op = self.current_op(pid);
            self.complete(pid, &op, Ok(Value::Unit), Some(Ok(Value::Unit)));
        }
        if self.s.host(m.target).owner && m.target != pid.home {
            self.log.note(Actor::Host(m.target), || {
                format!("EVICT {pid}: the owner is back")
            });
            self.start_migration(pid, pid.home, Kind::Evict);
        }
    }

    /// How many steps the migration has left at most: every step must lower it (LIVE).
    pub fn rank(&self, pid: Pid) -> usize {
        let Some(m) = self.s.migrations.get(&pid) else {
            return 0;
        };
        let fds = self.s.procs.get(&pid).map_or(0, |p| p.fds.len());
        let left = fds.saturating_sub(m.moved.len());
        let stream_steps = (2 * left).saturating_sub(usize::from(m.half.is_some()));
        match m.phase {
            Phase::Init => 4 + 2 * fds,
            Phase::State => 3 + 2 * fds,
            Phase::Streams => 2 + stream_steps,
            Phase::HomeUpdate => 2,
            Phase::Resume => 1,
        }
    }
}

/// The next step of a migration, if it has one.
pub fn next_migration_step(cfg: &Config, s: &State, pid: Pid, m: &Migration) -> Action {
    let on = |sw| cfg.switches.has(sw);
    match m.phase {
        Phase::Init => Action::MigInit(pid),
        Phase::State => Action::MigState(pid),
        Phase::Streams => {
            if let Some(fd) = m.half {
                return if on(Switch::ReopenFiles) {
                    Action::StreamReopen(pid, fd)
                } else {
                    Action::StreamRelease(pid, fd)
                };
            }
            let fd = s.procs[&pid]
                .fds
                .keys()
                .find(|fd| !m.moved.contains(fd))
                .copied()
                .unwrap_or(Fd(0));
            if on(Switch::ReopenFiles) {
                Action::StreamClose(pid, fd)
            } else if on(Switch::NotifyTargetFirst) {
                Action::StreamRegister(pid, fd)
            } else {
                Action::StreamMove(pid, fd)
            }
        }
        Phase::HomeUpdate => Action::HomeUpdate(pid),
        Phase::Resume => Action::Resume(pid),
    }
}

/// Why the migration of `pid` cannot take its next step, if it cannot: its process is gone
/// or not frozen, or a host the step needs is down. The source sends MIG_INIT (its target
/// may be down: MIG_INIT then finds out and refuses); from MIG_STATE on, the source and the
/// target both take part in every step, and HOME_UPDATE needs the home. A crash must have
/// ended or aborted every migration it touched, so this is never the case (LIVE).
pub fn stuck(_cfg: &Config, s: &State, pid: Pid, m: &Migration) -> Option<String> {
    let Some(p) = s.procs.get(&pid) else {
        return Some(format!("{pid} no longer exists"));
    };
    if p.status != Status::Migrating {
        return Some(format!("{pid} is not frozen"));
    }
    let down = |h: HostId| !s.hosts.get(h.0 as usize).is_some_and(|x| x.up);
    let needed: &[HostId] = match m.phase {
        Phase::Init => &[m.source],
        Phase::State | Phase::Streams | Phase::Resume => &[m.source, m.target],
        Phase::HomeUpdate => &[m.source, m.target, pid.home],
    };
    needed
        .iter()
        .find(|h| down(**h))
        .map(|h| format!("its next step ({}) needs {h}, which is down", m.phase))
}
