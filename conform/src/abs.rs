//! The abstraction function: the implementation's state mapped onto a `model::State`, and
//! the observation (`Obs`): the parts of a state both sides define, compared after every
//! step of the implementation.
//!
//! **Decided steps count as done.** The implementation spreads what the model does in one
//! atomic step over several messages: a read on a shadow stream changes the server's
//! position when the server handles it, and the reader's kernel learns the result when the
//! reply arrives. The model's step happens at one point, the *linearisation point*, and
//! the abstraction must show all of its effects from that point on. So the mapping is
//! taken of a settled copy of the cluster (`sprite::Cluster::settled`), in which every
//! message whose effect is already decided has been delivered, and so on transitively
//! ([`settles`] says which). A message that carries a decision still to be taken (a
//! request the server or the home has not handled, a migration step the model takes as a
//! step of its own, a signal hop) stays on the wire, and its step is the one the model
//! must match.
//!
//! **Steps not yet taken count as not taken.** Where the implementation has begun a step
//! the model takes later in one piece, the mapping shows the state before it: references a
//! source has released in an exchange still waiting for callbacks count on the source; an
//! exiting process's references dropped before the server closed its last ones count on
//! its host; a stream a host keeps registered with no reference while it moves in is not
//! used there. Blocks written back in a callback reply that cannot yet be delivered count
//! as the server's, as the model's recall has them.
//!
//! What is taken from the implementation: hosts (up, owner, home tables, held signals,
//! rendezvous zombies, process groups, client streams with positions, cache contents and
//! dirtiness, pages left behind), processes (host, parent, status, pages, descriptors,
//! signals received, the mark that pins them), the server (names, files and pipes with
//! data, link state, cacheability, last writer, streams with their hosts and shadow
//! positions, backing files), signals and (under `no-vm-flush`) page flushes on the wire.
//!
//! What is taken from the model's state it is compared with (`hidden`), because the
//! implementation has no counterpart or numbers it differently: the ghost one-machine
//! Unix (the specification), script positions, `last_time` (TIME is checked on the
//! implementation's results instead), `born_remote`, `login` (whose user's work a process
//! is: the pid's home for a process the model does not have), the migration records (phases, moved
//! descriptors) and which events have been used.
//!
//! Version numbers are mapped, not taken: the implementation's are global counters, so
//! every file maps to version 1 and a cached copy to 1 when its version is the server's
//! (current: the server would keep it at the host's next open), else 0. CONS's clause 3
//! reads them; the observation does not compare them.
//!
//! File and stream identities: both sides allocate the smallest free number, so
//! `FileId(n)` maps to `Ino(n)` and stream ids map to themselves; a divergence in
//! allocation shows up as a difference in the observation.

use model::state::{
    CacheEntry, ClientStream, File, Host, Loc, Page, Proc, ServerStream, SignalMsg, State, Status,
};
use model::SpriteModel;
use sprite::fs::{Blocks, FileId};
use sprite::kernel::{Kernel, Life, Pending, ProcStatus};
use sprite::msg::{FileReq, Msg, Node};
use sprite::sim::Overtake;
use sprite::vm::Page as IPage;
use sprite::Cluster;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use unix::Ino;
use vocab::shared::Shared;
use vocab::{Fd, FileName, HostId, PageNo, Pid, StreamId, Switch};

fn ino(f: sprite::fs::FileId) -> Ino {
    Ino(f.0)
}

