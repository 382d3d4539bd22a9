//! Pipes on the file server. In Sprite a pipe is an object of the file system, as a file is
//! [TH §3.2; SPE "Migrating Open Files"]: the server keeps it, its two ends are streams
//! whose references it counts per host, and a migrating process's ends move with the
//! three-party stream exchange of `fs.rs`, so that a reference never drops to zero during a
//! move. What differs from a file is only here: a pipe is made unnamed and unlinked (so the
//! rule that reclaims an unlinked file at its last close reclaims the pipe once no stream of
//! either end is left anywhere: DEL), it is never cacheable (every read and write is a
//! FILE_OP to this server, whichever hosts the ends are on), and reads and writes are first
//! in, first out, by the one-machine Unix's definition (`unix::pipe_read`,
//! `unix::pipe_write`), non-blocking.

use super::{smallest_free, FileId, FileServer, ServerFile};
use crate::msg::{FileReq, FileResp, PosGrant};
use std::collections::BTreeSet;
use vocab::{Errno, HostId, Mode};

impl FileServer {
    /// A new pipe used on host `h`: the file object and its read and write streams (the
    /// smaller stream id for the read end), granted at once (nobody caches a pipe).
    pub(super) fn make_pipe(&mut self, h: HostId) -> FileResp {
        let Some(file) = smallest_free(self.files.keys().copied(), FileId) else {
            return FileResp::Failed(Errno::EMFILE);
        };
        let version = self.bump();
        self.files.insert(
            file,
            ServerFile {
                incarnation: version,
                data: Vec::new(),
                linked: false,
                version,
                cacheable: false,
                cached_on: BTreeSet::new(),
                last_writer: None,
                pipe: true,
            },
        );
        let mut grants = Vec::new();
        for mode in [Mode::Read, Mode::Write] {
            let Some(stream) = self.new_stream(file, mode, h) else {
                // No stream id left: undo, so that nothing leaks.
                for g in &grants {
                    let _ = self.drop_ref(*g, h);
                }
                self.files.remove(&file);
                return FileResp::Failed(Errno::EMFILE);
            };
            grants.push(stream);
        }
        let grant = |s: &mut Self, stream| s.grant(stream, h, None, PosGrant::Local(0));
        match (grant(self, grants[0]), grant(self, grants[1])) {
            (Some(read), Some(write)) => FileResp::PipeGranted { read, write },
            _ => FileResp::Failed(Errno::EBADF),
        }
    }

    /// Whether a read, write or lseek is on a stream of a pipe.
    pub(super) fn is_pipe_stream(&self, req: &FileReq) -> bool {
        let stream = match req {
            FileReq::Read { stream, .. }
            | FileReq::Write { stream, .. }
            | FileReq::Lseek { stream, .. }
            | FileReq::LseekCur { stream, .. } => stream,
            _ => return false,
        };
        self.streams
            .get(stream)
            .and_then(|s| self.files.get(&s.file))
            .is_some_and(|f| f.pipe)
    }

    /// Whether some stream of `file` is open for writing (`writes`) or for reading, on any
    /// host: a stream lives here as long as a descriptor anywhere refers to it.
    fn end_open(&self, file: FileId, writes: bool) -> bool {
        self.streams.values().any(|s| {
            s.file == file
                && if writes {
                    s.mode.writes()
                } else {
                    s.mode.reads()
                }
        })
    }

    /// A read or write on a pipe's stream (the client checked the access mode; an lseek
    /// never reaches here from a client, and is ESPIPE if it does). The position is a
    /// pipe's: it never moves.
    pub(super) fn pipe_io(&mut self, req: FileReq) -> FileResp {
        let (stream, pos) = match req {
            FileReq::Read { stream, pos } | FileReq::Write { stream, pos, .. } => (stream, pos),
            FileReq::Lseek { stream, .. } | FileReq::LseekCur { stream, .. } => (stream, None),
            _ => return FileResp::Failed(Errno::EINVAL),
        };
        let Some(s) = self.streams.get(&stream) else {
            return FileResp::Failed(Errno::EBADF);
        };
        let (file, mode) = (s.file, s.mode);
        let pos = pos.or(s.shadow).unwrap_or(0);
        let outcome = match req {
            FileReq::Read { .. } if mode.reads() => {
                let writer = self.end_open(file, true);
                match self.files.get_mut(&file) {
                    Some(f) => unix::pipe_read(&mut f.data, writer),
                    None => Err(Errno::EBADF),
                }
            }
            FileReq::Write { sym, .. } if mode.writes() => {
                let reader = self.end_open(file, false);
                match self.files.get_mut(&file) {
                    Some(f) => unix::pipe_write(&mut f.data, reader, sym),
                    None => Err(Errno::EBADF),
                }
            }
            FileReq::Lseek { .. } | FileReq::LseekCur { .. } => Err(Errno::ESPIPE),
            _ => Err(Errno::EBADF),
        };
        FileResp::Done {
            outcome,
            pos,
            local: false,
            refresh: None,
        }
    }
}
