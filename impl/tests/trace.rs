//! The trace a run records (`scenario --trace`, `SPRITE_DEBUG_TRACE`): besides the messages,
//! the kernels' notes on a migration, each one readable line.

use sprite::{Cluster, ClusterConfig};
use vocab::{HostId, Op, PageNo, Pid};

#[test]
fn a_migration_is_traced_with_its_pages_its_phases_and_its_end() {
    let p = Pid::new(0, 0);
    let mut c = Cluster::new(&ClusterConfig::simple(3, &[(p, 3)]), 1).unwrap();
    c.set_tracing(true);
    // Two pages written (dirty), one only read (clean): counts that no swap of the two
    // classes, and no count of "everything else", can give.
    c.run_op(
        p,
        Op::MemWrite {
            page: PageNo(0),
            sym: 1,
        },
    )
    .unwrap();
    c.run_op(
        p,
        Op::MemWrite {
            page: PageNo(1),
            sym: 2,
        },
    )
    .unwrap();
    c.run_op(p, Op::MemRead { page: PageNo(2) }).unwrap();
    c.run_op(p, Op::Migrate { target: HostId(1) }).unwrap();
    let notes: Vec<String> = c
        .trace()
        .iter()
        .filter_map(|l| Some(l.to_string().split_once("note: ")?.1.to_string()))
        .collect();
    assert_eq!(
        notes,
        [
            "p0.0: migration h0 -> h1 begins (2 dirty, 1 clean pages)",
            "p0.0: phase Init",
            "p0.0: phase HomeStart",
            "p0.0: phase Flush",
            "p0.0: pg0 transferred",
            "p0.0: pg1 transferred",
            "p0.0: phase State",
            "p0.0: phase Streams",
            "p0.0: phase HomeUpdate",
            "p0.0: phase Resume",
            "p0.0: migration done",
        ]
    );
}