/// Whether a message on the wire carries an effect that is already decided, so that the
/// abstraction treats it as delivered:
/// - replies to a process's calls (FILE_OP, FORWARD, FORK_PID, WAIT_REQUEST, SIGNAL,
///   EXIT_NOTICE, PAGE_IN): the callee decided when it handled the request;
/// - what an exit or a crash sets off (discarding the process's backing file, EXIT_NOTICE,
///   DEATH_NOTICE, and closing the streams of a killed process): the model's exit and crash
///   are one step;
/// - replies inside a server's call (BLOCK_RECALL, CACHE_DISABLE) and inside the
///   three-party exchange (STREAM_RELEASE_REPLY, then the STREAM_MOVE reply): the source's
///   release is the exchange's linearisation point, as the model's STREAM_MOVE is one step;
/// - MIG_START: the home learns of the move; the model's MIG_INIT step (or, for a move to
///   the home, the request itself) includes it. The source sends back to the home any
///   signal that reaches the frozen process once MIG_START is on its way, and the home
///   gets it after MIG_START, so nothing the home does before MIG_START arrives can differ;
/// - MIG_STATE: once the source has packed the state, the process belongs to the target
///   (a signal reaching the source after that is sent back to the home, as the model does
///   once the PCB has moved); RESUME to the source and MIG_ABORT to the home: the end of a
///   migration the target or source already decided.
///
/// Not settled: requests whose answer depends on when they are handled (FILE_OP open, read,
/// write, lseek, unlink, and close, also an exiting process's; FORK_PID; WAIT_REQUEST; FORWARD; PAGE_IN; BLOCK_RECALL;
/// CACHE_DISABLE), the migration steps the model takes one by one (MIG_INIT and its
/// answer: the model's MIG_INIT step is where the source learns the answer; the flushes; STREAM_MOVE and STREAM_RELEASE; HOME_UPDATE and
/// its answer, which resumes the process), and SIGNAL hops (each is a model step). Settling
/// a message is sound only if its effect commutes with whatever its receiver may do before
/// it really arrives: MIG_INIT's answer does not (until the source has it, a signal at the
/// home is still delivered to the frozen process, not held).
pub fn settles(c: &Cluster, m: &Msg) -> bool {
    use Msg::*;
    match m {
        FileOpReply { .. }
        | ForwardReply { .. }
        | ForkPidReply { .. }
        | WaitReply { .. }
        | SignalReply { .. }
        | ExitNotice { .. }
        | ExitAck { .. }
        | PageInReply { .. }
        | DeathNotice { .. }
        | ChildNotice { .. }
        | BlockRecallReply { .. }
        | CacheDisableReply { .. }
        | StreamReleaseReply { .. }
        | StreamMoveReply { .. }
        | MigStart { .. }
        | MigState { .. }
        | Resume { .. }
        | MigAbort { .. } => true,
        FileOp {
            req: FileReq::DiscardBacking { .. },
            ..
        } => true,
        // A killed process's streams (its PCB is gone): part of the crash, one model step.
        // Likewise the references that became a host's last while an exit was in flight,
        // closed after the exit took effect (`Kernel::exit_closed`): part of the exit's step.
        // A `close` or an `exit` is not settled: it takes effect when the server handles it
        // (the server may be busy with a stream exchange on the file, and queue it).
        FileOp {
            pid,
            req: FileReq::Close { .. },
        } => !c.kernels().any(|(h, k)| {
            c.is_up(*h)
                && k.procs.get(pid).is_some_and(|p| {
                    !matches!(p.pending, Some(Pending::ExitClosing { late: true, .. }))
                })
        }),
        _ => false,
    }
}

/// Whether a settled message may count as delivered ahead of the messages `ahead` of it in
/// its channel. Not a reply to one of the server's callbacks (BLOCK_RECALL,
/// CACHE_DISABLE): it resumes a call the server suspended, and a request of the same host
/// ahead of it (a close, which does not wait behind the call) changes what the resumed
/// call decides (a file closed on that host is no longer write-shared). Its effect is
/// decided only once it reaches the head of its channel. The source's answer to
/// STREAM_RELEASE behind the close of a holder it lists as exiting: the server takes that
/// close first, beside the exchange, and then no longer counts the stream as used on the
/// source (`Released::exiting`), which decides where the position goes; when only such
/// closes are ahead, they are as decided as the answer (the server takes closes beside an
/// exchange whenever they come), so they count as delivered first; otherwise the answer
/// waits for the head.
pub fn overtakes(m: &Msg, ahead: &[Msg]) -> Overtake {
    match m {
        Msg::BlockRecallReply { .. } | Msg::CacheDisableReply { .. } => Overtake::FromHead,
        Msg::StreamReleaseReply { released, .. } => {
            let exit_close = |a: &Msg| {
                matches!(a, Msg::FileOp { pid, req: FileReq::Close { .. } }
                    if released.iter().any(|r| r.exiting.contains(pid)))
            };
            if !ahead.iter().any(exit_close) {
                Overtake::Anywhere
            } else if ahead.iter().all(exit_close) {
                Overtake::AheadFirst
            } else {
                Overtake::FromHead
            }
        }
        _ => Overtake::Anywhere,
    }
}

