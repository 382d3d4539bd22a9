//! Table-driven migration, as in Sprite's `procMigrate.c` (TH §4.2.4, §4.2.5; SRC
//! procMigrate.c).
//!
//! Each kernel module that owns per-process state implements [`MigrationModule`]: it may
//! refuse in `prepare` (the process is untouched), runs its flushes while the process is
//! frozen, packs its state in `encapsulate`, unpacks it on the target in `deencapsulate`
//! (possibly asking for follow-up RPCs, like the three-party stream exchange), and cleans
//! up on the source in `finish`. [`TABLE`] is the one ordered list; the driver below knows
//! nothing module-specific. Sizes come from the encoding itself, so they cannot disagree
//! with it (a weak point of the C table).
//!
//! Message sequence (vocabulary names): MIG_INIT / MIG_INIT_REPLY (skipped when the target
//! is home), MIG_START to the home, PAGE_FLUSH / BLOCK_FLUSH, MIG_STATE (one buffer), per
//! stream STREAM_MOVE / STREAM_RELEASE / STREAM_RELEASE_REPLY, HOME_UPDATE, RESUME.
//!
//! With V's pre-copy (`precopy-vm`), a voluntary migration has one more phase between
//! MIG_INIT_REPLY and MIG_START: rounds of PAGE_FLUSH to the target while the process runs
//! on (see `vm.rs` for when the rounds stop). The process's migrate call then goes on in
//! the background ([`crate::kernel::Out::Detached`]): the process may make other calls,
//! except those that would end or move it (exec, exit, wait, another migrate), which wait
//! for the move to finish ([`admits`]). When the rounds are over the process is frozen at
//! the end of the call in progress, and the migration goes on as usual from MIG_START.

mod exec;
mod files;
mod proc_state;
mod rendezvous;
mod signals;
mod vm;

pub use exec::{decode_args, encode_args, MAX_EXEC_ARGS};
pub(crate) use files::drop_left_blocks;
pub use files::release as stream_release;
pub use vm::{PreCopy, PreCopyBuffer, MAX_ROUNDS as PRECOPY_MAX_ROUNDS};

use crate::kernel::{Kernel, Loc, Note, Out, Pcb, Pending, ProcStatus};
use crate::msg::{FileResp, MigKind, Msg, Node};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::marker::PhantomData;
use vocab::{Errno, HostId, Op, PageNo, Pid, Refusal, Switch, Value, Witness};

/// Who is moving where, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cx {
    pub pid: Pid,
    pub kind: MigKind,
    pub from: HostId,
    pub to: HostId,
}

/// One RPC a module asks the driver to make, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rpc {
    pub token: u8,
    pub to: Node,
    pub msg: Msg,
    /// Wait for the reply before the next step (false only for `no-vm-flush`).
    pub await_reply: bool,
}

/// A module's share of migration (Sprite's `EncapCallback`, typed).
pub trait MigrationModule {
    /// Matches the module's part of the buffer on both hosts.
    const TOKEN: u8;
    const NAME: &'static str;
    type State: Serialize + DeserializeOwned;
    /// Sprite's `whenNeeded`.
    fn needed_for(kind: MigKind) -> bool;
    /// May refuse; must change nothing (REFUSE).
    fn prepare(_k: &Kernel, _pcb: &Pcb, _cx: &Cx) -> Result<(), Refusal> {
        Ok(())
    }
    /// RPCs while frozen, before the state is packed (dirty pages, dirty blocks).
    fn flush(_k: &mut Kernel, _cx: &Cx) -> Vec<Rpc> {
        Vec::new()
    }
    fn flush_reply(_k: &mut Kernel, _cx: &Cx, _reply: &Msg) {}
    fn encapsulate(k: &mut Kernel, cx: &Cx) -> Self::State;
    /// Whether this state is left out of the buffer (the target then gets no part of this
    /// module), because it says nothing.
    fn omit(_st: &Self::State) -> bool {
        false
    }
    /// On the target; returns follow-up RPCs made before the process resumes.
    fn deencapsulate(k: &mut Kernel, pcb: &mut Pcb, st: Self::State, cx: &Cx) -> Vec<Rpc>;
    fn install_reply(_k: &mut Kernel, _cx: &Cx, _req: &Msg, _reply: &Msg) {}
    /// On the source, after the target resumed the process (`ok`) or the move failed.
    fn finish(_k: &mut Kernel, _cx: &Cx, _ok: bool) {}
}

