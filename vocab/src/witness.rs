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
    /// Host `host`'s dirty blocks of file `file` (the file's number, the model's inode)
    /// reached the server outside the model step they belong to: a migration's BLOCK_FLUSH
    /// arrived, or the host sent them back in a STREAM_RELEASE_REPLY or in the reply to a
    /// callback (BLOCK_RECALL, CACHE_DISABLE); or the server took a write to a file that
    /// clients may cache (after the write's `Run`). The model's delayed write-back of the file
    /// (its `WRITE_BACK` step), so that a write-back stays done when a crash then cuts the
    /// migration, exchange or call short.
    WriteBack { host: HostId, file: u8 },
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
            Witness::WriteBack { host, file } => write!(f, "WRITE_BACK f{file} from {host}"),
        }
    }
}

/// When an event of a scenario file happens, if not between steps: right after the
/// implementation performs a model step of one process (`after = "MIG_STATE p0.0"`), or
/// right after a process's next operation has started, before it completes (`after =
/// "start p0.1"`). The first such moment counts, from the point the event's step is
/// reached in the file. The vocabulary is the witnesses' (the model's step names), so an
/// event can be put inside a migration at any of its steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Trigger {
    pub step: TriggerStep,
    pub pid: Pid,
}

/// The moments a [`Trigger`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TriggerStep {
    /// The process's next operation starts (it is then in progress).
    Start,
    /// The process's current operation takes effect (`run p`).
    Run,
    MigInit,
    MigState,
    /// Any of the process's streams moves to the target.
    StreamMove,
    HomeUpdate,
    Resume,
    /// A signal reaches the process.
    Signal,
}

impl TriggerStep {
    /// Each moment with the word that names it.
    pub const ALL: [(TriggerStep, &'static str); 8] = [
        (TriggerStep::Start, "start"),
        (TriggerStep::Run, "run"),
        (TriggerStep::MigInit, "MIG_INIT"),
        (TriggerStep::MigState, "MIG_STATE"),
        (TriggerStep::StreamMove, "STREAM_MOVE"),
        (TriggerStep::HomeUpdate, "HOME_UPDATE"),
        (TriggerStep::Resume, "RESUME"),
        (TriggerStep::Signal, "SIGNAL"),
    ];

    pub fn name(self) -> &'static str {
        TriggerStep::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("?", |(_, n)| n)
    }
}

impl Trigger {
    /// Whether the model step `w` is this moment (`Start` is not a model step: the
    /// simulator's starting of an operation is matched by its caller).
    pub fn is_witnessed_by(&self, w: &Witness) -> bool {
        let (step, pid) = match *w {
            Witness::Run(p) => (TriggerStep::Run, p),
            Witness::MigInit(p) => (TriggerStep::MigInit, p),
            Witness::MigState(p) => (TriggerStep::MigState, p),
            Witness::StreamMoved { pid, .. } => (TriggerStep::StreamMove, pid),
            Witness::HomeUpdate(p) => (TriggerStep::HomeUpdate, p),
            Witness::Resume(p) => (TriggerStep::Resume, p),
            Witness::Signal { pid, .. } => (TriggerStep::Signal, pid),
            // A host's write-back is no process's moment.
            Witness::WriteBack { .. } => return false,
        };
        step == self.step && pid == self.pid
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.step.name(), self.pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_match_their_witness_only() {
        let p = Pid::new(0, 0);
        let q = Pid::new(1, 0);
        let t = Trigger {
            step: TriggerStep::StreamMove,
            pid: p,
        };
        assert!(t.is_witnessed_by(&Witness::StreamMoved {
            pid: p,
            stream: StreamId(3)
        }));
        assert!(!t.is_witnessed_by(&Witness::StreamMoved {
            pid: q,
            stream: StreamId(3)
        }));
        assert!(!t.is_witnessed_by(&Witness::MigState(p)));
        let start = Trigger {
            step: TriggerStep::Start,
            pid: p,
        };
        assert!(!start.is_witnessed_by(&Witness::Run(p)));
        assert_eq!(t.to_string(), "STREAM_MOVE p0.0");
    }
}
