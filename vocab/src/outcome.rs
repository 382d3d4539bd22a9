//! What an operation returns: a value or a Unix-like error. A refused migration is an
//! error that names its reason (REFUSE).

use crate::ids::{Fd, Pid};
use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A successful result.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub enum Value {
    Unit,
    Fd(Fd),
    /// A symbol read from a file, or `None` at end of file.
    Data(Option<u8>),
    /// A page's contents.
    Mem(u8),
    /// A position (lseek).
    Pos(u8),
    /// A file's size in symbols (stat).
    Size(u8),
    /// getpid, and fork in the parent (the child's pid).
    Pid(Pid),
    /// gettimeofday: the home's clock reading.
    Time(u32),
    /// wait: which child exited and its status.
    Child {
        pid: Pid,
        status: u8,
    },
    /// pipe: the two new descriptors, read end and write end.
    Pipe {
        read: Fd,
        write: Fd,
    },
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unit => write!(f, "ok"),
            Value::Fd(fd) => write!(f, "{fd}"),
            Value::Data(Some(s)) => write!(f, "data {s}"),
            Value::Data(None) => write!(f, "EOF"),
            Value::Mem(s) => write!(f, "mem {s}"),
            Value::Pos(p) => write!(f, "pos {p}"),
            Value::Size(n) => write!(f, "size {n}"),
            Value::Pid(p) => write!(f, "{p}"),
            Value::Time(t) => write!(f, "time {t}"),
            Value::Child { pid, status } => write!(f, "child {pid} status {status}"),
            Value::Pipe { read, write } => write!(f, "pipe {read} {write}"),
        }
    }
}

/// Unix-like errors.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub enum Errno {
    /// No such file.
    ENOENT,
    /// Not an open descriptor, or opened without the needed access.
    EBADF,
    /// wait with no children.
    ECHILD,
    /// No such process.
    ESRCH,
    /// Bad argument (for example a page number out of range).
    EINVAL,
    /// The write would make the file longer than the model's bound.
    EFBIG,
    /// Too many open descriptors.
    EMFILE,
    /// Could not create a process (pid space of the home exhausted); or, on a
    /// non-blocking pipe, nothing to read while a writer remains, or no room to write.
    EAGAIN,
    /// The migration was refused; the process continues where it was (REFUSE).
    Refused(Refusal),
    /// Write to a pipe no process can read from any more.
    EPIPE,
    /// lseek on a pipe.
    ESPIPE,
    /// setpgid to a group the caller may not join.
    EPERM,
}

/// Why a migration was refused (SPE "Mechanics of Migration"; TH §4.2, §8.4).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub enum Refusal {
    /// The process shares writable memory with another process.
    SharedMemory,
    /// The process maps a device (for example a frame buffer).
    MapsDevice,
    /// The target host is down.
    HostDown,
    /// The target's owner is present, or it already runs a foreign job.
    HostBusy,
    /// The target runs a kernel with another migration version number.
    VersionMismatch,
    /// A foreign process may only go home (it cannot go straight to a third host).
    NotHome,
    /// The process is already on the target.
    SameHost,
    /// No such host in the cluster.
    UnknownHost,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Refusal::SharedMemory => "shares writable memory",
            Refusal::MapsDevice => "maps a device",
            Refusal::HostDown => "target host is down",
            Refusal::HostBusy => "target host is busy",
            Refusal::VersionMismatch => "target runs another migration version",
            Refusal::NotHome => "a foreign process may only migrate home",
            Refusal::SameHost => "already on that host",
            Refusal::UnknownHost => "no such host",
        };
        f.write_str(s)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Errno::Refused(r) => write!(f, "migration refused: {r}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The result of one operation.
pub type Outcome = Result<Value, Errno>;

/// TR's comparison of a cluster's result with what one Unix machine returned: equal,
/// except what TR leaves to other invariants: the values of gettimeofday (TIME compares
/// their order per process; clocks differ by design) and refusals of operations that move
/// a process (REFUSE; see [`crate::Op::moves`]).
pub fn transparent(op: &crate::Op, got: &Outcome, one_machine: &Outcome) -> bool {
    match (op, got, one_machine) {
        (crate::Op::Gettimeofday, Ok(Value::Time(_)), Ok(Value::Time(_))) => true,
        (_, Err(Errno::Refused(_)), _) => op.moves(),
        _ => got == one_machine,
    }
}

/// Formats an outcome the way traces print it.
pub fn show(outcome: &Outcome) -> String {
    match outcome {
        Ok(v) => v.to_string(),
        Err(e) => e.to_string(),
    }
}