/// The object-safe face of a module, for the table.
pub trait Entry: Sync {
    fn token(&self) -> u8;
    fn needed_for(&self, kind: MigKind) -> bool;
    fn prepare(&self, k: &Kernel, pcb: &Pcb, cx: &Cx) -> Result<(), Refusal>;
    fn flush(&self, k: &mut Kernel, cx: &Cx) -> Vec<Rpc>;
    fn flush_reply(&self, k: &mut Kernel, cx: &Cx, reply: &Msg);
    /// The module's part, or `None` when it is left out (`MigrationModule::omit`).
    fn encapsulate(&self, k: &mut Kernel, cx: &Cx) -> Option<Vec<u8>>;
    fn deencapsulate(
        &self,
        k: &mut Kernel,
        pcb: &mut Pcb,
        bytes: &[u8],
        cx: &Cx,
    ) -> Result<Vec<Rpc>, String>;
    fn install_reply(&self, k: &mut Kernel, cx: &Cx, req: &Msg, reply: &Msg);
    fn finish(&self, k: &mut Kernel, cx: &Cx, ok: bool);
}

struct Adapter<M>(PhantomData<fn() -> M>);

impl<M: MigrationModule> Entry for Adapter<M> {
    fn token(&self) -> u8 {
        M::TOKEN
    }
    fn needed_for(&self, kind: MigKind) -> bool {
        M::needed_for(kind)
    }
    fn prepare(&self, k: &Kernel, pcb: &Pcb, cx: &Cx) -> Result<(), Refusal> {
        M::prepare(k, pcb, cx)
    }
    fn flush(&self, k: &mut Kernel, cx: &Cx) -> Vec<Rpc> {
        M::flush(k, cx)
    }
    fn flush_reply(&self, k: &mut Kernel, cx: &Cx, reply: &Msg) {
        M::flush_reply(k, cx, reply)
    }
    fn encapsulate(&self, k: &mut Kernel, cx: &Cx) -> Option<Vec<u8>> {
        let st = M::encapsulate(k, cx);
        (!M::omit(&st)).then(|| postcard::to_allocvec(&st).unwrap_or_default())
    }
    fn deencapsulate(
        &self,
        k: &mut Kernel,
        pcb: &mut Pcb,
        bytes: &[u8],
        cx: &Cx,
    ) -> Result<Vec<Rpc>, String> {
        let st: M::State = postcard::from_bytes(bytes).map_err(|e| format!("{}: {e}", M::NAME))?;
        Ok(M::deencapsulate(k, pcb, st, cx))
    }
    fn install_reply(&self, k: &mut Kernel, cx: &Cx, req: &Msg, reply: &Msg) {
        M::install_reply(k, cx, req, reply)
    }
    fn finish(&self, k: &mut Kernel, cx: &Cx, ok: bool) {
        M::finish(k, cx, ok)
    }
}

/// The one ordered list of modules (Sprite: PROC, EXEC, VM, FS, ..., SIG).
pub static TABLE: [&dyn Entry; 6] = [
    &Adapter::<proc_state::ProcModule>(PhantomData),
    &Adapter::<exec::ExecModule>(PhantomData),
    &Adapter::<vm::VmModule>(PhantomData),
    &Adapter::<files::FilesModule>(PhantomData),
    &Adapter::<signals::SignalsModule>(PhantomData),
    &Adapter::<rendezvous::RendezvousModule>(PhantomData),
];

fn entry(token: u8) -> Option<&'static dyn Entry> {
    TABLE.iter().copied().find(|e| e.token() == token)
}

/// One module's part of the MIG_STATE buffer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub token: u8,
    pub bytes: Vec<u8>,
}

