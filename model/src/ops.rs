//! Process operations: each scripted operation is one step, executed with the disposition
//! of `vocab::msg::disposition` (local, forwarded home, or joint), and compared with the
//! same operation on the one-machine Unix (TR).

use crate::ctx::Ctx;
use crate::log::Actor;
use crate::state::{ExitNotice, Loc, Page, SignalMsg, Status};
use vocab::{
    Errno, Fd, HostId, InvariantId, Op, Outcome, PageNo, Pid, StreamId, Switch, Value, MAX_FILE_LEN,
};

impl Ctx<'_> {
    /// The process performs `op` (the next of its script, or one of its alphabet).
    pub fn run(&mut self, pid: Pid, op: Op) {
        let p = self.s.procs.get_mut(&pid).expect("runs");
        if self.cfg.scripts[p.script as usize].is_alphabet() {
            // Remembered until the operation returns (see `Proc::current`).
            p.current = Some(op);
        }
        let h = p.host;
        match op {
            Op::Exit { status } => return self.exit(pid, status),
            Op::Wait => return self.wait(pid),
            Op::Migrate { target } => {
                return self.migrate(pid, target, crate::state::Kind::Voluntary)
            }
            // An exec "on" the host the process is already on is a plain exec.
            Op::Exec { target: Some(t) } if t != h => {
                return self.migrate(pid, t, crate::state::Kind::Exec)
            }
            _ => {}
        }
        let outcome = match op {
            Op::Open { name, mode, create } => self.open(pid, h, name, mode, create),
            Op::Read { fd } => self.read(pid, h, fd),
            Op::Write { fd, sym } => self.write(pid, h, fd, sym),
            Op::Lseek { fd, pos } => self.lseek(pid, h, fd, pos),
            Op::LseekCur { fd, delta } => self.lseek_cur(pid, h, fd, delta),
            Op::Close { fd } => self.close(pid, h, fd),
            Op::Unlink { name } => self.server_unlink(h, name).map(|()| Value::Unit),
            Op::Stat { name } => self.server_stat(h, name),
            Op::Dup { fd } => self.dup(pid, h, fd),
            Op::Fork => self.fork(pid, h),
            Op::Exec { .. } => {
                self.clear_memory(pid);
                Ok(Value::Unit)
            }
            Op::Getpid => Ok(Value::Pid(pid)),
            Op::Gettimeofday => self.gettimeofday(pid, h),
            Op::Kill { pid: target } => self.kill(h, target),
            Op::MemRead { page } => self.mem_read(pid, h, page),
            Op::MemWrite { page, sym } => self.mem_write(pid, page, sym),
            Op::Pipe => self.pipe(pid, h),
            Op::Getpgrp => self.getpgrp(pid, h),
            Op::Setpgid { pgrp } => self.setpgid(pid, h, pgrp),
            Op::Killpg { pgrp } => self.killpg(h, pgrp),
            Op::Exit { .. } | Op::Wait | Op::Migrate { .. } => {
                unreachable!("handled above")
            }
        };
        let ghost = match (op, outcome) {
            // A child named by its creation site: one Unix machine may pick any free pid.
            (Op::Fork, Ok(Value::Pid(child))) if self.on(Switch::LocalPids) => {
                self.s.ghost.fork_as(pid, child).outcome
            }
            _ => self.s.ghost.apply(pid, &op).outcome,
        };
        self.complete(pid, &op, outcome, ghost);
    }

    /// The operation returns: log it, compare with the one-machine Unix, move on.
    pub fn complete(&mut self, pid: Pid, op: &Op, outcome: Outcome, ghost: Option<Outcome>) {
        let h = self.s.procs[&pid].host;
        self.log.outcome(Actor::Host(h), pid, *op, outcome, ghost);
        if let Some(ghost) = ghost {
            if !vocab::outcome::transparent(op, &outcome, &ghost) {
                let id = InvariantId::of_result(op);
                self.s.flag(InvariantId::TR);
                self.violate(id, h, || {
                    format!(
                        "{pid}: {op} returned {} but one Unix machine returns {}",
                        vocab::outcome::show(&outcome),
                        vocab::outcome::show(&ghost)
                    )
                });
            }
        }
        if let Some(p) = self.s.procs.get_mut(&pid) {
            p.pc += 1;
            p.current = None;
        }
    }

    /// The operation `pid` is in the middle of (blocked in `wait`, or moving).
    pub fn current_op(&self, pid: Pid) -> Op {
        let p = &self.s.procs[&pid];
        p.current
            .unwrap_or_else(|| self.cfg.scripts[p.script as usize].ops[p.pc as usize])
    }

    fn open(
        &mut self,
        pid: Pid,
        h: HostId,
        name: vocab::FileName,
        mode: vocab::Mode,
        create: bool,
    ) -> Outcome {
        if self.s.procs[&pid].fds.len() >= unix::MAX_FDS as usize {
            return Err(Errno::EMFILE);
        }
        // The descriptor exists while the server decides cacheability, so that the server
        // can tell this process from the others using the file.
        let (fd, sid) = self.new_descriptor(pid)?;
        match self.server_open(h, name, mode, create, sid) {
            Ok(()) => Ok(Value::Fd(fd)),
            Err(e) => {
                self.s.procs.get_mut(&pid).expect("runs").fds.remove(&fd);
                Err(e)
            }
        }
    }

    /// The smallest free descriptor of `pid`, bound to the smallest stream id the server
    /// has not given out (the stream itself is the caller's to register).
    pub fn new_descriptor(&mut self, pid: Pid) -> Result<(Fd, StreamId), Errno> {
        let fds = &self.s.procs[&pid].fds;
        let fd = smallest_free(fds.keys().map(|f| f.0))
            .map(Fd)
            .ok_or(Errno::EMFILE)?;
        let sid = smallest_free(self.s.server.streams.keys().map(|s| s.0))
            .map(StreamId)
            .ok_or(Errno::EMFILE)?;
        self.s
            .procs
            .get_mut(&pid)
            .expect("runs")
            .fds
            .insert(fd, sid);
        Ok((fd, sid))
    }

    /// The stream behind a descriptor, if the server still knows it.
    fn stream(&self, pid: Pid, fd: Fd) -> Result<(StreamId, unix::Ino, vocab::Mode), Errno> {
        let sid = *self.s.procs[&pid].fds.get(&fd).ok_or(Errno::EBADF)?;
        let st = self.s.server.streams.get(&sid).ok_or(Errno::EBADF)?;
        Ok((sid, st.ino, st.mode))
    }

    fn read(&mut self, pid: Pid, h: HostId, fd: Fd) -> Outcome {
        let (sid, ino, mode) = self.stream(pid, fd)?;
        if !mode.reads() {
            return Err(Errno::EBADF);
        }
        if self.is_pipe(ino) {
            return self.pipe_read(h, sid, ino);
        }
        let pos = self.position(h, sid);
        let sym = self.file_data(h, ino).get(pos as usize).copied();
        if sym.is_some() {
            self.set_position(h, sid, pos + 1);
        }
        Ok(Value::Data(sym))
    }

    fn write(&mut self, pid: Pid, h: HostId, fd: Fd, sym: u8) -> Outcome {
        let (sid, ino, mode) = self.stream(pid, fd)?;
        if !mode.writes() {
            return Err(Errno::EBADF);
        }
        if self.is_pipe(ino) {
            return self.pipe_write(h, sid, ino, sym);
        }
        let pos = self.position(h, sid);
        if pos >= MAX_FILE_LEN {
            return Err(Errno::EFBIG);
        }
        self.write_data(h, ino, pos, sym);
        self.set_position(h, sid, pos + 1);
        Ok(Value::Unit)
    }

    fn lseek(&mut self, pid: Pid, h: HostId, fd: Fd, pos: u8) -> Outcome {
        let (sid, ino, _) = self.stream(pid, fd)?;
        if self.is_pipe(ino) {
            return Err(Errno::ESPIPE);
        }
        if pos > MAX_FILE_LEN {
            return Err(Errno::EINVAL);
        }
        self.set_position(h, sid, pos);
        Ok(Value::Pos(pos))
    }

    /// Relative to the live position: the shadow's when the server keeps it (OFF).
    fn lseek_cur(&mut self, pid: Pid, h: HostId, fd: Fd, delta: i8) -> Outcome {
        let (sid, ino, _) = self.stream(pid, fd)?;
        if self.is_pipe(ino) {
            return Err(Errno::ESPIPE);
        }
        let pos = i16::from(self.position(h, sid)) + i16::from(delta);
        let pos = u8::try_from(pos).map_err(|_| Errno::EINVAL)?;
        self.lseek(pid, h, fd, pos)
    }

    fn close(&mut self, pid: Pid, h: HostId, fd: Fd) -> Outcome {
        let sid = self
            .s
            .procs
            .get_mut(&pid)
            .expect("runs")
            .fds
            .remove(&fd)
            .ok_or(Errno::EBADF)?;
        self.release(h, sid);
        Ok(Value::Unit)
    }

    fn dup(&mut self, pid: Pid, h: HostId, fd: Fd) -> Outcome {
        let (sid, _, _) = self.stream(pid, fd)?;
        let fds = &self.s.procs[&pid].fds;
        if fds.len() >= unix::MAX_FDS as usize {
            return Err(Errno::EMFILE);
        }
        let new = Fd(smallest_free(fds.keys().map(|f| f.0)).ok_or(Errno::EMFILE)?);
        self.s
            .procs
            .get_mut(&pid)
            .expect("runs")
            .fds
            .insert(new, sid);
        self.s
            .host_mut(h)
            .streams
            .get_mut(&sid)
            .expect("descriptor's stream is on the host")
            .refs += 1;
        Ok(Value::Fd(new))
    }

    /// fork is joint: the home allocates the pid (FORK_PID), the current host makes the
    /// child, which shares every stream and copies the memory [TH §4.3].
    fn fork(&mut self, pid: Pid, h: HostId) -> Outcome {
        let parent = self.s.procs[&pid].clone();
        let allocator = if self.on(Switch::LocalPids) {
            h
        } else {
            pid.home
        };
        // Not a pid in use, alive or exited, nor one a process group is named after.
        let at = self.s.host(allocator);
        // Under wait-on-current an exited child's status is kept on its parent's host or
        // is on its way there; in the design's strongest form its home still holds the pid
        // until it is collected.
        let elsewhere: Vec<Pid> = if self.on(Switch::WaitOnCurrent) {
            let s = &*self.s;
            s.hosts
                .iter()
                .flat_map(|x| x.rendezvous.zombies.keys().copied())
                .chain(s.exit_notices.keys().copied())
                .collect()
        } else {
            Vec::new()
        };
        let used = at
            .home_table
            .keys()
            .chain(at.rendezvous.zombies.keys())
            .chain(at.groups.values())
            .chain(elsewhere.iter())
            .filter(|p| p.home == allocator)
            .map(|p| p.index);
        let index = smallest_free(used).ok_or(Errno::EAGAIN)?;
        let gen = at.generations.get(&index).copied().unwrap_or(0);
        let child = Pid::with_gen(allocator, index, gen);
        self.s
            .host_mut(allocator)
            .generations
            .insert(index, gen.wrapping_add(1) % Pid::GENERATIONS);
        if allocator != h {
            self.log.msg(Actor::Host(h), Actor::Host(allocator), || {
                format!("FORK_PID for {pid} -> {child}")
            });
        } else if allocator != pid.home {
            // `local-pids`: the child's home is where it is created; the parent's home
            // only hears of it, so that the parent's wait knows it has a child.
            self.log.msg(Actor::Host(h), Actor::Host(pid.home), || {
                format!("CHILD_NOTICE {child} of {pid}")
            });
        }
        let expected = self.s.ghost.next_pid(pid.home);
        if self.s.procs.contains_key(&child) {
            self.violate(InvariantId::PID, h, || {
                format!("the child of {pid} got {child}, which a live process has")
            });
        } else if child != expected && !self.on(Switch::LocalPids) {
            // Sprite's rule that the home names the child; the `local-pids` alternative
            // (creation-site pids) lifts it and is judged by what its pids lead to.
            self.violate(InvariantId::PID, h, || {
                format!("the child of {pid} got {child}; its home would have given {expected}")
            });
        }
        let program = &self.cfg.scripts[parent.script as usize];
        // A script's k-th fork starts `children[k]`; an alphabet's forks start `children[0]`.
        let k = if program.is_alphabet() {
            0
        } else {
            program.ops[..parent.pc as usize]
                .iter()
                .filter(|o| matches!(o, Op::Fork))
                .count()
        };
        let script = program.children.get(k).copied().unwrap_or(parent.script);
        // A child running its parent's alphabet continues the parent's count (see
        // `config::Script`); any other program starts from the beginning.
        let pc = if program.is_alphabet() && script == parent.script {
            parent.pc + 1
        } else {
            0
        };
        let pages = (0..parent.pages.len())
            .map(|i| Page {
                resident: Some(self.page_value(pid, PageNo(i as u8))),
                dirty: true,
            })
            .collect();
        for sid in parent.fds.values() {
            if let Some(c) = self.s.host_mut(h).streams.get_mut(sid) {
                c.refs += 1;
            }
        }
        self.s.procs.insert(
            child,
            crate::state::Proc {
                host: h,
                parent: Some(pid),
                script,
                pc,
                current: None,
                status: Status::Ready,
                pages,
                fds: parent.fds.clone(),
                signals: 0,
                last_time: None,
                born_remote: h != pid.home,
                login: parent.login,
                lazy_from: None,
                pinned: None,
            }
            .into(),
        );
        self.s
            .host_mut(child.home)
            .home_table
            .insert(child, Loc::At(h));
        // The child is in its parent's process group, which the home records.
        let group = self
            .s
            .host(pid.home)
            .groups
            .get(&pid)
            .copied()
            .unwrap_or(pid);
        self.s.host_mut(child.home).groups.insert(child, group);
        Ok(Value::Pid(child))
    }

    /// gettimeofday is forwarded home, whose clock is the process's clock wherever it
    /// runs (clocks are not synchronised) [TH App. A].
    fn gettimeofday(&mut self, pid: Pid, h: HostId) -> Outcome {
        let clock_host = if self.on(Switch::LocalTime) {
            h
        } else {
            pid.home
        };
        if clock_host != h {
            self.log.msg(Actor::Host(h), Actor::Host(clock_host), || {
                "FORWARD gettimeofday".into()
            });
        }
        let t = self.s.clock(self.cfg, clock_host);
        let p = self.s.procs.get_mut(&pid).expect("runs");
        let last = p.last_time;
        p.last_time = Some(t);
        if let Some(last) = last {
            if t < last {
                self.violate(InvariantId::TIME, h, || {
                    format!("{pid} read time {t} after reading {last}")
                });
            }
        }
        Ok(Value::Time(t))
    }

    /// kill goes to the target's home, which forwards the signal to wherever the process
    /// is, or holds it while the process moves (SIG). Under direct-signals the sender
    /// sends it to the host it knows the process on (here, where the process is when the
    /// kill is made); if the process has left by the time it arrives, it is corrected
    /// through the home, as LOCUS does through the creation site.
    fn kill(&mut self, h: HostId, target: Pid) -> Outcome {
        let home = target.home;
        let live = self
            .s
            .hosts
            .get(home.0 as usize)
            .filter(|hh| hh.up)
            .and_then(|hh| hh.home_table.get(&target))
            .copied();
        let zombie = self
            .s
            .hosts
            .iter()
            .any(|hh| hh.rendezvous.zombies.contains_key(&target))
            // Under wait-on-current an exit on its way to the parent's host is a zombie too
            // (the design's strongest form: its home keeps the pid until it is collected).
            || self.s.exit_notices.contains_key(&target);
        let Some(loc) = live else {
            return if zombie {
                Ok(Value::Unit)
            } else {
                Err(Errno::ESRCH)
            };
        };
        if self.on(Switch::DirectSignals) {
            let to = self.s.procs[&target].host;
            self.send_signal(
                h,
                SignalMsg {
                    pid: target,
                    to,
                    direct: true,
                },
            );
            return Ok(Value::Unit);
        }
        self.log.msg(Actor::Host(h), Actor::Host(home), || {
            format!("SIGNAL {target}")
        });
        self.home_forwards_signal(target, loc);
        Ok(Value::Unit)
    }

    /// The home sends a signal on to the process's host, or holds it while it moves.
    pub fn home_forwards_signal(&mut self, target: Pid, loc: Loc) {
        let home = target.home;
        match loc {
            Loc::At(to) => self.send_signal(
                home,
                SignalMsg {
                    pid: target,
                    to,
                    direct: false,
                },
            ),
            Loc::Moving(a, b) => {
                *self
                    .s
                    .host_mut(home)
                    .held_signals
                    .entry(target)
                    .or_default() += 1;
                self.log.note(Actor::Host(home), || {
                    format!("holds SIGNAL for {target}: it is moving {a} -> {b}")
                });
            }
        }
    }

    fn send_signal(&mut self, from: HostId, m: SignalMsg) {
        self.log.msg(Actor::Host(from), Actor::Host(m.to), || {
            format!("SIGNAL {}", m.pid)
        });
        *self.s.signals.entry(m).or_default() += 1;
    }

    /// A SIGNAL arrives. If the process is not there (it moved), it goes back to the home,
    /// which sends it on again; a direct signal whose location went stale is corrected the
    /// same way (LOCUS asks the creation site, Sprite's home [SPE §Supporting
    /// Transparency: Home Machines]).
    pub fn deliver_signal(&mut self, m: SignalMsg) {
        let n = self.s.signals.get_mut(&m).expect("enabled");
        *n -= 1;
        if *n == 0 {
            self.s.signals.remove(&m);
        }
        match self.s.procs.get_mut(&m.pid) {
            Some(p) if p.host == m.to && self.s.hosts[m.to.0 as usize].up => {
                p.signals += 1;
                self.log
                    .note(Actor::Host(m.to), || format!("{} receives a signal", m.pid));
            }
            Some(_) => {
                let home = m.pid.home;
                self.log.msg(Actor::Host(m.to), Actor::Host(home), || {
                    if m.direct {
                        format!("SIGNAL {} bounced: not here (a stale location)", m.pid)
                    } else {
                        format!("SIGNAL {} bounced: not here", m.pid)
                    }
                });
                if let Some(loc) = self.s.host(home).home_table.get(&m.pid).copied() {
                    self.home_forwards_signal(m.pid, loc);
                }
            }
            None => {}
        }
    }

    /// The value a page holds for the process now, wherever it is.
    pub fn page_value(&self, pid: Pid, page: PageNo) -> u8 {
        let p = &self.s.procs[&pid];
        if let Some(v) = p.pages[page.0 as usize].resident {
            return v;
        }
        if let Some(v) = self.residue_value(pid, page) {
            return v;
        }
        self.s
            .server
            .backing
            .get(&(pid, page))
            .copied()
            .unwrap_or(0)
    }

    /// Under copy-on-reference, a page that is not resident may still be on the host the
    /// process came from.
    pub fn residue_value(&self, pid: Pid, page: PageNo) -> Option<u8> {
        self.s.procs[&pid]
            .lazy_from
            .and_then(|src| self.s.host(src).residue.get(&pid))
            .and_then(|r| r.get(&page))
            .copied()
    }

    fn mem_read(&mut self, pid: Pid, h: HostId, page: PageNo) -> Outcome {
        let p = &self.s.procs[&pid];
        let Some(pg) = p.pages.get(page.0 as usize).copied() else {
            return Err(Errno::EINVAL);
        };
        if let Some(v) = pg.resident {
            return Ok(Value::Mem(v));
        }
        // Page fault: from the source under copy-on-reference, else the backing file.
        let lazy = p.lazy_from;
        let from_source = lazy.and_then(|src| {
            self.s
                .host_mut(src)
                .residue
                .get_mut(&pid)
                .and_then(|r| r.remove(&page))
                .map(|v| (src, v))
        });
        let (v, dirty) = match from_source {
            Some((src, v)) => {
                self.log.msg(Actor::Host(src), Actor::Host(h), || {
                    format!("PAGE_IN {pid} {page}")
                });
                (v, true)
            }
            None => {
                self.log.msg(Actor::Server, Actor::Host(h), || {
                    format!("PAGE_IN {pid} {page}")
                });
                let v = self
                    .s
                    .server
                    .backing
                    .get(&(pid, page))
                    .copied()
                    .unwrap_or(0);
                (v, false)
            }
        };
        self.s.procs.get_mut(&pid).expect("runs").pages[page.0 as usize] = Page {
            resident: Some(v),
            dirty,
        };
        Ok(Value::Mem(v))
    }

    fn mem_write(&mut self, pid: Pid, page: PageNo, sym: u8) -> Outcome {
        let p = self.s.procs.get_mut(&pid).expect("runs");
        let slot = p.pages.get_mut(page.0 as usize).ok_or(Errno::EINVAL)?;
        *slot = Page {
            resident: Some(sym),
            dirty: true,
        };
        Ok(Value::Unit)
    }

    /// exec replaces the address space: every page reads zero, the backing file and any
    /// pages left elsewhere are dropped.
    pub fn clear_memory(&mut self, pid: Pid) {
        let p = self.s.procs.get_mut(&pid).expect("exists");
        p.pages.iter_mut().for_each(|pg| *pg = Page::ZERO);
        p.lazy_from = None;
        self.drop_memory_elsewhere(pid);
    }

    pub fn drop_memory_elsewhere(&mut self, pid: Pid) {
        self.s.server.backing.retain(|(p, _), _| *p != pid);
        self.s.flushes.retain(|(p, _), _| *p != pid);
        for h in self.s.hosts.iter_mut() {
            h.residue.remove(&pid);
        }
    }

    /// The host holding the exit/wait rendezvous for a process: its home, or under
    /// wait-on-current the host it runs on.
    fn rendezvous_host(&self, pid: Pid) -> HostId {
        if self.on(Switch::WaitOnCurrent) {
            self.s.procs[&pid].host
        } else {
            pid.home
        }
    }

    /// The rendezvous an exit is reported to: the exiting process's own (in Sprite its
    /// parent's home is its home). Under `local-pids` a child's home is where it was
    /// created, so its home passes the exit on to the parent's home, as LOCUS's origin
    /// site manages its processes' termination [TH §2.3].
    fn exit_rendezvous_host(&self, pid: Pid) -> HostId {
        match self.s.procs[&pid].parent {
            Some(parent) if self.on(Switch::LocalPids) && !self.on(Switch::WaitOnCurrent) => {
                parent.home
            }
            _ => self.rendezvous_host(pid),
        }
    }

    /// wait is joint: the rendezvous at the home answers it [TH §4.3].
    fn wait(&mut self, pid: Pid) {
        let h = self.s.procs[&pid].host;
        let rz_host = self.rendezvous_host(pid);
        self.log.msg(Actor::Host(h), Actor::Host(rz_host), || {
            format!("WAIT_REQUEST {pid}")
        });
        let rz = &mut self.s.host_mut(rz_host).rendezvous;
        let zombie = rz
            .zombies
            .iter()
            .find(|(_, (parent, _))| *parent == pid)
            .map(|(c, (_, st))| (*c, *st));
        // Under wait-on-current a child whose exit is on its way here is still a child
        // the rendezvous waits for; the notice will answer the wait when it arrives.
        let in_flight = self.s.exit_notices.values().any(|n| n.parent == pid);
        let has_children = self.s.procs.values().any(|p| p.parent == Some(pid)) || in_flight;
        let ghost = self.s.ghost.apply(pid, &Op::Wait).outcome;
        if (zombie.is_some() || !has_children) && ghost.is_none() {
            self.violate(InvariantId::WAIT, h, || {
                format!("{pid}: wait() returns but on one Unix machine it blocks")
            });
        }
        match zombie {
            Some((child, status)) => {
                self.s.host_mut(rz_host).rendezvous.zombies.remove(&child);
                self.complete(
                    pid,
                    &Op::Wait,
                    Ok(Value::Child { pid: child, status }),
                    ghost,
                );
            }
            None if has_children => {
                self.s.host_mut(rz_host).rendezvous.waiters.insert(pid);
                self.s.procs.get_mut(&pid).expect("runs").status = Status::Waiting;
                self.log
                    .note(Actor::Host(h), || format!("{pid}: wait() blocks"));
                if let Some(g) = ghost.filter(|_| !in_flight) {
                    self.violate(InvariantId::WAIT, h, || {
                        format!(
                            "{pid}: wait() blocks but one Unix machine returns {}",
                            vocab::outcome::show(&g)
                        )
                    });
                }
            }
            None => self.complete(pid, &Op::Wait, Err(Errno::ECHILD), ghost),
        }
    }

    fn exit(&mut self, pid: Pid, status: u8) {
        let h = self.s.procs[&pid].host;
        self.log
            .note(Actor::Host(h), || format!("{pid}: exit({status})"));
        let ghost_woke = self.s.ghost.exit(pid, status).woke;
        let woke = self.end_process(pid, status);
        self.compare_wakeups(h, woke, ghost_woke);
    }

    pub fn compare_wakeups(
        &mut self,
        h: HostId,
        woke: Option<(Pid, Outcome)>,
        ghost: Option<(Pid, Outcome)>,
    ) {
        // Under wait-on-current the answer to a waiting parent may be on its way (an
        // EXIT_NOTICE in flight): it is checked when it arrives, and by WAIT's state part.
        let on_its_way = woke.is_none()
            && ghost.is_some_and(|(p, _)| self.s.exit_notices.values().any(|n| n.parent == p));
        if woke != ghost && !on_its_way {
            self.s.flag(InvariantId::TR);
            self.violate(InvariantId::WAIT, h, || {
                let show = |w: &Option<(Pid, Outcome)>| match w {
                    Some((p, o)) => format!("wakes {p} with {}", vocab::outcome::show(o)),
                    None => "wakes no waiter".to_string(),
                };
                format!(
                    "the exit {} but on one Unix machine it {}",
                    show(&woke),
                    show(&ghost)
                )
            });
        }
    }

    /// A process ends (exit, or killed by a crash): its streams are released, its memory
    /// dropped, and its status goes to the rendezvous (EXIT_NOTICE), waking a waiting
    /// parent. Returns the waiter woken and what its wait returns.
    pub fn end_process(&mut self, pid: Pid, status: u8) -> Option<(Pid, Outcome)> {
        let rz_host = self.exit_rendezvous_host(pid);
        let fds: Vec<(Fd, StreamId)> = self.s.procs[&pid]
            .fds
            .iter()
            .map(|(f, s)| (*f, *s))
            .collect();
        let mig = self.s.migrations.remove(&pid);
        for (fd, sid) in fds {
            match &mig {
                Some(m) if m.half == Some(fd) => {
                    if m.reopen.is_none() {
                        // notify-target-first: both hosts hold it.
                        self.release(m.source, sid);
                        self.release(m.target, sid);
                    }
                }
                Some(m)
                    if matches!(
                        m.phase,
                        crate::state::Phase::State | crate::state::Phase::Streams
                    ) && !m.moved.contains(&fd) =>
                {
                    self.release(m.source, sid)
                }
                _ => {
                    let h = self.s.procs[&pid].host;
                    self.release(h, sid);
                }
            }
        }
        self.drop_memory_elsewhere(pid);
        let host = self.s.procs[&pid].host;
        let parent = self.s.procs[&pid].parent;
        self.s.procs.remove(&pid);
        for h in self.s.hosts.iter_mut() {
            h.held_signals.remove(&pid);
            h.rendezvous.waiters.remove(&pid);
            h.home_table.remove(&pid);
            h.groups.remove(&pid);
            // Its exited children are reaped; live ones lose their parent.
            h.rendezvous.zombies.retain(|_, (p, _)| *p != pid);
        }
        for p in self.s.procs.values_mut() {
            if p.parent == Some(pid) {
                p.parent = None;
            }
        }
        // Its children's exit notices still on their way are for nobody now: one arriving
        // would be dropped (`notice_at`), so it is dropped here, which merges states.
        self.s.exit_notices.retain(|_, n| n.parent != pid);
        if self.on(Switch::WaitOnCurrent) {
            return self.send_exit_notice(pid, host, parent, status);
        }
        // Under `local-pids` the notice reaches the child's home first, which forwards it.
        let via =
            Some(pid.home).filter(|v| self.on(Switch::LocalPids) && *v != host && *v != rz_host);
        for (from, to) in [
            (host, via.unwrap_or(rz_host)),
            (via.unwrap_or(rz_host), rz_host),
        ] {
            if from != to {
                self.log.msg(Actor::Host(from), Actor::Host(to), || {
                    format!("EXIT_NOTICE {pid} status {status}")
                });
            }
        }
        let parent = parent.filter(|pp| self.s.procs.contains_key(pp))?;
        if !self.s.host(rz_host).up {
            return None;
        }
        self.record_exit(rz_host, pid, parent, status)
    }

    /// The rendezvous on `at` takes `child`'s exit status: it answers `parent`'s wait, or
    /// keeps the status. Returns the parent woken and its answer.
    fn record_exit(
        &mut self,
        at: HostId,
        child: Pid,
        parent: Pid,
        status: u8,
    ) -> Option<(Pid, Outcome)> {
        let rz = &mut self.s.host_mut(at).rendezvous;
        if rz.waiters.remove(&parent) {
            let result: Outcome = Ok(Value::Child { pid: child, status });
            self.wake(parent, result);
            Some((parent, result))
        } else {
            rz.zombies.insert(child, (parent, status));
            None
        }
    }

    /// Under `wait-on-current`: the exit status goes to the rendezvous on the host where
    /// the parent runs. The home, which locates its processes for signals too, is told
    /// (EXIT_NOTICE, as in Sprite) and sends the notice on to where its table says the
    /// parent is (the source, while it moves), unless the parent's state is at the home
    /// already. Taken at once when that is the home itself; otherwise it is in flight
    /// (`exit_notice_arrives`).
    fn send_exit_notice(
        &mut self,
        child: Pid,
        host: HostId,
        parent: Option<Pid>,
        status: u8,
    ) -> Option<(Pid, Outcome)> {
        let home = child.home;
        if host != home {
            self.log.msg(Actor::Host(host), Actor::Host(home), || {
                format!("EXIT_NOTICE {child} status {status}")
            });
        }
        let parent = parent.filter(|pp| self.s.procs.contains_key(pp))?;
        if !self.s.host(home).up {
            return None;
        }
        // A parent whose state is at the home already (moving home, its table not yet
        // updated) is taken here; otherwise the table says where it is.
        let to = match self.s.host(parent.home).home_table.get(&parent)? {
            _ if self.s.procs[&parent].host == home => home,
            Loc::At(h) | Loc::Moving(h, _) => *h,
        };
        let notice = ExitNotice { parent, status, to };
        if to == home {
            return self.notice_at(child, notice);
        }
        self.log.msg(Actor::Host(home), Actor::Host(to), || {
            format!("EXIT_NOTICE {child} status {status}, for {parent}")
        });
        self.s.exit_notices.insert(child, notice);
        None
    }

    /// Under `wait-on-current`: an EXIT_NOTICE in flight arrives. A parent woken by it
    /// must not still be waiting on one Unix machine (which woke it at the exit).
    pub fn exit_notice_arrives(&mut self, child: Pid) {
        let Some(n) = self.s.exit_notices.remove(&child) else {
            return;
        };
        if let Some((parent, _)) = self.notice_at(child, n) {
            let ghost_waits = self
                .s
                .ghost
                .procs
                .get(&parent)
                .is_some_and(|g| g.state == unix::ProcState::Waiting);
            if ghost_waits {
                self.violate(InvariantId::WAIT, n.to, || {
                    format!("{parent}'s wait returns {child} but on one Unix machine it blocks")
                });
            }
        }
    }

    /// Under `wait-on-current`: what the host `n.to` does with an exit notice. The parent's
    /// state is there: the rendezvous records the status, or wakes the parent if it waits.
    /// The parent is moving away from there, its state already sent: the source knows the
    /// target and sends the notice on. Otherwise the host knows nothing of the parent any
    /// more, and the status is lost (WAIT fails on the state: it was one Unix machine's
    /// zombie, or its waiter's answer). Returns the parent woken and its answer.
    fn notice_at(&mut self, child: Pid, n: ExitNotice) -> Option<(Pid, Outcome)> {
        let ExitNotice { parent, status, to } = n;
        let here = self.s.procs.get(&parent).map(|p| p.host)?;
        if !self.s.host(to).up {
            return None;
        }
        if here == to {
            return self.record_exit(to, child, parent, status);
        }
        match self.s.migrations.get(&parent) {
            Some(m) if m.source == to => {
                let target = m.target;
                self.log.msg(Actor::Host(to), Actor::Host(target), || {
                    format!("EXIT_NOTICE {child} sent on: {parent} moved to {target}")
                });
                self.s
                    .exit_notices
                    .insert(child, ExitNotice { to: target, ..n });
            }
            _ => self.log.alarm(Actor::Host(to), || {
                format!("EXIT_NOTICE {child} lost: {to} knows nothing of {parent}, which has left")
            }),
        }
        None
    }

    /// Under `wait-on-current`, at MIG_STATE: the parent's rendezvous (its exited
    /// children's statuses, its being blocked in wait) moves with its state.
    pub fn move_rendezvous(&mut self, pid: Pid, src: HostId, tgt: HostId) {
        let from = &mut self.s.host_mut(src).rendezvous;
        let zombies: Vec<_> = from
            .zombies
            .iter()
            .filter(|(_, (p, _))| *p == pid)
            .map(|(c, v)| (*c, *v))
            .collect();
        from.zombies.retain(|_, (p, _)| *p != pid);
        let waits = from.waiters.remove(&pid);
        let to = &mut self.s.host_mut(tgt).rendezvous;
        for (c, v) in zombies {
            to.zombies.insert(c, v);
        }
        if waits {
            to.waiters.insert(pid);
        }
    }

    /// A parent blocked in wait gets its result.
    fn wake(&mut self, parent: Pid, result: Outcome) {
        let p = self.s.procs.get_mut(&parent).expect("live parent");
        if p.status == Status::Migrating {
            if let Some(m) = self.s.migrations.get_mut(&parent) {
                m.resume_waiting = false;
            }
        } else {
            p.status = Status::Ready;
        }
        p.pc += 1;
        p.current = None;
        let h = p.host;
        self.log
            .outcome(Actor::Host(h), parent, Op::Wait, result, None);
    }
}

