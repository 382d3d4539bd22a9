//! The named configurations. Each is small enough to exhaust and aims at some concerns;
//! every invariant is checked in every one. `default` is the suite `check` runs;
//! `full` adds larger worlds.

use crate::config::{Config, HostSpec, ProcSpec, Script};
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Pid, Switch, Switches};

const F0: FileName = FileName(0);
const FD0: Fd = Fd(0);
const H0: HostId = HostId(0);
const H1: HostId = HostId(1);
const H2: HostId = HostId(2);
const H3: HostId = HostId(3);

fn host(clock: u32) -> HostSpec {
    HostSpec {
        version: 1,
        clock,
        owner: false,
    }
}

fn hosts(n: usize) -> Vec<HostSpec> {
    (0..n).map(|i| host(10 + i as u32)).collect()
}

fn open(mode: Mode, create: bool) -> Op {
    Op::Open {
        name: F0,
        mode,
        create,
    }
}

/// Events that may each happen once.
fn once(events: Vec<ClusterEvent>) -> Vec<(ClusterEvent, u8)> {
    events.into_iter().map(|e| (e, 1)).collect()
}

fn base(name: &'static str, about: &'static str, n_hosts: usize) -> Config {
    Config {
        name: name.into(),
        about: about.into(),
        hosts: hosts(n_hosts),
        files: Vec::new(),
        procs: Vec::new(),
        scripts: Vec::new(),
        pages: 1,
        events: Vec::new(),
        switches: Switches::SPRITE,
        delayed_writes: false,
    }
}

/// Files and deletion: the temporary-file idiom across a migration (create, write,
/// unlink, migrate, read back), with a second process opening the same name.
pub fn files() -> Config {
    Config {
        files: vec![],
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
            ProcSpec::new(Pid::new(1, 0), 2),
        ],
        scripts: vec![
            Script::new(vec![
                open(Mode::ReadWrite, true),
                Op::Write { fd: FD0, sym: 1 },
                Op::Unlink { name: F0 },
                Op::Migrate { target: H1 },
                Op::Lseek { fd: FD0, pos: 0 },
                Op::Read { fd: FD0 },
                Op::Close { fd: FD0 },
            ]),
            Script::new(vec![
                open(Mode::Read, false),
                Op::Read { fd: FD0 },
                Op::Close { fd: FD0 },
            ]),
            Script::new(vec![
                open(Mode::ReadWrite, true),
                Op::Write { fd: FD0, sym: 2 },
                Op::Close { fd: FD0 },
            ]),
        ],
        ..base(
            "files",
            "temporary file: create, write, unlink, migrate, read back; openers on both hosts",
            2,
        )
    }
}

/// Shared access position: a parent and a forked child read one stream from two hosts.
pub fn shared_offset() -> Config {
    Config {
        files: vec![(F0, vec![1, 2, 3])],
        procs: vec![ProcSpec::new(Pid::new(0, 0), 0)],
        scripts: vec![
            Script::forking(
                vec![
                    open(Mode::ReadWrite, false),
                    Op::Dup { fd: FD0 },
                    Op::Fork,
                    Op::Read { fd: Fd(1) },
                    Op::Lseek { fd: FD0, pos: 0 },
                    Op::Read { fd: FD0 },
                    Op::Wait,
                ],
                vec![1],
            ),
            Script::new(vec![
                Op::Migrate { target: H1 },
                Op::Read { fd: FD0 },
                Op::Write { fd: Fd(1), sym: 4 },
                Op::Migrate { target: H0 },
                Op::Read { fd: FD0 },
                Op::Exit { status: 0 },
            ]),
        ],
        ..base(
            "shared-offset",
            "fork and dup share a stream; the child moves away and back; both read and write",
            2,
        )
    }
}

