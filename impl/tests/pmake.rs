//! Host selection end to end: load daemons and migd as message-driven nodes, pmake as
//! their client, the kernels doing the migrations and evictions. Every pmake run is
//! checked against one Unix machine (TR). `SPRITE_SEEDS=N` runs more seeds.

use sprite::msg::{Msg, Node, ReclaimReason};
use sprite::policy::{check_tr, merged_log, run_all, run_spec, IdleRule, Job, Pmake};
use sprite::{Cluster, ClusterConfig, SimError};
use vocab::{ClusterEvent, HostId, Pid};

fn seeds() -> u64 {
    std::env::var("SPRITE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12)
}

#[test]
fn pmake_jobs_evicted_mid_run_are_remigrated_and_agree_with_one_unix_machine() {
    let (cfg, spec) = sprite::report::pmake_spec();
    for seed in 1..=seeds() {
        let mut c = Cluster::new(&cfg, seed).expect("cluster");
        c.enable_policy(IdleRule::default()).expect("policy");
        let r = run_spec(&mut c, &spec).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(r.completed, 8, "seed {seed}");
        assert!(
            r.tr_mismatches.is_empty(),
            "seed {seed}: {:?}",
            r.tr_mismatches
        );
        // The owner of h1 came back while a job ran there: it went home (the kernel's
        // eviction), migd told pmake, and pmake moved it to h5 once h5 was idle.
        assert_eq!((r.evictions, r.remigrations), (1, 1), "seed {seed}: {r:?}");
        let moved: Vec<_> = r.placements.iter().filter(|p| p.len() > 1).collect();
        assert_eq!(
            moved,
            vec![&vec![HostId(1), HostId(0), HostId(5)]],
            "seed {seed}"
        );
        assert!(r.outputs.iter().all(Option::is_some), "seed {seed}");
        let migd = &c.policy().expect("policy").migd;
        assert_eq!(migd.stats.withdrawals, 1, "seed {seed}");
        assert!(migd.clients.is_empty() && migd.hosts.values().all(|h| h.granted_to.is_none()));
        // The eviction really happened in the kernels: one Evict migration, to h0.
        let evictions: Vec<_> = c
            .ledger
            .migrations
            .iter()
            .filter(|m| m.kind == sprite::msg::MigKind::Evict)
            .map(|m| (m.from, m.to, m.succeeded()))
            .collect();
        assert_eq!(evictions, vec![(HostId(1), HostId(0), true)], "seed {seed}");
    }
}

#[test]
fn same_seed_same_run() {
    let (cfg, spec) = sprite::report::pmake_spec();
    let run = || {
        let mut c = Cluster::new(&cfg, 9).expect("cluster");
        c.set_tracing(true);
        c.enable_policy(IdleRule::default()).expect("policy");
        let r = run_spec(&mut c, &spec).expect("runs");
        (r, c.ledger.totals.clone(), c.trace().to_vec())
    };
    let (a, b) = (run(), run());
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
}

/// Two pmakes: A (on h0) holds every idle host when B (on h5) asks; fairness takes hosts
/// from A for B, A's jobs there are evicted home ("just as if the user returned"), and
/// both runs finish with one Unix machine's results.
#[test]
fn fairness_reclaims_hosts_from_a_client_above_its_share() {
    let a = Pid::new(0, 0);
    let b = Pid::new(5, 0);
    let mut cfg = ClusterConfig::simple(6, &[(a, 1), (b, 1)]);
    cfg.hosts[0].owner_present = true;
    cfg.hosts[5].owner_present = true;
    let job = Job {
        steps: 6,
        step_ms: 5_000,
    };
    for seed in 1..=seeds().min(6) {
        let mut c = Cluster::new(&cfg, seed).expect("cluster");
        c.enable_policy(IdleRule::default()).expect("policy");
        c.run_until(35_000).expect("daemons report");
        let pa = Pmake::new(&c, a, &vec![job.clone(); 6], 1, 0).expect("pmake A");
        let pb = Pmake::new(&c, b, &vec![job.clone(); 3], 1, 100)
            .expect("pmake B")
            .starting_at(45_000);
        let rs = run_all(&mut c, vec![pa, pb]).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let (ra, rb) = (&rs[0], &rs[1]);
        assert_eq!((ra.completed, rb.completed), (6, 3), "seed {seed}");
        let bad = check_tr(&c.cfg, &merged_log(&rs));
        assert!(bad.is_empty(), "seed {seed}: {bad:?}");
        let migd = &c.policy().expect("policy").migd;
        // 4 idle hosts, 2 clients: a share of 2 each. A held 4, so B gets 2 of them.
        assert_eq!(migd.stats.fairness_reclaims, 2, "seed {seed}");
        assert_eq!(ra.evictions, 2, "seed {seed}: {ra:?}");
        assert!(rb.grants >= 2, "seed {seed}: {rb:?}");
        // B's first jobs ran on hosts taken from A.
        let taken: Vec<HostId> = rb.placements.iter().take(2).map(|p| p[0]).collect();
        for h in &taken {
            assert!(
                ra.placements
                    .iter()
                    .any(|p| p.first() == Some(h) && p.len() > 1),
                "seed {seed}: {h} was not taken from A: {ra:?} {rb:?}"
            );
        }
        let reclaims: Vec<_> = c
            .ledger
            .migrations
            .iter()
            .filter(|m| m.kind == sprite::msg::MigKind::Evict)
            .map(|m| m.to)
            .collect();
        assert_eq!(reclaims, vec![HostId(0), HostId(0)], "seed {seed}");
    }
}

fn idle_cluster(n: u8, procs: &[(Pid, u8)]) -> Cluster {
    let mut c = Cluster::new(&ClusterConfig::simple(n, procs), 1).expect("cluster");
    c.enable_policy(IdleRule::default()).expect("policy");
    c.run_until(35_000).expect("daemons report");
    c
}

fn call(c: &mut Cluster, client: Pid, msg: Msg) -> Vec<Msg> {
    c.client_send(client, msg).expect("sent");
    c.run_until_quiescent().expect("quiescent");
    c.client_mail(client)
}

#[test]
fn an_owner_returning_withdraws_the_host_and_migd_tells_the_holder() {
    let me = Pid::new(0, 0);
    let mut c = idle_cluster(3, &[(me, 1)]);
    call(&mut c, me, Msg::MigdOpen { client: me });
    let got = call(&mut c, me, Msg::HostRequest { client: me });
    assert_eq!(
        got,
        vec![Msg::HostGrant {
            client: me,
            result: Ok(Some(HostId(1)))
        }]
    );
    c.event(ClusterEvent::OwnerReturns(HostId(1)))
        .expect("event");
    c.run_until_quiescent().expect("quiescent");
    assert_eq!(
        c.client_mail(me),
        vec![Msg::HostReclaim {
            client: me,
            host: HostId(1),
            why: ReclaimReason::NotIdle
        }]
    );
    let migd = &c.policy().expect("policy").migd;
    assert!(!migd.hosts[&HostId(1)].accepting);
    assert_eq!(migd.hosts[&HostId(1)].granted_to, None);
    // The next request gets h2, not h1.
    let got = call(&mut c, me, Msg::HostRequest { client: me });
    assert_eq!(
        got,
        vec![Msg::HostGrant {
            client: me,
            result: Ok(Some(HostId(2)))
        }]
    );
}

#[test]
fn a_crashed_clients_hosts_go_back_to_the_pool() {
    let p = Pid::new(1, 0);
    let mut c = idle_cluster(4, &[(p, 1)]);
    call(&mut c, p, Msg::MigdOpen { client: p });
    let got = call(&mut c, p, Msg::HostRequest { client: p });
    assert!(matches!(
        got[..],
        [Msg::HostGrant {
            result: Ok(Some(_)),
            ..
        }]
    ));
    c.event(ClusterEvent::Crash(HostId(1))).expect("crash");
    c.run_until_quiescent().expect("quiescent");
    let migd = &c.policy().expect("policy").migd;
    assert!(migd.clients.is_empty());
    assert!(migd.hosts.values().all(|h| h.granted_to.is_none()));
    assert!(!migd.hosts[&HostId(1)].accepting);
    // It reboots: a fresh daemon reports it idle again after 30 s without input.
    c.event(ClusterEvent::Reboot(HostId(1))).expect("reboot");
    let t = c.now();
    c.run_until(t + 40_000).expect("time passes");
    assert!(c.policy().expect("policy").migd.hosts[&HostId(1)].accepting);
}

#[test]
fn bad_host_selection_calls_are_errors_that_change_nothing() {
    let me = Pid::new(0, 0);
    let mut plain = Cluster::new(&ClusterConfig::simple(2, &[(me, 1)]), 1).expect("cluster");
    assert!(matches!(
        plain.client_send(me, Msg::MigdOpen { client: me }),
        Err(SimError::Policy(_))
    ));
    assert!(matches!(plain.run_until(1_000), Ok(false)));
    let mut c = idle_cluster(3, &[(me, 1)]);
    let before = c.policy().expect("policy").migd.clone();
    let ghost = Pid::new(2, 7);
    assert!(matches!(
        c.client_send(ghost, Msg::MigdOpen { client: ghost }),
        Err(SimError::Policy(e)) if e.contains("no process p2.7")
    ));
    assert!(c
        .client_send(
            me,
            Msg::MigdOpen {
                client: Pid::new(1, 0)
            }
        )
        .is_err());
    assert!(c.client_send(me, Msg::Resume { pid: me }).is_err());
    assert!(matches!(
        c.schedule(1, ClusterEvent::OwnerReturns(HostId(9))),
        Err(SimError::UnknownHost(_))
    ));
    // A request before opening gets an error in its reply.
    let got = call(&mut c, me, Msg::HostRequest { client: me });
    assert_eq!(
        got,
        vec![Msg::HostGrant {
            client: me,
            result: Err(sprite::msg::MigdError::NotConnected(me))
        }]
    );
    // Garbage and misaddressed messages reach migd and the hosts' user level: dropped,
    // traced, nothing changes. (p0.0 runs on h1 meanwhile, so that an eviction of h1's
    // foreign processes would show.)
    let moved = c.run_op(me, vocab::Op::Migrate { target: HostId(1) });
    assert_eq!(moved, Ok(Some(Ok(vocab::Value::Unit))));
    c.set_tracing(true);
    c.inject_bytes(
        Node::Host(HostId(1)),
        Node::Migd,
        vec![b'S', b'P', b'R', b'T', 1, 0, 9],
    );
    let forged = sprite::msg::encode(
        1,
        &sprite::msg::Envelope {
            from: Node::Server,
            to: Node::Migd,
            msg: Msg::HostEvict,
        },
    );
    c.inject_bytes(Node::Server, Node::Migd, forged);
    let forged = sprite::msg::encode(
        1,
        &sprite::msg::Envelope {
            from: Node::Host(HostId(2)),
            to: Node::Host(HostId(1)),
            msg: Msg::HostEvict,
        },
    );
    c.inject_bytes(Node::Host(HostId(2)), Node::Host(HostId(1)), forged);
    c.run_until_quiescent().expect("quiescent");
    let dropped = c
        .trace()
        .iter()
        .filter(|l| matches!(l.ev, sprite::sim::TraceEvent::Dropped { .. }))
        .count();
    assert_eq!(dropped, 3, "{:#?}", c.trace());
    assert_eq!(c.policy().expect("policy").migd, before);
    // The forged HOST_EVICT (not from migd) made no kernel evict anything.
    assert!(c
        .ledger
        .migrations
        .iter()
        .all(|m| m.kind != sprite::msg::MigKind::Evict));
    assert_eq!(c.host_of(me), Some(HostId(1)));
}

/// Owners come and go at random times while one pmake, or two competing ones, run (all
/// drawn from the seed, printed on failure): every job still completes, with one Unix
/// machine's results.
#[test]
fn owners_coming_and_going_at_random_never_break_pmake() {
    use rand::{Rng, SeedableRng};
    let me = Pid::new(0, 0);
    let other = Pid::new(4, 0);
    let mut cfg = ClusterConfig::simple(5, &[(me, 1), (other, 1)]);
    cfg.hosts[4].owner_present = true;
    let job = Job {
        steps: 4,
        step_ms: 3_000,
    };
    for seed in 1..=seeds() * 4 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut c = Cluster::new(&cfg, seed).expect("cluster");
        c.enable_policy(IdleRule::default()).expect("policy");
        let mut events = Vec::new();
        for _ in 0..rng.gen_range(1..8) {
            let h = HostId(rng.gen_range(1..5));
            let at = rng.gen_range(35_000..90_000);
            let ev = if rng.gen_bool(0.6) {
                ClusterEvent::OwnerReturns(h)
            } else {
                ClusterEvent::OwnerLeaves(h)
            };
            c.schedule(at, ev).expect("schedule");
            events.push((at, ev));
        }
        c.run_until(35_000).expect("daemons report");
        let mut ps = vec![Pmake::new(&c, me, &vec![job.clone(); 6], 1, 0).expect("pmake")];
        let second = rng.gen_bool(0.5).then(|| rng.gen_range(35_000..60_000));
        if let Some(t) = second {
            let p = Pmake::new(&c, other, &vec![job.clone(); 3], 1, 100).expect("pmake");
            ps.push(p.starting_at(t));
        }
        let why = format!("seed {seed}, events {events:?}, second pmake at {second:?}");
        let rs = run_all(&mut c, ps).unwrap_or_else(|e| panic!("{why}: {e}"));
        let done: Vec<u32> = rs.iter().map(|r| r.completed).collect();
        assert_eq!(done, [6, 3][..rs.len()], "{why}");
        let bad = check_tr(&c.cfg, &merged_log(&rs));
        assert!(bad.is_empty(), "{why}: {bad:?}");
        let migd = &c.policy().expect("policy").migd;
        assert!(migd.clients.is_empty(), "seed {seed}: closed");
    }
}
