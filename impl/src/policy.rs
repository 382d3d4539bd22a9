//! Migration policy (SPE "Migration Policies"; TH ch. 6): a load daemon per host decides
//! whether the host is idle, a central migd hands idle hosts to clients, and a pmake-style
//! driver runs jobs on granted hosts, re-migrating jobs evicted when an owner returns.
//!
//! Policy sits above the mechanism: it drives the [`Cluster`] only through its public
//! operations and events, as pmake and migd do through system calls.

use crate::sim::{Cluster, SimError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vocab::{ClusterEvent, Errno, HostId, Op, Outcome, PageNo, Pid, Value};

/// Thresholds of the load daemon (source facts: 1/5/15-minute load averages below
/// 0.75/1.0/1.5 to start accepting, above 2.5/2.75/3.0 to stop; no input for 30 s).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdleRule {
    pub no_input_ms: u64,
    pub accept_below: [f64; 3],
    pub refuse_above: [f64; 3],
}

impl Default for IdleRule {
    fn default() -> Self {
        IdleRule {
            no_input_ms: 30_000,
            accept_below: [0.75, 1.0, 1.5],
            refuse_above: [2.5, 2.75, 3.0],
        }
    }
}

/// One host's load daemon: exponentially averaged run-queue lengths (1, 5, 15 minutes,
/// sampled every 5 s) and the time of the last keyboard or mouse input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadDaemon {
    pub rule: IdleRule,
    pub averages: [f64; 3],
    pub last_input_ms: u64,
    /// Hysteresis: whether the host currently accepts foreign work.
    pub accepting: bool,
}

impl LoadDaemon {
    pub fn new(rule: IdleRule) -> LoadDaemon {
        LoadDaemon {
            rule,
            averages: [0.0; 3],
            last_input_ms: 0,
            accepting: false,
        }
    }

    /// The owner typed or moved the mouse.
    pub fn input(&mut self, now_ms: u64) {
        self.last_input_ms = now_ms;
        self.accepting = false;
    }

    /// A 5-second sample of the number of runnable processes.
    pub fn sample(&mut self, now_ms: u64, runnable: u32) {
        for (avg, minutes) in self.averages.iter_mut().zip([1.0f64, 5.0, 15.0]) {
            let decay = (-5.0 / (60.0 * minutes)).exp();
            *avg = *avg * decay + runnable as f64 * (1.0 - decay);
        }
        let quiet = now_ms.saturating_sub(self.last_input_ms) >= self.rule.no_input_ms;
        let low = self
            .averages
            .iter()
            .zip(self.rule.accept_below)
            .all(|(a, t)| *a < t);
        let high = self
            .averages
            .iter()
            .zip(self.rule.refuse_above)
            .any(|(a, t)| *a > t);
        if !quiet || high {
            self.accepting = false;
        } else if low {
            self.accepting = true;
        }
    }
}

/// A client of migd (a pmake or a `mig` command), named by its process.
pub type Client = Pid;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    /// Since when the host has been idle, if it is.
    pub idle_since: Option<u64>,
    pub granted_to: Option<Client>,
}

/// What migd tells clients besides a grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    /// The host was taken back (owner returned, or fairness); the client must re-place
    /// or suspend the work it had there.
    Reclaimed { host: HostId, client: Client },
}

/// The central migration server: the idle-host database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migd {
    pub hosts: BTreeMap<HostId, HostRecord>,
    /// Clients currently asking for more hosts than they have.
    pub wanting: BTreeMap<Client, u32>,
    pub notices: Vec<Notice>,
}

impl Migd {
    pub fn new() -> Migd {
        Migd::default()
    }

    /// A load daemon's report.
    pub fn report(&mut self, host: HostId, idle: bool, now: u64) {
        let r = self.hosts.entry(host).or_insert(HostRecord {
            idle_since: None,
            granted_to: None,
        });
        match (idle, r.idle_since) {
            (true, None) => r.idle_since = Some(now),
            (false, Some(_)) => {
                r.idle_since = None;
                if let Some(c) = r.granted_to.take() {
                    self.notices.push(Notice::Reclaimed { host, client: c });
                }
            }
            _ => {}
        }
    }