/// Phases, for the trace and the cost ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Phase {
    Init,
    /// A pre-copy round sent while the process runs (V).
    PreCopy,
    HomeStart,
    Flush,
    State,
    Streams,
    HomeUpdate,
    Resume,
    Abort,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutPhase {
    Init,
    /// Pre-copy rounds while the process runs (V's strategy only).
    PreCopy,
    Start,
    Flush,
    StateSent,
    /// The state is installed on the target; the source waits for the home's answer to
    /// HOME_UPDATE before it sends RESUME (only when the home is a third host, with the
    /// `remote-to-remote` alternative).
    HomeUpdate,
}

/// A migration in progress on the source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutMig {
    pub cx: Cx,
    pub phase: OutPhase,
    pub rpcs: VecDeque<Rpc>,
    pub awaiting: Option<u8>,
    /// V's pre-copy rounds, when the process is copied while it runs.
    pub precopy: Option<PreCopy>,
    /// Streams whose STREAM_RELEASE this source has answered: their references are gone
    /// from the stream table already, so a kill of the process must not drop them again.
    pub released: std::collections::BTreeSet<vocab::StreamId>,
}

impl OutMig {
    pub fn state_sent(&self) -> bool {
        matches!(self.phase, OutPhase::StateSent | OutPhase::HomeUpdate)
    }
}

/// A migration in progress on the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InMig {
    pub cx: Cx,
    pub rpcs: VecDeque<Rpc>,
    pub current: Option<Rpc>,
}

/// Starts moving `pid` to `target`. Refusals here leave the process untouched.
pub fn start(k: &mut Kernel, pid: Pid, target: HostId, kind: MigKind) -> Result<(), Refusal> {
    let me = k.host();
    let Some(pcb) = k.procs.get(&pid) else {
        return Err(Refusal::UnknownHost);
    };
    if !k.cfg.hosts.contains(&target) {
        return Err(Refusal::UnknownHost);
    }
    if target == me {
        return Err(Refusal::SameHost);
    }
    if me != pid.home && target != pid.home && !k.sw(Switch::RemoteToRemote) {
        // TH §8.4: a foreign process goes home first.
        return Err(Refusal::NotHome);
    }
    let cx = Cx {
        pid,
        kind,
        from: me,
        to: target,
    };
    for m in TABLE.iter().filter(|m| m.needed_for(kind)) {
        m.prepare(k, pcb, &cx)?;
    }
    let pages = pcb.vm.classes();
    if let Some(p) = k.procs.get_mut(&pid) {
        p.status = ProcStatus::Migrating;
        if kind != MigKind::Evict {
            p.pending = Some(Pending::Migrate);
        }
    }
    k.note(Note::MigBegin {
        pid,
        from: me,
        to: target,
        kind,
        pages,
    });
    // Anything kept for an earlier process of this pid killed mid-exchange is stale now.
    k.released_by_kill.remove(&pid);
    k.outgoing.insert(
        pid,
        OutMig {
            cx,
            phase: OutPhase::Init,
            rpcs: VecDeque::new(),
            awaiting: None,
            precopy: None,
            released: Default::default(),
        },
    );
    if kind != MigKind::Evict {
        k.witness(Witness::Run(pid));
    }
    if target == pid.home {
        begin(k, pid);
    } else {
        k.note(Note::MigPhase {
            pid,
            phase: Phase::Init,
        });
        k.send(Node::Host(target), Msg::MigInit { pid, kind });
    }
    Ok(())
}

/// The target agreed (or is the home): pre-copy lets the process run on while its pages
/// are copied; every other strategy goes on frozen.
fn begin(k: &mut Kernel, pid: Pid) {
    let Some(m) = k.outgoing.get_mut(&pid) else {
        return;
    };
    let cx = m.cx;
    if !vm::copies_while_running(k, &cx) {
        return home_start(k, pid);
    }
    if let Some(m) = k.outgoing.get_mut(&pid) {
        m.phase = OutPhase::PreCopy;
        m.precopy = Some(PreCopy::default());
    }
    if let Some(p) = k.procs.get_mut(&pid) {
        p.status = ProcStatus::Running;
        p.pending = None;
    }
    // The migrate call completes later, in the background.
    k.out.push(Out::Detached(pid));
    precopy_next(k, pid);
}

