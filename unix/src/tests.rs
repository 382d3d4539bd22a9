use super::*;
use vocab::{HostId, Mode};

const P: Pid = Pid::new(0, 0);

fn unix_with_one_process() -> Unix {
    let mut u = Unix::new();
    u.add_process(P, 2);
    u
}

fn ok(u: &mut Unix, pid: Pid, op: Op) -> Value {
    u.apply(pid, &op)
        .outcome
        .expect("does not block")
        .unwrap_or_else(|e| panic!("{op} failed: {e}"))
}

#[test]
fn unlinked_open_file_lives_until_last_close() {
    let mut u = unix_with_one_process();
    let name = FileName(0);
    let open = Op::Open {
        name,
        mode: Mode::ReadWrite,
        create: true,
    };
    assert_eq!(ok(&mut u, P, open), Value::Fd(Fd(0)));
    ok(&mut u, P, Op::Write { fd: Fd(0), sym: 7 });
    ok(&mut u, P, Op::Unlink { name });
    assert_eq!(u.apply(P, &open).outcome, Some(Ok(Value::Fd(Fd(1)))));
    assert_eq!(u.inodes.len(), 2, "the unlinked file is still there");
    ok(&mut u, P, Op::Lseek { fd: Fd(0), pos: 0 });
    assert_eq!(ok(&mut u, P, Op::Read { fd: Fd(0) }), Value::Data(Some(7)));
    ok(&mut u, P, Op::Close { fd: Fd(0) });
    assert_eq!(u.inodes.len(), 1, "reclaimed at the last close");
}

#[test]
fn fork_shares_the_access_position() {
    let mut u = unix_with_one_process();
    u.add_file(FileName(0), vec![1, 2, 3]);
    let open = Op::Open {
        name: FileName(0),
        mode: Mode::Read,
        create: false,
    };
    ok(&mut u, P, open);
    let child = match ok(&mut u, P, Op::Fork) {
        Value::Pid(c) => c,
        v => panic!("fork returned {v}"),
    };
    assert_eq!(child, Pid::new(0, 1));
    assert_eq!(ok(&mut u, P, Op::Read { fd: Fd(0) }), Value::Data(Some(1)));
    assert_eq!(
        ok(&mut u, child, Op::Read { fd: Fd(0) }),
        Value::Data(Some(2))
    );
    assert_eq!(ok(&mut u, P, Op::Read { fd: Fd(0) }), Value::Data(Some(3)));
    assert_eq!(ok(&mut u, child, Op::Read { fd: Fd(0) }), Value::Data(None));
}

#[test]
fn wait_blocks_until_a_child_exits_and_reaps_once() {
    let mut u = unix_with_one_process();
    assert_eq!(u.apply(P, &Op::Wait).outcome, Some(Err(Errno::ECHILD)));
    let child = match ok(&mut u, P, Op::Fork) {
        Value::Pid(c) => c,
        v => panic!("fork returned {v}"),
    };
    assert_eq!(u.apply(P, &Op::Wait).outcome, None, "blocks");
    let step = u.apply(child, &Op::Exit { status: 3 });
    assert_eq!(
        step.woke,
        Some((
            P,
            Ok(Value::Child {
                pid: child,
                status: 3
            })
        ))
    );
    assert_eq!(u.apply(P, &Op::Wait).outcome, Some(Err(Errno::ECHILD)));
    assert!(!u.procs.contains_key(&child), "no zombie remains");
}

#[test]
fn zombie_is_collected_by_a_later_wait() {
    let mut u = unix_with_one_process();
    let Value::Pid(child) = ok(&mut u, P, Op::Fork) else {
        panic!()
    };
    ok(&mut u, child, Op::Exit { status: 9 });
    assert_eq!(
        u.apply(P, &Op::Wait).outcome,
        Some(Ok(Value::Child {
            pid: child,
            status: 9
        }))
    );
}

#[test]
fn errors_leave_state_untouched() {
    let mut u = unix_with_one_process();
    let before = u.clone();
    for op in [
        Op::Read { fd: Fd(3) },
        Op::Close { fd: Fd(0) },
        Op::Unlink { name: FileName(2) },
        Op::MemRead { page: PageNo(9) },
        Op::Kill {
            pid: Pid::new(1, 0),
        },
        Op::Open {
            name: FileName(1),
            mode: Mode::Read,
            create: false,
        },
    ] {
        assert!(matches!(u.apply(P, &op).outcome, Some(Err(_))), "{op}");
        assert_eq!(u, before, "{op} changed the state");
    }
    assert_eq!(
        u.apply(Pid::new(3, 3), &Op::Getpid).outcome,
        Some(Err(Errno::ESRCH))
    );
}

#[test]
fn pids_come_from_the_home() {
    let mut u = unix_with_one_process();
    u.add_process(Pid::new(1, 0), 1);
    assert_eq!(u.next_pid(HostId(1)), Pid::new(1, 1));
    assert_eq!(u.next_pid(HostId(0)), Pid::new(0, 1));
}

#[test]
fn write_past_the_bound_is_efbig_and_holes_read_as_zero() {
    let mut u = unix_with_one_process();
    let open = Op::Open {
        name: FileName(0),
        mode: Mode::ReadWrite,
        create: true,
    };
    ok(&mut u, P, open);
    ok(&mut u, P, Op::Lseek { fd: Fd(0), pos: 2 });
    ok(&mut u, P, Op::Write { fd: Fd(0), sym: 5 });
    assert_eq!(
        u.apply(P, &Op::Write { fd: Fd(0), sym: 5 }).outcome,
        Some(Err(Errno::EFBIG))
    );
    ok(&mut u, P, Op::Lseek { fd: Fd(0), pos: 0 });
    assert_eq!(ok(&mut u, P, Op::Read { fd: Fd(0) }), Value::Data(Some(0)));
}