/// Caching: a writer migrates alone (caching must stay on), then a reader on the old
/// host opens the file (concurrent, then sequential write-sharing).
pub fn caching() -> Config {
    Config {
        files: vec![(F0, vec![1])],
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
            ProcSpec::new(Pid::new(1, 0), 2),
        ],
        scripts: vec![
            Script::new(vec![
                open(Mode::ReadWrite, false),
                Op::Write { fd: FD0, sym: 2 },
                Op::Migrate { target: H1 },
                Op::Write { fd: FD0, sym: 3 },
                Op::Close { fd: FD0 },
            ]),
            Script::new(vec![
                open(Mode::Read, false),
                Op::Read { fd: FD0 },
                Op::Read { fd: FD0 },
                Op::Close { fd: FD0 },
            ]),
            Script::new(vec![
                Op::Stat { name: F0 },
                open(Mode::Read, false),
                Op::Read { fd: FD0 },
                Op::Close { fd: FD0 },
            ]),
        ],
        ..base(
            "caching",
            "a lone writer migrates; a reader on the source host shares the file",
            2,
        )
    }
}

/// Sprite's delayed writes (`Config::delayed_writes`): any host's dirty blocks may go back
/// to the server at any moment, as a step of its own. A writer migrates while another
/// process on its source writes the same file, a reader on the target host shares it, and
/// either host may crash once: a write-back before the crash keeps the blocks, one after
/// loses them on both sides (the ghost loses what the crashed host held dirty).
pub fn delayed_writes() -> Config {
    Config {
        files: vec![(F0, vec![1])],
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
            ProcSpec::new(Pid::new(1, 0), 2),
        ],
        scripts: vec![
            Script::new(vec![
                open(Mode::ReadWrite, false),
                Op::Write { fd: FD0, sym: 2 },
                Op::Migrate { target: H1 },
                Op::Read { fd: FD0 },
                Op::Close { fd: FD0 },
            ]),
            Script::new(vec![
                open(Mode::Write, false),
                Op::Write { fd: FD0, sym: 3 },
                Op::Close { fd: FD0 },
            ]),
            Script::new(vec![
                open(Mode::Read, false),
                Op::Read { fd: FD0 },
                Op::Close { fd: FD0 },
            ]),
        ],
        events: once(vec![ClusterEvent::Crash(H0), ClusterEvent::Crash(H1)]),
        delayed_writes: true,
        ..base(
            "delayed-writes",
            "hosts write dirty blocks back at any moment; a writer migrates, hosts crash",
            2,
        )
    }
}

/// Virtual memory and eviction: dirty pages across a migration, then the owner of the
/// target returns and the process is evicted home with dirty pages.
pub fn vm_evict() -> Config {
    Config {
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
        ],
        scripts: vec![
            Script::new(vec![
                Op::MemWrite {
                    page: PageNo(0),
                    sym: 1,
                },
                Op::Migrate { target: H1 },
                Op::MemWrite {
                    page: PageNo(1),
                    sym: 2,
                },
                Op::MemRead { page: PageNo(0) },
                Op::MemRead { page: PageNo(1) },
            ]),
            Script::new(vec![
                Op::MemWrite {
                    page: PageNo(1),
                    sym: 3,
                },
                Op::Exec { target: Some(H1) },
                Op::MemRead { page: PageNo(1) },
                Op::MemWrite {
                    page: PageNo(0),
                    sym: 4,
                },
                Op::MemRead { page: PageNo(0) },
            ]),
        ],
        pages: 2,
        events: once(vec![
            ClusterEvent::OwnerReturns(H1),
            ClusterEvent::OwnerLeaves(H1),
        ]),
        ..base(
            "vm-evict",
            "dirty pages migrate, an exec-time migration; the target's owner returns and evicts",
            2,
        )
    }
}

