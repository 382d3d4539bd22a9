//! Open files (SPE "Migrating Open Files"; TH ch. 5): dirty blocks are flushed while the
//! process is frozen; each open file then moves with the three-party exchange (the
//! target's STREAM_MOVE to the server, the server's STREAM_RELEASE callback to the source,
//! the source's STREAM_RELEASE_REPLY with each stream's position and whether it still uses
//! it), so a reference is moved, never closed. One exchange carries all of the process's
//! streams on the file. The rejected first design (`reopen-files`) closes on the source
//! and reopens on the target.

use super::{Cx, MigrationModule, Rpc};
use crate::fs::{Blocks, FileId};
use crate::kernel::{Kernel, Note, Pcb, Pending};
use crate::msg::{FileReq, FileResp, MigKind, MovingStream, Msg, Node, Released};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use vocab::{Fd, Mode, Pid, StreamId, Switch};

pub struct FilesModule;

#[derive(Clone, Serialize, Deserialize)]
pub struct StreamInfo {
    stream: StreamId,
    refs: u8,
    file: FileId,
    mode: Mode,
    pos: Option<u8>,
}

#[derive(Serialize, Deserialize)]
pub struct FilesState {
    fds: Vec<(Fd, StreamId)>,
    streams: Vec<StreamInfo>,
}

/// The process's references per stream.
fn refs_of(k: &Kernel, pid: Pid) -> BTreeMap<StreamId, u8> {
    let mut m = BTreeMap::new();
    if let Some(p) = k.procs.get(&pid) {
        for s in p.fds.values() {
            *m.entry(*s).or_insert(0u8) += 1;
        }
    }
    m
}

impl MigrationModule for FilesModule {
    const TOKEN: u8 = 4;
    const NAME: &'static str = "files";
    type State = FilesState;

    fn needed_for(_kind: MigKind) -> bool {
        true
    }

    fn flush(k: &mut Kernel, cx: &Cx) -> Vec<Rpc> {
        let refs = refs_of(k, cx.pid);
        let mut rpcs = Vec::new();
        if !k.sw(Switch::NoBlockFlush) {
            let mut files: Vec<(FileId, Blocks)> = Vec::new();
            for sid in refs.keys() {
                let Some(s) = k.streams.get(sid) else {
                    continue;
                };
                if files.iter().any(|(f, _)| *f == s.file) {
                    continue;
                }
                if let Some(c) = k.cache.get(&s.file) {
                    if !c.dirty.is_empty() {
                        files.push((s.file, c.dirty_blocks()));
                    }
                }
            }
            if !files.is_empty() {
                // Remember what was sent: other processes on this host keep writing while
                // the flush is in flight, and only the blocks sent may turn clean.
                k.flushing.insert(cx.pid, files.clone());
                let blocks = files.iter().map(|(_, b)| b.blocks.len() as u32).sum();
                k.note(Note::BlocksFlushed {
                    pid: cx.pid,
                    blocks,
                });
                rpcs.push(Rpc {
                    token: Self::TOKEN,
                    to: Node::Server,
                    msg: Msg::BlockFlush { pid: cx.pid, files },
                    await_reply: true,
                });
            }
        }
        if k.sw(Switch::ReopenFiles) {
            // Sprite's first attempt: close here, reopen there.
            let closing: Vec<StreamId> = refs
                .iter()
                .filter(|(sid, n)| k.streams.get(sid).is_some_and(|s| s.refs <= **n))
                .map(|(sid, _)| *sid)
                .collect();
            if !closing.is_empty() {
                rpcs.push(Rpc {
                    token: Self::TOKEN,
                    to: Node::Server,
                    msg: Msg::FileOp {
                        pid: cx.pid,
                        req: FileReq::Close { streams: closing },
                    },
                    await_reply: true,
                });
            }
        }
        rpcs
    }