/// The settled copy the abstraction is taken of (the cluster itself when nothing on the
/// wire settles).
pub fn settled(c: &Cluster) -> Cow<'_, Cluster> {
    if c.any_in_flight(|m| settles(c, m)) {
        // Whether a message settles is judged on the copy as it goes (a delivery may settle
        // the messages it sends: the rest of an exit, `Kernel::exit_closed`).
        Cow::Owned(c.settled(settles, overtakes, 10_000))
    } else {
        Cow::Borrowed(c)
    }
}

/// A mapped state with the parts the implementation does not have taken from `hidden`
/// instead (see the module comment).
pub fn with_hidden(mut s: State, hidden: &State) -> State {
    s.migrations = hidden.migrations.clone();
    s.events_used = hidden.events_used;
    s.ghost = hidden.ghost.clone();
    for (pid, p) in s.procs.iter_mut() {
        let mp = hidden.procs.get(pid);
        p.script = mp.map_or(0, |q| q.script);
        p.pc = mp.map_or(0, |q| q.pc);
        p.current = mp.and_then(|q| q.current);
        p.last_time = mp.and_then(|q| q.last_time);
        p.born_remote = mp.is_some_and(|q| q.born_remote);
        p.login = mp.map_or(pid.home, |q| q.login);
    }
    s
}

/// The kernel and PCB that stand for `pid`: the target's, from the moment it holds the
/// process's state (MIG_STATE arrived, the process not yet resumed), else the one
/// running or frozen copy.
fn pcb_of(c: &Cluster, pid: Pid) -> Option<(HostId, &Kernel)> {
    let up = || c.kernels().filter(|(h, _)| c.is_up(**h));
    up().find(|(_, k)| {
        k.procs
            .get(&pid)
            .is_some_and(|p| p.status == ProcStatus::Incoming)
    })
    .or_else(|| up().find(|(_, k)| k.procs.contains_key(&pid)))
    .map(|(h, k)| (*h, k))
}

