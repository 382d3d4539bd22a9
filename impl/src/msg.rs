//! Typed messages between kernels and the file server, and their binary encoding.
//!
//! Every message travels as bytes: a fixed header (magic, migration version number, sender,
//! receiver) followed by a postcard body. The simulator only moves bytes, so the codec is on
//! every path. Decoding arbitrary bytes yields a [`DecodeError`], never a panic.
//!
//! The version number mirrors Sprite's migration version check (TH §4.2): hosts with
//! different versions refuse to migrate to each other.

use crate::fs::{Blocks, FileId};
use serde::{Deserialize, Serialize};
use std::fmt;
use vocab::{Errno, FileName, HostId, Mode, MsgKind, Outcome, PageNo, Pid, Refusal, StreamId};

/// The four bytes every encoded message starts with.
pub const MAGIC: [u8; 4] = *b"SPRT";
/// Header length: magic, version (u16 LE).
pub const HEADER_LEN: usize = 6;
/// Largest message the codec accepts (a bound on every queue, as TigerBeetle asks).
pub const MAX_MSG_BYTES: usize = 64 * 1024;

/// Who sends or receives a message: a workstation (its kernel, or a user-level program on
/// it: a load daemon, a pmake), the file server, or the central migration server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Node {
    Host(HostId),
    Server,
    /// migd, the central host-selection server (TH §6.3.2). It has a node of its own, as
    /// the file server does: see `policy` for why.
    Migd,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Host(h) => write!(f, "{h}"),
            Node::Server => f.write_str("fs"),
            Node::Migd => f.write_str("migd"),
        }
    }
}

/// Why a migration is happening; modules say which kinds they take part in (Sprite's
/// `whenNeeded` flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MigKind {
    /// A running process moves (the `migrate` call or an eviction).
    Migrate,
    /// Exec-time migration: the address space is replaced, so VM does not move.
    Exec,
    /// The owner came back: a foreign process is sent home (no operation waits on it).
    Evict,
}

/// Where a moved stream's access position lives after the three-party exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PosGrant {
    /// Only the target uses the stream: the target keeps the position.
    Local(u8),
    /// Sharers on different hosts: the server keeps it (a shadow stream).
    Shadow,
}

/// The file server's answer to an open, a reopen or a stream move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub stream: StreamId,
    pub file: FileId,
    pub incarnation: u32,
    pub mode: Mode,
    pub pos: PosGrant,
    pub cacheable: bool,
    pub version: u32,
    /// The file's data, when the client may cache it and its copy is stale.
    pub data: Option<Vec<u8>>,
    /// The stream is an end of a pipe: never cached, every read and write goes to the
    /// server, and it cannot seek.
    pub pipe: bool,
}

/// A stream in a STREAM_MOVE or STREAM_RELEASE, with the moving process's references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovingStream {
    pub stream: StreamId,
    pub refs: u8,
}

/// The source's answer for one stream: its access position (if the source kept it) and
/// whether other processes on the source still use the stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    pub stream: StreamId,
    pub pos: Option<u8>,
    /// Whether a process on the source that is not exiting still holds the stream.
    pub still_used: bool,
    /// Processes on the source whose exit is on its way to the server (its close sent, not
    /// answered) and that hold the stream (`still_used` does not count them). The server knows
    /// whether it has taken that close yet; if it has, their references are gone (the
    /// exit has taken effect, as in the model's one-step exit).
    pub exiting: Vec<Pid>,
}