    fn flush_reply(k: &mut Kernel, cx: &Cx, reply: &Msg) {
        if let Msg::BlockFlushAck { versions, .. } = reply {
            let sent = k.flushing.remove(&cx.pid).unwrap_or_default();
            for (f, v) in versions {
                let Some(c) = k.cache.get_mut(f) else {
                    continue;
                };
                for (_, b) in sent
                    .iter()
                    .filter(|(x, b)| x == f && b.incarnation == c.incarnation)
                {
                    for (i, sym) in &b.blocks {
                        // A block rewritten since (with another value) stays dirty.
                        if c.data.get(*i as usize) == Some(sym) {
                            c.dirty.remove(i);
                        }
                    }
                }
                c.version = *v;
            }
        }
    }

    fn encapsulate(k: &mut Kernel, cx: &Cx) -> FilesState {
        let refs = refs_of(k, cx.pid);
        let fds = k
            .procs
            .get(&cx.pid)
            .map(|p| p.fds.iter().map(|(f, s)| (*f, *s)).collect())
            .unwrap_or_default();
        let streams = refs
            .iter()
            .filter_map(|(sid, n)| {
                k.streams.get(sid).map(|s| StreamInfo {
                    stream: *sid,
                    refs: *n,
                    file: s.file,
                    mode: s.mode,
                    pos: s.pos,
                })
            })
            .collect();
        FilesState { fds, streams }
    }

    fn deencapsulate(k: &mut Kernel, pcb: &mut Pcb, st: FilesState, cx: &Cx) -> Vec<Rpc> {
        // Files move in the order of the process's descriptors (as the model's steps do).
        let mut order: Vec<StreamId> = Vec::new();
        for (_, sid) in &st.fds {
            if !order.contains(sid) {
                order.push(*sid);
            }
        }
        let mut st = st;
        st.streams
            .sort_by_key(|s| order.iter().position(|x| *x == s.stream));
        pcb.fds = st.fds.into_iter().collect();
        let reopen = k.sw(Switch::ReopenFiles);
        // Under per-slot-exchange, Sprite's own granularity: one exchange per descriptor,
        // each moving one reference; else one per stream (grouped by file below).
        let per_slot = k.sw(Switch::PerSlotExchange);
        let moves: Vec<(FileId, MovingStream)> = if per_slot {
            pcb.fds
                .values()
                .filter_map(|sid| {
                    let s = st.streams.iter().find(|s| s.stream == *sid)?;
                    Some((
                        s.file,
                        MovingStream {
                            stream: *sid,
                            refs: 1,
                        },
                    ))
                })
                .collect()
        } else {
            st.streams
                .iter()
                .map(|s| {
                    (
                        s.file,
                        MovingStream {
                            stream: s.stream,
                            refs: s.refs,
                        },
                    )
                })
                .collect()
        };
        if !reopen {
            // Hold this host's reference to each stream until its move is granted (once
            // per exchange that moves it).
            for (_, m) in &moves {
                *k.incoming_streams.entry(m.stream).or_insert(0) += 1;
            }
        }
        let rpc = |msg| Rpc {
            token: Self::TOKEN,
            to: Node::Server,
            msg,
            await_reply: true,
        };
        if reopen {
            return st
                .streams
                .into_iter()
                .map(|s| {
                    rpc(Msg::FileOp {
                        pid: cx.pid,
                        req: FileReq::Reopen {
                            file: s.file,
                            mode: s.mode,
                            pos: s.pos.unwrap_or(0),
                            old: s.stream,
                            refs: s.refs,
                        },
                    })
                })
                .collect();
        }
        // One exchange per open file, in the order of its first descriptor; per slot, one
        // per descriptor.
        let mut files: Vec<(FileId, Vec<MovingStream>)> = Vec::new();
        for (file, m) in moves {
            match files.iter_mut().find(|(f, _)| *f == file && !per_slot) {
                Some((_, v)) => v.push(m),
                None => files.push((file, vec![m])),
            }
        }
        files
            .into_iter()
            .map(|(file, streams)| {
                let cached_version = k
                    .cache
                    .get(&file)
                    .filter(|c| c.cacheable)
                    .map(|c| c.version);
                rpc(Msg::StreamMove {
                    pid: cx.pid,
                    from: cx.from,
                    streams,
                    cached_version,
                })
            })
            .collect()
    }

