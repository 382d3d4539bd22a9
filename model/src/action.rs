//! The model's actions: one scripted operation of a process, one step of a migration's
//! message sequence, one message delivery, or one cluster event.

use std::fmt;
use unix::Ino;
use vocab::{ClusterEvent, Fd, HostId, Op, PageNo, Pid};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// The process performs an operation: the next of its script, or one of its alphabet.
    Run(Pid, Op),
    /// MIG_INIT / MIG_INIT_REPLY: the source asks the target; on acceptance MIG_START
    /// tells the home the process is moving.
    MigInit(Pid),
    /// PAGE_FLUSH, BLOCK_FLUSH and MIG_STATE: the state moves to the target.
    MigState(Pid),
    /// STREAM_MOVE / STREAM_RELEASE / STREAM_RELEASE_REPLY for one descriptor: the
    /// three-party exchange, atomic because the server's callback runs inside the call.
    StreamMove(Pid, Fd),
    /// notify-target-first, step 1: the target registers the stream with the server.
    StreamRegister(Pid, Fd),
    /// notify-target-first, step 2: the source releases it.
    StreamRelease(Pid, Fd),
    /// reopen-files, step 1: the source closes the stream.
    StreamClose(Pid, Fd),
    /// reopen-files, step 2: the target opens the file again.
    StreamReopen(Pid, Fd),
    /// HOME_UPDATE: the home records the new host and forwards held signals.
    HomeUpdate(Pid),
    /// RESUME: the process runs on the target; the source forgets it.
    Resume(Pid),
    /// A SIGNAL message arrives at a host.
    DeliverSignal {
        pid: Pid,
        to: HostId,
        direct: bool,
    },
    /// Under wait-on-current: a child's EXIT_NOTICE arrives at the host it was sent to.
    ExitNoticeArrives {
        child: Pid,
        to: HostId,
    },
    /// A PAGE_FLUSH sent without waiting (no-vm-flush) reaches the backing file.
    FlushArrives(Pid, PageNo),
    /// A delayed write-back (`Config::delayed_writes`): the host writes its dirty blocks of
    /// the file back to the server.
    WriteBack(HostId, Ino),
    Event(ClusterEvent),
}

impl Action {
    /// The process whose migration this step belongs to, if it is a migration step.
    pub fn migration_of(&self) -> Option<Pid> {
        match *self {
            Action::MigInit(p)
            | Action::MigState(p)
            | Action::StreamMove(p, _)
            | Action::StreamRegister(p, _)
            | Action::StreamRelease(p, _)
            | Action::StreamClose(p, _)
            | Action::StreamReopen(p, _)
            | Action::HomeUpdate(p)
            | Action::Resume(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Run(p, op) => write!(f, "{p}: {op}"),
            Action::MigInit(p) => write!(f, "MIG_INIT {p}"),
            Action::MigState(p) => write!(f, "MIG_STATE {p}"),
            Action::StreamMove(p, fd) => write!(f, "STREAM_MOVE {p} {fd}"),
            Action::StreamRegister(p, fd) => write!(f, "STREAM_MOVE {p} {fd} (register first)"),
            Action::StreamRelease(p, fd) => write!(f, "STREAM_RELEASE {p} {fd} (late)"),
            Action::StreamClose(p, fd) => write!(f, "close {p} {fd} on source (reopen-files)"),
            Action::StreamReopen(p, fd) => write!(f, "reopen {p} {fd} on target (reopen-files)"),
            Action::HomeUpdate(p) => write!(f, "HOME_UPDATE {p}"),
            Action::Resume(p) => write!(f, "RESUME {p}"),
            Action::DeliverSignal { pid, to, .. } => write!(f, "SIGNAL {pid} arrives at {to}"),
            Action::ExitNoticeArrives { child, to } => {
                write!(f, "EXIT_NOTICE {child} arrives at {to}")
            }
            Action::FlushArrives(p, pg) => write!(f, "PAGE_FLUSH {p} {pg} arrives"),
            Action::WriteBack(h, ino) => write!(f, "WRITE_BACK {ino} from {h}"),
            Action::Event(e) => write!(f, "{e}"),
        }
    }
}
