//! Process groups. The home keeps the group of each of its processes, so getpgrp, setpgid
//! and killpg are forwarded there [TH App. A: `getpgrp` and `killpg` are among the calls
//! Sprite forwards home; its `setpgrp` is joint, and the project's departures are listed in
//! specs/kernel-calls.md]. A group never spans homes (setpgid refuses it), so the home of
//! the group's id knows every member, and killpg sends each member one signal through the
//! home-routed path of `kill`: held while the member moves, forwarded once it has arrived
//! (SIG holds for killpg as for kill, also mid-migration).
//!
//! Under the rejected `local-pids` a child forked away from its parent's home is homed on
//! the host that creates it, yet it stays in its parent's group: a group can then span
//! homes, and only each member's home knows it is a member. killpg is then sent to every
//! host, each home signals its own members, and the call fails only if none had one.

use crate::ctx::Ctx;
use crate::log::Actor;
use vocab::{Errno, HostId, Outcome, Pid, Switch, Value};

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

    /// The hosts whose processes may be in `pgrp`: the group's home, which in Sprite's
    /// design homes every member; under `local-pids`, every host that is up.
    fn group_homes(&self, pgrp: Pid) -> impl Iterator<Item = HostId> + '_ {
        let everywhere = self.on(Switch::LocalPids);
        let hosts = self.s.hosts.iter().enumerate();
        hosts
            .filter(move |(i, h)| {
                if everywhere {
                    h.up
                } else {
                    *i == pgrp.home.0 as usize
                }
            })
            .map(|(i, _)| HostId(i as u8))
    }

    /// The live members of `pgrp` whose home is `home`, as that home records them.
    fn members_at(&self, home: HostId, pgrp: Pid) -> impl Iterator<Item = Pid> + '_ {
        let recorded = self.s.host(home).groups.iter();
        recorded.filter(move |(_, g)| **g == pgrp).map(|(p, _)| *p)
    }

    /// Whether some live process is in `pgrp`.
    fn group_exists(&self, pgrp: Pid) -> bool {
        self.group_homes(pgrp)
            .any(|h| self.members_at(h, pgrp).next().is_some())
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

    /// killpg: to the group's home (under `local-pids`, to every host), which signals each
    /// of its members as `kill` does.
    pub fn killpg(&mut self, h: HostId, pgrp: Pid) -> Outcome {
        let mut signalled = false;
        let homes: Vec<HostId> = self.group_homes(pgrp).collect();
        for home in homes {
            self.log.msg(Actor::Host(h), Actor::Host(home), || {
                format!("SIGNAL group {pgrp}")
            });
            let members: Vec<Pid> = self.members_at(home, pgrp).collect();
            for m in members {
                let loc = self.s.host(home).home_table[&m];
                self.home_forwards_signal(m, loc);
                signalled = true;
            }
        }
        if signalled {
            Ok(Value::Unit)
        } else {
            Err(Errno::ESRCH)
        }
    }
}