/// File operations a client sends to the server (FILE_OP).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileReq {
    Open {
        name: FileName,
        mode: Mode,
        create: bool,
        cached_version: Option<(FileId, u32)>,
    },
    /// The `reopen-files` alternative: the target reopens a file the source closed.
    Reopen {
        file: FileId,
        mode: Mode,
        pos: u8,
        old: StreamId,
        refs: u8,
    },
    /// The host dropped its last reference to these streams.
    Close {
        streams: Vec<StreamId>,
    },
    /// Read at `pos`, or at the shadow position when `pos` is `None`.
    Read {
        stream: StreamId,
        pos: Option<u8>,
    },
    Write {
        stream: StreamId,
        pos: Option<u8>,
        sym: u8,
    },
    Lseek {
        stream: StreamId,
        pos: u8,
    },
    /// A relative seek on a stream whose position the server keeps (a shadow stream).
    LseekCur {
        stream: StreamId,
        delta: i8,
    },
    Unlink {
        name: FileName,
    },
    /// Forget a process's backing file (exec or exit).
    DiscardBacking {
        pid: Pid,
    },
    /// Make an unnamed pipe with a read and a write stream, both used on the sender.
    Pipe,
    /// The size of the named file (`stat`). The server first recalls the dirty blocks of
    /// the host caching the file for writing, which hold the latest size.
    Stat {
        name: FileName,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileResp {
    Granted(Grant),
    /// Result of read/write/lseek at the server: the value and the new position.
    /// Result of read/write/lseek at the server: the value and the new position; `local`
    /// hands a shadow position back to the only host still holding the stream; `refresh`
    /// is the file's new (version, data) for a host caching it after a server-side write.
    Done {
        outcome: Outcome,
        pos: u8,
        local: bool,
        refresh: Option<(u32, Vec<u8>)>,
    },
    Unit,
    /// Close done; these files were reclaimed (unlinked, and that was the last close).
    Closed {
        reclaimed: Vec<FileId>,
    },
    Failed(Errno),
    /// A new pipe: its read stream and its write stream.
    PipeGranted {
        read: Grant,
        write: Grant,
    },
    /// A file's size (`stat`).
    Size(u8),
}

/// A call forwarded to the home (Sprite forwards 11 of 106 calls blindly, TH §4.3.2):
/// the home's clock, and the process groups the home keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Forwarded {
    Gettimeofday,
    Getpgrp,
    Setpgid { pgrp: Pid },
}

/// What a host's load daemon tells migd (LOAD_REPORT). Load averages travel as hundredths
/// of a runnable process, so the message has one encoding (no floating point on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Whether the host takes foreign work (the daemon's hysteresis decided).
    pub accepting: bool,
    /// The 1-, 5- and 15-minute load averages, in hundredths.
    pub loads_centi: [u32; 3],
    /// Milliseconds since the last keyboard or mouse input (0 while the owner is there).
    pub idle_ms: u64,
}

/// Why migd took a host back from a client (HOST_RECLAIM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReclaimReason {
    /// The host's daemon reported it no longer accepts foreign work (the owner is back, or
    /// its load rose above the stop thresholds).
    NotIdle,
    /// Fairness: another client holding fewer hosts than its share was given the host.
    Fairness,
    /// The host went down.
    HostDown,
}

/// A request migd rejects: an error value sent back, never a panic (bad input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MigdError {
    /// The client has no open connection (MIGD_OPEN first).
    NotConnected(Pid),
    /// The client opened a connection twice.
    AlreadyConnected(Pid),
    /// No such workstation in the cluster.
    UnknownHost(HostId),
    /// The client released a host it does not hold.
    NotHeld(HostId),
    /// The message came from a node that cannot send it (e.g. a load report not from a
    /// workstation).
    WrongSender,
    /// migd does not take this kind of message (a reply, or a kernel message).
    Unexpected(MsgKind),
}

impl fmt::Display for MigdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigdError::NotConnected(c) => write!(f, "client {c} has no connection to migd"),
            MigdError::AlreadyConnected(c) => {
                write!(f, "client {c} already has a connection to migd")
            }
            MigdError::UnknownHost(h) => write!(f, "no host {h} in the cluster"),
            MigdError::NotHeld(h) => write!(f, "host {h} is not held by this client"),
            MigdError::WrongSender => f.write_str("message from a node that cannot send it"),
            MigdError::Unexpected(k) => write!(f, "migd does not take {k} messages"),
        }
    }
}

impl std::error::Error for MigdError {}

