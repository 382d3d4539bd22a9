//! Pipes. In Sprite a pipe is an object of the file system [TH §3.2; SPE "Migrating Open
//! Files"]: the file server keeps it, its two ends are streams with references counted per
//! host, and a migrating process's ends move with the same three-party exchange as a
//! file's. Here a pipe is a server file marked in `Server::pipes`, never linked (so the
//! rule that reclaims an unlinked file at its last close reclaims the pipe once both ends
//! are closed everywhere: DEL) and never cacheable (every read and write is a FILE_OP at
//! the server, whichever hosts the ends are on). Reads and writes follow the one-machine
//! Unix's definition (`unix::pipe_read`, `unix::pipe_write`) on the server's copy.

use crate::ctx::Ctx;
use crate::log::Actor;
use crate::state::File;
use unix::Ino;
use vocab::{Errno, Fd, HostId, Mode, Outcome, Pid, StreamId, Value};

const FS: Actor = Actor::Server;

impl Ctx<'_> {
    pub fn is_pipe(&self, ino: Ino) -> bool {
        self.s.server.pipes.contains(&ino)
    }

    /// Whether some stream of the pipe is open for writing (`writes`) or reading, on any
    /// host: the server knows every stream that a descriptor anywhere refers to.
    fn pipe_end_open(&self, ino: Ino, writes: bool) -> bool {
        self.s.server.streams.values().any(|st| {
            st.ino == ino
                && if writes {
                    st.mode.writes()
                } else {
                    st.mode.reads()
                }
        })
    }

    /// pipe(2) for a process on `h`: the server makes the pipe and its two streams; the
    /// process gets the two smallest free descriptors, the read end first.
    pub fn pipe(&mut self, pid: Pid, h: HostId) -> Outcome {
        if self.s.procs[&pid].fds.len() + 2 > unix::MAX_FDS as usize {
            return Err(Errno::EMFILE);
        }
        let ino = crate::files::smallest_free_ino(self.s.server.files.keys().copied());
        self.s.server.files.insert(
            ino,
            File {
                data: vocab::small::Bytes::new(),
                linked: false,
                cacheable: false,
                version: 0,
                last_writer: None,
            },
        );
        self.s.server.pipes.insert(ino);
        self.log
            .msg(Actor::Host(h), FS, || format!("FILE_OP pipe -> {ino}"));
        let mut ends = [Fd(0); 2];
        for (end, mode) in ends.iter_mut().zip([Mode::Read, Mode::Write]) {
            let (fd, sid) = self.new_descriptor(pid)?;
            self.register(h, sid, ino, mode, None, false);
            *end = fd;
        }
        Ok(Value::Pipe {
            read: ends[0],
            write: ends[1],
        })
    }

    /// A read of a pipe's read end, at the server (FILE_OP from whichever host reads).
    pub fn pipe_read(&mut self, h: HostId, sid: StreamId, ino: Ino) -> Outcome {
        self.log.msg(Actor::Host(h), FS, || {
            format!("FILE_OP read {sid} (pipe {ino})")
        });
        let writer = self.pipe_end_open(ino, true);
        let data = &mut self.s.server.files.get_mut(&ino).expect("open pipe").data;
        unix::pipe_read(data, writer)
    }

    /// A write to a pipe's write end, at the server.
    pub fn pipe_write(&mut self, h: HostId, sid: StreamId, ino: Ino, sym: u8) -> Outcome {
        self.log.msg(Actor::Host(h), FS, || {
            format!("FILE_OP write {sid} (pipe {ino})")
        });
        let reader = self.pipe_end_open(ino, false);
        let data = &mut self.s.server.files.get_mut(&ino).expect("open pipe").data;
        unix::pipe_write(data, reader, sym)
    }
}
