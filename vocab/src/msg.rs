//! The names of the messages hosts exchange. The model's actions, the implementation's
//! typed messages, the traces and the spec's sequence diagrams use these names.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MsgKind {
    /// Source asks the target whether it will take the process (alive, idle, same version).
    MigInit,
    /// The target's answer: a new foreign PCB, or a refusal.
    MigInitReply,
    /// Source tells the home the process is moving between two named hosts.
    MigStart,
    /// Dirty pages written to the process's backing file on the file server.
    PageFlush,
    /// Dirty file blocks written back to their server.
    BlockFlush,
    /// The packed module state (process, VM, files, signals, exec arguments) in one RPC.
    MigState,
    /// Target tells a stream's I/O server the stream now lives on the target (3-party, 1/3).
    StreamMove,
    /// Inside that call, the server calls the source back to release its reference (2/3).
    StreamRelease,
    /// The source's answer: access position, and whether the source still uses the stream (3/3).
    StreamReleaseReply,
    /// The home learns the new location.
    HomeUpdate,
    /// The target resumes the process; the source drops what it held.
    Resume,
    /// A migration that could not finish is undone.
    MigAbort,
    /// A signal, from the sender's kernel to the home, and from the home to the current host.
    Signal,
    /// A call forwarded to the home (gettimeofday, getpgrp, ...).
    Forward,
    /// A remote fork asks the home for the child's pid.
    ForkPid,
    /// A process's exit reported to the home's rendezvous.
    ExitNotice,
    /// wait handled at the home's rendezvous.
    WaitRequest,
    /// Page read from the backing file (demand paging) or from the source (copy-on-reference).
    PageIn,
    /// Server recalls dirty blocks from the last writer (sequential write-sharing).
    BlockRecall,
    /// Server tells clients to stop caching a file (concurrent write-sharing).
    CacheDisable,
    /// File operation sent to the server: open, close, unlink, uncached read and write.
    FileOp,
    /// A dead process reported to its home after a crash.
    DeathNotice,
    /// A host's load daemon tells migd whether the host accepts foreign work, with its
    /// load averages and time since the last input: every 60 s, and at once when that
    /// changes (SPE "Selecting Idle Hosts"; TH §6.3.2).
    LoadReport,
    /// A client (pmake, mig) opens its connection to migd: in Sprite, an open of migd's
    /// pseudo-device (TH §6.3.2, step 1).
    MigdOpen,
    /// A client asks migd for one idle host (Sprite: an ioctl on the pseudo-device).
    HostRequest,
    /// migd's answer to a request: the longest-idle free host, one that fairness took
    /// from a client holding more than its share, or none.
    HostGrant,
    /// A client hands one host back while keeping its connection.
    HostRelease,
    /// A client closes its connection (explicitly, or because it exited): every host it
    /// still holds goes back to the pool (TH §6.3.2).
    MigdClose,
    /// migd tells a client that a host it held was taken back: the owner returned, the
    /// host went down, or fairness gave it to another client.
    HostReclaim,
    /// migd asks a host's load daemon to evict its foreign processes because the host was
    /// reclaimed for fairness ("just as if the user returned", TH §7.2.2).
    HostEvict,
    /// migd tells a client it turned away that a host became free, so that it may ask
    /// again (TH §7.2.2: the server notifies clients when a new host becomes available).
    HostAvailable,
    /// The `local-pids` alternative: a host that created and named a child tells the
    /// parent's home of it, so that the parent's wait knows it has one.
    ChildNotice,
    /// The `wait-on-current` alternative, in the implementation: the parent's host tells
    /// the child's home that the child's exit status was collected, so that the home frees
    /// the pid it kept for it. (The model frees it at the collection itself.)
    Reaped,
}

