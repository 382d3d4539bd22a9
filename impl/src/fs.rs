//! The file server: names, files, streams, per-host readers and writers, cacheability,
//! version numbers, recall of dirty blocks, deferred deletion, shadow streams, and the
//! server's half of the three-party stream exchange. Also the backing files of processes.
//!
//! A sans-IO state machine: [`FileServer::handle`] takes one arriving message and returns
//! the messages to send. Sources: CACHE (Nelson, Welch, Ousterhout) for the consistency
//! protocol; SPE "Migrating Open Files" and TH ch. 5 for streams and shadow streams.
//! Pipes are objects of this server too (`pipe` submodule).

mod pipe;

use crate::msg::{FileReq, FileResp, Grant, MovingStream, Msg, Node, PosGrant, Released};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use vocab::{
    Errno, FileName, HostId, Mode, PageNo, Pid, StreamId, Switch, Switches, Value, Witness,
};

/// A file's identity on the server (an inode number). Not in the vocabulary: no operation
/// shows it, but the state view does.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct FileId(pub u8);

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "i{}", self.0)
    }
}

/// Dirty blocks written back to the server, and the file length the writer saw. A block is
/// one symbol (the cost model scales it to the paper's 4 KB block).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocks {
    /// Which incarnation of the file the blocks belong to (file ids are reused after
    /// reclamation; blocks of a reclaimed file must never land in a new one).
    pub incarnation: u32,
    pub len: u8,
    pub blocks: Vec<(u8, u8)>,
}

impl Blocks {
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
    /// Applies the blocks to `data`, growing it (holes read as zero).
    pub fn apply(&self, data: &mut Vec<u8>) {
        if data.len() < self.len as usize {
            data.resize(self.len as usize, 0);
        }
        for &(i, sym) in &self.blocks {
            if (i as usize) < data.len() {
                data[i as usize] = sym;
            }
        }
    }
}

/// A file on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFile {
    /// Unique across the server's life: the version the file was created with.
    pub incarnation: u32,
    pub data: Vec<u8>,
    /// Whether a name refers to it; an unlinked file lives until its last close (DEL).
    pub linked: bool,
    /// A new one at each open for writing (as in Sprite) and whenever the server's copy
    /// changes; versions are unique across files, so a client's copy of a reclaimed file
    /// can never look current for a new one.
    pub version: u32,
    /// Off once the file is write-shared by two hosts; back on when no stream remains.
    pub cacheable: bool,
    /// Hosts the server let cache the file (they may hold a copy).
    pub cached_on: BTreeSet<HostId>,
    /// The host that last opened the file for writing with caching on: it may hold dirty
    /// blocks, recalled before another host opens the file (sequential write-sharing).
    pub last_writer: Option<HostId>,
    /// An unnamed pipe (never linked, never cacheable; `data` holds the symbols not yet
    /// read, oldest first).
    pub pipe: bool,
}

/// A stream as the server knows it: which hosts hold references, and the shadow position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStream {
    pub file: FileId,
    pub mode: Mode,
    pub hosts: BTreeSet<HostId>,
    /// The access position, kept here when sharers are on different hosts.
    pub shadow: Option<u8>,
}

/// A request waiting for callbacks (recall, cache disable, stream release).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Suspended {
    from: Node,
    msg: Msg,
    awaiting: BTreeSet<HostId>,
    /// For STREAM_MOVE: the source has released its reference.
    released: bool,
    /// Hosts called back for this request so far (their dirty blocks are in).
    called: BTreeSet<HostId>,
    /// Processes whose close (an exit's) this server took beside the exchange.
    closed_beside: BTreeSet<Pid>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileServer {
    pub dir: BTreeMap<FileName, FileId>,
    pub files: BTreeMap<FileId, ServerFile>,
    pub streams: BTreeMap<StreamId, ServerStream>,
    /// Backing files of processes' address spaces (SPE "Virtual Memory Transfer").
    pub backing: BTreeMap<Pid, BTreeMap<PageNo, u8>>,
    pub switches: Switches,
    next_version: u32,
    suspended: Option<Suspended>,
    queue: VecDeque<(Node, Msg)>,
    /// Hosts known to be down (told by the recovery layer, until they reboot).
    down: BTreeSet<HostId>,
    /// Streams whose position the last STREAM_RELEASE_REPLY took from the source's own
    /// copy (rather than leaving one the server already kept).
    #[serde(skip)]
    released_local_pos: BTreeSet<StreamId>,
    /// While a suspended request runs again: the hosts it has called back already. A
    /// host recalled just now is clean, though it stays the last writer while it has the
    /// file open for writing, so it is not recalled a second time for the same request.
    #[serde(skip)]
    called: BTreeSet<HostId>,
    /// The model steps the requests handled since the simulator last looked performed
    /// (see [`vocab::witness`]).
    #[serde(skip)]
    pub witnessed: Vec<Witness>,
}