/// Signals and time: signals sent while the target migrates; time read before and after
/// a move to a host whose clock is behind, while both clocks may advance.
pub fn signals_time() -> Config {
    let mut hosts = hosts(2);
    hosts[0].clock = 9;
    hosts[1].clock = 4;
    Config {
        hosts,
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
            ProcSpec::new(Pid::new(1, 0), 2),
        ],
        scripts: vec![
            Script::new(vec![
                Op::Gettimeofday,
                Op::Migrate { target: H1 },
                Op::Gettimeofday,
                Op::Migrate { target: H0 },
                Op::Getpid,
            ]),
            Script::new(vec![
                Op::Kill {
                    pid: Pid::new(0, 0),
                },
                Op::Kill {
                    pid: Pid::new(0, 0),
                },
            ]),
            Script::new(vec![
                Op::Kill {
                    pid: Pid::new(0, 0),
                },
                Op::Kill {
                    pid: Pid::new(0, 2),
                },
            ]),
        ],
        // Each clock may advance at any point: monotonic time must come from reading one
        // clock (the home's), not from the clocks standing still.
        events: vec![
            (ClusterEvent::ClockTick(H0), 2),
            (ClusterEvent::ClockTick(H1), 2),
        ],
        ..base(
            "signals-time",
            "signals to a migrating process; time across hosts with skewed clocks that advance",
            2,
        )
    }
}

/// Fork, exit and wait across hosts: a child exits on another host; a remote fork.
pub fn fork_wait() -> Config {
    Config {
        procs: vec![ProcSpec::new(Pid::new(0, 0), 0)],
        scripts: vec![
            Script::forking(
                vec![
                    Op::Fork,
                    Op::Wait,
                    Op::Migrate { target: H1 },
                    Op::Fork,
                    Op::Wait,
                    Op::Exit { status: 0 },
                ],
                vec![1, 2],
            ),
            Script::new(vec![Op::Migrate { target: H1 }, Op::Exit { status: 7 }]),
            Script::new(vec![Op::Getpid, Op::Exit { status: 5 }]),
        ],
        events: once(vec![ClusterEvent::OwnerReturns(H1)]),
        ..base(
            "fork-wait",
            "a child exits on another host; a remote fork; a parent evicted while it waits",
            2,
        )
    }
}

/// Refusals: another version, a busy host, a host that may crash, a foreign process
/// asked to go to a third host, an unknown host, a process sharing memory.
pub fn refuse() -> Config {
    let mut hosts = hosts(4);
    hosts[2].version = 2;
    hosts[3].owner = true;
    let mut pinned = ProcSpec::new(Pid::new(0, 1), 1);
    pinned.shares_memory = true;
    Config {
        hosts,
        procs: vec![ProcSpec::new(Pid::new(0, 0), 0), pinned],
        scripts: vec![
            Script::new(vec![
                Op::Migrate { target: H2 },
                Op::Migrate { target: H3 },
                Op::Migrate { target: H1 },
                Op::Migrate { target: H2 },
                Op::Migrate { target: HostId(9) },
                Op::Migrate { target: H0 },
            ]),
            Script::new(vec![Op::Migrate { target: H1 }, Op::Getpid]),
        ],
        events: once(vec![ClusterEvent::Crash(H3)]),
        ..base(
            "refuse",
            "migrations that must be refused: version, busy, down, not home, unknown, shared memory",
            4,
        )
    }
}

/// Crashes: a child on another host dies with it; a process whose home crashes dies
/// though it runs elsewhere; a process on a third host is untouched.
pub fn crash() -> Config {
    Config {
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(1, 0), 2),
            ProcSpec::new(Pid::new(2, 0), 3),
        ],
        scripts: vec![
            Script::forking(vec![Op::Fork, Op::Wait], vec![1]),
            Script::new(vec![
                Op::Migrate { target: H1 },
                Op::MemWrite {
                    page: PageNo(0),
                    sym: 1,
                },
                Op::Exit { status: 3 },
            ]),
            Script::new(vec![Op::Migrate { target: H2 }, Op::Getpid]),
            Script::new(vec![
                open(Mode::ReadWrite, true),
                Op::Write { fd: FD0, sym: 1 },
                Op::Close { fd: FD0 },
            ]),
        ],
        events: once(vec![ClusterEvent::Crash(H1), ClusterEvent::Reboot(H1)]),
        ..base(
            "crash",
            "a host crashes: its processes and those whose home it is die, no others",
            3,
        )
    }
}