/// The smallest index below 255 not in `used` (255 is never handed out).
/// Whether performing `op` now could not matter: it would fail the same way in the cluster
/// and on the one-machine Unix, and change nothing but the count of operations the process
/// has performed. The checker does not explore such a step: every state reachable after it
/// is reachable, with more operations left, without it (no invariant depends on how many
/// operations a process has left), so no violation and no reachable situation is lost
/// (`specs/model-scope.md`, "Reductions"). Each case below is one where both sides' answer
/// is read off state that both keep:
/// - a descriptor operation on a descriptor that neither side has (`EBADF`);
/// - an open without `create`, or an unlink, of a name that neither side has (`ENOENT`);
/// - a `migrate` to the host the process is on (refused before anything moves);
/// - a `wait` of a process with no child, live or exited, on either side (`ECHILD`);
/// - a `kill` of a pid that is neither alive nor exited on either side (`ESRCH`).
pub fn pointless(s: &crate::state::State, pid: Pid, op: &Op) -> bool {
    let p = &s.procs[&pid];
    let g = &s.ghost;
    match *op {
        Op::Read { fd }
        | Op::Write { fd, .. }
        | Op::Lseek { fd, .. }
        | Op::LseekCur { fd, .. }
        | Op::Close { fd }
        | Op::Dup { fd } => !p.fds.contains_key(&fd) && g.stream_of(pid, fd).is_none(),
        Op::Open {
            name,
            create: false,
            ..
        }
        | Op::Unlink { name } => !s.server.dir.contains_key(&name) && !g.dir.contains_key(&name),
        Op::Migrate { target } => target == p.host,
        Op::Wait => {
            let children = s.procs.values().any(|c| c.parent == Some(pid))
                || s.hosts
                    .iter()
                    .any(|h| h.rendezvous.zombies.values().any(|(q, _)| *q == pid))
                || s.exit_notices.values().any(|n| n.parent == pid);
            !children && !g.procs.values().any(|c| c.parent == Some(pid))
        }
        Op::Kill { pid: target } => {
            // As `kill` decides: alive if its home is up and knows it, or an exited child.
            let live = s
                .hosts
                .get(target.home.0 as usize)
                .is_some_and(|h| h.up && h.home_table.contains_key(&target));
            let zombie = s
                .hosts
                .iter()
                .any(|h| h.rendezvous.zombies.contains_key(&target))
                || s.exit_notices.contains_key(&target);
            !live && !zombie && !g.procs.contains_key(&target)
        }
        _ => false,
    }
}

pub fn smallest_free(used: impl Iterator<Item = u8>) -> Option<u8> {
    vocab::small::smallest_free(used.chain([u8::MAX]))
}
