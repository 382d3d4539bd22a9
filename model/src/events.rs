//! Cluster events: the owner comes and goes (eviction), hosts crash and reboot (FAIL).

use crate::ctx::Ctx;
use crate::log::Actor;
use crate::state::{Kind, State, Status};
use vocab::{ClusterEvent, HostId, InvariantId, KILLED_STATUS};

impl Ctx<'_> {
    pub fn event(&mut self, e: ClusterEvent) {
        match e {
            ClusterEvent::OwnerReturns(h) => self.owner_returns(h),
            ClusterEvent::OwnerLeaves(h) => {
                self.s.host_mut(h).owner = false;
                self.log
                    .note(Actor::Host(h), || "owner leaves: idle".into());
            }
            ClusterEvent::Crash(h) => self.crash(h),
            ClusterEvent::Reboot(h) => {
                self.s.host_mut(h).up = true;
                self.log
                    .note(Actor::Host(h), || "reboots with empty tables".into());
            }
            ClusterEvent::ClockTick(h) => {
                // The count of this event in `events_used` is the advance (`State::clock`),
                // already counted by the caller.
                let t = self.s.clock(self.cfg, h);
                self.log
                    .note(Actor::Host(h), || format!("clock advances to {t}"));
            }
        }
    }

    /// The owner is back: every foreign process on the host goes home (EVICT). One that
    /// is moving in will be sent home when it arrives (see `resume`).
    fn owner_returns(&mut self, h: HostId) {
        self.s.host_mut(h).owner = true;
        self.log.note(Actor::Host(h), || "owner returns".into());
        let foreign: Vec<_> = self
            .s
            .procs
            .iter()
            .filter(|(pid, p)| p.host == h && pid.home != h && p.status != Status::Migrating)
            .map(|(pid, _)| *pid)
            .collect();
        for pid in foreign {
            self.log
                .note(Actor::Host(h), || format!("EVICT {pid}: sent home"));
            self.start_migration(pid, pid.home, Kind::Evict);
        }
    }

    /// The host crashes: every process whose current host or home it was dies (Sprite
    /// keeps a dependency on the home only), and nothing else is affected; the blocks its
    /// cache had not written back are lost, as with Sprite's delayed writes [TH §4.5].
    fn crash(&mut self, h: HostId) {
        self.log.note(Actor::Host(h), || "crashes".into());
        let before = self.s.clone();
        self.crash_effects(h);
        if !crate::properties::crash_outcome_ok(&before, self.s, h) {
            let want = crate::properties::crash_victims(&before, h);
            self.violate(InvariantId::FAIL, h, || {
                let want: Vec<_> = want.iter().map(|p| p.to_string()).collect();
                format!(
                    "the crash of {h} must kill exactly {} and move no one else",
                    crate::trace::list(&want, "no process")
                )
            });
        }
    }

    /// What a crash of `h` does (FAIL checks the outcome against `specs/failures.md`).
    fn crash_effects(&mut self, h: HostId) {
        let victims: Vec<_> = self
            .s
            .procs
            .iter()
            // A process frozen for a migration is on its source until MIG_STATE and on its
            // target from then on (`p.host`); it also dies with its source after MIG_STATE,
            // which still has to send RESUME.
            .filter(|(pid, p)| {
                let source = self.s.migrations.get(pid).map(|m| m.source);
                p.host == h || pid.home == h || source == Some(h)
            })
            .map(|(pid, _)| *pid)
            .collect();
        // A migration whose target crashes before the state was sent is aborted, and the
        // process runs on at the source [TH §4.2.5 steps 2–5; SRC procMigrate.c]: one
        // still waiting for MIG_INIT is refused there (the target is down), one whose
        // MIG_INIT was accepted is undone now (MIG_ABORT: the home learns the process
        // never left).
        let aborted: Vec<_> = self
            .s
            .migrations
            .iter()
            .filter(|(pid, m)| {
                m.target == h && m.phase == crate::state::Phase::State && !victims.contains(pid)
            })
            .map(|(pid, m)| (*pid, m.source))
            .collect();
        // Writes cached on the crashed host are lost: the one-machine reference loses them
        // too, so that later reads are still compared with what Sprite promises.
        let lost: Vec<_> = self
            .s
            .host(h)
            .cache
            .iter()
            .filter(|(_, e)| e.dirty)
            .map(|(ino, _)| *ino)
            .collect();
        for ino in lost {
            let data = self.s.server.files[&ino].data.clone();
            if let Some(inode) = self.s.ghost.inodes.get_mut(&ino) {
                inode.data = data;
            }
            self.log
                .note(Actor::Host(h), || format!("unwritten blocks of {ino} lost"));
        }
        for pid in victims {
            self.log
                .alarm(Actor::Host(h), || format!("{pid} dies with {h}"));
            let ghost = self.s.ghost.exit(pid, KILLED_STATUS).woke;
            let woke = self.end_process(pid, KILLED_STATUS);
            self.compare_wakeups(h, woke, ghost);
        }
        // Exit notices on their way to the crashed host are lost with it (wait-on-current).
        let lost_notices: Vec<_> = self
            .s
            .exit_notices
            .iter()
            .filter(|(_, n)| n.to == h)
            .map(|(c, _)| *c)
            .collect();
        for child in lost_notices {
            self.s.exit_notices.remove(&child);
            self.log.alarm(Actor::Host(h), || {
                format!("EXIT_NOTICE {child} lost with {h}")
            });
        }
        for (pid, source) in aborted {
            self.abort_migration(pid, source);
        }
        let host = self.s.host_mut(h);
        host.up = false;
        host.home_table.clear();
        host.groups.clear();
        host.rendezvous = Default::default();
        host.held_signals.clear();
        host.cache.clear();
        host.residue.clear();
        let sids: Vec<_> = host.streams.keys().copied().collect();
        host.streams.clear();
        for sid in sids {
            if let Some(st) = self.s.server.streams.get_mut(&sid) {
                st.hosts.remove(&h);
                if st.hosts.is_empty() {
                    let ino = st.ino;
                    self.s.server.streams.remove(&sid);
                    self.file_maybe_unused(ino);
                }
            }
        }
        // Signals on their way to the crashed host: those for processes that left it go
        // back to the home, which sends them on (a host a process has left must not
        // matter to it: RES, SIG); the others die with their process.
        let bounced: Vec<_> = self
            .s
            .signals
            .iter()
            .filter(|(m, _)| m.to == h)
            .map(|(m, n)| (*m, *n))
            .collect();
        self.s.signals.retain(|m, _| m.to != h);
        for (m, n) in bounced {
            if !self.s.procs.contains_key(&m.pid) {
                continue;
            }
            let Some(loc) = self.s.host(m.pid.home).home_table.get(&m.pid).copied() else {
                continue;
            };
            for _ in 0..n {
                self.log.note(Actor::Host(m.pid.home), || {
                    format!("SIGNAL for {} sent again: {h} is down", m.pid)
                });
                self.home_forwards_signal(m.pid, loc);
            }
        }
    }
}

/// Whether the event can happen in this state.
pub fn event_enabled(s: &State, e: ClusterEvent) -> bool {
    let host = |h: HostId| s.hosts.get(h.0 as usize);
    match e {
        ClusterEvent::OwnerReturns(h) => host(h).is_some_and(|x| x.up && !x.owner),
        ClusterEvent::OwnerLeaves(h) => host(h).is_some_and(|x| x.up && x.owner),
        ClusterEvent::Crash(h) => host(h).is_some_and(|x| x.up),
        ClusterEvent::Reboot(h) => host(h).is_some_and(|x| !x.up),
        // A clock keeps time whether or not its host is up.
        ClusterEvent::ClockTick(h) => host(h).is_some(),
    }
}