/// Sends the next pre-copy round, or ends the rounds.
fn precopy_next(k: &mut Kernel, pid: Pid) {
    let Some(cx) = k.outgoing.get(&pid).map(|m| m.cx) else {
        return;
    };
    if !vm::send_round(k, &cx) {
        stop_copying(k, pid);
    }
}

/// The rounds are over: freeze the process now if it is between calls, else when its call
/// in progress ends ([`op_done`]).
fn stop_copying(k: &mut Kernel, pid: Pid) {
    let idle = k.procs.get(&pid).is_some_and(|p| p.idle());
    let Some(pc) = k.outgoing.get_mut(&pid).and_then(|m| m.precopy.as_mut()) else {
        return;
    };
    if !idle {
        pc.freeze_due = true;
        return;
    }
    pc.freeze_due = false;
    if let Some(p) = k.procs.get_mut(&pid) {
        p.status = ProcStatus::Migrating;
        p.pending = Some(Pending::Migrate);
    }
    home_start(k, pid);
}

/// A call of `pid` ended on this host: a pre-copy waiting for it freezes the process now.
pub fn op_done(k: &mut Kernel, pid: Pid) {
    let due = k.outgoing.get(&pid).is_some_and(|m| {
        m.phase == OutPhase::PreCopy && m.precopy.as_ref().is_some_and(|pc| pc.freeze_due)
    });
    if due {
        stop_copying(k, pid);
    }
}

/// Whether `pid` may start `op` now, as far as migration is concerned: while its pages are
/// pre-copied, calls that would end it, replace its image or move it again wait.
pub fn admits(k: &Kernel, pid: Pid, op: &Op) -> bool {
    let copying = k
        .outgoing
        .get(&pid)
        .is_some_and(|m| m.phase == OutPhase::PreCopy);
    !copying
        || !matches!(
            op,
            Op::Exec { .. } | Op::Exit { .. } | Op::Wait | Op::Migrate { .. }
        )
}

/// The process wrote `page` (pre-copy keeps track of copies gone stale).
pub fn page_written(k: &mut Kernel, pid: Pid, page: PageNo) {
    vm::page_written(k, pid, page);
}

fn home_start(k: &mut Kernel, pid: Pid) {
    let Some(m) = k.outgoing.get_mut(&pid) else {
        return;
    };
    m.phase = OutPhase::Start;
    let cx = m.cx;
    k.note(Note::MigPhase {
        pid,
        phase: Phase::HomeStart,
    });
    if pid.home == k.host() {
        home_moving(k, pid, cx.from, cx.to);
        freeze(k, pid);
    } else {
        k.send(
            Node::Host(pid.home),
            Msg::MigStart {
                pid,
                from: cx.from,
                to: cx.to,
            },
        );
    }
}

fn home_moving(k: &mut Kernel, pid: Pid, from: HostId, to: HostId) {
    if let Some(e) = k.home.get_mut(&pid) {
        e.loc = Loc::Moving { from, to };
    }
}

/// The home learns where the process is; held signals follow it (SIG, HOME).
fn home_located(k: &mut Kernel, pid: Pid, at: HostId) {
    let Some(e) = k.home.get_mut(&pid) else {
        return;
    };
    e.loc = Loc::At(at);
    let held = std::mem::take(&mut e.held_signals);
    let held_wait = e.held_wait.take();
    for _ in 0..held {
        if at == k.host() {
            k.witness(Witness::Signal { pid, to: at });
            if let Some(p) = k.procs.get_mut(&pid) {
                p.signals = p.signals.saturating_add(1);
            }
        } else {
            k.send(
                Node::Host(at),
                Msg::Signal {
                    target: pid,
                    sender: None,
                },
            );
        }
    }
    if let Some(outcome) = held_wait {
        if at == k.host() {
            if k.procs.get(&pid).and_then(|p| p.pending.as_ref()) == Some(&Pending::Wait) {
                k.done(pid, outcome);
            }
        } else {
            k.send(Node::Host(at), Msg::WaitReply { pid, outcome });
        }
    }
}