fn smallest_free<K: Ord + Copy>(
    used: impl Iterator<Item = K>,
    make: impl Fn(u8) -> K,
) -> Option<K> {
    let used: BTreeSet<K> = used.collect();
    (0..=u8::MAX).map(make).find(|k| !used.contains(k))
}

impl FileServer {
    pub fn new(switches: Switches) -> FileServer {
        FileServer {
            dir: BTreeMap::new(),
            files: BTreeMap::new(),
            streams: BTreeMap::new(),
            backing: BTreeMap::new(),
            switches,
            next_version: 1,
            suspended: None,
            down: BTreeSet::new(),
            queue: VecDeque::new(),
            released_local_pos: BTreeSet::new(),
            called: BTreeSet::new(),
            witnessed: Vec::new(),
        }
    }

    fn bump(&mut self) -> u32 {
        self.next_version += 1;
        self.next_version
    }

    /// Adds a file before anything runs.
    pub fn add_file(&mut self, name: FileName, data: Vec<u8>) -> Option<FileId> {
        let id = smallest_free(self.files.keys().copied(), FileId)?;
        let version = self.bump();
        self.files.insert(
            id,
            ServerFile {
                incarnation: version,
                data,
                linked: true,
                version,
                cacheable: true,
                cached_on: BTreeSet::new(),
                last_writer: None,
                pipe: false,
            },
        );
        self.dir.insert(name, id);
        Some(id)
    }

    /// Per host: (readers, writers) of a file, counted over streams (CACHE §3).
    pub fn users(&self, file: FileId) -> BTreeMap<HostId, (u8, u8)> {
        let mut m: BTreeMap<HostId, (u8, u8)> = BTreeMap::new();
        for s in self.streams.values().filter(|s| s.file == file) {
            for h in &s.hosts {
                let e = m.entry(*h).or_default();
                if s.mode.reads() {
                    e.0 = e.0.saturating_add(1);
                }
                if s.mode.writes() {
                    e.1 = e.1.saturating_add(1);
                }
            }
        }
        m
    }

    /// Whether a request is waiting for callbacks.
    pub fn is_busy(&self) -> bool {
        self.suspended.is_some()
    }

    /// A stream exchange between its halves: the source has released its references
    /// (they are on no host now) and the server is still calling hosts back before the
    /// grant. Returns the source and the moving streams with their references.
    pub fn released_exchange(&self) -> Option<(HostId, &[MovingStream])> {
        match self.suspended.as_ref()? {
            Suspended {
                msg: Msg::StreamMove { from, streams, .. },
                released: true,
                ..
            } => Some((*from, streams)),
            _ => None,
        }
    }

    /// Handles one message; returns the messages to send.
    pub fn handle(&mut self, from: Node, msg: Msg) -> Vec<(Node, Msg)> {
        let mut out = Vec::new();
        self.dispatch(from, msg, &mut out);
        // Deferred requests run once nothing is suspended.
        while self.suspended.is_none() {
            let Some((f, m)) = self.queue.pop_front() else {
                break;
            };
            self.request(f, m, &mut out);
        }
        out
    }

    fn dispatch(&mut self, from: Node, msg: Msg, out: &mut Vec<(Node, Msg)>) {
        let Node::Host(h) = from else { return };
        match msg {
            Msg::BlockRecallReply { file, blocks } => {
                self.absorb(file, h, &blocks, true);
                self.callback_done(h, out);
            }
            Msg::CacheDisableReply { file, blocks } => {
                self.absorb(file, h, &blocks, true);
                if let Some(f) = self.files.get_mut(&file) {
                    f.cached_on.remove(&h);
                }
                self.callback_done(h, out);
            }
            Msg::StreamReleaseReply {
                pid,
                released,
                blocks,
            } => {
                // Blocks written back inside the exchange count before the grant (and are
                // kept even when a crash cancelled the exchange: they are the file's data).
                for (f, b) in &blocks {
                    self.absorb(*f, h, b, false);
                }
                let awaited = self.suspended.as_ref().is_some_and(|s| {
                    s.awaiting.contains(&h)
                        && matches!(s.msg, Msg::StreamMove { pid: p, .. } if p == pid)
                });
                if awaited {
                    self.released(h, &released);
                    self.callback_done(h, out);
                } else {
                    // The answer to an exchange a crash cancelled (see `host_down`).
                    self.released_late(h, &released);
                }
            }
            // Requests that never wait for anybody are answered at once, even while
            // another request is suspended: backing-file traffic and flushes.
            Msg::PageFlush { pid, pages, reply } => {
                let b = self.backing.entry(pid).or_default();
                for (p, s) in pages {
                    b.insert(p, s);
                }
                if reply {
                    out.push((from, Msg::PageFlushAck { pid }));
                }
            }
            Msg::PageIn { pid, page, .. } => {
                let sym = self.backing.get(&pid).and_then(|b| b.get(&page)).copied();
                out.push((from, Msg::PageInReply { pid, page, sym }));
            }
            Msg::BlockFlush { pid, files } => {
                let mut versions = Vec::new();
                for (f, blocks) in files {
                    let written = !blocks.is_empty()
                        && self
                            .files
                            .get(&f)
                            .is_some_and(|sf| sf.incarnation == blocks.incarnation);
                    if written {
                        self.witnessed
                            .push(Witness::WriteBack { host: h, file: f.0 });
                    }
                    if let Some(v) = self.absorb(f, h, &blocks, false) {
                        versions.push((f, v));
                    }
                }
                out.push((from, Msg::BlockFlushAck { pid, versions }));
            }
            // Dropping a process's backing file is backing-file traffic too: it concerns
            // that process alone (an exit or an exec, which must not wait for a stream
            // exchange on some file to end).
            Msg::FileOp {
                pid,
                req: FileReq::DiscardBacking { pid: owner },
            } => {
                self.backing.remove(&owner);
                out.push((
                    from,
                    Msg::FileOpReply {
                        pid,
                        resp: FileResp::Unit,
                    },
                ));
            }
            other => {
                if self.suspended.is_some() && !self.close_beside_exchange(from, &other) {
                    self.queue.push_back((from, other));
                } else {
                    if let (Some(s), Msg::FileOp { pid, .. }) = (&mut self.suspended, &other) {
                        s.closed_beside.insert(*pid);
                    }
                    self.request(from, other, out);
                }
            }
        }
    }

