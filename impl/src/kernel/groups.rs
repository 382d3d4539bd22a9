//! Process groups, kept by the home [TH Appendix A: `getpgrp` and `killpg` are among the
//! calls Sprite forwards home]. A process away from home forwards getpgrp and setpgid to its
//! home (FORWARD); killpg goes to the home of the group's name, which is every member's home
//! since setpgid never lets a group span homes, and that home sends each live member one
//! signal through the path `kill` takes (`Kernel::home_signal`: to the member's current
//! host, or held while it moves), so SIG's exactly-once holds for killpg too. setpgid is
//! joint: the home changes its record, and the caller's PCB (`Pcb::pgrp`, Sprite's family
//! id, which migration moves) takes the same group.
//!
//! Under the rejected `local-pids` a child forked away from its parent's home is homed on
//! the host that creates it and takes its parent's group from the parent's PCB there: a
//! group can then span homes, and only each member's home knows it is a member. killpg is
//! then sent to every host; each home signals its own members, and the call
//! fails (ESRCH) only if none had one. setpgid's test that the group exists still asks only
//! the caller's home, so a group whose members of that home are all gone, with members of
//! other homes left, cannot be joined there (one Unix machine would allow it): a gap of the
//! alternative's implementation, which the model does not share.

use super::{Kernel, Life, Pending};
use crate::msg::{Forwarded, Msg};
use std::collections::BTreeSet;
use vocab::{Errno, HostId, Outcome, Pid, Switch, Value};

impl Kernel {
    /// A forwarded call (FORWARD to the home, the reply completes the operation).
    pub(super) fn forward_home(&mut self, pid: Pid, call: Forwarded) {
        self.block(pid, Pending::Forwarded(call));
        self.send_host(pid.home, Msg::Forward { pid, call });
    }

    /// getpgrp or setpgid: answered here at home, else forwarded home.
    pub(super) fn group_call(&mut self, pid: Pid, call: Forwarded) {
        if pid.home == self.host() {
            let outcome = self.home_group_call(pid, call);
            self.done(pid, outcome);
        } else {
            self.forward_home(pid, call);
        }
    }

    /// The home's side of getpgrp and setpgid for its process `pid`.
    pub(super) fn home_group_call(&mut self, pid: Pid, call: Forwarded) -> Outcome {
        let me = self.host();
        let alive = |k: &Kernel, p: &Pid| k.home.get(p).is_some_and(|e| e.life == Life::Alive);
        if pid.home != me || !alive(self, &pid) {
            return Err(Errno::ESRCH);
        }
        match call {
            Forwarded::Getpgrp => Ok(Value::Pid(self.home[&pid].pgrp)),
            Forwarded::Setpgid { pgrp } => {
                // Its own pid (a new group it leads), or a group some live process of this
                // home is in: a group never spans homes.
                let exists = self
                    .home
                    .values()
                    .any(|e| e.life == Life::Alive && e.pgrp == pgrp);
                if pgrp != pid && !(pgrp.home == me && exists) {
                    return Err(Errno::EPERM);
                }
                if let Some(e) = self.home.get_mut(&pid) {
                    e.pgrp = pgrp;
                }
                // Joint: when the caller runs here, its PCB changes now; elsewhere, when
                // the reply reaches its host.
                if let Some(pcb) = self.procs.get_mut(&pid) {
                    pcb.pgrp = pgrp;
                }
                Ok(Value::Unit)
            }
            Forwarded::Gettimeofday => Err(Errno::EINVAL),
        }
    }

    /// killpg by `pid`: handled here if this is the group's home, else sent there.
    pub(super) fn killpg(&mut self, pid: Pid, pgrp: Pid) {
        if self.sw(Switch::LocalPids) {
            return self.killpg_everywhere(pid, pgrp);
        }
        let home = pgrp.home;
        if home == self.host() {
            self.witness(vocab::Witness::Run(pid));
            let outcome = self.home_killpg(pgrp);
            return self.done(pid, outcome);
        }
        if !self.cfg.hosts.contains(&home) {
            return self.done(pid, Err(Errno::ESRCH));
        }
        self.block(pid, Pending::Kill { to: home });
        self.send_host(
            home,
            Msg::Killpg {
                pgrp,
                sender: (self.host(), pid),
            },
        );
    }

    /// The home of group `pgrp` sends each live member one signal, home-routed.
    pub(super) fn home_killpg(&mut self, pgrp: Pid) -> Outcome {
        let me = self.host();
        let members: Vec<Pid> = self
            .home
            .iter()
            .filter(|(p, e)| p.home == me && e.life == Life::Alive && e.pgrp == pgrp)
            .map(|(p, _)| *p)
            .collect();
        if members.is_empty() {
            return Err(Errno::ESRCH);
        }
        for m in members {
            let _ = self.home_signal(m);
        }
        Ok(Value::Unit)
    }

    /// killpg under `local-pids`: this host's members now, every other host by a KILLPG
    /// each; the call returns when all have answered (a message to a host that is down
    /// bounces, and `host_down` counts it as an answer with no member).
    fn killpg_everywhere(&mut self, pid: Pid, pgrp: Pid) {
        let me = self.host();
        let signalled = self.home_killpg(pgrp).is_ok();
        let waiting: BTreeSet<HostId> = self
            .cfg
            .hosts
            .iter()
            .copied()
            .filter(|h| *h != me)
            .collect();
        if waiting.is_empty() {
            return self.done(pid, killpg_outcome(signalled));
        }
        for h in &waiting {
            self.send_host(
                *h,
                Msg::Killpg {
                    pgrp,
                    sender: (me, pid),
                },
            );
        }
        self.block(pid, Pending::KillpgAll { waiting, signalled });
    }

    /// Host `from` answered (or crashed during) `pid`'s killpg sent to every host.
    pub(super) fn killpg_answered(&mut self, pid: Pid, from: HostId, hit: bool) {
        let Some(Pending::KillpgAll { waiting, signalled }) =
            self.procs.get_mut(&pid).and_then(|p| p.pending.as_mut())
        else {
            return;
        };
        waiting.remove(&from);
        *signalled |= hit;
        if waiting.is_empty() {
            let outcome = killpg_outcome(*signalled);
            self.done(pid, outcome);
        }
    }
}

/// A killpg succeeds if it signalled some member.
fn killpg_outcome(signalled: bool) -> Outcome {
    if signalled {
        Ok(Value::Unit)
    } else {
        Err(Errno::ESRCH)
    }
}
