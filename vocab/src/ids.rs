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

/// A process identifier: the home host, an index the home allocated, and the generation of
/// that index. As in Sprite (TH §4.3), the home is part of the pid, so any kernel can find a
/// process's home from its pid alone, and the pid never changes when the process migrates.
/// As in Sprite's kernel (`procInt.h`: a process id holds the host, the slot index and a
/// 4-bit generation number, "unique across reuses of the same procTable slot"), a slot
/// given to a new process gets the next generation, so a message still naming an exited
/// process (a signal on its way) can never reach the process that now has its slot.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub struct Pid {
    pub home: HostId,
    pub index: u8,
    /// How many processes had this slot before (modulo [`Pid::GENERATIONS`]). Absent in
    /// files written before generations existed: 0.
    #[serde(default)]
    pub gen: u8,
}

impl Pid {
    /// Generations wrap after this many reuses of a slot (Sprite's 4 bits).
    pub const GENERATIONS: u8 = 16;

    /// The first process of slot `index` of `home` (generation 0).
    pub const fn new(home: u8, index: u8) -> Pid {
        Pid {
            home: HostId(home),
            index,
            gen: 0,
        }
    }

    /// The process of slot `index` of `home` in generation `gen`.
    pub const fn with_gen(home: HostId, index: u8, gen: u8) -> Pid {
        Pid {
            home,
            index,
            gen: gen % Pid::GENERATIONS,
        }
    }
}

/// Written `pH.I` for generation 0 (every process that does not reuse a slot), and
/// `pH.I.G` for a later generation `G`.
impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}.{}", self.home.0, self.index)?;
        if self.gen != 0 {
            write!(f, ".{}", self.gen)?;
        }
        Ok(())
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

/// The paths of named files (`FileName::named`), by number above [`FileName::NAMED`].
static PATHS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

impl FileName {
    /// Numbers from here up name files by a path of their own (`/tmp/data`): the first
    /// path a scenario or configuration file uses gets this number, the next one more.
    /// Below it, `/fN` is file number `N`.
    pub const NAMED: u8 = 128;
    /// Longest path accepted.
    pub const MAX_PATH: usize = 64;

    /// The file named by `path`, numbered the first time a path is seen in this process
    /// (the same path always gives the same number); `None` once all numbers from
    /// [`FileName::NAMED`] up are taken.
    pub fn named(path: &str) -> Option<FileName> {
        let mut paths = PATHS.lock().unwrap_or_else(|e| e.into_inner());
        let i = match paths.iter().position(|p| p == path) {
            Some(i) => i,
            None => {
                if paths.len() > usize::from(u8::MAX - FileName::NAMED) {
                    return None;
                }
                paths.push(path.to_string());
                paths.len() - 1
            }
        };
        Some(FileName(FileName::NAMED + i as u8))
    }

    /// The path of a named file, if this number was given to one.
    pub fn path(self) -> Option<String> {
        let i = usize::from(self.0.checked_sub(FileName::NAMED)?);
        let paths = PATHS.lock().unwrap_or_else(|e| e.into_inner());
        paths.get(i).cloned()
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path() {
            Some(p) => write!(f, "{p}"),
            None => write!(f, "/f{}", self.0),
        }
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