    /// Writes back blocks from a client. Returns the file's new version.
    fn absorb(&mut self, file: FileId, h: HostId, blocks: &Blocks, callback: bool) -> Option<u32> {
        let current = self.files.get(&file)?.incarnation == blocks.incarnation;
        let v = if blocks.is_empty() || !current {
            None
        } else {
            Some(self.bump())
        };
        // A host that still has the file open for writing may write to its cache again.
        let still_writes = self
            .streams
            .values()
            .any(|s| s.file == file && s.mode.writes() && s.hosts.contains(&h));
        let f = self.files.get_mut(&file)?;
        if let Some(v) = v {
            blocks.apply(&mut f.data);
            f.version = v;
        }
        // A callback (recall or disable) empties the host's dirty blocks, but the host
        // stays the last writer while it keeps a stream open for writing: its later cached
        // writes are invisible here, and the next reader elsewhere (or at the server) must
        // recall them (CONS; found by the conformance lockstep). A migration flush does
        // not stop other writers on that host either, so the last writer stays.
        if callback && f.last_writer == Some(h) && !still_writes {
            f.last_writer = None;
        }
        Some(f.version)
    }

    fn released(&mut self, src: HostId, released: &[Released]) {
        self.released_local_pos.clear();
        let closed = self
            .suspended
            .as_ref()
            .map(|s| s.closed_beside.clone())
            .unwrap_or_default();
        for r in released {
            let Some(s) = self.streams.get_mut(&r.stream) else {
                continue;
            };
            // An exiting holder still uses the stream unless its exit's close was taken
            // here already (the source could not know yet).
            let used = r.still_used || r.exiting.iter().any(|p| !closed.contains(p));
            if !used {
                s.hosts.remove(&src);
            }
            if let Some(p) = r.pos {
                if s.shadow.is_none() {
                    s.shadow = Some(p);
                }
                // A position from the source's own copy may go to the target; one the
                // server already kept stays here (holders may have requests on it in
                // flight).
                self.released_local_pos.insert(r.stream);
            }
        }
        if let Some(susp) = &mut self.suspended {
            susp.released = true;
        }
    }

    /// A close that need not wait for the suspended stream exchange: it closes none of
    /// the streams being moved, or it comes from the exchange's source after the source
    /// released the moving references (then it is another process's there, which still
    /// used the stream when the source answered: an exit that has taken effect since).
    /// The grant decides sharing from the hosts that use the file then, so a close before
    /// it counts, as in one machine where the close happened first (a killed process's
    /// streams, closed by the crash that killed it, must not wait behind another
    /// process's exchange; nor the rest of an exit, KNOWN-11 in `conform/README.md`).
    fn close_beside_exchange(&self, from: Node, m: &Msg) -> bool {
        let (
            Some(Suspended {
                msg:
                    Msg::StreamMove {
                        from: src,
                        streams: moving,
                        ..
                    },
                released,
                ..
            }),
            Msg::FileOp {
                req: FileReq::Close { streams },
                ..
            },
        ) = (&self.suspended, m)
        else {
            return false;
        };
        (*released && from == Node::Host(*src))
            || !streams
                .iter()
                .any(|s| moving.iter().any(|mv| mv.stream == *s))
    }

    /// Whether `stream` is being moved by the suspended exchange (it has no holder until
    /// the grant, and must not be dropped for that).
    fn moving_now(&self, stream: StreamId) -> bool {
        matches!(
            &self.suspended,
            Some(Suspended {
                msg: Msg::StreamMove { streams, .. },
                ..
            }) if streams.iter().any(|m| m.stream == stream)
        )
    }

