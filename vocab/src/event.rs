//! Cluster events: things that happen to hosts rather than operations of processes.

use crate::ids::HostId;
use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Arbitrary,
)]
pub enum ClusterEvent {
    /// The owner touches the keyboard: the host stops being idle and evicts every foreign
    /// process (EVICT).
    OwnerReturns(HostId),
    /// The owner leaves: the host may become idle and accept foreign processes.
    OwnerLeaves(HostId),
    /// The host crashes: its kernel state, cache and processes are lost (FAIL).
    Crash(HostId),
    /// The host comes back with empty tables.
    Reboot(HostId),
    /// The host's clock advances by one second. Clocks are not synchronised and each moves
    /// at its own pace; none ever goes back (TIME).
    ClockTick(HostId),
}

impl ClusterEvent {
    /// The host the event happens to.
    pub fn host(&self) -> HostId {
        match *self {
            ClusterEvent::OwnerReturns(h)
            | ClusterEvent::OwnerLeaves(h)
            | ClusterEvent::Crash(h)
            | ClusterEvent::Reboot(h)
            | ClusterEvent::ClockTick(h) => h,
        }
    }
}

impl fmt::Display for ClusterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterEvent::OwnerReturns(h) => write!(f, "owner returns to {h}"),
            ClusterEvent::OwnerLeaves(h) => write!(f, "owner leaves {h}"),
            ClusterEvent::Crash(h) => write!(f, "{h} crashes"),
            ClusterEvent::Reboot(h) => write!(f, "{h} reboots"),
            ClusterEvent::ClockTick(h) => write!(f, "{h}'s clock advances"),
        }
    }
}