/// Typed messages. Each maps to one [`MsgKind`] name for traces; RPC replies map to the
/// kind of their request (except the two replies the vocabulary names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    MigInit {
        pid: Pid,
        kind: MigKind,
    },
    MigInitReply {
        pid: Pid,
        result: Result<(), Refusal>,
    },
    MigStart {
        pid: Pid,
        from: HostId,
        to: HostId,
    },
    MigStartAck {
        pid: Pid,
    },
    /// Dirty pages to the backing file (to the server), or pre-copied pages (to the target).
    PageFlush {
        pid: Pid,
        pages: Vec<(PageNo, u8)>,
        reply: bool,
    },
    PageFlushAck {
        pid: Pid,
    },
    BlockFlush {
        pid: Pid,
        files: Vec<(FileId, Blocks)>,
    },
    BlockFlushAck {
        pid: Pid,
        versions: Vec<(FileId, u32)>,
    },
    MigState {
        pid: Pid,
        kind: MigKind,
        from: HostId,
        buf: Vec<u8>,
    },
    MigStateAck {
        pid: Pid,
        ok: bool,
    },
    /// One exchange moves all of the process's streams on one file (several after dup,
    /// or after opening the file twice), so that the server never sees the moving process
    /// on two hosts at once and judges sharing once, with all of them moved (CACHE; the
    /// model's STREAM_MOVE step is the same). SPE Table 1's "per open file" cost.
    StreamMove {
        pid: Pid,
        from: HostId,
        streams: Vec<MovingStream>,
        cached_version: Option<u32>,
    },
    /// One grant per stream, in the request's order.
    StreamMoveReply {
        pid: Pid,
        result: Result<Vec<Grant>, Errno>,
    },
    StreamRelease {
        pid: Pid,
        streams: Vec<MovingStream>,
    },
    StreamReleaseReply {
        pid: Pid,
        released: Vec<Released>,
        /// Dirty blocks of the moved streams' files written on the source since the
        /// migration's BLOCK_FLUSH (by other processes there), written back in the reply.
        blocks: Vec<(FileId, Blocks)>,
    },
    HomeUpdate {
        pid: Pid,
        at: HostId,
    },
    HomeUpdateAck {
        pid: Pid,
    },
    Resume {
        pid: Pid,
    },
    MigAbort {
        pid: Pid,
        at: HostId,
    },
    Signal {
        target: Pid,
        sender: Option<(HostId, Pid)>,
    },
    SignalReply {
        sender: Pid,
        outcome: Outcome,
    },
    Forward {
        pid: Pid,
        call: Forwarded,
    },
    ForwardReply {
        pid: Pid,
        outcome: Outcome,
    },
    ForkPid {
        parent: Pid,
        at: HostId,
    },
    ForkPidReply {
        parent: Pid,
        result: Result<Pid, Errno>,
    },
    ExitNotice {
        pid: Pid,
        status: u8,
    },
    ExitAck {
        pid: Pid,
    },
    WaitRequest {
        pid: Pid,
    },
    WaitReply {
        pid: Pid,
        outcome: Outcome,
    },
    PageIn {
        pid: Pid,
        page: PageNo,
        from_source: bool,
    },
    PageInReply {
        pid: Pid,
        page: PageNo,
        sym: Option<u8>,
    },
    BlockRecall {
        file: FileId,
    },
    BlockRecallReply {
        file: FileId,
        blocks: Blocks,
    },
    CacheDisable {
        file: FileId,
    },
    CacheDisableReply {
        file: FileId,
        blocks: Blocks,
    },
    FileOp {
        pid: Pid,
        req: FileReq,
    },
    FileOpReply {
        pid: Pid,
        resp: FileResp,
    },
    DeathNotice {
        pid: Pid,
        status: u8,
    },
    // Host selection (SPE "Migration Policies"; TH ch. 6). New variants go at the end so
    // that the encodings of the older ones do not change; removing one shifts those after
    // it, and the stored codec seeds must then be regenerated (`fuzz-seeds`).
    LoadReport {
        report: LoadReport,
    },
    MigdOpen {
        client: Pid,
    },
    MigdOpenReply {
        client: Pid,
        result: Result<(), MigdError>,
    },
    HostRequest {
        client: Pid,
    },
    /// The reply to HOST_REQUEST: a host, or `None` when none is free and fairness takes
    /// none.
    HostGrant {
        client: Pid,
        result: Result<Option<HostId>, MigdError>,
    },
    HostRelease {
        client: Pid,
        host: HostId,
    },
    HostReleaseReply {
        client: Pid,
        result: Result<(), MigdError>,
    },
    MigdClose {
        client: Pid,
    },
    MigdCloseReply {
        client: Pid,
        result: Result<(), MigdError>,
    },
    HostReclaim {
        client: Pid,
        host: HostId,
        why: ReclaimReason,
    },
    HostEvict,
    HostAvailable {
        client: Pid,
    },
    /// killpg, to the home of the group (which is every member's home); answered with a
    /// SIGNAL reply once the home has sent each member its signal. (After the others,
    /// so that their encodings stay what they were.)
    Killpg {
        pgrp: Pid,
        sender: (HostId, Pid),
    },
    /// The `local-pids` alternative: the creating host tells the parent's home of a child
    /// it named (after the others, so that their encodings stay what they were).
    ChildNotice {
        parent: Pid,
        child: Pid,
    },
    /// The `wait-on-current` alternative: a child's exit status, sent on by its home (or
    /// by a source the parent has just left) to the host where the parent runs, whose
    /// rendezvous keeps it (after the others, so that their encodings stay what they
    /// were).
    ChildExit {
        child: Pid,
        parent: Pid,
        status: u8,
    },
    /// The `wait-on-current` alternative: the parent's host tells the child's home that
    /// the status was collected, and the home frees the pid it kept.
    Reaped {
        pid: Pid,
    },
}