    /// Ends a stream exchange that a crash of the moving process's source, target or
    /// home cut short: the process is dead, and nothing moves. A stream the source
    /// already released and nobody else holds is closed, as the crash closed the
    /// process's other streams.
    fn cancel_exchange(&mut self) {
        let Some(susp) = self.suspended.take() else {
            return;
        };
        let Msg::StreamMove { streams, .. } = &susp.msg else {
            return;
        };
        let ids: Vec<StreamId> = streams.iter().map(|m| m.stream).collect();
        self.close_if_unheld(&ids);
    }

    /// The source's answer to an exchange that was cancelled before it arrived: its
    /// references are gone; the position stays where it was.
    fn released_late(&mut self, src: HostId, released: &[Released]) {
        let mut ids = Vec::new();
        for r in released {
            if let Some(s) = self.streams.get_mut(&r.stream) {
                if !r.still_used {
                    s.hosts.remove(&src);
                }
                ids.push(r.stream);
            }
        }
        self.close_if_unheld(&ids);
    }

    /// Closes those of these streams that no host holds any more.
    fn close_if_unheld(&mut self, ids: &[StreamId]) {
        for id in ids {
            let Some(s) = self.streams.get(id) else {
                continue;
            };
            if s.hosts.is_empty() {
                let file = s.file;
                self.streams.remove(id);
                if !self.streams.values().any(|s| s.file == file) {
                    if let Some(f) = self.files.get_mut(&file) {
                        f.cacheable = true;
                    }
                    self.reclaim_if_unused(file);
                }
            }
        }
    }

    fn callback_done(&mut self, h: HostId, out: &mut Vec<(Node, Msg)>) {
        let Some(susp) = &mut self.suspended else {
            return;
        };
        susp.awaiting.remove(&h);
        if susp.awaiting.is_empty() {
            let susp = self.suspended.take().expect("checked");
            self.resume(susp, out);
        }
    }

    fn resume(&mut self, susp: Suspended, out: &mut Vec<(Node, Msg)>) {
        self.called = susp.called;
        match susp.msg.clone() {
            Msg::StreamMove { .. } => self.stream_move(susp.from, susp.msg, susp.released, out),
            _ => self.request(susp.from, susp.msg, out),
        }
        self.called.clear();
    }

    fn suspend(&mut self, from: Node, msg: Msg, awaiting: BTreeSet<HostId>, released: bool) {
        let mut called = self.called.clone();
        called.extend(awaiting.iter().copied());
        self.suspended = Some(Suspended {
            from,
            msg,
            awaiting,
            released,
            called,
            closed_beside: BTreeSet::new(),
        });
    }

    /// Callbacks needed before host `h` may use `file` with `mode`: cache disables when the
    /// file becomes write-shared, or a recall from the last writer (CACHE §3.2).
    fn callbacks(
        &self,
        file: FileId,
        h: HostId,
        mode: Mode,
        _extra: Option<HostId>,
    ) -> Vec<(HostId, Msg)> {
        let Some(f) = self.files.get(&file) else {
            return Vec::new();
        };
        let mut users = self.users(file);
        let e = users.entry(h).or_default();
        if mode.writes() {
            e.1 = e.1.saturating_add(1);
        } else {
            e.0 = e.0.saturating_add(1);
        }
        let shared = users.len() >= 2 && users.values().any(|(_, w)| *w > 0);
        if shared || !f.cacheable {
            let disable: Vec<_> = f
                .cached_on
                .iter()
                .filter(|x| **x != h)
                .map(|x| (*x, Msg::CacheDisable { file }))
                .collect();
            if !disable.is_empty() {
                return disable;
            }
        }
        match f.last_writer {
            Some(w) if w != h && f.cached_on.contains(&w) && !self.called.contains(&w) => {
                vec![(w, Msg::BlockRecall { file })]
            }
            _ => Vec::new(),
        }
    }

    /// A new stream of `file` used on host `h` (an open, or a reopen at `pos`), granted at
    /// once: the callbacks, if any, are done.
    fn open_stream(
        &mut self,
        file: FileId,
        mode: Mode,
        h: HostId,
        cached_version: Option<u32>,
        pos: u8,
    ) -> FileResp {
        let Some(stream) = self.new_stream(file, mode, h) else {
            return FileResp::Failed(Errno::EMFILE);
        };
        // An open for writing starts a new version, as in Sprite [SRC fsconsistCache.c,
        // UpdateList], so that blocks other hosts keep from before are known stale even
        // while the new writer's changes sit in its cache, unseen here. The opener's own
        // copy, if it was current, stays current. (A stream moving in is not an open: no
        // new version; the host it left drops its blocks instead, `files::release`.)
        let mut cached_version = cached_version;
        if mode.writes() {
            let v = self.bump();
            if let Some(f) = self.files.get_mut(&file).filter(|f| !f.pipe) {
                if cached_version == Some(f.version) {
                    cached_version = Some(v);
                }
                f.version = v;
            }
        }
        match self.grant(stream, h, cached_version, PosGrant::Local(pos)) {
            Some(g) => FileResp::Granted(g),
            None => FileResp::Failed(Errno::ENOENT),
        }
    }

