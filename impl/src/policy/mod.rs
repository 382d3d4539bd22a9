//! Migration policy [SPE "Migration Policies"; TH ch. 6]: which hosts are idle, who gets
//! them, and a pmake that uses them. Policy sits above the mechanism: the kernels only move
//! processes when asked (exec-time migration, `migrate`), and evict foreign processes when
//! an owner returns (EVICT). Everything here talks through messages the simulator carries,
//! encoded by the same codec and counted by the same ledger as the kernels' messages:
//!
//! - [`daemon::LoadDaemon`], one per workstation, a sans-IO state machine driven by a
//!   5-second timer (the simulator's clock) and by the owner's comings and goings; it
//!   sends LOAD_REPORT to migd;
//! - [`migd::Migd`], the central server, a sans-IO state machine: LOAD_REPORT,
//!   MIGD_OPEN, HOST_REQUEST, HOST_RELEASE and MIGD_CLOSE in; HOST_GRANT and the other
//!   replies, HOST_RECLAIM, HOST_EVICT and HOST_AVAILABLE out;
//! - [`pmake`], a client: it opens a connection, asks for hosts one at a time, starts
//!   jobs there by exec-time migration through the kernels' ordinary operations, learns
//!   of reclaims, re-migrates evicted jobs, releases hosts, and closes when done.
//!
//! **Where migd runs.** In Sprite, migd is a user process on some workstation, reached
//! through a pseudo-device: a client's open, ioctl and close are file-system calls that
//! its kernel forwards by RPC to the kernel of migd's host, which hands them to migd
//! [TH §6.3.2]. Here migd is a node of its own ([`crate::msg::Node::Migd`]), as the file
//! server is. Reasons: every client then reaches it across the network, which is the
//! case Sprite measured (a client on another host, TH Table 7.1); the kernels need no
//! pseudo-device code (a host's kernel never sees a host-selection message: the simulator
//! hands those to the daemon or client on that host, as a pseudo-device hands requests to
//! a user process); and migd does not die with a workstation, since restarting it after
//! a crash (TH §6.3.2: the daemons notice and start a new one, then re-report) is not
//! modelled. A host crash still closes the connections of clients that ran there.

pub mod daemon;
pub mod migd;
pub mod pmake;

pub use daemon::{IdleRule, LoadDaemon};
pub use migd::{Client, HostRecord, Migd, MigdStats};
pub use pmake::{
    check_tr, merged_log, run_all, run_spec, Job, Pmake, PmakeError, PmakeReport, PmakeSpec,
};

use crate::kernel::Input;
use crate::msg::{MigdError, Msg, Node};
use std::collections::{BTreeMap, VecDeque};
use vocab::{HostId, MsgKind, Pid};

/// What the simulator must do for the policy layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send a message from one node to another.
    Send(Node, Node, Msg),
    /// Give a kernel an input (a load daemon asking for a reclaim's eviction).
    Kernel(HostId, Input),
    /// A message the receiver could not take: the simulator traces it and drops it.
    Reject {
        at: Node,
        kind: MsgKind,
        why: String,
    },
}

/// The host-selection layer of a cluster: migd, the running load daemons, and the
/// messages waiting for user-level clients.
#[derive(Clone, Debug)]
pub struct Policy {
    pub rule: IdleRule,
    pub migd: Migd,
    /// One per workstation that is up.
    pub daemons: BTreeMap<HostId, LoadDaemon>,
    mail: BTreeMap<Pid, VecDeque<Msg>>,
}

impl Policy {
    /// Starts migd and a daemon on each listed host (with whether its owner is there).
    pub fn new(rule: IdleRule, now: u64, hosts: &[(HostId, bool, bool)]) -> Policy {
        Policy {
            migd: Migd::new(hosts.iter().map(|(h, _, _)| *h)),
            daemons: hosts
                .iter()
                .filter(|(_, up, _)| *up)
                .map(|(h, _, owner)| (*h, LoadDaemon::new(*h, rule.clone(), now, *owner)))
                .collect(),
            rule,
            mail: BTreeMap::new(),
        }
    }

