//! Refinement witnesses: the model step an implementation step performs.
//!
//! The implementation is a refinement of the model: each of its steps (a message handled,
//! an operation started) either changes nothing the model defines, or performs one or more
//! of the model's atomic steps. A witness names that step in the shared vocabulary, at the
//! point in the implementation where the step's outcome is *decided* (its linearisation
//! point: the server handling a read, the source releasing a stream, the home recording a
//! move), so that the conformance harness can apply exactly that step to the model and
//! compare, instead of searching for one.
//!
//! What a witness does not carry the model supplies: the operation a `Run` performs is the
//! next one of the process's script, and a migration's step kind is checked against the one
//! the model's migration record says comes next.

use crate::{Fd, HostId, PageNo, Pid, StreamId};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Witness {
    /// The process's current operation takes effect (its result is decided here).
    Run(Pid),
    /// MIG_INIT answered and known to the source (the home told, on acceptance).
    MigInit(Pid),
    /// The process's state leaves the source for the target (after any flushes).
    MigState(Pid),
    /// A stream of the process changed hands: the server granted it to the target, every
    /// holder released (the three-party exchange's end, where cacheability and the
    /// position's place are decided). Each of the process's descriptors on the stream
    /// moves. The server knows streams, not descriptors: the harness finds them (stream
    /// numbers are the same on both sides).
    StreamMoved { pid: Pid, stream: StreamId },
    /// notify-target-first, step 1: the server registered the target.
    StreamRegister(Pid, Fd),
    /// notify-target-first, step 2: the source released late.
    StreamRelease(Pid, Fd),
    /// reopen-files, step 1: the source closed the stream.
    StreamClose(Pid, Fd),
    /// reopen-files, step 2: the target opened the file again.
    StreamReopen(Pid, Fd),
    /// The home recorded the process's new host.
    HomeUpdate(Pid),
    /// The process runs on the target.
    Resume(Pid),
    /// A signal for `pid` arrived at host `to` (delivered there, or sent on from there).
    Signal { pid: Pid, to: HostId },
    /// A PAGE_FLUSH sent without waiting (no-vm-flush) reached the backing file.
    FlushArrives(Pid, PageNo),
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Witness::Run(p) => write!(f, "run {p}"),
            Witness::MigInit(p) => write!(f, "MIG_INIT {p}"),
            Witness::MigState(p) => write!(f, "MIG_STATE {p}"),
            Witness::StreamMoved { pid, stream } => write!(f, "STREAM_MOVE {pid} {stream}"),
            Witness::StreamRegister(p, fd) => write!(f, "STREAM_MOVE {p} {fd} (register first)"),
            Witness::StreamRelease(p, fd) => write!(f, "STREAM_RELEASE {p} {fd} (late)"),
            Witness::StreamClose(p, fd) => write!(f, "close {p} {fd} on source (reopen-files)"),
            Witness::StreamReopen(p, fd) => write!(f, "reopen {p} {fd} on target (reopen-files)"),
            Witness::HomeUpdate(p) => write!(f, "HOME_UPDATE {p}"),
            Witness::Resume(p) => write!(f, "RESUME {p}"),
            Witness::Signal { pid, to } => write!(f, "SIGNAL {pid} arrives at {to}"),
            Witness::FlushArrives(p, pg) => write!(f, "PAGE_FLUSH {p} {pg} arrives"),
        }
    }
}