/// Pipes and process groups: the pmake idiom. A parent and its forked child share a pipe;
/// the child migrates, so the pipe's ends are used from two hosts; data flows both ways
/// before and after the move, each writer closes, and the parent reads to the end. A
/// process of another home signals the parent's group (parent and child) while the child
/// may be moving, and is refused a group of another home.
pub fn pipes_groups() -> Config {
    let (r, w) = (FD0, Fd(1));
    Config {
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(1, 0), 2),
        ],
        scripts: vec![
            Script::forking(
                vec![
                    Op::Pipe,
                    Op::Fork,
                    Op::Write { fd: w, sym: 1 },
                    Op::Close { fd: w },
                    Op::Read { fd: r },
                    Op::Wait,
                    Op::Read { fd: r },
                ],
                vec![1],
            ),
            Script::new(vec![
                Op::Migrate { target: H1 },
                Op::Read { fd: r },
                Op::Write { fd: w, sym: 2 },
                Op::Getpgrp,
                Op::Exit { status: 0 },
            ]),
            Script::new(vec![
                Op::Killpg {
                    pgrp: Pid::new(0, 0),
                },
                Op::Setpgid {
                    pgrp: Pid::new(0, 0),
                },
            ]),
        ],
        ..base(
            "pipes-groups",
            "parent and migrating child share a pipe; killpg of their group mid-migration",
            2,
        )
    }
}

/// A larger world for the `full` suite: two migrating processes sharing a file and a
/// stream, an eviction, and signals.
pub fn mixed() -> Config {
    Config {
        files: vec![(F0, vec![1, 2])],
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(1, 0), 2),
        ],
        scripts: vec![
            Script::forking(
                vec![
                    open(Mode::ReadWrite, false),
                    Op::Fork,
                    Op::Migrate { target: H2 },
                    Op::Read { fd: FD0 },
                    Op::Write { fd: FD0, sym: 3 },
                    Op::Wait,
                ],
                vec![1],
            ),
            Script::new(vec![
                Op::Read { fd: FD0 },
                Op::Unlink { name: F0 },
                Op::Exit { status: 4 },
            ]),
            Script::new(vec![
                Op::Kill {
                    pid: Pid::new(0, 0),
                },
                open(Mode::Read, true),
                Op::Read { fd: FD0 },
            ]),
        ],
        events: once(vec![ClusterEvent::OwnerReturns(H2)]),
        ..base(
            "mixed",
            "two homes, a forked sharer, unlink, a signal and an eviction together",
            3,
        )
    }
}

/// A larger world: a parent and a forked child share a read-write stream from three
/// hosts while a process of another home writes, unlinks and reads the same file, and
/// the owner of one target comes back.
pub fn sharing() -> Config {
    Config {
        files: vec![(F0, vec![1, 2])],
        procs: vec![ProcSpec::new(Pid::new(0, 0), 0), ProcSpec::new(Pid::new(1, 0), 2)],
        scripts: vec![
            Script::forking(
                vec![
                    open(Mode::ReadWrite, false),
                    Op::Fork,
                    Op::Migrate { target: H2 },
                    Op::Read { fd: FD0 },
                    Op::Write { fd: FD0, sym: 3 },
                    Op::Wait,
                ],
                vec![1],
            ),
            Script::new(vec![
                Op::Migrate { target: H1 },
                Op::Read { fd: FD0 },
                Op::Lseek { fd: FD0, pos: 0 },
                Op::Read { fd: FD0 },
                Op::Exit { status: 4 },
            ]),
            Script::new(vec![
                open(Mode::ReadWrite, false),
                Op::Write { fd: FD0, sym: 5 },
                Op::Unlink { name: F0 },
                Op::Read { fd: FD0 },
                Op::Close { fd: FD0 },
            ]),
        ],
        events: once(vec![ClusterEvent::OwnerReturns(H2)]),
        ..base(
            "sharing",
            "parent and child share a stream from three hosts; another home writes and unlinks; an eviction",
            3,
        )
    }
}

