//! The invariant catalogue. The IDs are stable: the spec's headings, the model's property
//! names, the proofs' file names, the tests and every report use them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum InvariantId {
    TR,
    DEL,
    CONS,
    CACHE,
    OFF,
    MEM,
    PID,
    SIG,
    WAIT,
    TIME,
    HOME,
    RES,
    EVICT,
    LIVE,
    REFUSE,
    FAIL,
}

impl InvariantId {
    pub const ALL: [InvariantId; 16] = [
        InvariantId::TR,
        InvariantId::DEL,
        InvariantId::CONS,
        InvariantId::CACHE,
        InvariantId::OFF,
        InvariantId::MEM,
        InvariantId::PID,
        InvariantId::SIG,
        InvariantId::WAIT,
        InvariantId::TIME,
        InvariantId::HOME,
        InvariantId::RES,
        InvariantId::EVICT,
        InvariantId::LIVE,
        InvariantId::REFUSE,
        InvariantId::FAIL,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvariantId::TR => "TR",
            InvariantId::DEL => "DEL",
            InvariantId::CONS => "CONS",
            InvariantId::CACHE => "CACHE",
            InvariantId::OFF => "OFF",
            InvariantId::MEM => "MEM",
            InvariantId::PID => "PID",
            InvariantId::SIG => "SIG",
            InvariantId::WAIT => "WAIT",
            InvariantId::TIME => "TIME",
            InvariantId::HOME => "HOME",
            InvariantId::RES => "RES",
            InvariantId::EVICT => "EVICT",
            InvariantId::LIVE => "LIVE",
            InvariantId::REFUSE => "REFUSE",
            InvariantId::FAIL => "FAIL",
        }
    }

    /// One line: what the invariant demands (the catalogue of specs/invariants.md, in
    /// short).
    pub fn statement(self) -> &'static str {
        match self {
            InvariantId::TR => {
                "every operation returns what one Unix machine without migration returns"
            }
            InvariantId::DEL => {
                "an unlinked file lives until its last close anywhere, then is reclaimed"
            }
            InvariantId::CONS => {
                "a read returns the bytes of the latest completed write, on any hosts"
            }
            InvariantId::CACHE => {
                "write-shared files are cached by no host using them; moving the only user keeps caching on"
            }
            InvariantId::OFF => "processes sharing a stream see one access position, on any hosts",
            InvariantId::MEM => {
                "memory reads return the latest writes across migrations and evictions"
            }
            InvariantId::PID => {
                "pids are unique and never change; a remote fork's child gets its pid from home"
            }
            InvariantId::SIG => "a signal reaches its process exactly once, also mid-migration",
            InvariantId::WAIT => "wait returns each child's status exactly once; no zombie remains",
            InvariantId::TIME => "the time a process reads never goes backwards",
            InvariantId::HOME => {
                "the home knows where each process is, or between which two hosts it moves"
            }
            InvariantId::RES => "a host a process has left (other than home) holds no state for it",
            InvariantId::EVICT => {
                "after the owner returns, foreign processes leave within bounded steps"
            }
            InvariantId::LIVE => {
                "every migration completes or aborts within a bounded number of steps"
            }
            InvariantId::REFUSE => {
                "a migration that must be refused is, and the process is untouched"
            }
            InvariantId::FAIL => "a crash kills exactly the processes whose home or host it was",
        }
    }

    /// The invariant, besides TR, that a wrong result of `op` speaks to (the model and the
    /// conformance harness both classify mismatches this way); TR itself for the calls no
    /// other invariant covers (getpgrp, setpgid).
    pub fn of_result(op: &crate::Op) -> InvariantId {
        use crate::Op;
        match op {
            Op::Read { .. } | Op::Write { .. } | Op::Open { .. } | Op::Stat { .. } => {
                InvariantId::CONS
            }
            Op::Lseek { .. } | Op::LseekCur { .. } => InvariantId::OFF,
            Op::Close { .. } | Op::Unlink { .. } | Op::Dup { .. } => InvariantId::DEL,
            Op::MemRead { .. } | Op::MemWrite { .. } | Op::Exec { .. } => InvariantId::MEM,
            Op::Fork | Op::Getpid => InvariantId::PID,
            Op::Wait | Op::Exit { .. } => InvariantId::WAIT,
            Op::Kill { .. } => InvariantId::SIG,
            Op::Gettimeofday => InvariantId::TIME,
            Op::Migrate { .. } => InvariantId::REFUSE,
            // A pipe's result depends on which ends are still open anywhere (EOF, EPIPE)
            // and on its reclamation: deferred deletion's concern.
            Op::Pipe => InvariantId::DEL,
            Op::Killpg { .. } => InvariantId::SIG,
            Op::Getpgrp | Op::Setpgid { .. } => InvariantId::TR,
        }
    }

    /// A bit for compact sets of IDs.
    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for InvariantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvariantId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InvariantId::ALL
            .into_iter()
            .find(|id| id.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown invariant `{s}`"))
    }
}
