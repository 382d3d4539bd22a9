//! The context a step runs in: the configuration, the state being changed, and the log.

use crate::config::Config;
use crate::log::{Actor, Log};
use crate::state::State;
use vocab::{HostId, InvariantId, Switch};

pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub s: &'a mut State,
    pub log: &'a mut Log,
}

impl Ctx<'_> {
    pub fn on(&self, sw: Switch) -> bool {
        self.cfg.switches.has(sw)
    }

    /// Records that a step broke an invariant, with the reason in the log (written after
    /// the step's other lines, see `Log::broken`).
    pub fn violate(&mut self, id: InvariantId, at: HostId, why: impl FnOnce() -> String) {
        self.s.flag(id);
        self.log
            .broken(Actor::Host(at), || format!("{id} broken: {}", why()));
    }
}