fn freeze(k: &mut Kernel, pid: Pid) {
    let Some(m) = k.outgoing.get(&pid) else {
        return;
    };
    let cx = m.cx;
    k.note(Note::MigPhase {
        pid,
        phase: Phase::Flush,
    });
    let mut rpcs = VecDeque::new();
    for e in TABLE.iter().filter(|e| e.needed_for(cx.kind)) {
        rpcs.extend(e.flush(k, &cx));
    }
    if let Some(m) = k.outgoing.get_mut(&pid) {
        m.phase = OutPhase::Flush;
        m.rpcs = rpcs;
    }
    pump_out(k, pid);
}

fn pump_out(k: &mut Kernel, pid: Pid) {
    loop {
        let Some(m) = k.outgoing.get_mut(&pid) else {
            return;
        };
        let Some(rpc) = m.rpcs.pop_front() else { break };
        if rpc.await_reply {
            m.awaiting = Some(rpc.token);
        }
        k.send(rpc.to, rpc.msg);
        if rpc.await_reply {
            return;
        }
    }
    send_state(k, pid);
}

fn send_state(k: &mut Kernel, pid: Pid) {
    let Some(m) = k.outgoing.get(&pid) else {
        return;
    };
    let cx = m.cx;
    let parts: Vec<Part> = TABLE
        .iter()
        .filter(|e| e.needed_for(cx.kind))
        .filter_map(|e| {
            Some(Part {
                token: e.token(),
                bytes: e.encapsulate(k, &cx)?,
            })
        })
        .collect();
    let buf = postcard::to_allocvec(&parts).unwrap_or_default();
    if let Some(m) = k.outgoing.get_mut(&pid) {
        m.phase = OutPhase::StateSent;
    }
    k.witness(Witness::MigState(pid));
    k.note(Note::MigPhase {
        pid,
        phase: Phase::State,
    });
    k.send(
        Node::Host(cx.to),
        Msg::MigState {
            pid,
            kind: cx.kind,
            from: cx.from,
            buf,
        },
    );
}

/// Ends a migration that never sent its state: the process runs on where it was.
fn abort(k: &mut Kernel, pid: Pid, why: Refusal) {
    let Some(m) = k.outgoing.remove(&pid) else {
        return;
    };
    if matches!(m.phase, OutPhase::Start | OutPhase::Flush) {
        if pid.home == k.host() {
            home_located(k, pid, k.host());
        } else {
            k.send(Node::Host(pid.home), Msg::MigAbort { pid, at: k.host() });
        }
    }
    for e in TABLE.iter().filter(|e| e.needed_for(m.cx.kind)) {
        e.finish(k, &m.cx, false);
    }
    if let Some(p) = k.procs.get_mut(&pid) {
        p.status = ProcStatus::Running;
    }
    k.note(Note::MigPhase {
        pid,
        phase: Phase::Abort,
    });
    k.note(Note::MigEnd {
        pid,
        result: Err(why.to_string()),
    });
    match m.cx.kind {
        MigKind::Migrate if m.phase == OutPhase::PreCopy => {
            // The process ran on during the rounds and may be in a call: only the
            // background migrate call ends. The target dropped the copies when it
            // crashed (the only way a pre-copy aborts).
            k.out.push(Out::DetachedDone(pid, Err(Errno::Refused(why))));
            k.maybe_evict(pid);
        }
        // A refused exec-time migration does not exec either: the process goes on with
        // its old image where it was (REFUSE).
        MigKind::Migrate | MigKind::Exec => k.done(pid, Err(Errno::Refused(why))),
        MigKind::Evict => {}
    }
}