    fn held(&self, c: Client) -> usize {
        self.hosts
            .values()
            .filter(|r| r.granted_to == Some(c))
            .count()
    }

    /// Grants the longest-idle free host (one job per host). When none is free, reclaims
    /// a host from a client holding more than its fair share.
    pub fn request(&mut self, client: Client) -> Option<HostId> {
        let free = self
            .hosts
            .iter()
            .filter(|(_, r)| r.idle_since.is_some() && r.granted_to.is_none())
            .min_by_key(|(h, r)| (r.idle_since, **h))
            .map(|(h, _)| *h);
        if let Some(h) = free {
            if let Some(r) = self.hosts.get_mut(&h) {
                r.granted_to = Some(client);
            }
            return Some(h);
        }
        *self.wanting.entry(client).or_default() += 1;
        let idle = self
            .hosts
            .values()
            .filter(|r| r.idle_since.is_some())
            .count();
        let mut clients: Vec<Client> = self.hosts.values().filter_map(|r| r.granted_to).collect();
        clients.push(client);
        clients.sort();
        clients.dedup();
        let share = idle.div_ceil(clients.len().max(1));
        if self.held(client) >= share {
            return None;
        }
        let greedy = clients
            .into_iter()
            .filter(|c| *c != client)
            .max_by_key(|c| (self.held(*c), *c))?;
        if self.held(greedy) <= share {
            return None;
        }
        let (h, _) = self
            .hosts
            .iter()
            .find(|(_, r)| r.granted_to == Some(greedy))?;
        let h = *h;
        self.notices.push(Notice::Reclaimed {
            host: h,
            client: greedy,
        });
        if let Some(r) = self.hosts.get_mut(&h) {
            r.granted_to = Some(client);
        }
        Some(h)
    }

    pub fn release(&mut self, client: Client, host: HostId) {
        if let Some(r) = self
            .hosts
            .get_mut(&host)
            .filter(|r| r.granted_to == Some(client))
        {
            r.granted_to = None;
        }
    }

    /// A client exited: its hosts go back to the pool.
    pub fn client_exit(&mut self, client: Client) {
        for r in self
            .hosts
            .values_mut()
            .filter(|r| r.granted_to == Some(client))
        {
            r.granted_to = None;
        }
        self.wanting.remove(&client);
    }
}

/// One job of a pmake run: a few memory writes on the job's host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub work: u8,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmakeReport {
    pub completed: u32,
    pub ran_remotely: u32,
    pub ran_locally: u32,
    pub evictions: u32,
    pub remigrations: u32,
    /// Per job: the hosts it ran on, in order.
    pub placements: Vec<Vec<HostId>>,
}

fn ok(o: Option<Outcome>) -> Result<Value, String> {
    match o {
        Some(Ok(v)) => Ok(v),
        other => Err(format!("unexpected result {other:?}")),
    }
}