    /// A new stream of `file`, used on host `h` (None: no stream id left).
    fn new_stream(&mut self, file: FileId, mode: Mode, h: HostId) -> Option<StreamId> {
        let stream = smallest_free(self.streams.keys().copied(), StreamId)?;
        self.streams.insert(
            stream,
            ServerStream {
                file,
                mode,
                hosts: BTreeSet::from([h]),
                shadow: None,
            },
        );
        Some(stream)
    }

    /// Makes the grant for host `h` after callbacks are done: disables caching if the file
    /// is write-shared, records the caching host and the last writer.
    fn grant(
        &mut self,
        stream: StreamId,
        h: HostId,
        cached_version: Option<u32>,
        pos: PosGrant,
    ) -> Option<Grant> {
        let s = self.streams.get(&stream)?.clone();
        let users = self.users(s.file);
        let shared = users.len() >= 2 && users.values().any(|(_, w)| *w > 0);
        let f = self.files.get_mut(&s.file)?;
        if shared {
            f.cacheable = false;
            // Every other caching host was called back before this grant.
            f.cached_on.clear();
        }
        if f.cacheable {
            f.cached_on.insert(h);
            if s.mode.writes() {
                f.last_writer = Some(h);
            }
        }
        let data = (f.cacheable && cached_version != Some(f.version)).then(|| f.data.clone());
        Some(Grant {
            stream,
            file: s.file,
            incarnation: f.incarnation,
            mode: s.mode,
            pos,
            cacheable: f.cacheable,
            version: f.version,
            data,
            pipe: f.pipe,
        })
    }

    fn request(&mut self, from: Node, msg: Msg, out: &mut Vec<(Node, Msg)>) {
        let Node::Host(h) = from else { return };
        match msg {
            Msg::FileOp { pid, req } => {
                if let Some(resp) = self.file_op(from, h, pid, req, out) {
                    out.push((from, Msg::FileOpReply { pid, resp }));
                }
            }
            Msg::StreamMove { .. } => self.stream_move(from, msg, false, out),
            _ => {}
        }
    }

    /// The server's part of the three-party exchange (SPE "Migrating Open Files"): the
    /// target's STREAM_MOVE arrives for all of the process's streams on one file; the
    /// server calls the source back (STREAM_RELEASE), and only then, with every one of
    /// them released, decides cacheability and where each position lives, so references
    /// are moved, never closed, and the process never looks like it shares the file with
    /// itself.
    fn stream_move(&mut self, from: Node, msg: Msg, released: bool, out: &mut Vec<(Node, Msg)>) {
        let Node::Host(t) = from else { return };
        let Msg::StreamMove {
            pid,
            from: src,
            streams,
            cached_version,
        } = msg.clone()
        else {
            return;
        };
        let known: Vec<(MovingStream, ServerStream)> = streams
            .iter()
            .filter_map(|m| self.streams.get(&m.stream).map(|s| (*m, s.clone())))
            .collect();
        // A request sent before a crash that killed the moving process (of its source, its
        // target or its home) moves nothing, as one for streams the server does not know.
        let dead = !released && [src, t, pid.home].iter().any(|x| self.down.contains(x));
        let Some(file) = known.first().map(|(_, s)| s.file).filter(|_| !dead) else {
            out.push((
                from,
                Msg::StreamMoveReply {
                    pid,
                    result: Err(Errno::EBADF),
                },
            ));
            return;
        };
        let mode = match (
            known.iter().any(|(_, s)| s.mode.reads()),
            known.iter().any(|(_, s)| s.mode.writes()),
        ) {
            (true, true) => Mode::ReadWrite,
            (false, true) => Mode::Write,
            _ => Mode::Read,
        };
        if !released {
            if self.switches.has(Switch::NotifyTargetFirst) {
                // The rejected second design: the target registers first, so for a moment
                // the file looks open on both hosts, and a writer disables caching for good.
                for (m, _) in &known {
                    if let Some(st) = self.streams.get_mut(&m.stream) {
                        st.hosts.insert(t);
                    }
                }
                let users = self.users(file);
                let shared = users.len() >= 2 && users.values().any(|(_, w)| *w > 0);
                if let Some(f) = self.files.get_mut(&file) {
                    if shared {
                        f.cacheable = false;
                    }
                }
            }
            let streams = known.iter().map(|(m, _)| *m).collect();
            out.push((Node::Host(src), Msg::StreamRelease { pid, streams }));
            self.suspend(from, msg, BTreeSet::from([src]), false);
            return;
        }
        // Released. Any further callbacks (another host still caching a now write-shared
        // file, including the source if it still uses the file) before granting. A moved
        // stream is not a new open: no recall here, the source flushed its dirty blocks
        // during migration (so `no-block-flush` breaks CONS, as SPE says).
        let cbs: Vec<_> = self
            .callbacks(file, t, mode, None)
            .into_iter()
            .filter(|(_, m)| matches!(m, Msg::CacheDisable { .. }))
            .collect();
        if !cbs.is_empty() {
            let awaiting = cbs.iter().map(|(x, _)| *x).collect();
            for (x, m) in cbs {
                out.push((Node::Host(x), m));
            }
            self.suspend(from, msg, awaiting, true);
            return;
        }
        let client_offsets = self.switches.has(Switch::ClientOffsets);
        // Every stream is on the target before any grant judges sharing.
        let mut positions = Vec::new();
        for (m, _) in &known {
            let Some(st) = self.streams.get_mut(&m.stream) else {
                continue;
            };
            st.hosts.insert(t);
            let local = client_offsets
                || (st.hosts.len() < 2 && self.released_local_pos.contains(&m.stream));
            let pos = if local {
                // The target is the only holder and the position came from the source's
                // copy (or positions stay on clients): the target keeps it.
                PosGrant::Local(st.shadow.take().unwrap_or(0))
            } else {
                // Sharers on two hosts, or a position the server already kept: it stays
                // at the server, so requests in flight from other holders see one
                // position (OFF).
                PosGrant::Shadow
            };
            if client_offsets {
                st.shadow = None;
            }
            positions.push((m.stream, pos));
        }
        let grants: Option<Vec<Grant>> = positions
            .into_iter()
            .map(|(stream, pos)| self.grant(stream, t, cached_version, pos))
            .collect();
        if grants.is_some() {
            for (m, _) in &known {
                self.witnessed.push(Witness::StreamMoved {
                    pid,
                    stream: m.stream,
                });
            }
        }
        let result = grants.ok_or(Errno::EBADF);
        out.push((from, Msg::StreamMoveReply { pid, result }));
    }