/// A larger world: a family of processes forks, migrates, signals and waits across three
/// hosts, with an eviction and a crash of a host that is nobody's home.
pub fn family() -> Config {
    Config {
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(1, 0), 3),
        ],
        scripts: vec![
            Script::forking(
                vec![
                    Op::Fork,
                    Op::MemWrite {
                        page: PageNo(0),
                        sym: 1,
                    },
                    Op::Fork,
                    Op::Migrate { target: H2 },
                    Op::Wait,
                    Op::Gettimeofday,
                    Op::Wait,
                ],
                vec![1, 2],
            ),
            Script::new(vec![
                Op::Migrate { target: H2 },
                Op::MemRead { page: PageNo(0) },
                Op::Exit { status: 7 },
            ]),
            Script::new(vec![
                Op::MemRead { page: PageNo(0) },
                Op::Exec { target: Some(H1) },
                Op::Exit { status: 5 },
            ]),
            Script::new(vec![
                Op::Kill {
                    pid: Pid::new(0, 0),
                },
                Op::Kill {
                    pid: Pid::new(0, 1),
                },
                Op::Gettimeofday,
            ]),
        ],
        events: once(vec![
            ClusterEvent::OwnerReturns(H2),
            ClusterEvent::Crash(H1),
        ]),
        ..base(
            "family",
            "forks, exec-time migration, signals and waits across three hosts; eviction; a crash",
            3,
        )
    }
}

/// The largest world, for the `full` suite: three homes, each with a process that works on
/// one shared file, migrates and signals, while two owners come and go.
pub fn crowd() -> Config {
    Config {
        files: vec![(F0, vec![1])],
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(1, 0), 1),
            ProcSpec::new(Pid::new(2, 0), 2),
        ],
        scripts: vec![
            Script::new(vec![
                open(Mode::ReadWrite, false),
                Op::Migrate { target: H1 },
                Op::Write { fd: FD0, sym: 2 },
                Op::Migrate { target: H0 },
                Op::Read { fd: FD0 },
            ]),
            Script::new(vec![
                open(Mode::Read, false),
                Op::Migrate { target: H2 },
                Op::Read { fd: FD0 },
                Op::Kill {
                    pid: Pid::new(0, 0),
                },
            ]),
            Script::new(vec![
                Op::MemWrite {
                    page: PageNo(0),
                    sym: 3,
                },
                Op::Migrate { target: H0 },
                Op::Unlink { name: F0 },
                Op::MemRead { page: PageNo(0) },
            ]),
        ],
        events: once(vec![
            ClusterEvent::OwnerReturns(H1),
            ClusterEvent::OwnerReturns(H2),
            ClusterEvent::OwnerLeaves(H1),
        ]),
        ..base(
            "crowd",
            "three homes share a file, migrate, signal and unlink while owners come and go",
            3,
        )
    }
}

/// The file alphabet of one process: open (create, or read-only), read and write through
/// either descriptor, seek, close, unlink, dup, and a move to `other`.
fn file_alphabet(sym: u8, other: HostId) -> Vec<Op> {
    vec![
        open(Mode::ReadWrite, true),
        Op::Read { fd: FD0 },
        Op::Write { fd: FD0, sym },
        Op::Lseek { fd: FD0, pos: 0 },
        Op::Close { fd: FD0 },
        Op::Unlink { name: F0 },
        Op::Dup { fd: FD0 },
        Op::Migrate { target: other },
    ]
}

/// Every program of at most four file operations on each of two hosts: a process of each
/// home runs the file alphabet on one file, and the owner of h1 may come back (evicting a
/// process of h0's) and leave again.
pub fn open_files() -> Config {
    Config {
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(1, 0), 1),
        ],
        scripts: vec![
            Script::alphabet(file_alphabet(1, H1), 4),
            Script::alphabet(file_alphabet(2, H0), 4),
        ],
        events: vec![
            (ClusterEvent::OwnerReturns(H1), 1),
            (ClusterEvent::OwnerLeaves(H1), 1),
        ],
        ..base(
            "open-files",
            "every program of <= 4 file operations (open, read, write, lseek, close, unlink, dup, migrate) by one process of each of 2 homes; an eviction",
            2,
        )
    }
}

