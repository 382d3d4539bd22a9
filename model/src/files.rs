//! The file server and the client side of files: streams, access positions, caches,
//! cacheability and deferred deletion [SPE "Migrating Open Files"; CACHE].

use crate::ctx::Ctx;
use crate::log::Actor;
use crate::state::{CacheEntry, ClientStream, File, ServerStream};
use std::collections::BTreeSet;
use unix::Ino;
use vocab::small::{Bytes, SmallSet};
use vocab::{Errno, FileName, HostId, InvariantId, Mode, Pid, StreamId, Value};

const FS: Actor = Actor::Server;

impl Ctx<'_> {
    /// Hosts using the file through some stream.
    pub fn users(&self, ino: Ino) -> BTreeSet<HostId> {
        self.s
            .server
            .streams
            .values()
            .filter(|st| st.ino == ino)
            .flat_map(|st| st.hosts.iter().copied())
            .collect()
    }

    fn has_writer(&self, ino: Ino) -> bool {
        self.s
            .server
            .streams
            .values()
            .any(|st| st.ino == ino && st.mode.writes() && !st.hosts.is_empty())
    }

    /// Sequential write-sharing: before `h` uses a file last written through another
    /// host's cache, the server takes the dirty blocks back (BLOCK_RECALL).
    fn recall(&mut self, ino: Ino, h: HostId) {
        let Some(w) = self.s.server.files[&ino].last_writer else {
            return;
        };
        if w == h {
            return;
        }
        if let Some(e) = self.s.host_mut(w).cache.get_mut(&ino) {
            if e.dirty {
                e.dirty = false;
                let data = e.data.clone();
                self.s.server.files.get_mut(&ino).expect("open file").data = data;
                self.log.msg(FS, Actor::Host(w), || {
                    format!("BLOCK_RECALL {ino} from {w}")
                });
            }
        }
    }

    /// Concurrent write-sharing: a file open on two or more hosts with a writer is cached
    /// by no host; once off, caching stays off until no stream uses the file (CACHE).
    pub fn update_cacheability(&mut self, ino: Ino) {
        let users = self.users(ino);
        if !self.s.server.files[&ino].cacheable || users.len() < 2 || !self.has_writer(ino) {
            return;
        }
        if !self.write_shared_by_processes(ino) {
            let hosts = users.clone();
            self.violate(
                InvariantId::CACHE,
                *users.first().expect("two users"),
                || {
                    format!(
                        "{ino} made uncacheable, but only one process uses it (server sees {})",
                        hosts_str(&hosts)
                    )
                },
            );
        }
        for h in users
            .iter()
            .copied()
            .chain(self.s.server.files[&ino].last_writer)
        {
            if let Some(e) = self.s.host_mut(h).cache.remove(&ino) {
                if e.dirty {
                    self.s.server.files.get_mut(&ino).expect("file").data = e.data;
                    self.log.msg(FS, Actor::Host(h), || {
                        format!("BLOCK_RECALL {ino} from {h}")
                    });
                }
            }
        }
        self.s.server.files.get_mut(&ino).expect("file").cacheable = false;
        self.log.note(FS, || {
            format!("CACHE_DISABLE {ino}: write-shared by {}", hosts_str(&users))
        });
    }

    /// Whether two different processes on different hosts use the file, one for writing:
    /// the only situation that justifies turning caching off.
    fn write_shared_by_processes(&self, ino: Ino) -> bool {
        let holders: Vec<(Pid, HostId, bool)> = self
            .s
            .procs
            .iter()
            .flat_map(|(pid, p)| {
                p.fds.iter().filter_map(move |(fd, sid)| {
                    let st = self.s.server.streams.get(sid)?;
                    // Where this process's reference is: a stream not yet moved by a
                    // migration in progress is still on the source.
                    let host = self.s.ref_host(*pid, *fd).unwrap_or(p.host);
                    (st.ino == ino).then_some((*pid, host, st.mode.writes()))
                })
            })
            .collect();
        holders.iter().any(|(p1, h1, w1)| {
            holders
                .iter()
                .any(|(p2, h2, w2)| p1 != p2 && h1 != h2 && (*w1 || *w2))
        })
    }

    /// open(2) at the server for a process on `h`: name lookup or creation, a new stream,
    /// cache consistency. Returns the new stream.
    pub fn server_open(
        &mut self,
        h: HostId,
        name: FileName,
        mode: Mode,
        create: bool,
        sid: StreamId,
    ) -> Result<(), Errno> {
        let ino = match self.s.server.dir.get(&name) {
            Some(ino) => *ino,
            None if create => {
                let ino = smallest_free_ino(self.s.server.files.keys().copied());
                self.s.server.files.insert(
                    ino,
                    File {
                        data: Bytes::new(),
                        linked: true,
                        cacheable: true,
                        version: 0,
                        last_writer: None,
                    },
                );
                self.s.server.dir.insert(name, ino);
                ino
            }
            None => return Err(Errno::ENOENT),
        };
        self.log.msg(Actor::Host(h), FS, || {
            format!("FILE_OP open {name} -> {ino} {sid}")
        });
        self.register(h, sid, ino, mode, None, true);
        Ok(())
    }

    /// A host starts using a stream of `ino` (an open, or a stream moving in). `pos` is
    /// the access position it brings; `None` for a fresh open (position 0). Only an open
    /// recalls dirty blocks and starts a new version; a stream moving in relies on the
    /// source having flushed its blocks (BLOCK_FLUSH) before.
    pub fn register(
        &mut self,
        h: HostId,
        sid: StreamId,
        ino: Ino,
        mode: Mode,
        pos: Option<u8>,
        open: bool,
    ) {
        if open {
            self.recall(ino, h);
        }
        let is_pipe = self.s.server.pipes.contains(&ino);
        let file = self
            .s
            .server
            .files
            .get_mut(&ino)
            .expect("registered file exists");
        let old_version = file.version;
        // An open for writing starts a new version, so that blocks cached elsewhere are
        // known stale. (A pipe is never cached: it has no versions.) A writing stream
        // moving in does not, as in Sprite: the source's blocks are written back and
        // dropped when the stream leaves it instead (`drop_left_blocks`).
        if open && mode.writes() && !is_pipe {
            file.version = file.version.wrapping_add(1);
        }
        let version = file.version;
        // The server tells the client whether its cached blocks are still good.
        let host = self.s.host_mut(h);
        if let Some(e) = host.cache.get_mut(&ino) {
            if e.dirty || e.version == old_version {
                e.version = version;
            } else {
                host.cache.remove(&ino);
            }
        }
        let st = self
            .s
            .server
            .streams
            .entry(sid)
            .or_insert_with(|| ServerStream {
                ino,
                mode,
                hosts: SmallSet::new(),
                shadow: None,
            });
        st.hosts.insert(h);
        let cs = self
            .s
            .host_mut(h)
            .streams
            .entry(sid)
            .or_insert(ClientStream { refs: 0, pos: None });
        cs.refs += 1;
        if cs.refs == 1 {
            cs.pos = Some(pos.unwrap_or(0));
        }
        self.place_position(sid);
        self.update_cacheability(ino);
    }

    /// Puts the stream's access position where it belongs: on the one client that uses
    /// the stream, or on the server (a shadow stream) once clients on several hosts have
    /// shared it, until the stream is closed everywhere. Under client-offsets, every client
    /// keeps its own copy instead.
    pub fn place_position(&mut self, sid: StreamId) {
        if self.on(vocab::Switch::ClientOffsets) {
            return;
        }
        let Some(st) = self.s.server.streams.get(&sid) else {
            return;
        };
        let hosts: Vec<HostId> = st.hosts.iter().copied().collect();
        let current = st.shadow.or_else(|| {
            hosts
                .iter()
                .find_map(|h| self.s.host(*h).streams.get(&sid).and_then(|c| c.pos))
        });
        // Once on the server, the position stays there while the stream is used, also
        // when one host is left (specs/process-state.md, "3. The access position"; the
        // reason is in specs/migration-protocol.md, "The three-party exchange").
        if hosts.len() >= 2 || st.shadow.is_some() {
            let st = self.s.server.streams.get_mut(&sid).expect("exists");
            if st.shadow.is_none() {
                st.shadow = Some(current.unwrap_or(0));
                self.log.note(FS, || {
                    let hosts: BTreeSet<HostId> = hosts.iter().copied().collect();
                    format!(
                        "{sid} shared by {}: position kept on the server (shadow stream)",
                        hosts_str(&hosts)
                    )
                });
            }
            for h in hosts {
                if let Some(c) = self.s.host_mut(h).streams.get_mut(&sid) {
                    c.pos = None;
                }
            }
        }
    }

    /// The access position of a stream as seen from host `h`.
    pub fn position(&self, h: HostId, sid: StreamId) -> u8 {
        let shadow = self.s.server.streams.get(&sid).and_then(|st| st.shadow);
        shadow
            .or_else(|| self.s.host(h).streams.get(&sid).and_then(|c| c.pos))
            .unwrap_or(0)
    }

    pub fn set_position(&mut self, h: HostId, sid: StreamId, pos: u8) {
        if let Some(st) = self.s.server.streams.get_mut(&sid) {
            if st.shadow.is_some() {
                st.shadow = Some(pos);
                return;
            }
        }
        if let Some(c) = self.s.host_mut(h).streams.get_mut(&sid) {
            c.pos = Some(pos);
        }
    }

    /// The file's contents as host `h` sees them: through its cache when the file is
    /// cacheable (filling the cache if needed), else from the server.
    pub fn file_data(&mut self, h: HostId, ino: Ino) -> Bytes {
        let file = &self.s.server.files[&ino];
        if !file.cacheable {
            return file.data.clone();
        }
        let (version, data) = (file.version, file.data.clone());
        let host = self.s.host_mut(h);
        match host.cache.get(&ino) {
            Some(e) if e.version == version => e.data.clone(),
            _ => {
                host.cache.insert(
                    ino,
                    CacheEntry {
                        data: data.clone(),
                        dirty: false,
                        version,
                    },
                );
                data
            }
        }
    }

    /// Writes one symbol: into the cache (delayed write) if the file is cacheable, else
    /// through to the server.
    pub fn write_data(&mut self, h: HostId, ino: Ino, pos: u8, sym: u8) {
        if !self.s.server.files[&ino].cacheable {
            let file = self.s.server.files.get_mut(&ino).expect("open file");
            unix::write_at(&mut file.data, pos, sym);
            return;
        }
        self.file_data(h, ino);
        let e = self.s.host_mut(h).cache.get_mut(&ino).expect("just filled");
        unix::write_at(&mut e.data, pos, sym);
        e.dirty = true;
        self.s.server.files.get_mut(&ino).expect("file").last_writer = Some(h);
    }

    /// A writing stream of `ino` has left host `h` for another (a migration's STREAM_MOVE):
    /// if `h` no longer uses the file, its clean cached blocks go. The moved writer may
    /// change the file without a new version (only opens start one), so blocks left here
    /// would look current to this host's next open. Sprite does the same: the migration's
    /// consistency round has the old host write back and invalidate its blocks, because a
    /// migration leaves the version number as it was [SRC fsconsistCache.c,
    /// StartConsistency]. Dirty blocks stay (they are only there if another stream here
    /// still writes; the write-sharing then flushes them).
    pub fn drop_left_blocks(&mut self, h: HostId, ino: Ino) {
        let server = &self.s.server;
        let still_used = self
            .s
            .host(h)
            .streams
            .keys()
            .any(|sid| server.streams.get(sid).is_some_and(|st| st.ino == ino));
        let host = self.s.host_mut(h);
        if !still_used && host.cache.get(&ino).is_some_and(|e| !e.dirty) {
            host.cache.remove(&ino);
        }
    }

    /// Writes back the host's dirty blocks of a file (BLOCK_FLUSH).
    pub fn flush_blocks(&mut self, h: HostId, ino: Ino) {
        if let Some(e) = self.s.host_mut(h).cache.get_mut(&ino) {
            if e.dirty {
                e.dirty = false;
                let data = e.data.clone();
                self.s.server.files.get_mut(&ino).expect("file").data = data;
                self.log
                    .msg(Actor::Host(h), FS, || format!("BLOCK_FLUSH {ino}"));
            }
        }
    }

    /// One descriptor on host `h` stops referring to the stream (close, exit, or the
    /// source's side of a migration). The host's last reference tells the server; the
    /// last stream of an unlinked file reclaims it (DEL).
    pub fn release(&mut self, h: HostId, sid: StreamId) {
        let Some(cs) = self.s.host_mut(h).streams.get_mut(&sid) else {
            return;
        };
        cs.refs -= 1;
        if cs.refs > 0 {
            return;
        }
        self.s.host_mut(h).streams.remove(&sid);
        self.log
            .msg(Actor::Host(h), FS, || format!("FILE_OP close {sid}"));
        let st = self
            .s
            .server
            .streams
            .get_mut(&sid)
            .expect("client stream has a server stream");
        st.hosts.remove(&h);
        let ino = st.ino;
        if st.hosts.is_empty() {
            self.s.server.streams.remove(&sid);
            self.file_maybe_unused(ino);
        }
        // The remaining host does not get the position back: the server keeps it.
    }

    /// A file no stream uses becomes cacheable again, and is reclaimed if unlinked.
    pub fn file_maybe_unused(&mut self, ino: Ino) {
        if self.s.server.streams.values().any(|st| st.ino == ino) {
            return;
        }
        let Some(file) = self.s.server.files.get_mut(&ino) else {
            return;
        };
        file.cacheable = true;
        if !file.linked {
            self.reclaim(ino);
        }
    }

    pub fn reclaim(&mut self, ino: Ino) {
        self.s.server.files.remove(&ino);
        self.s.server.pipes.remove(&ino);
        for h in self.s.hosts.iter_mut() {
            h.cache.remove(&ino);
        }
        self.log.note(FS, || format!("{ino} reclaimed"));
    }

    /// `stat`: the server answers with the size of the file's latest contents. A host
    /// caching the file dirty has the latest size, so the server first recalls its dirty
    /// blocks (BLOCK_RECALL; also when that host is the caller's). Sprite's server calls
    /// such clients back for their cached attributes alone [SRC fsconsistCache.c,
    /// `Fsconsist_GetClientAttrs`]; the project has no attributes apart from the data, so it
    /// takes the blocks, which carry the size ([kernel-calls.md](../../specs/kernel-calls.md)).
    pub fn server_stat(&mut self, h: HostId, name: FileName) -> Result<Value, Errno> {
        let ino = *self.s.server.dir.get(&name).ok_or(Errno::ENOENT)?;
        self.log.msg(Actor::Host(h), FS, || {
            format!("FILE_OP stat {name} ({ino})")
        });
        if let Some(w) = self.s.server.files[&ino].last_writer {
            if let Some(e) = self.s.host_mut(w).cache.get_mut(&ino).filter(|e| e.dirty) {
                e.dirty = false;
                let data = e.data.clone();
                self.s.server.files.get_mut(&ino).expect("named file").data = data;
                self.log.msg(FS, Actor::Host(w), || {
                    format!("BLOCK_RECALL {ino} from {w}")
                });
            }
        }
        Ok(Value::Size(self.s.server.files[&ino].data.len() as u8))
    }

    pub fn server_unlink(&mut self, h: HostId, name: FileName) -> Result<(), Errno> {
        let ino = self.s.server.dir.remove(&name).ok_or(Errno::ENOENT)?;
        self.log.msg(Actor::Host(h), FS, || {
            format!("FILE_OP unlink {name} ({ino})")
        });
        self.s
            .server
            .files
            .get_mut(&ino)
            .expect("named file")
            .linked = false;
        self.file_maybe_unused(ino);
        Ok(())
    }
}

pub fn smallest_free_ino(used: impl Iterator<Item = Ino>) -> Ino {
    Ino(vocab::small::smallest_free(used.map(|i| i.0)).expect("fewer than 256 files"))
}

/// `h0, h1` for logs.
pub fn hosts_str(hosts: &BTreeSet<HostId>) -> String {
    hosts
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