impl Msg {
    /// The vocabulary name of the message, for traces and cost accounting.
    pub fn kind(&self) -> MsgKind {
        use Msg::*;
        match self {
            MigInit { .. } => MsgKind::MigInit,
            MigInitReply { .. } => MsgKind::MigInitReply,
            MigStart { .. } | MigStartAck { .. } => MsgKind::MigStart,
            PageFlush { .. } | PageFlushAck { .. } => MsgKind::PageFlush,
            BlockFlush { .. } | BlockFlushAck { .. } => MsgKind::BlockFlush,
            MigState { .. } | MigStateAck { .. } => MsgKind::MigState,
            StreamMove { .. } | StreamMoveReply { .. } => MsgKind::StreamMove,
            StreamRelease { .. } => MsgKind::StreamRelease,
            StreamReleaseReply { .. } => MsgKind::StreamReleaseReply,
            HomeUpdate { .. } | HomeUpdateAck { .. } => MsgKind::HomeUpdate,
            Resume { .. } => MsgKind::Resume,
            MigAbort { .. } => MsgKind::MigAbort,
            Signal { .. } | SignalReply { .. } | Killpg { .. } => MsgKind::Signal,
            Forward { .. } | ForwardReply { .. } => MsgKind::Forward,
            ForkPid { .. } | ForkPidReply { .. } => MsgKind::ForkPid,
            ExitNotice { .. } | ExitAck { .. } => MsgKind::ExitNotice,
            WaitRequest { .. } | WaitReply { .. } => MsgKind::WaitRequest,
            PageIn { .. } | PageInReply { .. } => MsgKind::PageIn,
            BlockRecall { .. } | BlockRecallReply { .. } => MsgKind::BlockRecall,
            CacheDisable { .. } | CacheDisableReply { .. } => MsgKind::CacheDisable,
            FileOp { .. } | FileOpReply { .. } => MsgKind::FileOp,
            DeathNotice { .. } => MsgKind::DeathNotice,
            LoadReport { .. } => MsgKind::LoadReport,
            MigdOpen { .. } | MigdOpenReply { .. } => MsgKind::MigdOpen,
            HostRequest { .. } => MsgKind::HostRequest,
            HostGrant { .. } => MsgKind::HostGrant,
            HostRelease { .. } | HostReleaseReply { .. } => MsgKind::HostRelease,
            MigdClose { .. } | MigdCloseReply { .. } => MsgKind::MigdClose,
            HostReclaim { .. } => MsgKind::HostReclaim,
            HostEvict => MsgKind::HostEvict,
            HostAvailable { .. } => MsgKind::HostAvailable,
            ChildNotice { .. } => MsgKind::ChildNotice,
            ChildExit { .. } => MsgKind::ExitNotice,
            Reaped { .. } => MsgKind::Reaped,
        }
    }

