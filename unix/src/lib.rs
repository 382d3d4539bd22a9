//! The one-machine Unix: the reference behind TR.
//!
//! Sprite's promise is that a cluster with migration behaves like one Unix machine without
//! it. This crate is that machine, kept as simple as possible: every operation is executed
//! atomically, there are no hosts, no caches and no messages. The model keeps one of these
//! as a ghost beside its distributed state and compares every result with it; the
//! conformance harness does the same for the implementation; and a test runs the file
//! operations on the real Linux kernel to check this reference against a real Unix.
//!
//! Identifiers are allocated smallest-free, so that two runs that reach the same logical
//! state also reach the same ghost state (the model checker merges them).
//!
//! Deliberate simplifications, stated in `specs/`: files hold at most
//! [`vocab::MAX_FILE_LEN`] one-byte symbols; a signal is counted, not acted on; pids are
//! (home, index) as in Sprite, the child's home being the parent's home.
//!
//! Pipes are unnamed inodes (`Inode::pipe`): never linked, so the rule that reclaims an
//! unlinked file at its last close reclaims a pipe once both ends are closed everywhere.
//! They never block: a read of an empty pipe with a writer left, or a write to a full one
//! ([`vocab::PIPE_CAPACITY`] symbols), returns `EAGAIN`, as a Unix pipe opened with
//! `O_NONBLOCK` does.
//!
//! Process groups: every process has one (initially its own pid; a child inherits its
//! parent's). Only live processes are members: an exited process waiting for its parent's
//! `wait` belongs to no group here (Unix keeps such a zombie in its group until it is
//! reaped, which only `killpg` or `setpgid` of a group made of zombies alone could tell).
//! A group never spans homes (`setpgid` refuses it), standing in for Unix's rule that a
//! group stays within one session. As POSIX demands, a pid is not reused while it names a
//! group.

use serde::{Deserialize, Serialize};
use vocab::small::{Bytes, SmallMap};
use vocab::{Errno, Fd, FileName, Mode, Op, Outcome, PageNo, Pid, StreamId, Value};

/// Most descriptors a process may hold.
pub const MAX_FDS: u8 = 4;

/// An inode number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ino(pub u8);