    fn install_reply(k: &mut Kernel, cx: &Cx, req: &Msg, reply: &Msg) {
        match (req, reply) {
            (Msg::StreamMove { streams, .. }, Msg::StreamMoveReply { result, .. }) => {
                let grants = result.as_deref().unwrap_or_default();
                for m in streams {
                    match grants.iter().find(|g| g.stream == m.stream) {
                        Some(g) => k.install_grant(g, m.refs),
                        None => drop_fds(k, cx.pid, m.stream),
                    }
                    k.stream_arrived(cx.pid, m.stream);
                }
            }
            (
                Msg::FileOp {
                    req: FileReq::Reopen { old, refs, .. },
                    ..
                },
                Msg::FileOpReply {
                    resp: FileResp::Granted(g),
                    ..
                },
            ) => {
                k.install_grant(g, *refs);
                if let Some(p) = k.procs.get_mut(&cx.pid) {
                    for s in p.fds.values_mut() {
                        if s == old {
                            *s = g.stream;
                        }
                    }
                }
            }
            // The file was reclaimed between the close and the reopen: DEL is broken,
            // and the descriptors are gone.
            (
                Msg::FileOp {
                    req: FileReq::Reopen { old, .. },
                    ..
                },
                _,
            ) => drop_fds(k, cx.pid, *old),
            _ => {}
        }
    }

    fn finish(k: &mut Kernel, cx: &Cx, ok: bool) {
        k.flushing.remove(&cx.pid);
        if ok && k.sw(Switch::ReopenFiles) {
            // The references were closed at the server already; drop them here.
            for (sid, n) in refs_of(k, cx.pid) {
                if let Some(s) = k.streams.get_mut(&sid) {
                    s.refs = s.refs.saturating_sub(n);
                    if s.refs == 0 {
                        k.streams.remove(&sid);
                    }
                }
            }
        }
    }
}

fn drop_fds(k: &mut Kernel, pid: Pid, stream: StreamId) {
    if let Some(p) = k.procs.get_mut(&pid) {
        p.fds.retain(|_, s| *s != stream);
    }
}

/// Per moving stream, the processes here whose exit close is on its way to the server
/// (sent, not answered) and that hold the stream, with their references. This host cannot
/// know whether the server has taken that close yet (beside the exchange, if it touches
/// none of the moving streams); the server can, and decides with `Released::exiting`
/// whether the stream is still used here. In the model the exit is one step: it either
/// came before the STREAM_MOVE or comes after it.
fn exiting_holders(k: &Kernel, streams: &[MovingStream]) -> BTreeMap<StreamId, Vec<(Pid, u8)>> {
    let mut out: BTreeMap<StreamId, Vec<(Pid, u8)>> = BTreeMap::new();
    for (pid, p) in &k.procs {
        if !matches!(p.pending, Some(Pending::ExitClosing { late: false, .. })) {
            continue;
        }
        for m in streams {
            let n = p.fds.values().filter(|s| **s == m.stream).count();
            if n > 0 {
                out.entry(m.stream)
                    .or_default()
                    .push((*pid, u8::try_from(n).unwrap_or(u8::MAX)));
            }
        }
    }
    out
}

