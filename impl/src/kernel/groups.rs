//! Process groups, kept by the home [TH Appendix A: `getpgrp` and `killpg` are among the
//! calls Sprite forwards home]. A process away from home forwards getpgrp and setpgid to its
//! home (FORWARD); killpg goes to the home of the group's name, which is every member's home
//! since setpgid never lets a group span homes, and that home sends each live member one
//! signal through the path `kill` takes (`Kernel::home_signal`: to the member's current
//! host, or held while it moves), so SIG's exactly-once holds for killpg too.

use super::{Kernel, Life, Pending};
use crate::msg::{Forwarded, Msg};
use vocab::{Errno, Outcome, Pid, Value};

impl Kernel {
    /// A forwarded call (FORWARD to the home, the reply completes the operation).
    pub(super) fn forward_home(&mut self, pid: Pid, call: Forwarded) {
        self.block(pid, Pending::Forwarded);
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
                Ok(Value::Unit)
            }
            Forwarded::Gettimeofday => Err(Errno::EINVAL),
        }
    }

    /// killpg by `pid`: handled here if this is the group's home, else sent there.
    pub(super) fn killpg(&mut self, pid: Pid, pgrp: Pid) {
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
}