    /// The next time a daemon wants to run.
    pub fn deadline(&self) -> Option<u64> {
        self.daemons.values().map(LoadDaemon::deadline).min()
    }

    /// Runs every daemon whose sample is due by `now`; `runnable` samples a host.
    pub fn tick(&mut self, now: u64, runnable: impl Fn(HostId) -> u32) -> Vec<Effect> {
        let mut out = Vec::new();
        for (h, d) in self.daemons.iter_mut().filter(|(_, d)| d.deadline() <= now) {
            if let Some(report) = d.sample(now, runnable(*h)) {
                out.push(Effect::Send(
                    Node::Host(*h),
                    Node::Migd,
                    Msg::LoadReport { report },
                ));
            }
        }
        out
    }

    /// The owner of `h` came back (`present`) or left.
    pub fn owner(&mut self, now: u64, h: HostId, present: bool) -> Vec<Effect> {
        let Some(d) = self.daemons.get_mut(&h) else {
            return Vec::new();
        };
        if !present {
            d.owner_leaves(now);
            return Vec::new();
        }
        d.owner_returns(now)
            .map(|report| Effect::Send(Node::Host(h), Node::Migd, Msg::LoadReport { report }))
            .into_iter()
            .collect()
    }

    /// `h` crashed: its daemon and its clients' mail are gone; migd withdraws it and drops
    /// the connections of clients that ran there.
    pub fn host_down(&mut self, h: HostId) -> Vec<Effect> {
        self.daemons.remove(&h);
        for p in self.migd.clients_on(h) {
            self.mail.remove(&p);
        }
        self.migd
            .host_down(h)
            .into_iter()
            .map(|(to, m)| Effect::Send(Node::Migd, to, m))
            .collect()
    }

    /// `h` rebooted: a fresh daemon starts (it reports at its first sample).
    pub fn host_up(&mut self, now: u64, h: HostId, owner_present: bool) {
        self.daemons
            .insert(h, LoadDaemon::new(h, self.rule.clone(), now, owner_present));
    }

    /// A host-selection message arrives at `to`.
    pub fn deliver(&mut self, now: u64, from: Node, to: Node, msg: Msg) -> Vec<Effect> {
        let kind = msg.kind();
        let reject = |at, why: String| vec![Effect::Reject { at, kind, why }];
        match to {
            Node::Migd => match self.migd.handle(now, from, msg) {
                Ok(outs) => outs
                    .into_iter()
                    .map(|(to, m)| Effect::Send(Node::Migd, to, m))
                    .collect(),
                Err(e) => reject(to, e.to_string()),
            },
            Node::Host(_) if from != Node::Migd => reject(to, MigdError::WrongSender.to_string()),
            Node::Host(h) => match msg {
                Msg::HostEvict if self.daemons.contains_key(&h) => {
                    vec![Effect::Kernel(h, Input::Reclaim)]
                }
                Msg::HostEvict => reject(to, "no load daemon runs there".into()),
                Msg::MigdOpenReply { client, .. }
                | Msg::HostGrant { client, .. }
                | Msg::HostReleaseReply { client, .. }
                | Msg::MigdCloseReply { client, .. }
                | Msg::HostReclaim { client, .. }
                | Msg::HostAvailable { client } => {
                    self.mail.entry(client).or_default().push_back(msg);
                    Vec::new()
                }
                _ => reject(to, MigdError::Unexpected(kind).to_string()),
            },
            Node::Server => reject(to, MigdError::Unexpected(kind).to_string()),
        }
    }

    /// Whether some client has messages it has not read.
    pub fn has_mail(&self) -> bool {
        self.mail.values().any(|q| !q.is_empty())
    }

    /// The messages migd sent `client` that it has not read yet, oldest first.
    pub fn take_mail(&mut self, client: Pid) -> Vec<Msg> {
        self.mail.remove(&client).map(Vec::from).unwrap_or_default()
    }
}