/// Every program of at most three operations over fork, wait, kill, gettimeofday and
/// migrate of a parent, and of at most two over exit, kill and migrate of each of its
/// children, spread over three hosts; a process of another home signals them. The owner of
/// h2 may come back once.
pub fn open_family() -> Config {
    let parent = Pid::new(0, 0);
    let child = Pid::new(0, 1);
    Config {
        procs: vec![ProcSpec::new(parent, 0), ProcSpec::new(Pid::new(1, 0), 1)],
        scripts: vec![
            Script::alphabet_forking(
                vec![
                    Op::Fork,
                    Op::Wait,
                    Op::Kill { pid: child },
                    Op::Gettimeofday,
                    Op::Migrate { target: H1 },
                    Op::Migrate { target: H2 },
                    Op::Migrate { target: H0 },
                ],
                3,
                2,
            ),
            Script::alphabet(
                vec![
                    Op::Kill { pid: parent },
                    Op::Kill { pid: child },
                ],
                1,
            ),
            // The children: they move, signal their parent and exit.
            Script::alphabet(
                vec![
                    Op::Exit { status: 5 },
                    Op::Kill { pid: parent },
                    Op::Migrate { target: H1 },
                    Op::Migrate { target: H2 },
                ],
                2,
            ),
        ],
        events: vec![(ClusterEvent::OwnerReturns(H2), 1)],
        // The home's clock is ahead of the others' (unsynchronised clocks): time read at
        // home and then on another host goes backwards unless the call goes home.
        hosts: vec![host(12), host(11), host(10)],
        ..base(
            "open-family",
            "every program of <= 3 operations (fork, wait, kill, gettimeofday, migrate) of a parent, <= 2 (exit, kill, migrate) of each child, on 3 hosts with unsynchronised clocks; signals from another home; an eviction",
            3,
        )
    }
}

/// Every program of at most three operations of a process of h0 that already runs on h1
/// (an earlier exec-time migration put it there) and forks, waits, and moves home and
/// back; at most two (exit, signal the parent, move home) of each child; the owner of h1
/// may return once, and h1 may crash once. What Sprite's homes are for in a remote family:
/// its children belong to the parent's home, leave with it when the owner returns, and
/// report their exits to the rendezvous there.
pub fn open_fork() -> Config {
    let parent = Pid::new(0, 0);
    Config {
        procs: vec![ProcSpec {
            start_on: Some(H1),
            ..ProcSpec::new(parent, 0)
        }],
        scripts: vec![
            Script::alphabet_forking(
                vec![
                    Op::Fork,
                    Op::Wait,
                    Op::Migrate { target: H0 },
                    Op::Migrate { target: H1 },
                ],
                3,
                1,
            ),
            Script::alphabet(
                vec![
                    Op::Exit { status: 5 },
                    Op::Kill { pid: parent },
                    Op::Migrate { target: H0 },
                ],
                2,
            ),
        ],
        events: once(vec![ClusterEvent::OwnerReturns(H1), ClusterEvent::Crash(H1)]),
        ..base(
            "open-fork",
            "every program of <= 3 operations (fork, wait, migrate) of a process of h0 running on h1, <= 2 (exit, kill its parent, migrate home) of each child; an eviction from h1; a crash of h1",
            2,
        )
    }
}