    /// Whether this message answers an RPC (replies are not counted as RPCs of their own;
    /// MIG_INIT_REPLY and STREAM_RELEASE_REPLY are, as the vocabulary names them).
    pub fn is_reply(&self) -> bool {
        use Msg::*;
        matches!(
            self,
            MigInitReply { .. }
                | MigStartAck { .. }
                | PageFlushAck { .. }
                | BlockFlushAck { .. }
                | MigStateAck { .. }
                | ExitAck { .. }
                | StreamMoveReply { .. }
                | StreamReleaseReply { .. }
                | HomeUpdateAck { .. }
                | SignalReply { .. }
                | ForwardReply { .. }
                | ForkPidReply { .. }
                | WaitReply { .. }
                | PageInReply { .. }
                | BlockRecallReply { .. }
                | CacheDisableReply { .. }
                | FileOpReply { .. }
                | MigdOpenReply { .. }
                | HostGrant { .. }
                | HostReleaseReply { .. }
                | MigdCloseReply { .. }
        )
    }

    /// Whether the message belongs to host selection: it goes to or comes from migd, and
    /// at a workstation it is for a user-level program (load daemon, client), not the
    /// kernel, as Sprite's pseudo-device hands requests to a user process (TH §6.3.2).
    pub fn is_policy(&self) -> bool {
        use Msg::*;
        matches!(
            self,
            LoadReport { .. }
                | MigdOpen { .. }
                | MigdOpenReply { .. }
                | HostRequest { .. }
                | HostGrant { .. }
                | HostRelease { .. }
                | HostReleaseReply { .. }
                | MigdClose { .. }
                | MigdCloseReply { .. }
                | HostReclaim { .. }
                | HostEvict
                | HostAvailable { .. }
        )
    }

    /// The process a message is about, when there is one (for per-migration accounting).
    pub fn pid(&self) -> Option<Pid> {
        use Msg::*;
        match self {
            MigInit { pid, .. }
            | MigInitReply { pid, .. }
            | MigStart { pid, .. }
            | MigStartAck { pid }
            | PageFlush { pid, .. }
            | PageFlushAck { pid }
            | BlockFlush { pid, .. }
            | BlockFlushAck { pid, .. }
            | MigState { pid, .. }
            | MigStateAck { pid, .. }
            | ExitAck { pid }
            | StreamMove { pid, .. }
            | StreamMoveReply { pid, .. }
            | StreamRelease { pid, .. }
            | StreamReleaseReply { pid, .. }
            | HomeUpdate { pid, .. }
            | HomeUpdateAck { pid }
            | Resume { pid }
            | MigAbort { pid, .. }
            | Forward { pid, .. }
            | ForwardReply { pid, .. }
            | ExitNotice { pid, .. }
            | WaitRequest { pid }
            | WaitReply { pid, .. }
            | PageIn { pid, .. }
            | PageInReply { pid, .. }
            | FileOp { pid, .. }
            | FileOpReply { pid, .. }
            | DeathNotice { pid, .. } => Some(*pid),
            Signal { target, .. } => Some(*target),
            Killpg { sender, .. } => Some(sender.1),
            SignalReply { sender, .. } => Some(*sender),
            ForkPid { parent, .. } | ForkPidReply { parent, .. } => Some(*parent),
            ChildNotice { child, .. } | ChildExit { child, .. } => Some(*child),
            Reaped { pid } => Some(*pid),
            MigdOpen { client }
            | MigdOpenReply { client, .. }
            | HostRequest { client }
            | HostGrant { client, .. }
            | HostRelease { client, .. }
            | HostReleaseReply { client, .. }
            | MigdClose { client }
            | MigdCloseReply { client, .. }
            | HostReclaim { client, .. }
            | HostAvailable { client } => Some(*client),
            BlockRecall { .. }
            | BlockRecallReply { .. }
            | CacheDisable { .. }
            | CacheDisableReply { .. }
            | LoadReport { .. }
            | HostEvict => None,
        }
    }
}