/// The source's part of the exchange: release the moving process's references and tell
/// the server each stream's position and whether this host still uses it.
pub fn release(k: &mut Kernel, pid: Pid, streams: &[MovingStream]) {
    let client_offsets = k.sw(Switch::ClientOffsets);
    let exiting = exiting_holders(k, streams);
    let mut files = BTreeSet::new();
    let mut writers_left = BTreeSet::new();
    let released = streams
        .iter()
        .map(|m| {
            let killed_dropped = k
                .released_by_kill
                .get_mut(&pid)
                .is_some_and(|set| set.remove(&m.stream));
            if k.released_by_kill
                .get(&pid)
                .is_some_and(|set| set.is_empty())
            {
                k.released_by_kill.remove(&pid);
            }
            if let Some(out) = k.outgoing.get_mut(&pid) {
                out.released.insert(m.stream);
            }
            if killed_dropped {
                // The process died before this exchange (its references went with it):
                // nothing moves, the stream stays as the other holders here use it.
                let still = k.streams.get(&m.stream).is_some_and(|s| s.refs > 0);
                return Released {
                    stream: m.stream,
                    pos: None,
                    still_used: still,
                    exiting: Vec::new(),
                };
            }
            let (pos, still_used, exiting) = match k.streams.get_mut(&m.stream) {
                Some(s) => {
                    files.insert(s.file);
                    if s.mode.writes() {
                        writers_left.insert(s.file);
                    }
                    s.refs = s.refs.saturating_sub(m.refs);
                    let pos = s.pos;
                    let exiting = exiting.get(&m.stream).cloned().unwrap_or_default();
                    let gone: u32 = exiting.iter().map(|(_, n)| u32::from(*n)).sum();
                    let still = u32::from(s.refs) > gone;
                    if s.refs == 0 {
                        k.streams.remove(&m.stream);
                    } else if !client_offsets {
                        // Sharers on two hosts: the position moves to the server (shadow).
                        // (If only exiting holders are left and the server finds their exit
                        // taken, the stream is not used here any more, and they will not
                        // use the position.)
                        s.pos = None;
                    }
                    (pos, still, exiting.iter().map(|(p, _)| *p).collect())
                }
                None => (None, false, Vec::new()),
            };
            Released {
                stream: m.stream,
                pos,
                still_used,
                exiting,
            }
        })
        .collect();
    // Blocks another process here wrote since the BLOCK_FLUSH go back with the reply, so
    // that the target is granted the latest data (the CONS window between MIG_STATE and
    // the exchange; the model writes them back inside STREAM_MOVE).
    let mut blocks = Vec::new();
    if !k.sw(Switch::NoBlockFlush) {
        for file in &files {
            if let Some(c) = k.cache.get_mut(file).filter(|c| !c.dirty.is_empty()) {
                let b = c.dirty_blocks();
                c.dirty.clear();
                k.written_back(*file, &b);
                blocks.push((*file, b));
            }
        }
    }
    for file in writers_left {
        drop_left_blocks(k, file);
    }
    k.send(
        Node::Server,
        Msg::StreamReleaseReply {
            pid,
            released,
            blocks,
        },
    );
}

/// A writing stream of `file` has left this host for another: once nothing here uses the
/// file, its clean cached blocks go. The moved writer may change the file without the
/// server's copy changing, so the version would not tell this host's next open that they
/// are stale. Sprite has the old host write back and invalidate at the migration for the
/// same reason [SRC fsconsistCache.c, StartConsistency]; here the write-back came earlier
/// (BLOCK_FLUSH, STREAM_RELEASE_REPLY), so only clean blocks can remain. While the host
/// still uses the file (another process's stream, or a close the server has not answered
/// yet) the file is remembered and the blocks go with the host's last stream of it; a
/// stream still here after the exchange makes the file write-shared, and the server's
/// CACHE_DISABLE drops them first. Dirty blocks stay: only another stream here can have
/// made them, and the write-sharing recalls them.
pub(crate) fn drop_left_blocks(k: &mut Kernel, file: FileId) {
    if k.streams.values().any(|s| s.file == file) {
        k.left_writers.insert(file);
        return;
    }
    k.left_writers.remove(&file);
    if k.cache.get(&file).is_some_and(|c| c.dirty.is_empty()) {
        k.cache.remove(&file);
    }
}
