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

fn pipe_of(u: &mut Unix, pid: Pid) -> (Fd, Fd) {
    match ok(u, pid, Op::Pipe) {
        Value::Pipe { read, write } => (read, write),
        v => panic!("pipe returned {v}"),
    }
}

#[test]
fn a_pipe_is_a_fifo_that_never_blocks() {
    let mut u = unix_with_one_process();
    let (r, w) = pipe_of(&mut u, P);
    assert_eq!((r, w), (Fd(0), Fd(1)), "smallest free, read end first");
    let read = Op::Read { fd: r };
    assert_eq!(u.apply(P, &read).outcome, Some(Err(Errno::EAGAIN)));
    for sym in 1..=vocab::PIPE_CAPACITY {
        ok(&mut u, P, Op::Write { fd: w, sym });
    }
    assert_eq!(
        u.apply(P, &Op::Write { fd: w, sym: 9 }).outcome,
        Some(Err(Errno::EAGAIN)),
        "full"
    );
    assert_eq!(ok(&mut u, P, read), Value::Data(Some(1)), "oldest first");
    assert_eq!(
        u.apply(P, &Op::Write { fd: r, sym: 1 }).outcome,
        Some(Err(Errno::EBADF))
    );
    assert_eq!(
        u.apply(P, &Op::Read { fd: w }).outcome,
        Some(Err(Errno::EBADF))
    );
    for fd in [r, w] {
        assert_eq!(
            u.apply(P, &Op::Lseek { fd, pos: 9 }).outcome,
            Some(Err(Errno::ESPIPE)),
            "ESPIPE before the position bound"
        );
    }
    ok(&mut u, P, Op::Close { fd: w });
    for _ in 1..vocab::PIPE_CAPACITY {
        assert!(matches!(ok(&mut u, P, read), Value::Data(Some(_))));
    }
    assert_eq!(
        ok(&mut u, P, read),
        Value::Data(None),
        "EOF: no writer left"
    );
    ok(&mut u, P, Op::Close { fd: r });
    assert!(u.inodes.is_empty() && u.streams.is_empty(), "reclaimed");
}

#[test]
fn pipe_ends_are_shared_by_fork_and_dup_and_epipe_without_readers() {
    let mut u = unix_with_one_process();
    let (r, w) = pipe_of(&mut u, P);
    let Value::Pid(child) = ok(&mut u, P, Op::Fork) else {
        panic!()
    };
    assert_eq!(ok(&mut u, P, Op::Dup { fd: w }), Value::Fd(Fd(2)));
    ok(&mut u, child, Op::Write { fd: w, sym: 4 });
    assert_eq!(ok(&mut u, P, Op::Read { fd: r }), Value::Data(Some(4)));
    ok(&mut u, P, Op::Close { fd: w });
    ok(&mut u, child, Op::Close { fd: w });
    // The parent's dup still writes: not EOF yet.
    assert_eq!(
        u.apply(child, &Op::Read { fd: r }).outcome,
        Some(Err(Errno::EAGAIN))
    );
    ok(&mut u, P, Op::Close { fd: r });
    ok(&mut u, child, Op::Close { fd: r });
    assert_eq!(
        u.apply(P, &Op::Write { fd: Fd(2), sym: 1 }).outcome,
        Some(Err(Errno::EPIPE))
    );
    ok(&mut u, P, Op::Close { fd: Fd(2) });
    assert!(
        u.inodes.is_empty(),
        "reclaimed after the last close anywhere"
    );
}

#[test]
fn pipe_needs_two_free_descriptors() {
    let mut u = unix_with_one_process();
    u.add_file(FileName(0), vec![]);
    let open = Op::Open {
        name: FileName(0),
        mode: Mode::Read,
        create: false,
    };
    for _ in 0..MAX_FDS - 1 {
        ok(&mut u, P, open);
    }
    let before = u.clone();
    assert_eq!(u.apply(P, &Op::Pipe).outcome, Some(Err(Errno::EMFILE)));
    assert_eq!(u, before);
}

