//! Death notices that cannot be delivered are kept by the kernel that has them and sent
//! when their destination is up again (a remote process depends on its home for life
//! [TH §4.4]; Sprite's procRecovery.c flags such a dependency DEPEND_UNREACHABLE and acts
//! on it when the host comes back [SRC procRecovery.c]). The notices live in the holder's
//! memory: a crash of the holder loses them. See specs/failures.md, "Death notices".
//!
//! In this project a host that is down has crashed, and a home's crash kills all of its
//! processes at once; so a notice can only be undeliverable to a home that lost every
//! process and record it could report to, and the rebooted home ignores it (the last
//! test shows the whole sequence). The mechanism is checked directly on the kernel and,
//! with a notice put on the wire by hand, through the simulator.

use sprite::kernel::{Input, Kernel, KernelConfig, Out};
use sprite::msg::{encode, Envelope, Msg, Node};
use sprite::sim::TraceEvent;
use sprite::{Cluster, ClusterConfig};
use std::collections::BTreeSet;
use vocab::{ClusterEvent, HostId, Op, Pid, Switches, Value, KILLED_STATUS};

const H0: HostId = HostId(0);
const H1: HostId = HostId(1);
const H2: HostId = HostId(2);
const P: Pid = Pid::new(0, 0);
const CHILD: Pid = Pid::new(0, 1);

fn kernel(h: HostId) -> Kernel {
    Kernel::new(KernelConfig {
        host: h,
        version: 1,
        clock_skew_ms: 0,
        switches: Switches::SPRITE,
        hosts: BTreeSet::from([H0, H1, H2]),
        exec_args_bytes: 0,
        exec_args: None,
        precopy_runs: false,
    })
}

fn notice(pid: Pid) -> Msg {
    Msg::DeathNotice {
        pid,
        status: KILLED_STATUS,
    }
}

fn notices_to(outs: &[Out], h: HostId) -> Vec<Pid> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Send(Node::Host(x), Msg::DeathNotice { pid, .. }) if *x == h => Some(*pid),
            _ => None,
        })
        .collect()
}

#[test]
fn fail_an_undeliverable_notice_is_kept_and_sent_once_when_the_host_is_back() {
    let mut k = kernel(H1);
    let out = k.handle(
        10,
        Input::Bounced {
            to: Node::Host(H0),
            msg: notice(CHILD),
        },
    );
    assert!(notices_to(&out, H0).is_empty());
    assert_eq!(k.undelivered.get(&H0).map(|m| m.len()), Some(1));
    // Another host coming back does not release it.
    assert!(notices_to(&k.handle(11, Input::HostUp(H2)), H0).is_empty());
    assert_eq!(notices_to(&k.handle(12, Input::HostUp(H0)), H0), [CHILD]);
    assert!(k.undelivered.is_empty());
    // Exactly once: a later return of the host sends nothing again.
    assert!(notices_to(&k.handle(13, Input::HostUp(H0)), H0).is_empty());
}

#[test]
fn fail_other_undeliverable_messages_are_not_kept() {
    let mut k = kernel(H1);
    k.handle(
        10,
        Input::Bounced {
            to: Node::Host(H0),
            msg: Msg::ExitNotice {
                pid: CHILD,
                status: 3,
            },
        },
    );
    assert!(k.undelivered.is_empty());
}

/// Puts a death notice from `from` to `to` on the wire, as `from`'s kernel would send it.
fn on_the_wire(c: &mut Cluster, from: HostId, to: HostId, pid: Pid) {
    let env = Envelope {
        from: Node::Host(from),
        to: Node::Host(to),
        msg: notice(pid),
    };
    c.inject_bytes(env.from, env.to, encode(1, &env));
}

fn deliveries_of_notices(c: &Cluster) -> usize {
    c.trace()
        .iter()
        .filter(|l| matches!(&l.ev, TraceEvent::Send { kind, .. } if kind == "DEATH_NOTICE"))
        .count()
}

fn cluster() -> Cluster {
    let cfg = ClusterConfig::simple(3, &[(P, 1), (Pid::new(2, 0), 1)]);
    let mut c = Cluster::new(&cfg, 5).unwrap();
    c.set_tracing(true);
    c
}