/// Every program of at most five operations of a process of h0 that opens a file, writes
/// it and a page, reads the time and migrates to any host, on three hosts; a process of
/// h2 signals it; the owner of h2 may come back once and h1 and h2 may each crash once. Under Sprite
/// a move between h1 and h2 is refused (`NotHome`); the `remote-to-remote` alternative is
/// tried here, with the home a third party to the move.
pub fn open_remote() -> Config {
    let mover = Pid::new(0, 0);
    Config {
        procs: vec![ProcSpec::new(mover, 0), ProcSpec::new(Pid::new(2, 0), 1)],
        scripts: vec![
            Script::alphabet(
                vec![
                    open(Mode::ReadWrite, true),
                    Op::Write { fd: FD0, sym: 1 },
                    Op::MemWrite {
                        page: PageNo(0),
                        sym: 1,
                    },
                    Op::Gettimeofday,
                    Op::Migrate { target: H1 },
                    Op::Migrate { target: H2 },
                    Op::Migrate { target: H0 },
                ],
                5,
            ),
            Script::alphabet(vec![Op::Kill { pid: mover }], 1),
        ],
        events: once(vec![
            ClusterEvent::OwnerReturns(H2),
            ClusterEvent::Crash(H1),
            ClusterEvent::Crash(H2),
        ]),
        hosts: vec![host(12), host(11), host(10)],
        ..base(
            "open-remote",
            "every program of <= 5 operations (open, write, write a page, gettimeofday, migrate to any host) of a process of h0 on 3 hosts; a signal from h2; an eviction from h2; a crash of h1 and of h2",
            3,
        )
    }
}

/// Every program of at most four memory operations around migrations: two processes of h0
/// write and read two pages, migrate to h1 and back, exec on h1; the owner of h1 may come
/// back (evicting them with dirty pages) and leave again.
pub fn open_vm() -> Config {
    let ops = |sym: u8| {
        vec![
            Op::MemWrite {
                page: PageNo(0),
                sym,
            },
            Op::MemWrite {
                page: PageNo(1),
                sym,
            },
            Op::MemRead { page: PageNo(0) },
            Op::MemRead { page: PageNo(1) },
            Op::Migrate { target: H1 },
            Op::Migrate { target: H0 },
            Op::Exec { target: Some(H1) },
        ]
    };
    Config {
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(0, 1), 1),
        ],
        scripts: vec![Script::alphabet(ops(1), 4), Script::alphabet(ops(2), 4)],
        pages: 2,
        events: vec![
            (ClusterEvent::OwnerReturns(H1), 1),
            (ClusterEvent::OwnerLeaves(H1), 1),
        ],
        ..base(
            "open-vm",
            "every program of <= 4 memory operations, migrations and exec-time migrations by two processes; an eviction with dirty pages",
            2,
        )
    }
}

/// Every program of at most four operations of a process that opens a file, forks, and
/// with its child reads, writes, seeks, migrates and closes the shared stream: sharers of
/// one stream on two hosts, and a process of the other home using the file alone.
pub fn open_sharing() -> Config {
    Config {
        files: vec![(F0, vec![1, 2])],
        procs: vec![
            ProcSpec::new(Pid::new(0, 0), 0),
            ProcSpec::new(Pid::new(1, 0), 1),
        ],
        scripts: vec![
            Script::alphabet_forking(
                vec![
                    open(Mode::ReadWrite, false),
                    Op::Fork,
                    Op::Read { fd: FD0 },
                    Op::Write { fd: FD0, sym: 3 },
                    Op::Lseek { fd: FD0, pos: 0 },
                    Op::Close { fd: FD0 },
                    Op::Migrate { target: H1 },
                    Op::Migrate { target: H0 },
                ],
                4,
                2,
            ),
            Script::alphabet(
                vec![
                    open(Mode::Read, false),
                    Op::Read { fd: FD0 },
                    Op::Close { fd: FD0 },
                ],
                2,
            ),
            // The children: they use the stream they share with their parent, and move.
            Script::alphabet(
                vec![
                    Op::Read { fd: FD0 },
                    Op::Write { fd: FD0, sym: 4 },
                    Op::Lseek { fd: FD0, pos: 0 },
                    Op::Close { fd: FD0 },
                    Op::Migrate { target: H1 },
                    Op::Migrate { target: H0 },
                ],
                2,
            ),
        ],
        ..base(
            "open-sharing",
            "every program of <= 4 operations of a process, <= 2 of each forked child, sharing a stream across 2 hosts; a reader of the other home",
            2,
        )
    }
}

