//! Process groups. The home keeps the group of each of its processes, so getpgrp, setpgid
//! and killpg are forwarded there [TH App. A: `getpgrp` and `killpg` are among the calls
//! Sprite forwards home; its `setpgrp` is joint, and the project's departures are listed in
//! specs/kernel-calls.md]. A group never spans homes (setpgid refuses it), so the home of
//! the group's id knows every member, and killpg sends each member one signal through the
//! home-routed path of `kill`: held while the member moves, forwarded once it has arrived
//! (SIG holds for killpg as for kill, also mid-migration).

use crate::ctx::Ctx;
use crate::log::Actor;
use vocab::{Errno, HostId, Outcome, Pid, Value};

impl Ctx<'_> {
    fn forward_home(&mut self, h: HostId, home: HostId, what: impl FnOnce() -> String) {
        if h != home {
            self.log.msg(Actor::Host(h), Actor::Host(home), || {
                format!("FORWARD {}", what())
            });
        }
    }

    /// getpgrp: the home's record.
    pub fn getpgrp(&mut self, pid: Pid, h: HostId) -> Outcome {
        self.forward_home(h, pid.home, || "getpgrp".into());
        let g = self.s.host(pid.home).groups.get(&pid).copied();
        g.map(Value::Pid).ok_or(Errno::ESRCH)
    }

    /// Whether some live process is in `pgrp`: all members are processes of `pgrp.home`,
    /// whose home knows them.
    fn group_exists(&self, pgrp: Pid) -> bool {
        self.s
            .hosts
            .get(pgrp.home.0 as usize)
            .is_some_and(|home| home.groups.values().any(|g| *g == pgrp))
    }

    /// setpgid: the caller makes its own group, or joins an existing group of its home.
    pub fn setpgid(&mut self, pid: Pid, h: HostId, pgrp: Pid) -> Outcome {
        self.forward_home(h, pid.home, || format!("setpgid {pgrp}"));
        if pgrp != pid && !(pgrp.home == pid.home && self.group_exists(pgrp)) {
            return Err(Errno::EPERM);
        }
        self.s.host_mut(pid.home).groups.insert(pid, pgrp);
        Ok(Value::Unit)
    }

    /// killpg: to the group's home, which signals each member as `kill` does.
    pub fn killpg(&mut self, h: HostId, pgrp: Pid) -> Outcome {
        let home = pgrp.home;
        let Some(hh) = self.s.hosts.get(home.0 as usize) else {
            return Err(Errno::ESRCH);
        };
        self.log.msg(Actor::Host(h), Actor::Host(home), || {
            format!("SIGNAL group {pgrp}")
        });
        let members: Vec<Pid> = hh
            .groups
            .iter()
            .filter(|(_, g)| **g == pgrp)
            .map(|(p, _)| *p)
            .collect();
        if members.is_empty() {
            return Err(Errno::ESRCH);
        }
        for m in members {
            let loc = self.s.host(home).home_table[&m];
            self.home_forwards_signal(m, loc);
        }
        Ok(Value::Unit)
    }
}