#[test]
fn fail_a_notice_in_flight_when_its_destination_crashes_is_sent_after_the_reboot() {
    let mut c = cluster();
    on_the_wire(&mut c, H1, H0, CHILD);
    c.event(ClusterEvent::Crash(H0)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(c.kernel(H1).unwrap().undelivered.len(), 1, "kept on h1");
    assert_eq!(deliveries_of_notices(&c), 0);
    c.event(ClusterEvent::Reboot(H0)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(deliveries_of_notices(&c), 1, "sent once h0 is back");
    assert!(c.kernel(H1).unwrap().undelivered.is_empty());
    // The rebooted home has no record of the process: the notice changes nothing there,
    // and a second crash and reboot of h0 brings no second notice.
    assert!(c.kernel(H0).unwrap().home.is_empty());
    c.event(ClusterEvent::Crash(H0)).unwrap();
    c.event(ClusterEvent::Reboot(H0)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(deliveries_of_notices(&c), 1);
    // FAIL: p2.0 (home h2, on h2) never noticed any of it.
    assert_eq!(
        c.run_op(Pid::new(2, 0), Op::Getpid).unwrap(),
        Some(Ok(Value::Pid(Pid::new(2, 0))))
    );
}

#[test]
fn fail_a_crash_of_the_holder_loses_the_kept_notice() {
    let mut c = cluster();
    on_the_wire(&mut c, H1, H0, CHILD);
    c.event(ClusterEvent::Crash(H0)).unwrap();
    assert_eq!(c.kernel(H1).unwrap().undelivered.len(), 1);
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.event(ClusterEvent::Reboot(H1)).unwrap();
    c.event(ClusterEvent::Reboot(H0)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(deliveries_of_notices(&c), 0, "it was in h1's memory only");
    assert!(c.kernels().all(|(_, k)| k.undelivered.is_empty()));
}

#[test]
fn wait_a_child_lost_with_its_host_while_the_home_is_down_leaves_nothing_to_report() {
    // The sequence specs/failures.md discusses under "Death notices": p0.0 waits at home
    // h0 for its child on h1; h0 crashes, then h1, then h0 reboots. The home's crash
    // already killed both (Sprite's choice: a process dies with its home), so no notice is
    // owed to anybody, none is kept, and the rebooted home holds no zombie.
    let mut c = cluster();
    c.run_op(P, Op::Fork).unwrap();
    assert_eq!(
        c.run_op(CHILD, Op::Migrate { target: H1 }).unwrap(),
        Some(Ok(Value::Unit))
    );
    let w = c.submit(P, Op::Wait);
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(w), None, "blocked");
    c.event(ClusterEvent::Crash(H0)).unwrap();
    c.run_until_quiescent().unwrap();
    assert!(c.view().process(CHILD).is_none(), "killed with its home");
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.event(ClusterEvent::Reboot(H0)).unwrap();
    c.run_until_quiescent().unwrap();
    assert!(c.kernels().all(|(_, k)| k.undelivered.is_empty()));
    assert!(
        c.kernel(H0).unwrap().home.is_empty(),
        "no zombie at the home"
    );
    assert_eq!(deliveries_of_notices(&c), 0);
    assert_eq!(
        c.outcome(w),
        None,
        "the waiter died with h0: nothing returns"
    );
    // With the home up instead, the home reports the death itself, exactly once.
    let mut c = cluster();
    c.run_op(P, Op::Fork).unwrap();
    c.run_op(CHILD, Op::Migrate { target: H1 }).unwrap();
    let w = c.submit(P, Op::Wait);
    c.run_until_quiescent().unwrap();
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    let died = Some(Ok(Value::Child {
        pid: CHILD,
        status: KILLED_STATUS,
    }));
    assert_eq!(c.outcome(w), died);
    c.event(ClusterEvent::Reboot(H1)).unwrap();
    c.event(ClusterEvent::Crash(H1)).unwrap();
    c.event(ClusterEvent::Reboot(H1)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(
        c.run_op(P, Op::Wait).unwrap(),
        Some(Err(vocab::Errno::ECHILD)),
        "reported once: no second status, no zombie left"
    );
    assert!(c.kernel(H0).unwrap().home.keys().all(|p| *p == P));
}
