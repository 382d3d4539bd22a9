//! The kernel follows the call-disposition table the spec lists (`vocab::msg::disposition`,
//! TH §4.3 and Appendix A): for a process running away from home, local calls send nothing
//! to the home, home calls are forwarded there, joint calls involve it.

use sprite::msg::Node;
use sprite::sim::TraceEvent;
use sprite::{Cluster, ClusterConfig};
use vocab::msg::{disposition, Disposition};
use vocab::{Fd, FileName, HostId, Mode, MsgKind, Op, PageNo, Pid};

const P: Pid = Pid::new(0, 0);

/// Messages sent to the home (h0) while `op` ran, for P living on h1.
fn to_home_during(op: Op) -> Vec<String> {
    let mut cfg = ClusterConfig::simple(2, &[(P, 2)]);
    cfg.files.push((FileName(0), vec![1, 2]));
    let mut c = Cluster::new(&cfg, 1).unwrap();
    c.run_op(
        P,
        Op::Open {
            name: FileName(0),
            mode: Mode::ReadWrite,
            create: false,
        },
    )
    .unwrap();
    c.run_op(P, Op::Fork).unwrap();
    c.run_op(P, Op::Migrate { target: HostId(1) }).unwrap();
    c.set_tracing(true);
    c.run_op(P, op).unwrap();
    c.trace()
        .iter()
        .filter_map(|l| match &l.ev {
            TraceEvent::Send {
                from: Node::Host(HostId(1)),
                to: Node::Host(HostId(0)),
                kind,
                reply: false,
                ..
            } => Some(kind.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn remote_calls_follow_the_disposition_table() {
    let ops = [
        Op::Open {
            name: FileName(0),
            mode: Mode::Read,
            create: false,
        },
        Op::Read { fd: Fd(0) },
        Op::Write { fd: Fd(0), sym: 3 },
        Op::Lseek { fd: Fd(0), pos: 0 },
        Op::Dup { fd: Fd(0) },
        Op::Close { fd: Fd(0) },
        Op::Unlink { name: FileName(0) },
        Op::Getpid,
        Op::MemRead { page: PageNo(0) },
        Op::MemWrite {
            page: PageNo(1),
            sym: 2,
        },
        Op::Gettimeofday,
        Op::Kill { pid: P },
        Op::Pipe,
        Op::Getpgrp,
        Op::Setpgid { pgrp: P },
        Op::Killpg { pgrp: P },
        Op::Fork,
        Op::Exec { target: None },
        Op::Wait,
        Op::Exit { status: 0 },
    ];
    for op in ops {
        let sent = to_home_during(op);
        match disposition(&op) {
            Disposition::Local => assert!(sent.is_empty(), "{op} is local, sent {sent:?} home"),
            Disposition::Home => assert!(
                sent.iter()
                    .any(|k| k == MsgKind::Forward.name() || k == MsgKind::Signal.name()),
                "{op} goes home, sent {sent:?}"
            ),
            Disposition::Joint => assert!(!sent.is_empty(), "{op} is joint, sent nothing home"),
            Disposition::Migration => {}
        }
    }
}