#[test]
fn process_groups_are_inherited_joined_and_signalled() {
    let mut u = unix_with_one_process();
    let q = Pid::new(1, 0);
    u.add_process(q, 1);
    assert_eq!(ok(&mut u, P, Op::Getpgrp), Value::Pid(P));
    let Value::Pid(c1) = ok(&mut u, P, Op::Fork) else {
        panic!()
    };
    let Value::Pid(c2) = ok(&mut u, c1, Op::Fork) else {
        panic!()
    };
    assert_eq!(ok(&mut u, c2, Op::Getpgrp), Value::Pid(P), "inherited");
    ok(&mut u, c1, Op::Setpgid { pgrp: c1 });
    ok(&mut u, c2, Op::Setpgid { pgrp: c1 });
    ok(&mut u, c2, Op::Exec { target: None });
    assert_eq!(ok(&mut u, c2, Op::Getpgrp), Value::Pid(c1), "exec keeps it");
    // Another home's group, or a group nobody is in: refused.
    for pgrp in [q, Pid::new(0, 7)] {
        let before = u.clone();
        assert_eq!(
            u.apply(c1, &Op::Setpgid { pgrp }).outcome,
            Some(Err(Errno::EPERM))
        );
        assert_eq!(u, before);
    }
    ok(&mut u, q, Op::Killpg { pgrp: c1 });
    assert_eq!(
        (
            u.procs[&P].signals,
            u.procs[&c1].signals,
            u.procs[&c2].signals
        ),
        (0, 1, 1)
    );
    assert_eq!(
        u.apply(
            q,
            &Op::Killpg {
                pgrp: Pid::new(0, 7)
            }
        )
        .outcome,
        Some(Err(Errno::ESRCH))
    );
    // A zombie is no member: once c1 and c2 have exited, the group is gone.
    ok(&mut u, c2, Op::Exit { status: 0 });
    ok(&mut u, c1, Op::Exit { status: 0 });
    assert_eq!(
        u.apply(q, &Op::Killpg { pgrp: c1 }).outcome,
        Some(Err(Errno::ESRCH))
    );
}

#[test]
fn a_pid_naming_a_group_is_not_reused() {
    let mut u = unix_with_one_process();
    let Value::Pid(c1) = ok(&mut u, P, Op::Fork) else {
        panic!()
    };
    ok(&mut u, c1, Op::Setpgid { pgrp: c1 });
    let Value::Pid(c2) = ok(&mut u, c1, Op::Fork) else {
        panic!()
    };
    ok(&mut u, c1, Op::Exit { status: 0 });
    ok(&mut u, P, Op::Wait);
    assert!(!u.procs.contains_key(&c1));
    assert_eq!(ok(&mut u, c2, Op::Getpgrp), Value::Pid(c1));
    assert_eq!(ok(&mut u, P, Op::Fork), Value::Pid(Pid::new(0, 3)));
}

/// More streams than stream numbers: the 257th open, and a pipe that needs two, are refused
/// with EMFILE (the implementation's file server answers that), not a panic; the file an
/// open creates before its stream is refused stays, as on the server.
#[test]
fn running_out_of_stream_numbers_is_emfile() {
    let mut u = Unix::default();
    u.add_file(FileName(0), vec![]);
    let open = Op::Open {
        name: FileName(0),
        mode: Mode::Read,
        create: false,
    };
    // 64 processes with 4 descriptors each hold every stream number.
    let pids: Vec<Pid> = (0..64).map(|i| Pid::new(0, i)).collect();
    for p in &pids {
        u.add_process(*p, 1);
        for _ in 0..MAX_FDS {
            ok(&mut u, *p, open);
        }
    }
    assert_eq!(u.streams.len(), OBJECTS);
    let last = Pid::new(1, 0);
    u.add_process(last, 1);
    let before = u.clone();
    assert_eq!(u.apply(last, &open).outcome, Some(Err(Errno::EMFILE)));
    assert_eq!(u.apply(last, &Op::Pipe).outcome, Some(Err(Errno::EMFILE)));
    assert_eq!(u, before, "refused without a change");
    let create = Op::Open {
        name: FileName(1),
        mode: Mode::Write,
        create: true,
    };
    assert_eq!(u.apply(last, &create).outcome, Some(Err(Errno::EMFILE)));
    assert!(u.dir.contains_key(&FileName(1)), "the new file stays");
}