/// pmake: for each job, fork a child at home, exec it on a host migd grants (exec-time
/// migration), do the work, exit, wait, release the host. `owner_returns` lists, per job
/// index, a host whose owner comes back while that job runs: the job is evicted home, and
/// pmake asks migd for another host and re-migrates it there (SPE: "pmake then
/// re-migrates or suspends the job").
pub fn pmake(
    c: &mut Cluster,
    migd: &mut Migd,
    me: Pid,
    jobs: &[Job],
    owner_returns: &BTreeMap<usize, HostId>,
) -> Result<PmakeReport, String> {
    let e = |e: SimError| e.to_string();
    let mut rep = PmakeReport::default();
    for (i, job) in jobs.iter().enumerate() {
        let child = match ok(c.run_op(me, Op::Fork).map_err(e)?)? {
            Value::Pid(p) => p,
            v => return Err(format!("fork gave {v}")),
        };
        let mut placed = Vec::new();
        let granted = migd.request(me);
        let target = granted.unwrap_or(me.home);
        ok(c.run_op(
            child,
            Op::Exec {
                target: Some(target),
            },
        )
        .map_err(e)?)?;
        let mut at = c.host_of(child).unwrap_or(me.home);
        placed.push(at);
        for w in 0..job.work {
            if w == job.work / 2 {
                if let Some(h) = owner_returns.get(&i).copied().filter(|h| *h == at) {
                    c.event(ClusterEvent::OwnerReturns(h)).map_err(e)?;
                    c.run_until_quiescent().map_err(e)?;
                    migd.report(h, false, c.now());
                    rep.evictions += 1;
                    at = c.host_of(child).unwrap_or(me.home);
                    migd.notices.clear();
                    if let Some(h2) = migd.request(me) {
                        match c.run_op(child, Op::Migrate { target: h2 }).map_err(e)? {
                            Some(Ok(_)) => {
                                rep.remigrations += 1;
                                at = h2;
                            }
                            Some(Err(Errno::Refused(_))) => migd.release(me, h2),
                            other => return Err(format!("re-migration gave {other:?}")),
                        }
                    }
                    placed.push(at);
                }
            }
            ok(c.run_op(
                child,
                Op::MemWrite {
                    page: PageNo(0),
                    sym: w,
                },
            )
            .map_err(e)?)?;
        }
        if at == me.home {
            rep.ran_locally += 1;
        } else {
            rep.ran_remotely += 1;
        }
        ok(c.run_op(child, Op::Exit { status: 0 }).map_err(e)?)?;
        match ok(c.run_op(me, Op::Wait).map_err(e)?)? {
            Value::Child { pid, .. } if pid == child => {}
            v => return Err(format!("wait gave {v}")),
        }
        for h in placed.iter().filter(|h| **h != me.home) {
            migd.release(me, *h);
        }
        rep.completed += 1;
        rep.placements.push(placed);
    }
    migd.client_exit(me);
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ClusterConfig;

    #[test]
    fn load_daemon_needs_quiet_and_low_load_with_hysteresis() {
        let mut d = LoadDaemon::new(IdleRule::default());
        d.sample(10_000, 0);
        assert!(!d.accepting, "input less than 30 s ago");
        d.sample(40_000, 0);
        assert!(d.accepting);
        for t in 0..400 {
            d.sample(40_000 + t * 5_000, 4);
        }
        assert!(!d.accepting, "loaded: stops accepting");
        d.input(3_000_000);
        assert!(!d.accepting);
    }

    #[test]
    fn migd_grants_longest_idle_first_one_job_per_host_and_reclaims_for_fairness() {
        let (a, b) = (Pid::new(0, 0), Pid::new(0, 1));
        let mut m = Migd::new();
        m.report(HostId(2), true, 50);
        m.report(HostId(1), true, 10);
        assert_eq!(m.request(a), Some(HostId(1)), "longest idle first");
        assert_eq!(m.request(a), Some(HostId(2)));
        assert_eq!(m.request(a), None, "one job per host");
        assert_eq!(
            m.request(b),
            Some(HostId(1)),
            "fairness: taken from the greedy client"
        );
        assert_eq!(
            m.notices,
            vec![Notice::Reclaimed {
                host: HostId(1),
                client: a
            }]
        );
        m.client_exit(b);
        assert_eq!(
            m.hosts[&HostId(1)].granted_to,
            None,
            "released on client exit"
        );
        m.report(HostId(2), false, 60);
        assert_eq!(
            m.notices.last(),
            Some(&Notice::Reclaimed {
                host: HostId(2),
                client: a
            })
        );
    }

    #[test]
    fn pmake_runs_jobs_remotely_and_remigrates_evicted_ones() {
        let me = Pid::new(0, 0);
        let cfg = ClusterConfig::simple(4, &[(me, 1)]);
        let mut c = Cluster::new(&cfg, 5).unwrap();
        let mut m = Migd::new();
        for h in 1..4 {
            m.report(HostId(h), true, h as u64);
        }
        let jobs = vec![Job { work: 4 }; 3];
        let evict = BTreeMap::from([(1usize, HostId(1))]);
        let r = pmake(&mut c, &mut m, me, &jobs, &evict).unwrap();
        assert_eq!(r.completed, 3);
        assert_eq!(r.evictions, 1);
        assert_eq!(r.remigrations, 1);
        assert_eq!(r.placements[1].len(), 2, "{:?}", r.placements);
        assert!(m.hosts.values().all(|h| h.granted_to.is_none()));
    }
}
