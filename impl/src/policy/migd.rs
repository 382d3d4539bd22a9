//! migd, the central migration server: a sans-IO state machine holding the idle-host
//! database [SPE "Selecting Idle Hosts"; TH §6.3.2]. It takes load reports from the
//! daemons and requests from clients, and answers with messages: grants, denials,
//! reclaim notices to the client that held a host, eviction requests to a reclaimed
//! host's daemon, and "a host is free" notices to clients it turned away.
//!
//! Policy [TH §6.2.1, §8.5.3; SPE "Selecting Idle Hosts", "Eviction"]:
//! - one client per host at a time (one foreign job per host);
//! - among free idle hosts, the one idle longest first (hosts idle long tend to stay
//!   idle); never the host the client itself runs on;
//! - fairness: when no host is free and some other client holds more than its share of
//!   the idle hosts (the share is the idle hosts divided among the clients holding or
//!   asking for them, rounded up), one of that client's hosts is taken back and given to
//!   the requester; the host's foreign processes are evicted "just as if the user
//!   returned", and the holder is told. Like Sprite's source, migd takes the host it
//!   granted to that client most recently;
//! - a host whose daemon stops accepting is withdrawn and its holder told;
//! - a client's hosts go back to the pool when it releases them, closes its connection,
//!   or its host goes down (the connection dies with it).

use crate::msg::{LoadReport, MigdError, Msg, Node, ReclaimReason};
use serde::{Deserialize, Serialize};
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use vocab::{HostId, Pid};

/// A client of migd (a pmake or a `mig` command), named by its process.
pub type Client = Pid;

/// What migd knows of one workstation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    /// Whether the host's daemon last said it accepts foreign work.
    pub accepting: bool,
    /// On migd's clock, since when the host has had no input, in whole seconds (valid
    /// while accepting).
    pub idle_since: u64,
    pub granted_to: Option<Client>,
    /// Order of the grant (fairness takes a holder's most recent host).
    pub grant_seq: u64,
    pub last_report: Option<(u64, LoadReport)>,
}

/// One open connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The workstation the client runs on (replies and notices go there).
    pub at: HostId,
    /// migd turned the client away and owes it a HOST_AVAILABLE notice.
    pub waiting: bool,
}

/// Counts of what migd did, for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigdStats {
    pub grants: u32,
    pub denials: u32,
    pub fairness_reclaims: u32,
    pub withdrawals: u32,
    pub releases: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migd {
    pub hosts: BTreeMap<HostId, HostRecord>,
    pub clients: BTreeMap<Client, ClientRecord>,
    pub stats: MigdStats,
    seq: u64,
}

type Outs = Vec<(Node, Msg)>;

impl Migd {
    /// A migd that knows the cluster's workstations (none idle until their daemons say so).
    pub fn new(hosts: impl IntoIterator<Item = HostId>) -> Migd {
        Migd {
            hosts: hosts
                .into_iter()
                .map(|h| (h, HostRecord::default()))
                .collect(),
            ..Migd::default()
        }
    }