    fn file_op(
        &mut self,
        from: Node,
        h: HostId,
        pid: Pid,
        req: FileReq,
        out: &mut Vec<(Node, Msg)>,
    ) -> Option<FileResp> {
        Some(match req {
            FileReq::Open {
                name,
                mode,
                create,
                cached_version,
            } => {
                let file = match self.dir.get(&name) {
                    Some(f) => *f,
                    None if create => match self.add_file(name, Vec::new()) {
                        Some(f) => f,
                        None => return Some(FileResp::Failed(Errno::EMFILE)),
                    },
                    None => return Some(FileResp::Failed(Errno::ENOENT)),
                };
                let cbs = self.callbacks(file, h, mode, None);
                if !cbs.is_empty() {
                    self.suspend_for(
                        from,
                        pid,
                        FileReq::Open {
                            name,
                            mode,
                            create,
                            cached_version,
                        },
                        cbs,
                        out,
                    );
                    return None;
                }
                let cv = cached_version.filter(|(f, _)| *f == file).map(|(_, v)| v);
                self.open_stream(file, mode, h, cv, 0)
            }
            FileReq::Reopen {
                file,
                mode,
                pos,
                old,
                refs,
            } => {
                if !self.files.contains_key(&file) {
                    return Some(FileResp::Failed(Errno::ENOENT));
                }
                let cbs = self.callbacks(file, h, mode, None);
                if !cbs.is_empty() {
                    self.suspend_for(
                        from,
                        pid,
                        FileReq::Reopen {
                            file,
                            mode,
                            pos,
                            old,
                            refs,
                        },
                        cbs,
                        out,
                    );
                    return None;
                }
                self.open_stream(file, mode, h, None, pos)
            }
            FileReq::Close { streams } => {
                let mut reclaimed = Vec::new();
                for s in streams {
                    if let Some(f) = self.drop_ref(s, h) {
                        reclaimed.push(f);
                    }
                }
                FileResp::Closed { reclaimed }
            }
            FileReq::Pipe => self.make_pipe(h),
            FileReq::Read { .. }
            | FileReq::Write { .. }
            | FileReq::Lseek { .. }
            | FileReq::LseekCur { .. }
                if self.is_pipe_stream(&req) =>
            {
                self.pipe_io(req)
            }
            FileReq::Read { stream, pos } => {
                if let Some(cb) = self.shadow_recall(stream, pos) {
                    self.suspend_for(from, pid, FileReq::Read { stream, pos }, vec![cb], out);
                    return None;
                }
                let Some(s) = self.streams.get(&stream) else {
                    return Some(FileResp::Failed(Errno::EBADF));
                };
                let p = pos.or(s.shadow).unwrap_or(0);
                let data = self
                    .files
                    .get(&s.file)
                    .map(|f| f.data.get(p as usize).copied())
                    .unwrap_or(None);
                let np = if data.is_some() { p + 1 } else { p };
                if pos.is_none() || s.shadow.is_some() {
                    // (A request sent with the client's own position before that position
                    // moved here, in a stream exchange, moves the shadow position on.)
                    if let Some(s) = self.streams.get_mut(&stream) {
                        s.shadow = Some(np);
                    }
                }
                self.shadow_done(stream, pos, h, Ok(Value::Data(data)), np, false)
            }
            FileReq::Write { stream, pos, sym } => {
                if let Some(cb) = self.shadow_recall(stream, pos) {
                    self.suspend_for(
                        from,
                        pid,
                        FileReq::Write { stream, pos, sym },
                        vec![cb],
                        out,
                    );
                    return None;
                }
                let Some(s) = self.streams.get(&stream).cloned() else {
                    return Some(FileResp::Failed(Errno::EBADF));
                };
                let p = pos.or(s.shadow).unwrap_or(0);
                if p >= vocab::MAX_FILE_LEN {
                    return Some(FileResp::Done {
                        outcome: Err(Errno::EFBIG),
                        pos: p,
                        local: false,
                        refresh: None,
                    });
                }
                let v = self.bump();
                if let Some(f) = self.files.get_mut(&s.file) {
                    let d = &mut f.data;
                    if d.len() <= p as usize {
                        d.resize(p as usize + 1, 0);
                    }
                    d[p as usize] = sym;
                    f.version = v;
                    if f.cacheable {
                        // A write to a file clients may cache reaches the server here: one
                        // at a shadow position, or from a host that stopped caching the
                        // file for an exchange a crash then cancelled. The model writes
                        // into the writer's cache; the data is on the server at once,
                        // which is that write followed by its write-back (a crash of the
                        // writer no longer loses it).
                        self.witnessed.push(Witness::Run(pid));
                        self.witnessed.push(Witness::WriteBack {
                            host: h,
                            file: s.file.0,
                        });
                    }
                }
                if pos.is_none() || s.shadow.is_some() {
                    if let Some(s) = self.streams.get_mut(&stream) {
                        s.shadow = Some(p + 1);
                    }
                }
                self.shadow_done(stream, pos, h, Ok(Value::Unit), p + 1, true)
            }
            FileReq::Lseek { stream, pos } => {
                let Some(s) = self.streams.get_mut(&stream) else {
                    return Some(FileResp::Failed(Errno::EBADF));
                };
                s.shadow = Some(pos);
                self.shadow_done(stream, None, h, Ok(Value::Pos(pos)), pos, false)
            }
            FileReq::LseekCur { stream, delta } => {
                let Some(s) = self.streams.get_mut(&stream) else {
                    return Some(FileResp::Failed(Errno::EBADF));
                };
                let cur = s.shadow.unwrap_or(0);
                match crate::kernel::seek_by(cur, delta) {
                    Ok(pos) => {
                        s.shadow = Some(pos);
                        self.shadow_done(stream, None, h, Ok(Value::Pos(pos)), pos, false)
                    }
                    Err(e) => self.shadow_done(stream, None, h, Err(e), cur, false),
                }
            }
            FileReq::Stat { name } => {
                let Some(file) = self.dir.get(&name).copied() else {
                    return Some(FileResp::Failed(Errno::ENOENT));
                };
                // The host caching the file for writing has the latest size: its dirty
                // blocks come back first (Sprite calls such clients back for their cached
                // attributes, SRC fsconsistCache.c `Fsconsist_GetClientAttrs`; here the
                // blocks carry the size).
                let writer = self.files.get(&file).and_then(|f| {
                    f.last_writer
                        .filter(|w| f.cached_on.contains(w) && !self.called.contains(w))
                });
                if let Some(w) = writer {
                    let cb = (w, Msg::BlockRecall { file });
                    self.suspend_for(from, pid, FileReq::Stat { name }, vec![cb], out);
                    return None;
                }
                let size = self.files.get(&file).map_or(0, |f| f.data.len());
                FileResp::Size(size.min(u8::MAX as usize) as u8)
            }
            FileReq::Unlink { name } => match self.dir.remove(&name) {
                None => FileResp::Failed(Errno::ENOENT),
                Some(f) => {
                    if let Some(file) = self.files.get_mut(&f) {
                        file.linked = false;
                    }
                    let _ = self.reclaim_if_unused(f);
                    FileResp::Unit
                }
            },
            FileReq::DiscardBacking { pid } => {
                self.backing.remove(&pid);
                FileResp::Unit
            }
        })
    }

