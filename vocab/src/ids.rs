//! Identifiers of hosts, processes, files, descriptors and pages.

use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A workstation (or the file server's host). Sprite numbers hosts; so do we.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub struct HostId(pub u8);

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h{}", self.0)
    }
}

/// A process identifier: the home host and an index the home allocated. As in Sprite
/// (TH §4.3), the home is part of the pid, so any kernel can find a process's home from
/// its pid alone, and the pid never changes when the process migrates.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub struct Pid {
    pub home: HostId,
    pub index: u8,
}

impl Pid {
    pub const fn new(home: u8, index: u8) -> Pid {
        Pid {
            home: HostId(home),
            index,
        }
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}.{}", self.home.0, self.index)
    }
}

/// A file descriptor: a per-process index into the open-stream table.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub struct Fd(pub u8);

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fd{}", self.0)
    }
}

/// A name in the single, cluster-wide file name space.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub struct FileName(pub u8);

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/f{}", self.0)
    }
}

/// An open stream (Unix's "open file description"): the object that fork and dup share,
/// and that carries the access position.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub struct StreamId(pub u8);

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// A virtual-memory page number of a process.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub struct PageNo(pub u8);

impl fmt::Display for PageNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pg{}", self.0)
    }
}