    /// Hosts `client` holds.
    pub fn held(&self, client: Client) -> impl Iterator<Item = HostId> + '_ {
        self.hosts
            .iter()
            .filter(move |(_, r)| r.granted_to == Some(client))
            .map(|(h, _)| *h)
    }

    /// Handles one message at migd's time `now`. Requests get a reply (with an error in it
    /// when the request is bad); a message that cannot be answered (a malformed report, a
    /// reply sent to migd) is an error and changes nothing.
    pub fn handle(&mut self, now: u64, from: Node, msg: Msg) -> Result<Outs, MigdError> {
        let Node::Host(at) = from else {
            return Err(MigdError::WrongSender);
        };
        let mut out = Outs::new();
        match msg {
            Msg::LoadReport { report } => self.report(now, at, report, &mut out)?,
            Msg::MigdOpen { client } => {
                let result = match self.clients.entry(client) {
                    Entry::Occupied(_) => Err(MigdError::AlreadyConnected(client)),
                    Entry::Vacant(e) => {
                        e.insert(ClientRecord { at, waiting: false });
                        Ok(())
                    }
                };
                out.push((from, Msg::MigdOpenReply { client, result }));
            }
            Msg::HostRequest { client } => {
                let result = self.request(client, at, &mut out);
                out.push((from, Msg::HostGrant { client, result }));
            }
            Msg::HostRelease { client, host } => {
                let result = self.release(client, host, &mut out);
                out.push((from, Msg::HostReleaseReply { client, result }));
            }
            Msg::MigdClose { client } => {
                let result = match self.clients.remove(&client) {
                    None => Err(MigdError::NotConnected(client)),
                    Some(_) => {
                        self.free_all(client, &mut out);
                        Ok(())
                    }
                };
                out.push((from, Msg::MigdCloseReply { client, result }));
            }
            other => return Err(MigdError::Unexpected(other.kind())),
        }
        Ok(out)
    }

    fn report(
        &mut self,
        now: u64,
        h: HostId,
        report: LoadReport,
        out: &mut Outs,
    ) -> Result<(), MigdError> {
        let r = self.hosts.get_mut(&h).ok_or(MigdError::UnknownHost(h))?;
        r.last_report = Some((now, report));
        let was = r.accepting;
        r.accepting = report.accepting;
        if report.accepting {
            // Derived from the daemon's own "time since input", so periodic reports do
            // not make a host look freshly idle; in whole seconds, the resolution of
            // Sprite's idle times, so that the few ms a report spends on the network do
            // not decide between hosts that went idle together (the lower id does).
            r.idle_since = now.saturating_sub(report.idle_ms) / 1000 * 1000;
            if !was {
                self.wake_waiters(None, out);
            }
        } else if let Some(c) = r.granted_to.take() {
            self.stats.withdrawals += 1;
            self.notify(c, h, ReclaimReason::NotIdle, out);
        }
        Ok(())
    }

    fn notify(&mut self, client: Client, host: HostId, why: ReclaimReason, out: &mut Outs) {
        if let Some(c) = self.clients.get(&client) {
            out.push((Node::Host(c.at), Msg::HostReclaim { client, host, why }));
        }
    }

    /// Tells every client migd turned away (but the one that just gave a host back) that
    /// a host may now be had.
    fn wake_waiters(&mut self, except: Option<Client>, out: &mut Outs) {
        let waiting = self
            .clients
            .iter_mut()
            .filter(|(c, r)| r.waiting && Some(**c) != except);
        for (client, c) in waiting {
            c.waiting = false;
            out.push((Node::Host(c.at), Msg::HostAvailable { client: *client }));
        }
    }

    fn grant(&mut self, client: Client, h: HostId) -> Option<HostId> {
        self.seq += 1;
        let r = self.hosts.get_mut(&h)?;
        r.granted_to = Some(client);
        r.grant_seq = self.seq;
        self.stats.grants += 1;
        Some(h)
    }

    fn request(
        &mut self,
        client: Client,
        at: HostId,
        out: &mut Outs,
    ) -> Result<Option<HostId>, MigdError> {
        let Some(c) = self.clients.get_mut(&client) else {
            return Err(MigdError::NotConnected(client));
        };
        c.at = at;
        c.waiting = false;
        let free = self
            .hosts
            .iter()
            .filter(|(h, r)| r.accepting && r.granted_to.is_none() && **h != at)
            .min_by_key(|(h, r)| (r.idle_since, **h))
            .map(|(h, _)| *h);
        if let Some(h) = free {
            return Ok(self.grant(client, h));
        }
        match self.fairness_victim(client, at) {
            Some((holder, h)) => {
                self.stats.fairness_reclaims += 1;
                out.push((Node::Host(h), Msg::HostEvict));
                self.notify(holder, h, ReclaimReason::Fairness, out);
                Ok(self.grant(client, h))
            }
            None => {
                self.stats.denials += 1;
                if let Some(c) = self.clients.get_mut(&client) {
                    c.waiting = true;
                }
                Ok(None)
            }
        }
    }

    /// The host fairness takes for `client`, and its holder: only if `client` holds fewer
    /// than its share and the client holding the most holds more than its share.
    fn fairness_victim(&self, client: Client, at: HostId) -> Option<(Client, HostId)> {
        let idle = self.hosts.values().filter(|r| r.accepting).count();
        let mut held: BTreeMap<Client, usize> = BTreeMap::new();
        for c in self.hosts.values().filter_map(|r| r.granted_to) {
            *held.entry(c).or_default() += 1;
        }
        let mine = held.get(&client).copied().unwrap_or(0);
        let contenders = held.len() + usize::from(mine == 0);
        let share = idle.div_ceil(contenders.max(1));
        if mine >= share {
            return None;
        }
        let (greedy, n) = held
            .iter()
            .filter(|(c, _)| **c != client)
            .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))?;
        if *n <= share {
            return None;
        }
        self.hosts
            .iter()
            .filter(|(h, r)| r.granted_to == Some(*greedy) && **h != at)
            .max_by_key(|(_, r)| r.grant_seq)
            .map(|(h, _)| (*greedy, *h))
    }

    fn release(&mut self, client: Client, host: HostId, out: &mut Outs) -> Result<(), MigdError> {
        if !self.clients.contains_key(&client) {
            return Err(MigdError::NotConnected(client));
        }
        let r = self
            .hosts
            .get_mut(&host)
            .ok_or(MigdError::UnknownHost(host))?;
        if r.granted_to != Some(client) {
            return Err(MigdError::NotHeld(host));
        }
        r.granted_to = None;
        self.stats.releases += 1;
        if r.accepting {
            self.wake_waiters(Some(client), out);
        }
        Ok(())
    }

    fn free_all(&mut self, client: Client, out: &mut Outs) {
        let mut freed = false;
        for r in self
            .hosts
            .values_mut()
            .filter(|r| r.granted_to == Some(client))
        {
            r.granted_to = None;
            self.stats.releases += 1;
            freed |= r.accepting;
        }
        if freed {
            self.wake_waiters(Some(client), out);
        }
    }

    /// A workstation went down: it is no longer idle (its holder is told), and the
    /// connections of clients running there die, giving their hosts back. Idempotent.
    pub fn host_down(&mut self, h: HostId) -> Outs {
        let mut out = Outs::new();
        if let Some(r) = self.hosts.get_mut(&h) {
            r.accepting = false;
            if let Some(c) = r.granted_to.take() {
                self.stats.withdrawals += 1;
                self.notify(c, h, ReclaimReason::HostDown, &mut out);
            }
        }
        for c in self.clients_on(h) {
            self.clients.remove(&c);
            self.free_all(c, &mut out);
        }
        out
    }

    /// The clients whose connections come from workstation `h`.
    pub fn clients_on(&self, h: HostId) -> Vec<Client> {
        self.clients
            .iter()
            .filter(|(_, c)| c.at == h)
            .map(|(p, _)| *p)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Pid = Pid::new(0, 0);
    const B: Pid = Pid::new(5, 0);

    fn h(i: u8) -> HostId {
        HostId(i)
    }

    fn idle(idle_ms: u64) -> LoadReport {
        LoadReport {
            accepting: true,
            loads_centi: [0; 3],
            idle_ms,
        }
    }

    fn busy() -> LoadReport {
        LoadReport {
            accepting: false,
            loads_centi: [0; 3],
            idle_ms: 0,
        }
    }

    /// A migd over h0..h5 with clients A (on h0) and B (on h5) connected.
    fn migd() -> Migd {
        let mut m = Migd::new((0..6).map(HostId));
        for (c, at) in [(A, 0), (B, 5)] {
            let out = m
                .handle(0, Node::Host(h(at)), Msg::MigdOpen { client: c })
                .unwrap();
            assert_eq!(
                out,
                vec![(
                    Node::Host(h(at)),
                    Msg::MigdOpenReply {
                        client: c,
                        result: Ok(())
                    }
                )]
            );
        }
        m
    }

    fn report(m: &mut Migd, now: u64, host: u8, r: LoadReport) -> Outs {
        m.handle(now, Node::Host(h(host)), Msg::LoadReport { report: r })
            .unwrap()
    }

    /// The HOST_RECLAIM migd sends `c` (running on `at`) about `host`.
    fn reclaim(c: Client, at: u8, host: u8, why: ReclaimReason) -> (Node, Msg) {
        let host = h(host);
        (
            Node::Host(h(at)),
            Msg::HostReclaim {
                client: c,
                host,
                why,
            },
        )
    }

    fn release(m: &mut Migd, c: Client, at: u8, host: HostId) -> Outs {
        m.handle(0, Node::Host(h(at)), Msg::HostRelease { client: c, host })
            .unwrap()
    }

    /// A request from `c` (running on `at`): the granted host, and the other messages.
    fn request(m: &mut Migd, c: Client, at: u8) -> (Option<HostId>, Outs) {
        let mut out = m
            .handle(100_000, Node::Host(h(at)), Msg::HostRequest { client: c })
            .unwrap();
        match out.pop() {
            Some((to, Msg::HostGrant { client, result })) => {
                assert_eq!((to, client), (Node::Host(h(at)), c));
                (result.unwrap(), out)
            }
            other => panic!("no grant: {other:?}"),
        }
    }

    #[test]
    fn grants_the_longest_idle_host_first_never_the_clients_own() {
        let mut m = migd();
        report(&mut m, 50_000, 2, idle(10_000)); // idle since 40 s
        report(&mut m, 50_000, 3, idle(40_000)); // idle since 10 s
        report(&mut m, 50_000, 1, idle(40_000)); // idle since 10 s: ties go to h1
        report(&mut m, 50_000, 0, idle(45_000)); // A's own host, idle longest
        assert_eq!(request(&mut m, A, 0).0, Some(h(1)));
        assert_eq!(request(&mut m, A, 0).0, Some(h(3)));
        // A periodic report does not make a host look freshly idle.
        report(&mut m, 110_000, 2, idle(70_000));
        assert_eq!(m.hosts[&h(2)].idle_since, 40_000);
        assert_eq!(request(&mut m, A, 0).0, Some(h(2)));
        assert_eq!(m.stats.grants, 3);
    }

    #[test]
    fn one_client_per_host_and_denied_clients_hear_of_free_hosts() {
        let mut m = migd();
        report(&mut m, 1_000, 1, idle(1_000));
        assert_eq!(request(&mut m, A, 0).0, Some(h(1)));
        let (got, out) = request(&mut m, A, 0);
        assert_eq!((got, out), (None, vec![]), "h1 is A's; nothing else idle");
        assert!(m.clients[&A].waiting);
        // A host comes free: A is told, once.
        let out = report(&mut m, 2_000, 2, idle(0));
        assert_eq!(
            out,
            vec![(Node::Host(h(0)), Msg::HostAvailable { client: A })]
        );
        assert!(report(&mut m, 3_000, 3, idle(0)).is_empty());
    }

    #[test]
    fn fairness_takes_a_host_from_a_client_above_its_share() {
        let mut m = migd();
        for i in 1..=3 {
            report(&mut m, 10_000, i, idle(1_000 * i as u64));
        }
        let granted: Vec<_> = (0..3).map(|_| request(&mut m, A, 0).0).collect();
        assert_eq!(granted, vec![Some(h(3)), Some(h(2)), Some(h(1))]);
        // B holds none; its share of 3 idle hosts among 2 clients is 2; A holds 3 > 2:
        // A's most recent host (h1) is taken, its processes evicted, A told.
        let (got, out) = request(&mut m, B, 5);
        assert_eq!(got, Some(h(1)));
        assert_eq!(
            out,
            vec![
                (Node::Host(h(1)), Msg::HostEvict),
                reclaim(A, 0, 1, ReclaimReason::Fairness),
            ]
        );
        assert_eq!(m.hosts[&h(1)].granted_to, Some(B));
        // Now B holds 1 < 2, but A holds 2, not above its share: no more reclaims.
        assert_eq!(request(&mut m, B, 5), (None, vec![]));
        assert_eq!(m.held(A).count(), 2);
        assert_eq!(m.stats.fairness_reclaims, 1);
        assert_eq!(m.stats.denials, 1);
    }

    #[test]
    fn a_host_that_stops_being_idle_is_withdrawn_and_its_holder_told() {
        let mut m = migd();
        report(&mut m, 1_000, 1, idle(1_000));
        report(&mut m, 1_000, 2, idle(500));
        assert_eq!(request(&mut m, A, 0).0, Some(h(1)));
        let out = report(&mut m, 2_000, 1, busy());
        assert_eq!(out, vec![reclaim(A, 0, 1, ReclaimReason::NotIdle)]);
        assert_eq!(m.hosts[&h(1)].granted_to, None);
        assert_eq!(
            request(&mut m, A, 0).0,
            Some(h(2)),
            "h1 is not idle any more"
        );
        assert_eq!(request(&mut m, A, 0).0, None);
        assert_eq!(m.stats.withdrawals, 1);
    }

    #[test]
    fn release_and_close_give_hosts_back() {
        let mut m = migd();
        for i in 1..=3 {
            report(&mut m, 1_000, i, idle(1_000));
        }
        let hosts: Vec<_> = (0..3).filter_map(|_| request(&mut m, A, 0).0).collect();
        assert_eq!(hosts.len(), 3);
        // B's first request is served by fairness (A holds 3, above its share of 2); its
        // second finds nobody above the share, and B waits.
        assert!(request(&mut m, B, 5).0.is_some());
        assert_eq!(request(&mut m, B, 5).0, None);
        let out = release(&mut m, A, 0, hosts[0]);
        assert_eq!(
            out,
            vec![
                (Node::Host(h(5)), Msg::HostAvailable { client: B }),
                (
                    Node::Host(h(0)),
                    Msg::HostReleaseReply {
                        client: A,
                        result: Ok(())
                    }
                ),
            ]
        );
        // A's exit closes its connection: every host it held goes back.
        let out = m
            .handle(0, Node::Host(h(0)), Msg::MigdClose { client: A })
            .unwrap();
        assert_eq!(
            out.last(),
            Some(&(
                Node::Host(h(0)),
                Msg::MigdCloseReply {
                    client: A,
                    result: Ok(())
                }
            ))
        );
        assert_eq!(m.held(A).count(), 0);
        assert!(!m.clients.contains_key(&A));
        assert_eq!(m.held(B).count(), 1);
        assert_eq!(request(&mut m, B, 5).0.map(|_| ()), Some(()));
    }

    #[test]
    fn a_host_going_down_is_withdrawn_and_its_clients_connections_die() {
        let mut m = migd();
        report(&mut m, 1_000, 1, idle(1_000));
        report(&mut m, 1_000, 2, idle(1_000));
        assert_eq!(request(&mut m, A, 0).0, Some(h(1)));
        assert_eq!(request(&mut m, B, 5).0, Some(h(2)));
        let out = m.host_down(h(1));
        assert_eq!(out, vec![reclaim(A, 0, 1, ReclaimReason::HostDown)]);
        // B ran on h5: its connection dies with h5, and h2 is free again.
        assert!(m.host_down(h(5)).is_empty());
        assert!(!m.clients.contains_key(&B));
        assert_eq!(m.hosts[&h(2)].granted_to, None);
        assert_eq!(m.host_down(h(5)), vec![], "idempotent");
    }

    #[test]
    fn bad_calls_get_clear_errors_and_change_nothing() {
        let mut m = migd();
        let before = m.clone();
        let stranger = Pid::new(3, 0);
        let out = m
            .handle(0, Node::Host(h(3)), Msg::HostRequest { client: stranger })
            .unwrap();
        assert_eq!(
            out,
            vec![(
                Node::Host(h(3)),
                Msg::HostGrant {
                    client: stranger,
                    result: Err(MigdError::NotConnected(stranger))
                }
            )]
        );
        for (host, want) in [
            (h(2), MigdError::NotHeld(h(2))),
            (h(9), MigdError::UnknownHost(h(9))),
        ] {
            let out = release(&mut m, A, 0, host);
            assert_eq!(
                out,
                vec![(
                    Node::Host(h(0)),
                    Msg::HostReleaseReply {
                        client: A,
                        result: Err(want)
                    }
                )]
            );
        }
        let out = m
            .handle(0, Node::Host(h(0)), Msg::MigdOpen { client: A })
            .unwrap();
        assert!(matches!(
            out[0].1,
            Msg::MigdOpenReply {
                result: Err(MigdError::AlreadyConnected(_)),
                ..
            }
        ));
        assert_eq!(
            m.handle(0, Node::Host(h(9)), Msg::LoadReport { report: idle(5) }),
            Err(MigdError::UnknownHost(h(9)))
        );
        assert_eq!(
            m.handle(0, Node::Server, Msg::LoadReport { report: idle(5) }),
            Err(MigdError::WrongSender)
        );
        assert_eq!(
            m.handle(0, Node::Host(h(0)), Msg::HostEvict),
            Err(MigdError::Unexpected(vocab::MsgKind::HostEvict))
        );
        assert_eq!(m, before, "nothing changed");
    }
}
