//! CONS across the window between MIG_STATE and a file's stream exchange: another process on
//! the source writes the file and closes it after the migration's BLOCK_FLUSH, before the
//! STREAM_MOVE reaches the server. The model writes such blocks back inside STREAM_MOVE
//! (proofs/CONS.md, StreamMove); here the source carries them back in its
//! STREAM_RELEASE_REPLY. Without that, the target is granted the server's older copy and the
//! mover reads stale data (and the source keeps the newer blocks dirty).

use sprite::msg::{Msg, Node};
use sprite::sim::Enabled;
use sprite::{Cluster, ClusterConfig};
use vocab::{Fd, FileName, HostId, Mode, Op, Outcome, Pid, Value};

const MOVER: Pid = Pid::new(0, 0);
const OTHER: Pid = Pid::new(0, 1);
const H0: HostId = HostId(0);
const H1: HostId = HostId(1);
const F0: FileName = FileName(0);

/// Performs enabled events (never delivering on `held`) until `done` holds.
fn drive(c: &mut Cluster, held: Option<(Node, Node)>, done: impl Fn(&Cluster) -> bool) {
    for _ in 0..10_000 {
        if done(c) {
            return;
        }
        let next = c.enabled().into_iter().find(|e| match e {
            Enabled::Deliver { from, to, .. } => held != Some((*from, *to)),
            Enabled::Start { .. } => true,
        });
        let e = next.expect("something to do before the goal is reached");
        assert!(c.perform(&e));
    }
    panic!("goal not reached in 10,000 events");
}

fn run(c: &mut Cluster, pid: Pid, op: Op) -> Option<Outcome> {
    c.run_op(pid, op).expect("quiescent")
}

#[test]
fn blocks_written_in_the_exchange_window_reach_the_target() {
    let mut cfg = ClusterConfig::simple(2, &[(MOVER, 1), (OTHER, 1)]);
    cfg.files.push((F0, vec![1, 2, 3]));
    let mut c = Cluster::new(&cfg, 1).expect("valid");
    let open = |mode| Op::Open {
        name: F0,
        mode,
        create: false,
    };
    assert!(matches!(
        run(&mut c, MOVER, open(Mode::Read)),
        Some(Ok(Value::Fd(_)))
    ));
    // The migration runs until the target's STREAM_MOVE is on its way to the server, and
    // is held there.
    let moving = c.submit(MOVER, Op::Migrate { target: H1 });
    let exchange = (Node::Host(H1), Node::Server);
    drive(&mut c, None, |c| {
        c.in_flight()
            .iter()
            .any(|e| e.from == exchange.0 && matches!(e.msg, Msg::StreamMove { .. }))
    });
    // Meanwhile, on the source: open for writing, write, close.
    for op in [
        open(Mode::Write),
        Op::Write { fd: Fd(0), sym: 9 },
        Op::Close { fd: Fd(0) },
    ] {
        let id = c.submit(OTHER, op);
        drive(&mut c, Some(exchange), |c| c.outcome(id).is_some());
        assert!(matches!(c.outcome(id), Some(Ok(_))), "{:?}", c.outcome(id));
    }
    c.run_until_quiescent().expect("quiescent");
    assert_eq!(c.outcome(moving), Some(Ok(Value::Unit)));
    assert_eq!(c.host_of(MOVER), Some(H1));
    // The mover reads on the target what the other process wrote.
    assert_eq!(
        run(&mut c, MOVER, Op::Read { fd: Fd(0) }),
        Some(Ok(Value::Data(Some(9))))
    );
    // And the source keeps no dirty copy of the file.
    let f = c.server().dir[&F0];
    assert!(c
        .kernel(H0)
        .expect("up")
        .cache
        .get(&f)
        .is_none_or(|e| e.dirty.is_empty()));
}