/// Maps a settled implementation state (see [`settled`]) onto a model state; `hidden`
/// supplies what the implementation does not have (see the module comment) but the ghost
/// Unix and the migration records, which only [`with_hidden`] adds (the observation does
/// not use them; the invariants do); `flags` are invariant bits the harness saw broken on
/// the implementation's results (TR, TIME).
pub fn map(c: &Cluster, hidden: &State, flags: u16) -> State {
    let mut hosts = vocab::small::Inline::<[Host; 4]>::new();
    for (hid, k) in c.kernels() {
        let up = c.is_up(*hid);
        let mut h = Host::new(up, k.owner_present);
        if up {
            map_host(c, k, &mut h);
        }
        hosts.push(h);
    }
    let pids: BTreeSet<Pid> = c
        .kernels()
        .filter(|(h, _)| c.is_up(**h))
        .flat_map(|(_, k)| k.procs.keys().copied())
        .collect();
    let mut procs = vocab::small::SmallMap::new();
    for pid in &pids {
        let Some((host, k)) = pcb_of(c, *pid) else {
            continue;
        };
        procs.insert(*pid, map_proc(c, host, k, *pid, &pids, hidden).into());
    }
    let mut server = map_server(c);
    let mut signals = vocab::small::SmallMap::new();
    let mut flushes = vocab::small::SmallMap::new();
    for env in c.in_flight() {
        match (env.msg, env.to) {
            // Blocks on their way back in a callback's reply that the settled copy could
            // not deliver (a request of the same host is ahead of it in the channel): they
            // have left the host's cache, and the server writes them into its copy
            // whatever it handles first, so they count as the server's. (Seen when another
            // process writes and closes a file inside a migration: the close travels ahead
            // of the CACHE_DISABLE reply.)
            (
                Msg::BlockRecallReply { file, blocks } | Msg::CacheDisableReply { file, blocks },
                Node::Server,
            ) => written_back(c, &mut server, &[(file, blocks)]),
            (Msg::StreamReleaseReply { blocks, .. }, Node::Server) => {
                written_back(c, &mut server, &blocks)
            }
            // A kill on its way to be decided (sender set) is not a signal yet.
            (
                Msg::Signal {
                    target,
                    sender: None,
                },
                Node::Host(to),
            ) => {
                *signals
                    .entry(SignalMsg {
                        pid: target,
                        to,
                        direct: false,
                    })
                    .or_insert(0u8) += 1;
            }
            (
                Msg::PageFlush {
                    pid,
                    pages,
                    reply: false,
                },
                Node::Server,
            ) => {
                for (pg, v) in pages {
                    flushes.insert((pid, pg), v);
                }
            }
            _ => {}
        }
    }
    // The ghost Unix and the migration records are not observed: [`with_hidden`] puts
    // them in before the invariants are evaluated (copying the ghost here too would copy
    // it twice per step).
    // A host may keep a stream no descriptor here refers to any more, with no reference,
    // while the stream moves in with a migrating process: it stays registered at the
    // server until the grant, so that a close here cannot end the stream in between. The
    // model's close releases the host and its STREAM_MOVE registers it again: until the
    // grant the host does not use the stream.
    for (i, h) in hosts.iter_mut().enumerate() {
        // (Rare: no allocation on the common path, every implementation step maps.)
        if !h.streams.iter().any(|(_, cs)| cs.refs == 0) {
            continue;
        }
        let held: Vec<StreamId> = h
            .streams
            .iter()
            .filter(|(_, cs)| cs.refs == 0)
            .map(|(sid, _)| *sid)
            .collect();
        for sid in held {
            h.streams.remove(&sid);
            if let Some(st) = server.streams.get_mut(&sid) {
                st.hosts.remove(&HostId(i as u8));
            }
        }
    }
    // An exchange between its halves: the source has released the moving references and
    // the server is still calling hosts back before the grant. The model moves them in one
    // step, named at the grant, so until then they count where they were: on the source,
    // which uses the streams.
    if let Some((src, moving)) = c.server().released_exchange() {
        if let Some(h) = hosts.get_mut(src.0 as usize).filter(|h| h.up) {
            for m in moving {
                h.streams
                    .entry(m.stream)
                    .or_insert(ClientStream { refs: 0, pos: None })
                    .refs += m.refs;
                if let Some(st) = server.streams.get_mut(&m.stream) {
                    st.hosts.insert(src);
                }
            }
        }
    }
    State {
        hosts: hosts.0.into_iter().map(Shared::new).collect(),
        procs,
        server: Shared::new(server),
        migrations: Default::default(),
        signals,
        flushes,
        exit_notices: Default::default(),
        events_used: hidden.events_used,
        ghost: Default::default(),
        violated: flags,
    }
}

fn map_host(c: &Cluster, k: &Kernel, h: &mut Host) {
    for (pid, e) in &k.home {
        match e.life {
            Life::Alive => {
                let loc = match e.loc {
                    sprite::kernel::Loc::At(x) => Loc::At(x),
                    sprite::kernel::Loc::Moving { from, to } => Loc::Moving(from, to),
                };
                h.home_table.insert(*pid, loc);
                h.groups.insert(*pid, e.pgrp);
                if e.held_signals > 0 {
                    h.held_signals.insert(*pid, e.held_signals.min(255) as u8);
                }
                if e.waiting.is_some() {
                    h.rendezvous.waiters.insert(*pid);
                }
            }
            // Under wait-on-current the home only keeps the pid of an exited child: the
            // status is kept where the parent runs (`local_rdv`, below).
            Life::Zombie(_) if k.sw(Switch::WaitOnCurrent) => {}
            Life::Zombie(st) => {
                if let Some(parent) = e.parent {
                    h.rendezvous.zombies.insert(*pid, (parent, st));
                }
            }
        }
    }
    for (pid, r) in k.local_rdv.iter().chain(&k.foreign_children) {
        if let Life::Zombie(st) = r.life {
            h.rendezvous.zombies.insert(*pid, (r.parent, st));
        }
    }
    for (sid, s) in &k.streams {
        h.streams.insert(
            *sid,
            ClientStream {
                refs: s.refs,
                pos: s.pos,
            },
        );
    }
    // An entry the kernel marks uncacheable holds no usable blocks (every access goes to
    // the server): it is not a cached copy. Nor is a copy of an earlier incarnation of the
    // file id (a reclaimed file whose id was reused): kernel and server check incarnations.
    let current = |f: &sprite::fs::FileId, inc: u32| {
        c.server()
            .files
            .get(f)
            .is_some_and(|sf| sf.incarnation == inc)
    };
    // Versions: the implementation's are global counters, and a copy is current when its
    // version is the server's (what the server compares at the host's next open). Mapped,
    // every file is at version 1, and a copy at 1 when current, else at 0.
    let version_of = |f: &sprite::fs::FileId| c.server().files.get(f).map(|sf| sf.version);
    for (f, e) in k
        .cache
        .iter()
        .filter(|(f, e)| e.cacheable && current(f, e.incarnation))
    {
        h.cache.insert(
            ino(*f),
            CacheEntry {
                data: e.data.as_slice().into(),
                dirty: !e.dirty.is_empty(),
                version: u8::from(version_of(f) == Some(e.version)),
            },
        );
    }
    for (pid, pages) in &k.residual {
        h.residue
            .insert(*pid, pages.iter().map(|(k, v)| (*k, *v)).collect());
    }
}