/// Migration messages arriving at a kernel.
pub fn on_msg(k: &mut Kernel, src: Option<HostId>, version: u16, msg: Msg) {
    match msg {
        Msg::MigInit { pid, .. } => {
            // The target decides: same version, and nobody at the console (TH §4.2). One
            // foreign job per host is migd's policy, not a kernel refusal (policy/migd.rs).
            let result = if version != k.cfg.version {
                Err(Refusal::VersionMismatch)
            } else if k.owner_present {
                Err(Refusal::HostBusy)
            } else {
                Ok(())
            };
            if let Some(h) = src {
                k.send(Node::Host(h), Msg::MigInitReply { pid, result });
            }
        }
        Msg::MigInitReply { pid, result }
            if k.outgoing
                .get(&pid)
                .is_some_and(|m| m.phase == OutPhase::Init) =>
        {
            k.witness(Witness::MigInit(pid));
            match result {
                Ok(()) => begin(k, pid),
                Err(r) => abort(k, pid, r),
            }
        }
        Msg::MigStart { pid, from, to } => {
            home_moving(k, pid, from, to);
            if let Some(h) = src {
                k.send(Node::Host(h), Msg::MigStartAck { pid });
            }
        }
        Msg::MigStartAck { pid }
            if k.outgoing
                .get(&pid)
                .is_some_and(|m| m.phase == OutPhase::Start) =>
        {
            freeze(k, pid)
        }
        Msg::PageFlush { pid, pages, reply } => {
            // Pre-copied pages arriving at the target.
            vm::receive_pages(k, pid, src, pages);
            if let (true, Some(h)) = (reply, src) {
                k.send(Node::Host(h), Msg::PageFlushAck { pid });
            }
        }
        Msg::PageFlushAck { pid }
            if k.outgoing
                .get(&pid)
                .is_some_and(|m| m.phase == OutPhase::PreCopy) =>
        {
            precopy_next(k, pid)
        }
        ref reply @ (Msg::PageFlushAck { pid } | Msg::BlockFlushAck { pid, .. }) => {
            flush_reply(k, pid, reply)
        }
        Msg::MigState {
            pid,
            kind,
            from,
            buf,
        } => receive_state(k, pid, kind, from, &buf),
        Msg::MigStateAck { pid, ok } if !ok && k.outgoing.contains_key(&pid) => {
            // After encapsulation a failure is fatal [SRC procMigrate.c].
            k.kill_local(pid, true);
        }
        Msg::MigStateAck { pid, ok: true }
            if k.outgoing
                .get(&pid)
                .is_some_and(|m| m.phase == OutPhase::StateSent) =>
        {
            state_installed(k, pid)
        }
        Msg::StreamRelease { pid, streams } => files::release(k, pid, &streams),
        ref reply @ Msg::StreamMoveReply { pid, .. } => install_reply(k, pid, reply),
        Msg::HomeUpdate { pid, at } => {
            // Void if the target went down since (the home's entry went back to the
            // source, see `Kernel::host_down`).
            let moving = k.home.get(&pid).is_some_and(
                |e| matches!(e.loc, Loc::Moving { from, to } if Some(from) == src && to == at),
            );
            if moving {
                k.witness(Witness::HomeUpdate(pid));
                home_located(k, pid, at);
            }
            if let Some(h) = src {
                k.send(Node::Host(h), Msg::HomeUpdateAck { pid });
            }
        }
        Msg::HomeUpdateAck { pid }
            if k.outgoing
                .get(&pid)
                .is_some_and(|m| m.phase == OutPhase::HomeUpdate) =>
        {
            home_updated(k, pid)
        }
        Msg::Resume { pid } => resume_target(k, pid),
        Msg::MigAbort { pid, at } => home_located(k, pid, at),
        _ => {}
    }
}

fn flush_reply(k: &mut Kernel, pid: Pid, reply: &Msg) {
    let Some(m) = k.outgoing.get_mut(&pid) else {
        return;
    };
    let Some(tok) = m.awaiting.take() else { return };
    let cx = m.cx;
    if let Some(e) = entry(tok) {
        e.flush_reply(k, &cx, reply);
    }
    pump_out(k, pid);
}

