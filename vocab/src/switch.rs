//! Design alternatives: each is a switch in the model and in the implementation. With a
//! switch on, the named invariant must fail (SPE, TH ch. 4-5 explain why each was rejected).

use crate::invariant::InvariantId;
use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub enum Switch {
    /// Close each stream on the source and reopen it on the target (Sprite's first try).
    ReopenFiles,
    /// The target registers a moved stream with the server before the source releases it.
    NotifyTargetFirst,
    /// Keep the access position on the clients even when sharers are on different hosts.
    ClientOffsets,
    /// The target may page before the source's dirty pages reach the backing file.
    NoVmFlush,
    /// Dirty file blocks stay in the source's cache at migration.
    NoBlockFlush,
    /// gettimeofday of a remote process reads the current host's clock.
    LocalTime,
    /// Signals go first to the host the sender knows the process on, instead of through
    /// the home; a stale location is corrected through the home (LOCUS, V).
    DirectSignals,
    /// A remote fork allocates the child's pid on the current host.
    LocalPids,
    /// The exit/wait rendezvous is kept on the current host instead of the home.
    WaitOnCurrent,
    /// Accent's copy-on-reference: pages stay on the source until touched.
    LazyVm,
    /// V's pre-copy: copy while running, then freeze and resend dirtied pages.
    PrecopyVm,
    /// LOCUS/Charlotte: copy the whole address space at migration.
    FullCopyVm,
    /// Sprite's own granularity: one three-party exchange per descriptor slot, instead of
    /// one per open file (the project's refinement).
    PerSlotExchange,
    /// A foreign process may migrate from one remote host straight to another, the home
    /// told by messages (MIG_START, HOME_UPDATE): what a direct eviction to another idle
    /// host needs [SPE §Eviction]. Sprite sends a foreign process home first.
    RemoteToRemote,
}

impl Switch {
    pub const ALL: [Switch; 14] = [
        Switch::ReopenFiles,
        Switch::NotifyTargetFirst,
        Switch::ClientOffsets,
        Switch::NoVmFlush,
        Switch::NoBlockFlush,
        Switch::LocalTime,
        Switch::DirectSignals,
        Switch::LocalPids,
        Switch::WaitOnCurrent,
        Switch::LazyVm,
        Switch::PrecopyVm,
        Switch::FullCopyVm,
        Switch::PerSlotExchange,
        Switch::RemoteToRemote,
    ];

    /// The catalogue spelling (`reopen-files`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Switch::ReopenFiles => "reopen-files",
            Switch::NotifyTargetFirst => "notify-target-first",
            Switch::ClientOffsets => "client-offsets",
            Switch::NoVmFlush => "no-vm-flush",
            Switch::NoBlockFlush => "no-block-flush",
            Switch::LocalTime => "local-time",
            Switch::DirectSignals => "direct-signals",
            Switch::LocalPids => "local-pids",
            Switch::WaitOnCurrent => "wait-on-current",
            Switch::LazyVm => "lazy-vm",
            Switch::PrecopyVm => "precopy-vm",
            Switch::FullCopyVm => "full-copy-vm",
            Switch::PerSlotExchange => "per-slot-exchange",
            Switch::RemoteToRemote => "remote-to-remote",
        }
    }

    pub fn names() -> Vec<&'static str> {
        Switch::ALL.iter().map(|s| s.name()).collect()
    }

    /// The invariant this alternative breaks, or `None` for the alternatives that are
    /// correct but cost differently (the VM strategies, remote-to-remote moves, direct
    /// signals with their correction).
    pub fn breaks(self) -> Option<InvariantId> {
        match self {
            Switch::ReopenFiles => Some(InvariantId::DEL),
            Switch::NotifyTargetFirst | Switch::PerSlotExchange => Some(InvariantId::CACHE),
            Switch::ClientOffsets => Some(InvariantId::OFF),
            Switch::NoVmFlush => Some(InvariantId::MEM),
            Switch::NoBlockFlush => Some(InvariantId::CONS),
            Switch::LocalTime => Some(InvariantId::TIME),
            Switch::LocalPids => Some(InvariantId::EVICT),
            Switch::WaitOnCurrent => Some(InvariantId::WAIT),
            Switch::LazyVm => Some(InvariantId::RES),
            Switch::PrecopyVm
            | Switch::FullCopyVm
            | Switch::RemoteToRemote
            | Switch::DirectSignals => None,
        }
    }

    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Switch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Switch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Switch::ALL
            .into_iter()
            .find(|sw| sw.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown design switch `{s}`; known: {}",
                    Switch::names().join(", ")
                )
            })
    }
}

/// A set of switches. The empty set is Sprite's design.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Arbitrary,
)]
pub struct Switches(u16);

impl Switches {
    pub const SPRITE: Switches = Switches(0);

    pub fn only(s: Switch) -> Switches {
        Switches(s.bit())
    }
    pub fn with(self, s: Switch) -> Switches {
        Switches(self.0 | s.bit())
    }
    pub fn without(self, s: Switch) -> Switches {
        Switches(self.0 & !s.bit())
    }
    pub fn has(self, s: Switch) -> bool {
        self.0 & s.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Switch> {
        Switch::ALL.into_iter().filter(move |s| self.has(*s))
    }
    pub fn is_sprite(self) -> bool {
        self.0 == 0
    }
    /// The VM transfer strategy these switches select; Sprite's flush by default. If more
    /// than one VM switch is on, the first in catalogue order wins.
    pub fn vm(self) -> VmStrategy {
        if self.has(Switch::LazyVm) {
            VmStrategy::CopyOnReference
        } else if self.has(Switch::PrecopyVm) {
            VmStrategy::PreCopy
        } else if self.has(Switch::FullCopyVm) {
            VmStrategy::FullCopy
        } else {
            VmStrategy::Flush
        }
    }
}

impl fmt::Display for Switches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_sprite() {
            return f.write_str("sprite");
        }
        let names: Vec<_> = self.iter().map(|s| s.name()).collect();
        f.write_str(&names.join("+"))
    }
}

impl FromStr for Switches {
    type Err = String;
    /// Parses `sprite`, or switch names separated by `+` or `,`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s == "sprite" {
            return Ok(Switches::SPRITE);
        }
        s.split(['+', ',']).try_fold(Switches::SPRITE, |acc, part| {
            Ok(acc.with(part.trim().parse()?))
        })
    }
}

/// How virtual memory moves (SPE "Virtual Memory Transfer").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VmStrategy {
    /// Sprite: flush dirty pages to the backing file on the server; the target demand-pages.
    Flush,
    /// LOCUS/Charlotte: send every page at migration time.
    FullCopy,
    /// V: send pages while running, then freeze and resend pages dirtied meanwhile.
    PreCopy,
    /// Accent: pages stay on the source and are sent when first touched.
    CopyOnReference,
}