fn map_proc(
    c: &Cluster,
    host: HostId,
    k: &Kernel,
    pid: Pid,
    live: &BTreeSet<Pid>,
    hidden: &State,
) -> Proc {
    let pcb = &k.procs[&pid];
    let mp = hidden.procs.get(&pid);
    let mut lazy_from = None;
    let pages = pcb
        .vm
        .pages
        .iter()
        .map(|pg| match pg {
            IPage::Zero => Page::ZERO,
            IPage::Resident { sym, dirty } => Page {
                resident: Some(*sym),
                dirty: *dirty,
            },
            IPage::Backing => Page {
                resident: None,
                dirty: false,
            },
            IPage::Remote(h) => {
                lazy_from = Some(*h);
                Page {
                    resident: None,
                    dirty: false,
                }
            }
        })
        .collect();
    let home = c.kernel(pid.home).filter(|_| c.is_up(pid.home));
    let home_entry = home.and_then(|hk| hk.home.get(&pid));
    // Blocked in wait once the rendezvous (at the home; under wait-on-current, on this
    // host) has registered the wait: before that the request is still on its way, and the
    // wait has not happened yet.
    let waits = pcb.pending == Some(Pending::Wait)
        && (home_entry.is_some_and(|e| e.waiting.is_some()) || k.sw(Switch::WaitOnCurrent));
    let status = match pcb.status {
        ProcStatus::Running if waits => Status::Waiting,
        ProcStatus::Running => Status::Ready,
        ProcStatus::Migrating | ProcStatus::Incoming => Status::Migrating,
    };
    // The home's rendezvous knows whether the parent is still there (an orphan's PCB
    // elsewhere may still name a dead parent).
    let parent = home_entry.map_or(pcb.parent, |e| e.parent);
    Proc {
        host,
        parent: parent.filter(|p| live.contains(p)),
        script: mp.map_or(0, |p| p.script),
        pc: mp.map_or(0, |p| p.pc),
        current: mp.and_then(|p| p.current),
        status,
        pages,
        fds: pcb.fds.iter().map(|(k, v)| (*k, *v)).collect(),
        signals: pcb.signals.min(255) as u8,
        last_time: mp.and_then(|p| p.last_time),
        born_remote: mp.is_some_and(|p| p.born_remote),
        login: mp.map_or(pid.home, |p| p.login),
        lazy_from,
        pinned: Proc::pin(pcb.shares_memory, pcb.maps_device),
    }
}

/// Writes blocks on their way back to the server into the mapped server's copy (see
/// `map`), unless they belong to an earlier incarnation of the file id.
fn written_back(c: &Cluster, server: &mut model::state::Server, blocks: &[(FileId, Blocks)]) {
    for (f, b) in blocks {
        let current = c
            .server()
            .files
            .get(f)
            .is_some_and(|sf| sf.incarnation == b.incarnation);
        if let Some(mf) = server.files.get_mut(&ino(*f)).filter(|_| current) {
            let mut data = mf.data.to_vec();
            b.apply(&mut data);
            mf.data = data.as_slice().into();
        }
    }
}

