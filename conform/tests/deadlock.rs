//! The harness's deadlock check (`conform::run::stuck`), evaluated at every quiescent point
//! of every scenario: nothing the implementation started may be left waiting once no
//! message is on the way. Here the state a lost callback would leave: a `stat` whose
//! BLOCK_RECALL never arrives keeps the file server suspended and the caller waiting while
//! everything else has happened.

use conform::run::stuck;
use sprite::msg::Node;
use sprite::sim::Enabled;
use sprite::{Cluster, ClusterConfig};
use vocab::{Fd, FileName, HostId, Mode, Op, Pid, Value};

const WRITER: Pid = Pid::new(0, 0);
const ASKER: Pid = Pid::new(1, 0);
const F0: FileName = FileName(0);

#[test]
fn a_callback_never_answered_is_reported_as_a_deadlock() {
    let mut cfg = ClusterConfig::simple(2, &[(WRITER, 1), (ASKER, 1)]);
    cfg.files.push((F0, vec![1]));
    let mut c = Cluster::new(&cfg, 1).expect("valid");
    for op in [
        Op::Open {
            name: F0,
            mode: Mode::ReadWrite,
            create: false,
        },
        Op::Write { fd: Fd(0), sym: 7 },
    ] {
        assert!(matches!(c.run_op(WRITER, op), Ok(Some(Ok(_)))));
    }
    assert_eq!(
        stuck(&c),
        None,
        "a quiescent cluster with nothing left waiting"
    );
    // The writer's host h0 caches the write; a stat from h1 makes the server recall it.
    let id = c.submit(ASKER, Op::Stat { name: F0 });
    let recall = (Node::Server, Node::Host(HostId(0)));
    for _ in 0..1_000 {
        let next = c.enabled().into_iter().find(|e| match e {
            Enabled::Deliver { from, to, .. } => (*from, *to) != recall,
            Enabled::Start { .. } => true,
        });
        let Some(e) = next else { break };
        assert!(c.perform(&e));
    }
    // Only the held callback is left: as if it had been lost.
    assert!(c.outcome(id).is_none());
    let why = stuck(&c).expect("the suspended server is reported");
    assert!(why.contains("file server"), "{why}");
    // Delivered, everything ends, and nothing is stuck.
    c.run_until_quiescent().expect("quiescent");
    assert_eq!(c.outcome(id), Some(Ok(Value::Size(1))));
    assert_eq!(stuck(&c), None);
}