    /// Before server-side I/O at a shadow position on a file that hosts may cache: recall
    /// dirty blocks from the last writer, whoever it is (the requester too: it may write the
    /// same file through another stream, CONS).
    fn shadow_recall(&self, stream: StreamId, pos: Option<u8>) -> Option<(HostId, Msg)> {
        if pos.is_some() {
            return None;
        }
        let file = self.streams.get(&stream)?.file;
        let f = self.files.get(&file)?;
        match f.last_writer {
            Some(w) if f.cacheable && f.cached_on.contains(&w) && !self.called.contains(&w) => {
                Some((w, Msg::BlockRecall { file }))
            }
            _ => None,
        }
    }

    /// The answer to server-side I/O: a shadow position goes back to the stream's only
    /// remaining host; after a write, a host caching the file gets the new contents.
    fn shadow_done(
        &mut self,
        stream: StreamId,
        pos: Option<u8>,
        h: HostId,
        outcome: vocab::Outcome,
        new_pos: u8,
        wrote: bool,
    ) -> FileResp {
        let local = false;
        let mut refresh = None;
        if let Some(s) = self.streams.get_mut(&stream) {
            // The position stays here once it is here: handing it back could race with
            // requests from other holders on the same host (OFF).
            let _ = (pos, h);
            let file = s.file;
            if let Some(f) = self.files.get(&file) {
                if wrote && f.cacheable && f.cached_on.contains(&h) {
                    refresh = Some((f.version, f.data.clone()));
                }
            }
        }
        FileResp::Done {
            outcome,
            pos: new_pos,
            local,
            refresh,
        }
    }