impl std::fmt::Display for Ino {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "i{}", self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Inode {
    /// A file's contents; a pipe's symbols not yet read, oldest first.
    pub data: Bytes,
    /// Whether a name still refers to the inode (the model has no hard links).
    pub linked: bool,
    /// An unnamed pipe (never linked).
    pub pipe: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stream {
    pub ino: Ino,
    pub mode: Mode,
    pub pos: u8,
    /// Descriptors (in all processes) that refer to this stream.
    pub refs: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProcState {
    Running,
    /// Blocked in wait: some child is alive, none has exited yet.
    Waiting,
    /// Exited, status not yet collected by the parent.
    Zombie(u8),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Proc {
    pub parent: Option<Pid>,
    pub fds: SmallMap<Fd, StreamId>,
    pub mem: Bytes,
    pub state: ProcState,
    /// Signals sent to this process.
    pub signals: u8,
    /// The process group.
    pub pgrp: Pid,
}

/// The result of one atomic step on the one-machine Unix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// What the caller gets back, or `None` if it blocks (wait).
    pub outcome: Option<Outcome>,
    /// A blocked waiter this step woke, with the result its wait returns.
    pub woke: Option<(Pid, Outcome)>,
}

impl Step {
    fn done(outcome: Outcome) -> Step {
        Step {
            outcome: Some(outcome),
            woke: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Unix {
    pub dir: SmallMap<FileName, Ino, 2>,
    pub inodes: SmallMap<Ino, Inode, 2>,
    pub streams: SmallMap<StreamId, Stream, 4>,
    /// Each process shared between copies of this Unix until one writes it
    /// (`vocab::shared`): the model keeps a copy in every state, and a step changes one
    /// or two processes.
    pub procs: SmallMap<Pid, vocab::shared::Shared<Proc>, 4>,
    /// For each slot (home, index) that has held a process: the generation the next
    /// process given that slot gets (see `Pid`).
    pub generations: SmallMap<(vocab::HostId, u8), u8, 2>,
}

/// How many inodes, and how many streams, there can be at once: their numbers are bytes, as
/// the implementation's file ids and stream ids are; an open or a pipe that needs one more
/// is refused with `EMFILE`, as the implementation's file server refuses it.
pub const OBJECTS: usize = 256;

fn smallest_free<K>(used: impl Iterator<Item = u8>, make: impl Fn(u8) -> K) -> K {
    make(vocab::small::smallest_free(used).expect("fewer than 256 objects"))
}

impl Unix {
    pub fn new() -> Unix {
        Unix::default()
    }

    /// Adds a file that exists before anything runs.
    pub fn add_file(&mut self, name: FileName, data: impl Into<Bytes>) -> Ino {
        let data = data.into();
        let ino = smallest_free(self.inodes.keys().map(|i| i.0), Ino);
        self.inodes.insert(
            ino,
            Inode {
                data,
                linked: true,
                pipe: false,
            },
        );
        self.dir.insert(name, ino);
        ino
    }

    /// Adds a process that exists before anything runs (no parent; it leads its own
    /// process group).
    pub fn add_process(&mut self, pid: Pid, pages: u8) {
        self.generations.insert(
            (pid.home, pid.index),
            pid.gen.wrapping_add(1) % Pid::GENERATIONS,
        );
        self.procs.insert(
            pid,
            Proc {
                parent: None,
                fds: SmallMap::new(),
                mem: vocab::inline![0; pages as usize],
                state: ProcState::Running,
                signals: 0,
                pgrp: pid,
            }
            .into(),
        );
    }

    /// The stream behind a descriptor.
    pub fn stream_of(&self, pid: Pid, fd: Fd) -> Option<StreamId> {
        self.procs.get(&pid)?.fds.get(&fd).copied()
    }

    /// Whether some stream refers to the inode.
    pub fn is_open(&self, ino: Ino) -> bool {
        self.streams.values().any(|s| s.ino == ino)
    }

    /// The pid the next child of `home`'s processes gets: the smallest index no process of
    /// that home (alive or zombie) uses and no process group is named after, in the next
    /// generation of that slot.
    pub fn next_pid(&self, home: vocab::HostId) -> Pid {
        let groups = self.live().map(|(_, p)| p.pgrp);
        let used = self.procs.keys().copied().chain(groups);
        smallest_free(used.filter(|p| p.home == home).map(|p| p.index), |i| {
            let gen = self.generations.get(&(home, i)).copied().unwrap_or(0);
            Pid::with_gen(home, i, gen)
        })
    }

    /// The live processes (running or blocked in wait; not zombies).
    pub fn live(&self) -> impl Iterator<Item = (&Pid, &Proc)> {
        self.procs
            .iter()
            .filter(|(_, p)| !matches!(p.state, ProcState::Zombie(_)))
            .map(|(pid, p)| (pid, &**p))
    }

    /// Whether some live process belongs to process group `pgrp`.
    pub fn group_exists(&self, pgrp: Pid) -> bool {
        self.live().any(|(_, p)| p.pgrp == pgrp)
    }

    /// Whether some stream of `ino` is open for reading (`writes` false) or for writing.
    pub fn has_end(&self, ino: Ino, writes: bool) -> bool {
        self.streams.values().any(|s| {
            s.ino == ino
                && if writes {
                    s.mode.writes()
                } else {
                    s.mode.reads()
                }
        })
    }

    /// Executes one operation of `pid` atomically.
    pub fn apply(&mut self, pid: Pid, op: &Op) -> Step {
        match self.procs.get(&pid).map(|p| p.state) {
            Some(ProcState::Running) => {}
            _ => return Step::done(Err(Errno::ESRCH)),
        }
        let outcome = match *op {
            Op::Open { name, mode, create } => self.open(pid, name, mode, create),
            Op::Read { fd } => self.read(pid, fd),
            Op::Write { fd, sym } => self.write(pid, fd, sym),
            Op::Lseek { fd, pos } => self.lseek(pid, fd, pos),
            Op::LseekCur { fd, delta } => self.lseek_cur(pid, fd, delta),
            Op::Close { fd } => self.close(pid, fd),
            Op::Unlink { name } => self.unlink(name),
            Op::Stat { name } => self.stat(name),
            Op::Dup { fd } => self.dup(pid, fd),
            Op::Fork => self.fork(pid),
            Op::Exec { .. } => {
                let p = self.procs.get_mut(&pid).expect("checked above");
                p.mem.iter_mut().for_each(|b| *b = 0);
                Ok(Value::Unit)
            }
            Op::Exit { status } => return self.exit(pid, status),
            Op::Wait => return self.wait(pid),
            Op::Getpid => Ok(Value::Pid(pid)),
            // One machine has one clock; TR does not compare time values (TIME does).
            Op::Gettimeofday => Ok(Value::Time(0)),
            Op::Kill { pid: target } => self.kill(target),
            Op::MemRead { page } => self.mem_read(pid, page),
            Op::MemWrite { page, sym } => self.mem_write(pid, page, sym),
            // Without migration, migrate has nothing to do.
            Op::Migrate { .. } => Ok(Value::Unit),
            Op::Pipe => self.pipe(pid),
            Op::Getpgrp => Ok(Value::Pid(self.procs[&pid].pgrp)),
            Op::Setpgid { pgrp } => self.setpgid(pid, pgrp),
            Op::Killpg { pgrp } => self.killpg(pgrp),
        };
        Step::done(outcome)
    }

    fn proc_mut(&mut self, pid: Pid) -> &mut Proc {
        self.procs.get_mut(&pid).expect("caller checked the pid")
    }

    fn open(&mut self, pid: Pid, name: FileName, mode: Mode, create: bool) -> Outcome {
        if self.procs[&pid].fds.len() >= MAX_FDS as usize {
            return Err(Errno::EMFILE);
        }
        let ino = match self.dir.get(&name) {
            Some(ino) => *ino,
            None if create && self.inodes.len() >= OBJECTS => return Err(Errno::EMFILE),
            None if create => self.add_file(name, Bytes::new()),
            None => return Err(Errno::ENOENT),
        };
        // No stream number left: as the implementation's file server answers, after the
        // file a create made (it stays, empty and linked).
        if self.streams.len() >= OBJECTS {
            return Err(Errno::EMFILE);
        }
        Ok(Value::Fd(self.new_stream(pid, ino, mode)))
    }

    /// A new stream (open file description) of `ino`, at position 0, and the smallest free
    /// descriptor of `pid` for it. The caller checked the descriptor bound.
    fn new_stream(&mut self, pid: Pid, ino: Ino, mode: Mode) -> Fd {
        let sid = smallest_free(self.streams.keys().map(|s| s.0), StreamId);
        self.streams.insert(
            sid,
            Stream {
                ino,
                mode,
                pos: 0,
                refs: 1,
            },
        );
        let p = self.proc_mut(pid);
        let fd = smallest_free(p.fds.keys().map(|f| f.0), Fd);
        p.fds.insert(fd, sid);
        fd
    }

    fn stream(&self, pid: Pid, fd: Fd) -> Result<StreamId, Errno> {
        self.stream_of(pid, fd).ok_or(Errno::EBADF)
    }

    fn read(&mut self, pid: Pid, fd: Fd) -> Outcome {
        let sid = self.stream(pid, fd)?;
        let s = &self.streams[&sid];
        if !s.mode.reads() {
            return Err(Errno::EBADF);
        }
        let ino = s.ino;
        if self.inodes[&ino].pipe {
            let writer = self.has_end(ino, true);
            let data = &mut self.inodes.get_mut(&ino).expect("open inode exists").data;
            return pipe_read(data, writer);
        }
        let data = &self.inodes[&s.ino].data;
        let sym = data.get(s.pos as usize).copied();
        if sym.is_some() {
            self.streams.get_mut(&sid).expect("exists").pos += 1;
        }
        Ok(Value::Data(sym))
    }

    fn write(&mut self, pid: Pid, fd: Fd, sym: u8) -> Outcome {
        let sid = self.stream(pid, fd)?;
        let s = &self.streams[&sid];
        if !s.mode.writes() {
            return Err(Errno::EBADF);
        }
        let ino = s.ino;
        if self.inodes[&ino].pipe {
            let reader = self.has_end(ino, false);
            let data = &mut self.inodes.get_mut(&ino).expect("open inode exists").data;
            return pipe_write(data, reader, sym);
        }
        let s = self.streams.get_mut(&sid).expect("exists");
        if s.pos >= vocab::MAX_FILE_LEN {
            return Err(Errno::EFBIG);
        }
        let data = &mut self.inodes.get_mut(&s.ino).expect("open inode exists").data;
        write_at(data, s.pos, sym);
        s.pos += 1;
        Ok(Value::Unit)
    }

    fn lseek(&mut self, pid: Pid, fd: Fd, pos: u8) -> Outcome {
        let sid = self.stream(pid, fd)?;
        if self.inodes[&self.streams[&sid].ino].pipe {
            return Err(Errno::ESPIPE);
        }
        if pos > vocab::MAX_FILE_LEN {
            return Err(Errno::EINVAL);
        }
        self.streams.get_mut(&sid).expect("exists").pos = pos;
        Ok(Value::Pos(pos))
    }

    /// `lseek(fd, delta, SEEK_CUR)`: a position before the start is EINVAL, as in Unix;
    /// one past [`vocab::MAX_FILE_LEN`] is EINVAL too, as for `lseek` (files never grow
    /// beyond it here).
    fn lseek_cur(&mut self, pid: Pid, fd: Fd, delta: i8) -> Outcome {
        let sid = self.stream(pid, fd)?;
        if self.inodes[&self.streams[&sid].ino].pipe {
            return Err(Errno::ESPIPE);
        }
        let pos = i16::from(self.streams[&sid].pos) + i16::from(delta);
        let pos = u8::try_from(pos).map_err(|_| Errno::EINVAL)?;
        self.lseek(pid, fd, pos)
    }

    fn close(&mut self, pid: Pid, fd: Fd) -> Outcome {
        let sid = self.stream(pid, fd)?;
        self.proc_mut(pid).fds.remove(&fd);
        self.release_stream(sid);
        Ok(Value::Unit)
    }

    fn release_stream(&mut self, sid: StreamId) {
        let s = self
            .streams
            .get_mut(&sid)
            .expect("descriptor's stream exists");
        s.refs -= 1;
        if s.refs == 0 {
            let ino = s.ino;
            self.streams.remove(&sid);
            self.reclaim_if_unused(ino);
        }
    }

    fn reclaim_if_unused(&mut self, ino: Ino) {
        if !self.inodes[&ino].linked && !self.is_open(ino) {
            self.inodes.remove(&ino);
        }
    }

    fn unlink(&mut self, name: FileName) -> Outcome {
        let ino = self.dir.remove(&name).ok_or(Errno::ENOENT)?;
        self.inodes
            .get_mut(&ino)
            .expect("named inode exists")
            .linked = false;
        self.reclaim_if_unused(ino);
        Ok(Value::Unit)
    }

    fn stat(&self, name: FileName) -> Outcome {
        let ino = self.dir.get(&name).ok_or(Errno::ENOENT)?;
        Ok(Value::Size(self.inodes[ino].data.len() as u8))
    }

    fn dup(&mut self, pid: Pid, fd: Fd) -> Outcome {
        let sid = self.stream(pid, fd)?;
        let p = self.proc_mut(pid);
        if p.fds.len() >= MAX_FDS as usize {
            return Err(Errno::EMFILE);
        }
        let new = smallest_free(p.fds.keys().map(|f| f.0), Fd);
        p.fds.insert(new, sid);
        self.streams.get_mut(&sid).expect("exists").refs += 1;
        Ok(Value::Fd(new))
    }

    /// fork, with the child's pid chosen by the caller: what one Unix machine does when it
    /// picks `child`, which it may do iff no process (alive or zombie) has that pid and no
    /// process group is named after it. Unix leaves the choice of a fresh pid to the
    /// kernel; `apply` makes the deterministic choice `next_pid`, which is also what
    /// Sprite's homes choose. A design that names its children otherwise (the `local-pids`
    /// alternative's creation-site pids) is compared through this: a fresh pid gets the
    /// same treatment as `next_pid`'s, any other is answered as `apply` would (so the
    /// results differ).
    pub fn fork_as(&mut self, pid: Pid, child: Pid) -> Step {
        let fresh = !self.procs.contains_key(&child)
            && !self.live().any(|(_, p)| p.pgrp == child)
            && child.index != u8::MAX;
        match self.procs.get(&pid).map(|p| p.state) {
            Some(ProcState::Running) if fresh => Step::done(self.fork_with(pid, child)),
            _ => self.apply(pid, &Op::Fork),
        }
    }

    fn fork(&mut self, pid: Pid) -> Outcome {
        self.fork_with(pid, self.next_pid(pid.home))
    }

    fn fork_with(&mut self, pid: Pid, child: Pid) -> Outcome {
        if child.index == u8::MAX {
            return Err(Errno::EAGAIN);
        }
        let parent = Proc::clone(&self.procs[&pid]);
        for sid in parent.fds.values() {
            self.streams.get_mut(sid).expect("exists").refs += 1;
        }
        self.generations.insert(
            (child.home, child.index),
            child.gen.wrapping_add(1) % Pid::GENERATIONS,
        );
        self.procs.insert(
            child,
            Proc {
                parent: Some(pid),
                fds: parent.fds,
                mem: parent.mem,
                state: ProcState::Running,
                signals: 0,
                pgrp: parent.pgrp,
            }
            .into(),
        );
        Ok(Value::Pid(child))
    }

    /// A new unnamed pipe: one inode, a read-only and a write-only stream, and the two
    /// smallest free descriptors (the read end first).
    fn pipe(&mut self, pid: Pid) -> Outcome {
        if self.procs[&pid].fds.len() + 2 > MAX_FDS as usize
            || self.inodes.len() >= OBJECTS
            || self.streams.len() + 2 > OBJECTS
        {
            return Err(Errno::EMFILE);
        }
        let ino = smallest_free(self.inodes.keys().map(|i| i.0), Ino);
        self.inodes.insert(
            ino,
            Inode {
                data: Bytes::new(),
                linked: false,
                pipe: true,
            },
        );
        let read = self.new_stream(pid, ino, Mode::Read);
        let write = self.new_stream(pid, ino, Mode::Write);
        Ok(Value::Pipe { read, write })
    }

    /// The caller joins `pgrp`: its own pid, or an existing group of its home.
    fn setpgid(&mut self, pid: Pid, pgrp: Pid) -> Outcome {
        let allowed = pgrp == pid || (pgrp.home == pid.home && self.group_exists(pgrp));
        if !allowed {
            return Err(Errno::EPERM);
        }
        self.proc_mut(pid).pgrp = pgrp;
        Ok(Value::Unit)
    }

    /// One signal to each live member of `pgrp`.
    fn killpg(&mut self, pgrp: Pid) -> Outcome {
        if !self.group_exists(pgrp) {
            return Err(Errno::ESRCH);
        }
        for p in self.procs.values_mut() {
            if p.pgrp == pgrp && !matches!(p.state, ProcState::Zombie(_)) {
                p.signals = p.signals.saturating_add(1);
            }
        }
        Ok(Value::Unit)
    }

    /// Ends a process: closes its descriptors, orphans its children, and leaves a zombie for
    /// a live parent (waking it if it waits). Used for exit and for a crash's kill (FAIL).
    pub fn exit(&mut self, pid: Pid, status: u8) -> Step {
        let Some(p) = self.procs.get(&pid) else {
            return Step::done(Err(Errno::ESRCH));
        };
        if matches!(p.state, ProcState::Zombie(_)) {
            return Step::done(Err(Errno::ESRCH));
        }
        let fds: Vec<StreamId> = p.fds.values().copied().collect();
        let parent = p.parent;
        for sid in fds {
            self.release_stream(sid);
        }
        // Orphans: zombies are reaped at once, live children lose their parent.
        let children: Vec<Pid> = self.children(pid).collect();
        for c in children {
            if matches!(self.procs[&c].state, ProcState::Zombie(_)) {
                self.procs.remove(&c);
            } else {
                self.proc_mut(c).parent = None;
            }
        }
        let parent_state = parent.and_then(|pp| self.procs.get(&pp)).map(|pp| pp.state);
        let mut woke = None;
        match (parent, parent_state) {
            (Some(pp), Some(ProcState::Waiting)) => {
                self.procs.remove(&pid);
                self.proc_mut(pp).state = ProcState::Running;
                woke = Some((pp, Ok(Value::Child { pid, status })));
            }
            (Some(_), Some(ProcState::Running)) => {
                let p = self.proc_mut(pid);
                p.fds.clear();
                p.state = ProcState::Zombie(status);
            }
            _ => {
                self.procs.remove(&pid);
            }
        }
        Step {
            outcome: Some(Ok(Value::Unit)),
            woke,
        }
    }

    fn children(&self, pid: Pid) -> impl Iterator<Item = Pid> + '_ {
        self.procs
            .iter()
            .filter(move |(_, p)| p.parent == Some(pid))
            .map(|(c, _)| *c)
    }

    fn wait(&mut self, pid: Pid) -> Step {
        let zombie = self.children(pid).find_map(|c| match self.procs[&c].state {
            ProcState::Zombie(status) => Some((c, status)),
            _ => None,
        });
        if let Some((c, status)) = zombie {
            self.procs.remove(&c);
            return Step::done(Ok(Value::Child { pid: c, status }));
        }
        if self.children(pid).next().is_some() {
            self.proc_mut(pid).state = ProcState::Waiting;
            return Step {
                outcome: None,
                woke: None,
            };
        }
        Step::done(Err(Errno::ECHILD))
    }

    fn kill(&mut self, target: Pid) -> Outcome {
        match self.procs.get_mut(&target) {
            None => Err(Errno::ESRCH),
            Some(p) => {
                if !matches!(p.state, ProcState::Zombie(_)) {
                    p.signals = p.signals.saturating_add(1);
                }
                Ok(Value::Unit)
            }
        }
    }

    fn mem_read(&mut self, pid: Pid, page: PageNo) -> Outcome {
        let mem = &self.procs[&pid].mem;
        mem.get(page.0 as usize)
            .map(|b| Value::Mem(*b))
            .ok_or(Errno::EINVAL)
    }

    fn mem_write(&mut self, pid: Pid, page: PageNo, sym: u8) -> Outcome {
        let mem = &mut self.proc_mut(pid).mem;
        let slot = mem.get_mut(page.0 as usize).ok_or(Errno::EINVAL)?;
        *slot = sym;
        Ok(Value::Unit)
    }
}

/// A read of a pipe's read end: the oldest symbol, else `EAGAIN` while a write end is
/// open anywhere (`writer`), else end of file. The one definition of a pipe read: the model
/// and the implementation's file server call it on their own copies of a pipe.
pub fn pipe_read(data: &mut impl ByteBuf, writer: bool) -> Outcome {
    if data.is_empty() {
        return if writer {
            Err(Errno::EAGAIN)
        } else {
            Ok(Value::Data(None))
        };
    }
    Ok(Value::Data(Some(data.take_first())))
}

/// A write to a pipe's write end: `EPIPE` when no read end is open anywhere (`reader`),
/// `EAGAIN` when the pipe is full, else the symbol is appended.
pub fn pipe_write(data: &mut impl ByteBuf, reader: bool, sym: u8) -> Outcome {
    if !reader {
        return Err(Errno::EPIPE);
    }
    if data.len() >= vocab::PIPE_CAPACITY as usize {
        return Err(Errno::EAGAIN);
    }
    data.append(sym);
    Ok(Value::Unit)
}

/// Writes `sym` at `pos`, filling a hole with zeros. The caller checked the length bound.
pub fn write_at(data: &mut impl ByteBuf, pos: u8, sym: u8) {
    data.put(pos as usize, sym);
}

/// What the shared file and pipe rules need of a byte buffer: the ghost's and the model's
/// inline `Bytes`, and the implementation's `Vec<u8>`.
pub trait ByteBuf {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Removes and returns the first byte (the caller checked there is one).
    fn take_first(&mut self) -> u8;
    fn append(&mut self, b: u8);
    /// Writes `b` at `pos`, filling a hole with zeros.
    fn put(&mut self, pos: usize, b: u8);
}

impl ByteBuf for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn take_first(&mut self) -> u8 {
        self.remove(0)
    }
    fn append(&mut self, b: u8) {
        self.push(b)
    }
    fn put(&mut self, pos: usize, b: u8) {
        if self.len() <= pos {
            self.resize(pos + 1, 0);
        }
        self[pos] = b;
    }
}

impl ByteBuf for Bytes {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn take_first(&mut self) -> u8 {
        self.remove(0)
    }
    fn append(&mut self, b: u8) {
        self.push(b)
    }
    fn put(&mut self, pos: usize, b: u8) {
        if self.len() <= pos {
            self.resize(pos + 1, 0);
        }
        self[pos] = b;
    }
}

#[cfg(test)]
mod tests;