impl MsgKind {
    /// Every kind, in declaration order (`ALL[k as usize] == k`).
    pub const ALL: [MsgKind; 33] = [
        MsgKind::MigInit,
        MsgKind::MigInitReply,
        MsgKind::MigStart,
        MsgKind::PageFlush,
        MsgKind::BlockFlush,
        MsgKind::MigState,
        MsgKind::StreamMove,
        MsgKind::StreamRelease,
        MsgKind::StreamReleaseReply,
        MsgKind::HomeUpdate,
        MsgKind::Resume,
        MsgKind::MigAbort,
        MsgKind::Signal,
        MsgKind::Forward,
        MsgKind::ForkPid,
        MsgKind::ExitNotice,
        MsgKind::WaitRequest,
        MsgKind::PageIn,
        MsgKind::BlockRecall,
        MsgKind::CacheDisable,
        MsgKind::FileOp,
        MsgKind::DeathNotice,
        MsgKind::LoadReport,
        MsgKind::MigdOpen,
        MsgKind::HostRequest,
        MsgKind::HostGrant,
        MsgKind::HostRelease,
        MsgKind::MigdClose,
        MsgKind::HostReclaim,
        MsgKind::HostEvict,
        MsgKind::HostAvailable,
        MsgKind::ChildNotice,
        MsgKind::Reaped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MsgKind::MigInit => "MIG_INIT",
            MsgKind::MigInitReply => "MIG_INIT_REPLY",
            MsgKind::MigStart => "MIG_START",
            MsgKind::PageFlush => "PAGE_FLUSH",
            MsgKind::BlockFlush => "BLOCK_FLUSH",
            MsgKind::MigState => "MIG_STATE",
            MsgKind::StreamMove => "STREAM_MOVE",
            MsgKind::StreamRelease => "STREAM_RELEASE",
            MsgKind::StreamReleaseReply => "STREAM_RELEASE_REPLY",
            MsgKind::HomeUpdate => "HOME_UPDATE",
            MsgKind::Resume => "RESUME",
            MsgKind::MigAbort => "MIG_ABORT",
            MsgKind::Signal => "SIGNAL",
            MsgKind::Forward => "FORWARD",
            MsgKind::ForkPid => "FORK_PID",
            MsgKind::ExitNotice => "EXIT_NOTICE",
            MsgKind::WaitRequest => "WAIT_REQUEST",
            MsgKind::PageIn => "PAGE_IN",
            MsgKind::BlockRecall => "BLOCK_RECALL",
            MsgKind::CacheDisable => "CACHE_DISABLE",
            MsgKind::FileOp => "FILE_OP",
            MsgKind::DeathNotice => "DEATH_NOTICE",
            MsgKind::LoadReport => "LOAD_REPORT",
            MsgKind::MigdOpen => "MIGD_OPEN",
            MsgKind::HostRequest => "HOST_REQUEST",
            MsgKind::HostGrant => "HOST_GRANT",
            MsgKind::HostRelease => "HOST_RELEASE",
            MsgKind::MigdClose => "MIGD_CLOSE",
            MsgKind::HostReclaim => "HOST_RECLAIM",
            MsgKind::HostEvict => "HOST_EVICT",
            MsgKind::HostAvailable => "HOST_AVAILABLE",
            MsgKind::ChildNotice => "CHILD_NOTICE",
            MsgKind::Reaped => "REAPED",
        }
    }
}

impl fmt::Display for MsgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a kernel call is handled for a process running away from home (TH §4.3,
/// Appendix A). The spec lists this table (specs/kernel-calls.md, with the calls where the
/// project departs from the appendix); model and implementation both follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Disposition {
    /// Handled on the current host (location-independent or transferred state).
    Local,
    /// Forwarded to a home and handled there: the caller's (`gettimeofday`, `getpgrp`), the
    /// target's (`kill`) or the group's (`killpg`).
    Home,
    /// Handled jointly by the current host and the home (`fork`, `exit`, `wait`; `setpgid`,
    /// which changes the home's record and the PCB's copy of the group).
    Joint,
    /// Handled by the migration machinery itself: `migrate`, and `exec` with a target host
    /// (an exec-time migration).
    Migration,
}

/// The disposition of each operation.
pub fn disposition(op: &crate::Op) -> Disposition {
    use crate::Op;
    match op {
        Op::Open { .. }
        | Op::Read { .. }
        | Op::Write { .. }
        | Op::Lseek { .. }
        | Op::LseekCur { .. }
        | Op::Close { .. }
        | Op::Unlink { .. }
        | Op::Stat { .. }
        | Op::Dup { .. }
        | Op::Getpid
        | Op::MemRead { .. }
        | Op::MemWrite { .. }
        | Op::Pipe => Disposition::Local,
        Op::Gettimeofday | Op::Kill { .. } | Op::Getpgrp | Op::Killpg { .. } => Disposition::Home,
        // Sprite's execve is joint (the home records the program's name, TH App. A); the
        // project has no program names, so a plain exec involves only the current host.
        Op::Exec { target: None } => Disposition::Local,
        Op::Fork | Op::Exit { .. } | Op::Wait | Op::Setpgid { .. } => Disposition::Joint,
        Op::Migrate { .. } | Op::Exec { target: Some(_) } => Disposition::Migration,
    }
}

#[cfg(test)]
mod tests {
    use super::MsgKind;

    #[test]
    fn all_lists_every_kind_once_in_order() {
        for (i, k) in MsgKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k}");
        }
        // The last variant closes the list: a kind added after it makes this fail.
        assert_eq!(MsgKind::ALL.len(), MsgKind::Reaped as usize + 1);
    }
}
