//! A crash of a host that takes no part in a call the file server has suspended (a
//! callback it waits for, or a stream exchange) changes nothing for that call: FAIL says
//! who a crash may affect, and a bystander's crash affects none of the parties. Each test
//! stops the cluster with the server in the middle of such a call, crashes the third host,
//! and checks that the call completes as it would have.
//!
//! (cargo-mutants found that no test noticed `FileServer::host_down` dropping or
//! cancelling the suspended call for any crashed host: these do.)

mod common;
use common::deliver_until;
use sprite::msg::Node;
use sprite::{Cluster, ClusterConfig};
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, MsgKind, Op, Pid, Value};

const P: Pid = Pid::new(0, 0);
const Q: Pid = Pid::new(1, 0);
const F0: FileName = FileName(0);
const BYSTANDER: HostId = HostId(2);

fn open(mode: Mode) -> Op {
    Op::Open {
        name: F0,
        mode,
        create: false,
    }
}

/// Three hosts; p0.0 on h0 has /f0 open for writing and a dirty cached block of it.
fn dirty_on_h0() -> Cluster {
    let mut cfg = ClusterConfig::simple(3, &[(P, 1), (Q, 1)]);
    cfg.files.push((F0, vec![1]));
    let mut c = Cluster::new(&cfg, 0).unwrap();
    assert_eq!(
        c.run_op(P, open(Mode::ReadWrite)).unwrap(),
        Some(Ok(Value::Fd(Fd(0))))
    );
    assert_eq!(
        c.run_op(P, Op::Write { fd: Fd(0), sym: 7 }).unwrap(),
        Some(Ok(Value::Unit))
    );
    c
}

#[test]
fn a_bystanders_crash_does_not_drop_an_open_waiting_for_a_recall() {
    // p0.0 closes /f0 (its dirty block stays in h0's cache); p1.0 opens /f0 on h1: the
    // server recalls h0's block and suspends the open. h2, which has nothing to do with
    // either, crashes meanwhile: the open still completes and sees the block h0 wrote.
    let mut c = dirty_on_h0();
    assert_eq!(
        c.run_op(P, Op::Close { fd: Fd(0) }).unwrap(),
        Some(Ok(Value::Unit))
    );
    let o = c.submit(Q, open(Mode::Read));
    deliver_until(&mut c, MsgKind::BlockRecall, Node::Host(HostId(0)));
    c.event(ClusterEvent::Crash(BYSTANDER)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(o), Some(Ok(Value::Fd(Fd(0)))));
    assert_eq!(
        c.run_op(Q, Op::Read { fd: Fd(0) }).unwrap(),
        Some(Ok(Value::Data(Some(7))))
    );
}

#[test]
fn a_bystanders_crash_does_not_cancel_a_stream_exchange() {
    // p0.0 migrates from h0 to h1 with /f0 open; the server is in the middle of the
    // exchange (its STREAM_RELEASE is on its way to h0) when h2 crashes. The migration
    // completes, and the moved descriptor still reads and writes the file.
    let mut c = dirty_on_h0();
    let m = c.submit(P, Op::Migrate { target: HostId(1) });
    deliver_until(&mut c, MsgKind::StreamRelease, Node::Host(HostId(0)));
    c.event(ClusterEvent::Crash(BYSTANDER)).unwrap();
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(m), Some(Ok(Value::Unit)));
    assert_eq!(c.host_of(P), Some(HostId(1)));
    assert_eq!(
        c.run_op(P, Op::Lseek { fd: Fd(0), pos: 0 }).unwrap(),
        Some(Ok(Value::Pos(0)))
    );
    assert_eq!(
        c.run_op(P, Op::Read { fd: Fd(0) }).unwrap(),
        Some(Ok(Value::Data(Some(7))))
    );
}