fn map_server(c: &Cluster) -> model::state::Server {
    let srv = c.server();
    let mut server = model::state::Server::default();
    for (n, f) in &srv.dir {
        server.dir.insert(*n, ino(*f));
    }
    for (f, sf) in &srv.files {
        if sf.pipe {
            server.pipes.insert(ino(*f));
        }
        server.files.insert(
            ino(*f),
            File {
                data: sf.data.as_slice().into(),
                linked: sf.linked,
                cacheable: sf.cacheable,
                version: 1,
                last_writer: sf.last_writer,
            },
        );
    }
    for (sid, st) in &srv.streams {
        server.streams.insert(
            *sid,
            ServerStream {
                ino: ino(st.file),
                mode: st.mode,
                hosts: st.hosts.iter().copied().filter(|h| c.is_up(*h)).collect(),
                shadow: st.shadow,
            },
        );
    }
    for (pid, pages) in &srv.backing {
        for (pg, v) in pages {
            server.backing.insert((*pid, *pg), *v);
        }
    }
    server
}

/// What the model and the implementation must agree on after every step: the parts of a
/// state both define, by value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    /// Per host: up, owner present.
    pub hosts: Vec<(bool, bool)>,
    pub home_tables: BTreeMap<(HostId, Pid), Loc>,
    /// Exited children not yet collected: child -> (parent, status).
    pub zombies: BTreeMap<Pid, (Pid, u8)>,
    pub procs: BTreeMap<Pid, ProcObs>,
    pub names: BTreeMap<FileName, Ino>,
    pub files: BTreeMap<Ino, FileObs>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcObs {
    pub host: HostId,
    pub status: Status,
    pub parent: Option<Pid>,
    pub signals: u8,
    /// Its process group, as its home records it.
    pub pgrp: Option<Pid>,
    /// Signals sent to it and not yet delivered: on the wire, or held by its home.
    pub signals_pending: u32,
    /// Each descriptor names the first (pid, fd) referring to the same stream, so that
    /// stream numbering does not matter.
    pub fds: Vec<(Fd, Pid, Fd)>,
    /// The value each page reads, wherever it lives.
    pub memory: Vec<u8>,
    /// Each descriptor's access position, wherever it lives.
    pub positions: Vec<(Fd, Option<u8>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileObs {
    /// A pipe (its latest data is what it holds, oldest first).
    pub pipe: bool,
    pub linked: bool,
    /// The dirty cached copy if there is one, else the server's data.
    pub latest: Vec<u8>,
    pub cacheable: bool,
}

/// The value a page of a process reads, wherever it lives.
fn mem_value(s: &State, pid: Pid, i: usize) -> u8 {
    let p = &s.procs[&pid];
    let page = PageNo(i as u8);
    p.pages[i]
        .resident
        .or_else(|| {
            p.lazy_from
                .and_then(|h| s.hosts.get(h.0 as usize))
                .and_then(|h| h.residue.get(&pid))
                .and_then(|r| r.get(&page))
                .copied()
        })
        .unwrap_or_else(|| s.server.backing.get(&(pid, page)).copied().unwrap_or(0))
}

/// A descriptor's access position: the server's (a shadow stream), else the one on the
/// process's host, else the one value the other hosts holding the stream agree on (the
/// source's, while the stream has not moved yet).
fn position(s: &State, p: &Proc, sid: StreamId) -> Option<u8> {
    if let Some(x) = s.server.streams.get(&sid).and_then(|st| st.shadow) {
        return Some(x);
    }
    let at = |h: &Shared<Host>| h.streams.get(&sid).and_then(|c| c.pos);
    if let Some(x) = s.hosts.get(p.host.0 as usize).and_then(at) {
        return Some(x);
    }
    let others: BTreeSet<u8> = s.hosts.iter().filter_map(at).collect();
    match others.len() {
        1 => others.first().copied(),
        _ => None,
    }
}

/// Where each descriptor's access position lives: `true` on the server (a shadow
/// stream), `false` on a client. Compared at quiescence (`run`), where no stream is in the
/// middle of an exchange.
pub fn position_places(s: &State) -> BTreeMap<(Pid, Fd), bool> {
    s.procs
        .iter()
        .flat_map(|(pid, p)| {
            p.fds.iter().map(move |(fd, sid)| {
                let on_server = s
                    .server
                    .streams
                    .get(sid)
                    .is_some_and(|st| st.shadow.is_some());
                ((*pid, *fd), on_server)
            })
        })
        .collect()
}

/// The differences between two [`position_places`], as diff lines.
pub fn diff_places(
    ours: &BTreeMap<(Pid, Fd), bool>,
    model: &BTreeMap<(Pid, Fd), bool>,
) -> Vec<String> {
    let place = |b: Option<&bool>| match b {
        Some(true) => "on the server",
        Some(false) => "on a client",
        None => "no descriptor",
    };
    ours.keys()
        .chain(model.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| ours.get(k) != model.get(k))
        .map(|(pid, fd)| {
            format!(
                "process {pid} {fd} position place: impl {}, model {}",
                place(ours.get(&(*pid, *fd))),
                place(model.get(&(*pid, *fd)))
            )
        })
        .collect()
}

/// The observation of a state (the model's, or the implementation's mapped one).
pub fn obs(s: &State) -> Obs {
    let mut o = Obs {
        hosts: s.hosts.iter().map(|h| (h.up, h.owner)).collect(),
        ..Obs::default()
    };
    for (i, h) in s.hosts.iter().enumerate() {
        for (pid, loc) in &h.home_table {
            o.home_tables.insert((HostId(i as u8), *pid), *loc);
        }
        o.zombies
            .extend(h.rendezvous.zombies.iter().map(|(c, z)| (*c, *z)));
    }
    let first: BTreeMap<StreamId, (Pid, Fd)> = s
        .procs
        .iter()
        .rev()
        .flat_map(|(q, qp)| qp.fds.iter().rev().map(move |(g, t)| (*t, (*q, *g))))
        .collect();
    for (pid, p) in &s.procs {
        o.procs.insert(
            *pid,
            ProcObs {
                host: p.host,
                status: p.status,
                parent: p.parent,
                signals: p.signals,
                pgrp: s
                    .hosts
                    .get(pid.home.0 as usize)
                    .and_then(|h| h.groups.get(pid))
                    .copied(),
                signals_pending: s.signals_pending(*pid),
                fds: p
                    .fds
                    .iter()
                    .map(|(f, sid)| {
                        let (q, g) = first.get(sid).copied().unwrap_or((*pid, *f));
                        (*f, q, g)
                    })
                    .collect(),
                memory: (0..p.pages.len()).map(|i| mem_value(s, *pid, i)).collect(),
                positions: p
                    .fds
                    .iter()
                    .map(|(f, sid)| (*f, position(s, p, *sid)))
                    .collect(),
            },
        );
    }
    o.names = s.server.dir.iter().map(|(k, v)| (*k, *v)).collect();
    for (i, f) in &s.server.files {
        let latest = s
            .hosts
            .iter()
            .find_map(|h| h.cache.get(i).filter(|e| e.dirty).map(|e| e.data.to_vec()))
            .unwrap_or_else(|| f.data.to_vec());
        o.files.insert(
            *i,
            FileObs {
                pipe: s.server.pipes.contains(i),
                linked: f.linked,
                latest,
                cacheable: f.cacheable,
            },
        );
    }
    o
}

impl Obs {
    /// The observation as `key -> value` lines, for reports and diffs.
    pub fn lines(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for (i, (up, owner)) in self.hosts.iter().enumerate() {
            m.insert(format!("host h{i} up"), up.to_string());
            m.insert(format!("host h{i} owner present"), owner.to_string());
        }
        for ((h, pid), loc) in &self.home_tables {
            m.insert(format!("home table of {h}: {pid}"), format!("{loc:?}"));
        }
        for (pid, (parent, st)) in &self.zombies {
            m.insert(
                format!("zombie {pid}"),
                format!("parent {parent}, status {st}"),
            );
        }
        for (pid, p) in &self.procs {
            m.insert(format!("process {pid} host"), p.host.to_string());
            m.insert(format!("process {pid} status"), format!("{:?}", p.status));
            m.insert(format!("process {pid} parent"), format!("{:?}", p.parent));
            m.insert(format!("process {pid} signals"), p.signals.to_string());
            m.insert(format!("process {pid} group"), format!("{:?}", p.pgrp));
            m.insert(
                format!("process {pid} signals pending"),
                p.signals_pending.to_string(),
            );
            let fds: Vec<String> = p
                .fds
                .iter()
                .map(|(f, q, g)| format!("{f}->{q}/{g}"))
                .collect();
            m.insert(format!("process {pid} fds"), fds.join(" "));
            for (i, v) in p.memory.iter().enumerate() {
                m.insert(format!("process {pid} memory page {i}"), v.to_string());
            }
            for (fd, pos) in &p.positions {
                m.insert(format!("process {pid} {fd} position"), format!("{pos:?}"));
            }
        }
        for (n, i) in &self.names {
            m.insert(format!("name {n}"), i.to_string());
        }
        for (i, f) in &self.files {
            m.insert(format!("file {i} pipe"), f.pipe.to_string());
            m.insert(format!("file {i} linked"), f.linked.to_string());
            m.insert(format!("file {i} latest data"), format!("{:?}", f.latest));
            m.insert(format!("file {i} cacheable"), f.cacheable.to_string());
        }
        m
    }
}

/// Line-by-line differences, `key: impl X, model Y`.
pub fn diff(implementation: &Obs, model: &Obs) -> Vec<String> {
    let a = implementation.lines();
    let b = model.lines();
    let mut out = Vec::new();
    for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
        let (x, y) = (a.get(k), b.get(k));
        if x != y {
            out.push(format!(
                "{k}: impl {}, model {}",
                x.map_or("(absent)", |s| s.as_str()),
                y.map_or("(absent)", |s| s.as_str())
            ));
        }
    }
    out
}

/// Every invariant of the catalogue evaluated on a mapped state; the broken ones with a
/// reason. LIVE is the exception: its predicate runs the model's next migration step, which
/// is defined on the model's own states; the implementation's LIVE is the bound on the
/// steps it may take to become quiescent (a `Liveness` mismatch), and the model's is
/// checked on the model state that follows it.
pub fn broken_invariants(m: &SpriteModel, s: &State) -> Vec<(vocab::InvariantId, String)> {
    // The common case first, without allocating: every invariant holds.
    if model::properties::INVARIANTS
        .iter()
        .all(|(id, f)| *id == vocab::InvariantId::LIVE || f(m, s))
    {
        return Vec::new();
    }
    model::properties::invariants()
        .into_iter()
        .filter(|(id, _)| *id != vocab::InvariantId::LIVE)
        .filter(|(_, f)| !f(m, s))
        .map(|(id, _)| {
            let why = match id {
                vocab::InvariantId::CACHE => cache_detail(s),
                vocab::InvariantId::TIME if s.flagged(id) => {
                    "a gettimeofday of the implementation returned less than an earlier one \
                     of the same process"
                        .into()
                }
                vocab::InvariantId::TR if s.flagged(id) => {
                    "an operation of the implementation returned what one Unix machine \
                     does not"
                        .into()
                }
                _ => model::properties::why(id, m, s),
            };
            (id, why)
        })
        .collect()
}

/// Per file: the hosts using it, whether one writes, cacheability, hosts caching it.
fn cache_detail(s: &State) -> String {
    let mut out = Vec::new();
    for (ino, f) in &s.server.files {
        let streams: Vec<_> = s
            .server
            .streams
            .values()
            .filter(|st| st.ino == *ino)
            .collect();
        let users: BTreeSet<_> = streams.iter().flat_map(|st| st.hosts.iter()).collect();
        let writer = streams.iter().any(|st| st.mode.writes());
        let cached: Vec<String> = s
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.cache.contains_key(ino))
            .map(|(i, _)| format!("h{i}"))
            .collect();
        out.push(format!(
            "{ino}: used on {:?}, writer {writer}, cacheable {}, cached on {cached:?}",
            users.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            f.cacheable
        ));
    }
    out.join("; ")
}