/// A message with its addresses, as it travels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: Node,
    pub to: Node,
    pub msg: Msg,
}

/// What can be wrong with a byte string that claims to be a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    TooShort(usize),
    TooLong(usize),
    BadMagic([u8; 4]),
    Body(String),
    TrailingBytes(usize),
    /// The body decodes, but is not the one encoding of that message (e.g. a padded
    /// varint): rejected so that bytes and messages correspond one to one.
    NonCanonical,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooShort(n) => {
                write!(f, "message of {n} bytes is shorter than the header")
            }
            DecodeError::TooLong(n) => write!(f, "message of {n} bytes exceeds {MAX_MSG_BYTES}"),
            DecodeError::BadMagic(m) => write!(f, "bad magic {m:02x?}"),
            DecodeError::Body(e) => write!(f, "undecodable body: {e}"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} trailing bytes after the body"),
            DecodeError::NonCanonical => write!(f, "non-canonical encoding"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Encodes a message with the sender's migration version in the header.
pub fn encode(version: u16, env: &Envelope) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    // Serialising plain data into a Vec cannot fail; keep a fallback anyway (no panics).
    match postcard::to_extend(env, out) {
        Ok(v) => v,
        Err(_) => MAGIC.to_vec(),
    }
}

/// Decodes bytes into the sender's version and the envelope.
pub fn decode(bytes: &[u8]) -> Result<(u16, Envelope), DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::TooShort(bytes.len()));
    }
    if bytes.len() > MAX_MSG_BYTES {
        return Err(DecodeError::TooLong(bytes.len()));
    }
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if magic != MAGIC {
        return Err(DecodeError::BadMagic(magic));
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    let (env, rest) = postcard::take_from_bytes::<Envelope>(&bytes[HEADER_LEN..])
        .map_err(|e| DecodeError::Body(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    let body = &bytes[HEADER_LEN..];
    match postcard::serialize_with_flavor(
        &env,
        SameAs {
            expected: body,
            at: 0,
        },
    ) {
        Ok(()) => Ok((version, env)),
        Err(_) => Err(DecodeError::NonCanonical),
    }
}

/// A postcard output that stores nothing: it compares each byte the encoder produces with
/// the bytes that were decoded and fails at the first difference, so the canonical check
/// costs one encoding pass and no allocation.
struct SameAs<'a> {
    expected: &'a [u8],
    at: usize,
}

impl postcard::ser_flavors::Flavor for SameAs<'_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        let end = self.at + data.len();
        if self.expected.get(self.at..end) != Some(data) {
            return Err(postcard::Error::SerializeBufferFull);
        }
        self.at = end;
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    fn finalize(self) -> postcard::Result<()> {
        if self.at == self.expected.len() {
            Ok(())
        } else {
            Err(postcard::Error::SerializeBufferFull)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn codec_round_trips() {
        let env = Envelope {
            from: Node::Host(HostId(1)),
            to: Node::Server,
            msg: Msg::FileOp {
                pid: Pid::new(1, 0),
                req: FileReq::Open {
                    name: FileName(3),
                    mode: Mode::ReadWrite,
                    create: true,
                    cached_version: Some((FileId(0), 7)),
                },
            },
        };
        let bytes = encode(3, &env);
        assert_eq!(&bytes[..4], b"SPRT");
        assert_eq!(decode(&bytes), Ok((3, env)));
    }

    #[test]
    fn host_selection_messages_round_trip_canonically() {
        let c = Pid::new(0, 0);
        let msgs = vec![
            (
                Node::Host(HostId(2)),
                Node::Migd,
                Msg::LoadReport {
                    report: LoadReport {
                        accepting: true,
                        loads_centi: [3, 70, 149],
                        idle_ms: 31_000,
                    },
                },
            ),
            (
                Node::Host(HostId(0)),
                Node::Migd,
                Msg::MigdOpen { client: c },
            ),
            (
                Node::Migd,
                Node::Host(HostId(0)),
                Msg::MigdOpenReply {
                    client: c,
                    result: Err(MigdError::AlreadyConnected(c)),
                },
            ),
            (
                Node::Host(HostId(0)),
                Node::Migd,
                Msg::HostRequest { client: c },
            ),
            (
                Node::Migd,
                Node::Host(HostId(0)),
                Msg::HostGrant {
                    client: c,
                    result: Ok(Some(HostId(3))),
                },
            ),
            (
                Node::Host(HostId(0)),
                Node::Migd,
                Msg::HostRelease {
                    client: c,
                    host: HostId(3),
                },
            ),
            (
                Node::Migd,
                Node::Host(HostId(0)),
                Msg::HostReleaseReply {
                    client: c,
                    result: Err(MigdError::NotHeld(HostId(3))),
                },
            ),
            (
                Node::Host(HostId(0)),
                Node::Migd,
                Msg::MigdClose { client: c },
            ),
            (
                Node::Migd,
                Node::Host(HostId(0)),
                Msg::MigdCloseReply {
                    client: c,
                    result: Ok(()),
                },
            ),
            (
                Node::Migd,
                Node::Host(HostId(0)),
                Msg::HostReclaim {
                    client: c,
                    host: HostId(3),
                    why: ReclaimReason::Fairness,
                },
            ),
            (Node::Migd, Node::Host(HostId(3)), Msg::HostEvict),
            (
                Node::Migd,
                Node::Host(HostId(0)),
                Msg::HostAvailable { client: c },
            ),
        ];
        for (from, to, msg) in msgs {
            assert!(msg.is_policy(), "{msg:?}");
            let env = Envelope { from, to, msg };
            let bytes = encode(1, &env);
            assert_eq!(decode(&bytes), Ok((1, env.clone())));
            assert_eq!(encode(1, &decode(&bytes).unwrap().1), bytes);
            for cut in 0..bytes.len() {
                assert!(decode(&bytes[..cut]).is_err(), "truncated at {cut}");
            }
        }
        assert!(!Msg::Resume { pid: c }.is_policy());
        assert_eq!(Node::Migd.to_string(), "migd");
    }

    #[test]
    fn codec_rejects_garbage_without_panicking() {
        assert!(matches!(decode(b"SPR"), Err(DecodeError::TooShort(3))));
        assert!(matches!(
            decode(b"XXXX\0\0\0"),
            Err(DecodeError::BadMagic(_))
        ));
        let env = Envelope {
            from: Node::Server,
            to: Node::Host(HostId(0)),
            msg: Msg::Resume {
                pid: Pid::new(0, 0),
            },
        };
        let mut bytes = encode(1, &env);
        bytes.push(0);
        assert!(matches!(decode(&bytes), Err(DecodeError::TrailingBytes(1))));
        let good = encode(1, &env);
        // A padded varint (0x81 0x00 for 1) decodes in postcard, but is not canonical.
        let mut padded = good[..HEADER_LEN].to_vec();
        padded.extend_from_slice(&[0x81, 0x00]);
        padded.extend_from_slice(&good[HEADER_LEN + 1..]);
        assert_eq!(
            good[HEADER_LEN], 1,
            "the body starts with the tag of Node::Server"
        );
        assert!(
            matches!(decode(&padded), Err(DecodeError::NonCanonical)),
            "{:?}",
            decode(&padded)
        );
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "truncated at {cut}");
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let len = rng.gen_range(0..40);
            let mut b: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if rng.gen_bool(0.7) && b.len() >= 6 {
                b[..4].copy_from_slice(&MAGIC);
            }
            let _ = decode(&b);
        }
    }
}