/// A FILE_OP reply for a process that is migrating: a module's RPC.
pub fn on_file_reply(k: &mut Kernel, pid: Pid, resp: FileResp) {
    let reply = Msg::FileOpReply { pid, resp };
    if k.outgoing.get(&pid).is_some_and(|m| m.awaiting.is_some()) {
        flush_reply(k, pid, &reply);
    } else if k.incoming.contains_key(&pid) {
        install_reply(k, pid, &reply);
    }
}

fn receive_state(k: &mut Kernel, pid: Pid, kind: MigKind, from: HostId, buf: &[u8]) {
    let cx = Cx {
        pid,
        kind,
        from,
        to: k.host(),
    };
    let mut pcb = Pcb::new(pid, 0);
    pcb.status = ProcStatus::Incoming;
    if kind != MigKind::Evict {
        pcb.pending = Some(Pending::Migrate);
    }
    let mut rpcs = VecDeque::new();
    let parts: Result<Vec<Part>, String> = postcard::from_bytes(buf).map_err(|e| e.to_string());
    let result = parts.and_then(|parts| {
        for part in parts {
            let e =
                entry(part.token).ok_or_else(|| format!("unknown module token {}", part.token))?;
            rpcs.extend(e.deencapsulate(k, &mut pcb, &part.bytes, &cx)?);
        }
        Ok(())
    });
    if result.is_err() {
        k.send(Node::Host(from), Msg::MigStateAck { pid, ok: false });
        return;
    }
    k.procs.insert(pid, pcb);
    k.incoming.insert(
        pid,
        InMig {
            cx,
            rpcs,
            current: None,
        },
    );
    k.note(Note::MigPhase {
        pid,
        phase: Phase::Streams,
    });
    pump_in(k, pid);
}

fn pump_in(k: &mut Kernel, pid: Pid) {
    let Some(m) = k.incoming.get_mut(&pid) else {
        return;
    };
    if let Some(rpc) = m.rpcs.pop_front() {
        m.current = Some(rpc.clone());
        k.send(rpc.to, rpc.msg);
        return;
    }
    m.current = None;
    // The state is in place, open files included: the reply to MIG_STATE, which Sprite's
    // target sends once de-encapsulation is over [TH §4.2.5 steps 5-6].
    let from = m.cx.from;
    k.send(Node::Host(from), Msg::MigStateAck { pid, ok: true });
}

/// At the source, MIG_STATE answered: the process is installed on the target. The source
/// cleans up (RES: it keeps nothing, but copy-on-reference's residual pages), updates the
/// home's table if it is the home, and tells the target to resume the process [TH §4.2.5
/// steps 7-8]. Under Sprite a foreign process only ever moves home, so the home is the
/// source or the target and HOME_UPDATE is a local update, never a message. With the
/// `remote-to-remote` alternative the home may be a third host: the source tells it and
/// sends RESUME once it has answered, so that the home's table says where the process
/// runs before it runs there (the model's order: HOME_UPDATE, then RESUME).
fn state_installed(k: &mut Kernel, pid: Pid) {
    let Some(mut m) = k.outgoing.remove(&pid) else {
        return;
    };
    for e in TABLE.iter().filter(|e| e.needed_for(m.cx.kind)) {
        e.finish(k, &m.cx, true);
    }
    k.procs.remove(&pid);
    if pid.home == k.host() {
        k.note(Note::MigPhase {
            pid,
            phase: Phase::HomeUpdate,
        });
        k.witness(Witness::HomeUpdate(pid));
        home_located(k, pid, m.cx.to);
    } else if pid.home != m.cx.to {
        k.note(Note::MigPhase {
            pid,
            phase: Phase::HomeUpdate,
        });
        k.send(Node::Host(pid.home), Msg::HomeUpdate { pid, at: m.cx.to });
        m.phase = OutPhase::HomeUpdate;
        k.outgoing.insert(pid, m);
        return;
    }
    k.send(Node::Host(m.cx.to), Msg::Resume { pid });
}

/// At the source, the home has recorded the move (remote-to-remote only): RESUME.
fn home_updated(k: &mut Kernel, pid: Pid) {
    if let Some(m) = k.outgoing.remove(&pid) {
        k.send(Node::Host(m.cx.to), Msg::Resume { pid });
    }
}