    fn suspend_for(
        &mut self,
        from: Node,
        pid: Pid,
        req: FileReq,
        cbs: Vec<(HostId, Msg)>,
        out: &mut Vec<(Node, Msg)>,
    ) {
        let awaiting = cbs.iter().map(|(x, _)| *x).collect();
        for (x, m) in cbs {
            out.push((Node::Host(x), m));
        }
        self.suspend(from, Msg::FileOp { pid, req }, awaiting, false);
    }

    /// Host `h` dropped its last reference to a stream.
    /// Host `h` dropped its last reference to a stream; returns the file if that close
    /// reclaimed it.
    fn drop_ref(&mut self, stream: StreamId, h: HostId) -> Option<FileId> {
        let moving = self.moving_now(stream);
        let s = self.streams.get_mut(&stream)?;
        s.hosts.remove(&h);
        if s.hosts.is_empty() && !moving {
            let file = s.file;
            self.streams.remove(&stream);
            if !self.streams.values().any(|s| s.file == file) {
                if let Some(f) = self.files.get_mut(&file) {
                    // Caching stays off until nobody has the file open (CACHE §3.2).
                    f.cacheable = true;
                }
                if self.reclaim_if_unused(file) {
                    return Some(file);
                }
            }
        }
        None
    }

    /// Drops everything the server holds for a crashed host: its stream references, its
    /// cached copies, its place as a file's last writer.
    fn forget_host(&mut self, h: HostId) {
        let ids: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| s.hosts.contains(&h))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let _ = self.drop_ref(id, h);
        }
        for f in self.files.values_mut() {
            f.cached_on.remove(&h);
            if f.last_writer == Some(h) {
                f.last_writer = None;
            }
        }
    }

    fn reclaim_if_unused(&mut self, file: FileId) -> bool {
        let open = self.streams.values().any(|s| s.file == file);
        if !open && self.files.get(&file).is_some_and(|f| !f.linked) {
            self.files.remove(&file);
            return true;
        }
        false
    }

    /// Host `h` is back (rebooted, with empty tables).
    pub fn host_up(&mut self, h: HostId) {
        self.down.remove(&h);
    }

    /// A host crashed: its references go, and so do dirty blocks only it held (FAIL).
    pub fn host_down(&mut self, h: HostId) -> Vec<(Node, Msg)> {
        self.down.insert(h);
        self.forget_host(h);
        self.queue.retain(|(from, _)| *from != Node::Host(h));
        let mut out = Vec::new();
        // A stream exchange dies with the moving process: a crash of its source (which
        // must still resume it), its target (where it is) or its home. Nothing moves: an
        // exchange that had all its answers is over by the time a crash is noticed
        // (crashes are found by timeouts, after what is on the wire has arrived; the
        // conformance harness schedules a crash that way).
        let exchange_party = |susp: &Suspended| match susp.msg {
            Msg::StreamMove { pid, from, .. } => {
                from == h || susp.from == Node::Host(h) || pid.home == h
            }
            _ => false,
        };
        if self.suspended.as_ref().is_some_and(exchange_party) {
            self.cancel_exchange();
        }
        if let Some(susp) = &self.suspended {
            if susp.from == Node::Host(h) {
                self.suspended = None;
            } else if susp.awaiting.contains(&h) {
                if let Some(s) = &mut self.suspended {
                    s.released = true;
                }
                self.callback_done(h, &mut out);
            }
        }
        while self.suspended.is_none() {
            let Some((f, m)) = self.queue.pop_front() else {
                break;
            };
            self.request(f, m, &mut out);
        }
        out
    }
}
