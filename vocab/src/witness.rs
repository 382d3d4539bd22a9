//! Refinement witnesses: the model step an implementation step performs.
//!
//! The implementation is a refinement of the model: each of its steps (a message handled,
//! an operation started) either changes nothing the model defines, or performs one or more
//! of the model's atomic steps. A witness names that step in the shared vocabulary, at the
//! point in the implementation where the step's outcome is *decided* (its linearisation
//! point: the server answering a read, the server granting a moved stream, the home
//! recording a move), so that the conformance harness can apply exactly that step to the
//! model and compare, instead of searching for one.
//!
//! What a witness does not carry the model supplies: the operation a `Run` performs is the
//! next one of the process's script, and a migration's step kind is checked against the one
//! the model's migration record says comes next.
//!
//! The steps of Sprite's design only: the rejected designs' own steps (notify-target-first's
//! late release, reopen-files' close and reopen, no-vm-flush's late page flush) have no
//! witness, because the conformance harness runs a rejected design only in the
//! implementation, against Sprite's model, where any of its steps is a mismatch.

use crate::{HostId, Pid, StreamId};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Witness {
    /// The process's current operation takes effect (its result is decided here).
    Run(Pid),
    /// MIG_INIT answered and known to the source (the home told, on acceptance), or the
    /// source learned that the target is down.
    MigInit(Pid),
    /// The process's state leaves the source for the target (after any flushes).
    MigState(Pid),
    /// A stream of the process changed hands: the server granted it to the target, every
    /// holder released (the three-party exchange's end, where cacheability and the
    /// position's place are decided). Each of the process's descriptors on the stream
    /// moves. The server knows streams, not descriptors: the harness finds them (stream
    /// numbers are the same on both sides).
    StreamMoved { pid: Pid, stream: StreamId },
    /// The home recorded the process's new host.
    HomeUpdate(Pid),
    /// The process runs on the target.
    Resume(Pid),
    /// A signal reached `pid` on host `to` (it is delivered: its route, bounced or held on
    /// the way, may differ from the model's, which takes the hops it needs).
    Signal { pid: Pid, to: HostId },
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Witness::Run(p) => write!(f, "run {p}"),
            Witness::MigInit(p) => write!(f, "MIG_INIT {p}"),
            Witness::MigState(p) => write!(f, "MIG_STATE {p}"),
            Witness::StreamMoved { pid, stream } => write!(f, "STREAM_MOVE {pid} {stream}"),
            Witness::HomeUpdate(p) => write!(f, "HOME_UPDATE {p}"),
            Witness::Resume(p) => write!(f, "RESUME {p}"),
            Witness::Signal { pid, to } => write!(f, "SIGNAL {pid} delivered on {to}"),
        }
    }
}
