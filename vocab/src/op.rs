//! The operations a process performs. Each is a Unix system call (or a memory access), plus
//! `Migrate`, Sprite's call to move a process.

use crate::ids::{Fd, FileName, HostId, PageNo, Pid};
use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a stream was opened.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub enum Mode {
    Read,
    Write,
    ReadWrite,
}

impl Mode {
    pub fn reads(self) -> bool {
        matches!(self, Mode::Read | Mode::ReadWrite)
    }
    pub fn writes(self) -> bool {
        matches!(self, Mode::Write | Mode::ReadWrite)
    }
}

/// One operation of a process. Data are single symbols (a byte), so that a model state
/// stays small; a file is at most [`crate::MAX_FILE_LEN`] symbols long.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub enum Op {
    /// Open a file by name; with `create`, make it if it does not exist.
    Open {
        name: FileName,
        mode: Mode,
        create: bool,
    },
    /// Read one symbol at the stream's access position and advance it.
    Read {
        fd: Fd,
    },
    /// Write one symbol at the stream's access position and advance it.
    Write {
        fd: Fd,
        sym: u8,
    },
    /// Set the access position.
    Lseek {
        fd: Fd,
        pos: u8,
    },
    /// Move the access position by `delta` from where it is (`lseek(fd, delta, SEEK_CUR)`)
    /// and return it: `delta` 0 reads the position. Where a shared stream's position lives
    /// on the server, so does this (OFF).
    LseekCur {
        fd: Fd,
        delta: i8,
    },
    Close {
        fd: Fd,
    },
    /// Remove the name. The file lives on while any process holds it open (DEL).
    Unlink {
        name: FileName,
    },
    /// The size of the file the name names (`stat`): the length of its latest contents,
    /// wherever they are cached ([`crate::Value::Size`]).
    Stat {
        name: FileName,
    },
    /// A second descriptor for the same stream (shared access position).
    Dup {
        fd: Fd,
    },
    /// A child with a copy of the memory, sharing every open stream.
    Fork,
    /// Replace the program (the memory is cleared); optionally run it on another host:
    /// Sprite's exec-time migration (TH §4.2).
    Exec {
        target: Option<HostId>,
    },
    Exit {
        status: u8,
    },
    /// Wait for a child to exit; returns its pid and status.
    Wait,
    Getpid,
    Gettimeofday,
    /// Send a (counting) signal.
    Kill {
        pid: Pid,
    },
    MemRead {
        page: PageNo,
    },
    MemWrite {
        page: PageNo,
        sym: u8,
    },
    /// Move the calling process to `target` (Sprite's `migrate` call).
    Migrate {
        target: HostId,
    },
    /// Make an unnamed, non-blocking pipe: two new descriptors, the read end first
    /// ([`crate::Value::Pipe`]). Reads take the oldest symbol; a pipe holds at most
    /// [`crate::PIPE_CAPACITY`] symbols.
    Pipe,
    /// The caller's process group.
    Getpgrp,
    /// The caller joins process group `pgrp`: its own pid (it becomes a group leader), or a
    /// group some live process of the same home belongs to.
    Setpgid {
        pgrp: Pid,
    },
    /// Send one (counting) signal to every live member of process group `pgrp`.
    Killpg {
        pgrp: Pid,
    },
}

impl Op {
    /// Whether the operation asks to move the process: `migrate`, or `exec` on a named
    /// host. One Unix machine has no hosts and never refuses these; a cluster may, and a
    /// refused one must have had no effect at all (REFUSE), so the one-machine reference
    /// must not perform it either.
    pub fn moves(&self) -> bool {
        matches!(self, Op::Migrate { .. } | Op::Exec { target: Some(_) })
    }

    /// The operation's name, as the spec's call-disposition table lists it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Open { .. } => "open",
            Op::Read { .. } => "read",
            Op::Write { .. } => "write",
            Op::Lseek { .. } | Op::LseekCur { .. } => "lseek",
            Op::Close { .. } => "close",
            Op::Unlink { .. } => "unlink",
            Op::Stat { .. } => "stat",
            Op::Dup { .. } => "dup",
            Op::Fork => "fork",
            Op::Exec { .. } => "exec",
            Op::Exit { .. } => "exit",
            Op::Wait => "wait",
            Op::Getpid => "getpid",
            Op::Gettimeofday => "gettimeofday",
            Op::Kill { .. } => "kill",
            Op::MemRead { .. } => "memread",
            Op::MemWrite { .. } => "memwrite",
            Op::Migrate { .. } => "migrate",
            Op::Pipe => "pipe",
            Op::Getpgrp => "getpgrp",
            Op::Setpgid { .. } => "setpgid",
            Op::Killpg { .. } => "killpg",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Open { name, mode, create } => {
                let m = match mode {
                    Mode::Read => "r",
                    Mode::Write => "w",
                    Mode::ReadWrite => "rw",
                };
                write!(
                    f,
                    "open({name}, {m}{})",
                    if *create { ", create" } else { "" }
                )
            }
            Op::Read { fd } => write!(f, "read({fd})"),
            Op::Write { fd, sym } => write!(f, "write({fd}, {sym})"),
            Op::Lseek { fd, pos } => write!(f, "lseek({fd}, {pos})"),
            Op::LseekCur { fd, delta } => write!(f, "lseek({fd}, cur{delta:+})"),
            Op::Close { fd } => write!(f, "close({fd})"),
            Op::Unlink { name } => write!(f, "unlink({name})"),
            Op::Stat { name } => write!(f, "stat({name})"),
            Op::Dup { fd } => write!(f, "dup({fd})"),
            Op::Fork => write!(f, "fork()"),
            Op::Exec { target: None } => write!(f, "exec()"),
            Op::Exec { target: Some(h) } => write!(f, "exec(on {h})"),
            Op::Exit { status } => write!(f, "exit({status})"),
            Op::Wait => write!(f, "wait()"),
            Op::Getpid => write!(f, "getpid()"),
            Op::Gettimeofday => write!(f, "gettimeofday()"),
            Op::Kill { pid } => write!(f, "kill({pid})"),
            Op::MemRead { page } => write!(f, "memread({page})"),
            Op::MemWrite { page, sym } => write!(f, "memwrite({page}, {sym})"),
            Op::Migrate { target } => write!(f, "migrate(to {target})"),
            Op::Pipe => write!(f, "pipe()"),
            Op::Getpgrp => write!(f, "getpgrp()"),
            Op::Setpgid { pgrp } => write!(f, "setpgid({pgrp})"),
            Op::Killpg { pgrp } => write!(f, "killpg({pgrp})"),
        }
    }
}