fn install_reply(k: &mut Kernel, pid: Pid, reply: &Msg) {
    let Some(m) = k.incoming.get_mut(&pid) else {
        // The arriving process died meanwhile: give back references granted to nobody.
        if let Msg::StreamMoveReply { result: Ok(gs), .. } = reply {
            let streams: Vec<_> = gs
                .iter()
                .map(|g| g.stream)
                .filter(|s| !k.streams.contains_key(s))
                .collect();
            if !streams.is_empty() {
                k.send(
                    Node::Server,
                    Msg::FileOp {
                        pid,
                        req: crate::msg::FileReq::Close { streams },
                    },
                );
            }
        }
        return;
    };
    let Some(rpc) = m.current.take() else { return };
    let cx = m.cx;
    if let Some(e) = entry(rpc.token) {
        e.install_reply(k, &cx, &rpc.msg, reply);
    }
    pump_in(k, pid);
}

/// At the target, RESUME from the source: the process runs here (the home's table is
/// updated first if this is the home).
fn resume_target(k: &mut Kernel, pid: Pid) {
    let Some(m) = k.incoming.remove(&pid) else {
        return;
    };
    if pid.home == k.host() {
        k.note(Note::MigPhase {
            pid,
            phase: Phase::HomeUpdate,
        });
        k.witness(Witness::HomeUpdate(pid));
        home_located(k, pid, k.host());
    }
    if let Some(p) = k.procs.get_mut(&pid) {
        p.status = ProcStatus::Running;
    }
    k.witness(Witness::Resume(pid));
    k.note(Note::MigPhase {
        pid,
        phase: Phase::Resume,
    });
    k.note(Note::MigEnd {
        pid,
        result: Ok(()),
    });
    match m.cx.kind {
        MigKind::Migrate | MigKind::Exec => k.done(pid, Ok(Value::Unit)),
        MigKind::Evict => {
            k.waiter_arrived(pid);
            k.maybe_evict(pid);
        }
    }
}

/// Host `h` is down: migrations to it abort (or, past the point of no return, the
/// process is lost); migrations from it are dropped.
pub fn host_down(k: &mut Kernel, h: HostId) {
    let out: Vec<(Pid, OutPhase)> = k
        .outgoing
        .iter()
        .filter(|(_, m)| m.cx.to == h)
        .map(|(p, m)| (*p, m.phase))
        .collect();
    for (pid, phase) in out {
        if phase == OutPhase::StateSent {
            k.kill_local(pid, true);
        } else if phase == OutPhase::HomeUpdate {
            // The process was installed on the target, which is gone: it died there. Its
            // PCB has left this host; the home (a third host) is told.
            k.outgoing.remove(&pid);
            k.send(
                Node::Host(pid.home),
                Msg::DeathNotice {
                    pid,
                    status: vocab::KILLED_STATUS,
                },
            );
        } else {
            if phase == OutPhase::Init {
                // The answer to MIG_INIT: the target is down (the model's MIG_INIT step
                // finds that out and refuses).
                k.witness(Witness::MigInit(pid));
            }
            abort(k, pid, Refusal::HostDown);
        }
    }
    let inc: Vec<Pid> = k
        .incoming
        .iter()
        .filter(|(_, m)| m.cx.from == h)
        .map(|(p, _)| *p)
        .collect();
    for pid in inc {
        // The home is told unless it is the host that went down (a home that is a third
        // host, with `remote-to-remote`, is told by a death notice).
        k.kill_local(pid, pid.home != h);
    }
    // A move whose home went down: the process died with it (its PCB, if still here, was
    // killed by the caller); a source waiting for the home's answer to HOME_UPDATE
    // (`remote-to-remote`) holds nothing else.
    k.outgoing.retain(|pid, _| pid.home != h);
    // Pages pre-copied here for a process that died with its source or its home.
    k.precopied
        .retain(|pid, b| pid.home != h && b.from != Some(h));
}