/// The suites by name: `default` (the main job: every scripted configuration and every
/// open one), `scripts` (the scripted ones alone: seconds), `open` (the open ones alone),
/// `full` (the default and two larger scripted worlds), `deep` (open configurations with
/// larger bounds: minutes to hours, for people to run; see `specs/model-scope.md`).
pub fn suite(name: &str) -> Option<Vec<Config>> {
    let scripts = vec![
        files(),
        shared_offset(),
        caching(),
        vm_evict(),
        signals_time(),
        fork_wait(),
        refuse(),
        crash(),
        sharing(),
        family(),
        pipes_groups(),
        delayed_writes(),
    ];
    let open = vec![open_files(), open_family(), open_vm(), open_sharing()];
    match name {
        "default" => Some(scripts.into_iter().chain(open).collect()),
        "scripts" => Some(scripts),
        "open" => Some(open),
        "full" => Some(
            scripts
                .into_iter()
                .chain([mixed(), crowd()])
                .chain(open)
                .collect(),
        ),
        "deep" => Some(deep()),
        _ => None,
    }
}

pub const SUITES: [&str; 5] = ["default", "scripts", "open", "full", "deep"];

/// Every configuration, by name.
pub fn all() -> Vec<Config> {
    let mut all = suite("full").expect("exists");
    all.push(open_remote());
    all.push(open_fork());
    all.extend(deep());
    all
}

pub fn by_name(name: &str) -> Option<Config> {
    all().into_iter().find(|c| c.name == name)
}

/// The configuration in which each design alternative is tried: an open one (every
/// program within its bounds), so that the counterexample is the shortest over all those
/// programs rather than one a script happened to contain.
pub fn for_switch(sw: Switch) -> Config {
    let cfg = match sw {
        Switch::ReopenFiles | Switch::PerSlotExchange => open_files(),
        Switch::NotifyTargetFirst | Switch::ClientOffsets | Switch::NoBlockFlush => open_sharing(),
        Switch::NoVmFlush | Switch::LazyVm | Switch::PrecopyVm | Switch::FullCopyVm => open_vm(),
        Switch::LocalTime | Switch::WaitOnCurrent => open_family(),
        // A remote family and the eviction of the host it runs on.
        Switch::LocalPids => open_fork(),
        // Correct alternatives are exhausted: these are tried where a signal races the
        // moves of its target between three hosts (with crashes), and that is small.
        Switch::RemoteToRemote | Switch::DirectSignals => open_remote(),
    };
    cfg.with_switches(Switches::only(sw))
}

/// `cfg` renamed, with alphabet `i`'s budget raised by `more[i]` operations (scripts and
/// alphabets past the end of `more` are left as they are).
fn deeper(cfg: Config, name: &str, more: &[u8], about: &str) -> Config {
    let mut cfg = cfg;
    cfg.name = name.into();
    cfg.about = about.into();
    for (s, more) in cfg.scripts.iter_mut().zip(more) {
        if let Some(b) = s.budget.as_mut() {
            *b += more;
        }
    }
    cfg
}

/// The deep suite: open configurations with larger budgets (and, in the family, a crash and
/// a reboot), sized so that the whole suite is exhausted within an hour on two cores; the
/// figures of a run are in `specs/model-scope.md`. Where raising every budget by one would
/// not finish in that hour (the family with a crash, the sharers), one program's budget is
/// raised: the children's, which are the processes that race their parent.
pub fn deep() -> Vec<Config> {
    let mut family = deeper(
        open_family(),
        "deep-family",
        &[0, 0, 1],
        "open-family with <= 3 operations per child, and h1 may crash and reboot once",
    );
    family.events.push((ClusterEvent::Crash(H1), 1));
    family.events.push((ClusterEvent::Reboot(H1), 1));
    vec![
        deeper(
            open_files(),
            "deep-files",
            &[1, 1],
            "open-files with <= 5 operations per process",
        ),
        family,
        deeper(
            open_vm(),
            "deep-vm",
            &[1, 1],
            "open-vm with <= 5 operations per process",
        ),
        deeper(
            open_sharing(),
            "deep-sharing",
            &[0, 0, 1],
            "open-sharing with <= 3 operations per forked child",
        ),
    ]
}
