//! The harness's input: a generated scenario (cluster, files, switches, steps), built with
//! `arbitrary` from raw bytes so that proptest (which shrinks the bytes) and libFuzzer (which
//! mutates them) share one generator.
//!
//! Generation is biased towards the situations specs/invariants.md requires to be
//! reachable (a stream shared across
//! hosts, an unlink while a holder migrates, a signal mid-migration, an eviction with dirty
//! pages, a remote fork and wait): about half of the steps come from small templates that
//! set those situations up, the rest are single random operations, events and scheduling
//! choices. `crate::stats` measures how often each situation is reached.

use arbitrary::{Arbitrary, Result, Unstructured};
use serde::{Deserialize, Serialize};
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Switch, Switches};

/// Longest scenario generated (steps, before templates expand).
pub const MAX_STEPS: usize = 20;

/// Most steps of a scenario read from a file (templates expand the generator's
/// [`MAX_STEPS`] to about a hundred).
pub const MAX_FILE_STEPS: usize = 1000;

/// Clock readings the hosts may have (the model's clocks do not move; the implementation's
/// are `now + skew`, with the skew below derived from the same index).
pub const CLOCKS: [u32; 4] = [1_000_000, 1_000_500, 900_000, 2_000_000];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostGen {
    /// Migration version: 1, rarely 2 (VersionMismatch refusals).
    pub version: u8,
    /// Index into [`CLOCKS`].
    pub clock: u8,
    /// Owner present at the start (HostBusy refusals).
    pub owner: bool,
}

/// Which process an operation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Who {
    /// The i-th live process (sorted by pid), modulo the number of live processes.
    Slot(u8),
    /// The process most recently created by a fork that is still alive (else slot 0).
    Newest,
    /// A named process (replayed counterexamples, and the process-group template's p0.0).
    Pid(vocab::Pid),
}

/// One step of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// A process runs one operation to completion (or until it blocks, for wait).
    Op { who: Who, op: Op },
    /// A process sends a signal to another process.
    Kill { who: Who, target: Who },
    /// `mover` starts a migration (migrate, or exec on another host); after `after`
    /// internal steps of it, `other` starts `op` (a kill of `mover` if `op` is `None`):
    /// this is how an operation lands in the middle of a migration. `then`: operations
    /// `other` issues right after it, back to back (each starts when the one before
    /// returns), so that several can land inside one migration (a write and a close
    /// between MIG_STATE and the stream exchange).
    During {
        mover: Who,
        target: HostId,
        exec: bool,
        after: u8,
        other: Who,
        op: Option<Op>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        then: Vec<Op>,
    },
    /// A process issues two operations back to back: the implementation queues both
    /// before running (the second starts as soon as the first returns, with the first's
    /// messages possibly still in flight); the model runs them one after the other.
    Pipe { who: Who, first: Op, second: Op },
    /// A cluster event (each distinct event at most once, as in the model).
    Event(ClusterEvent),
    /// A scheduling choice: the next drains pick enabled internal actions from this
    /// byte instead of the default order (the model) and the seed (the implementation).
    Sched(u8),
    /// `mover` starts a migration (as in `During`); after `after` internal steps of it,
    /// the cluster event happens: a crash of the source, target or home, or an owner's
    /// return, in the middle of a migration.
    EventDuring {
        mover: Who,
        target: HostId,
        exec: bool,
        after: u8,
        event: ClusterEvent,
    },
    /// `who`, first moved away if `away` is set (a plain migration to the host `1 + away`
    /// places after the one it runs on, modulo the cluster's size, run to the end; it may
    /// be refused), starts `op` (one that sends messages: a fork's FORK_PID, a wait's
    /// WAIT_REQUEST, an exit's closes and EXIT_NOTICE, a kill's SIGNAL hops, a file call's
    /// FILE_OP, a page-in); after `after` internal steps of the cluster a host crashes,
    /// with whatever the operation sent still on the wire.
    EventAmid {
        who: Who,
        away: Option<u8>,
        op: Op,
        after: u8,
        crash: Crashes,
    },
}

/// Which host a [`Step::EventAmid`] crashes, named relative to its process where that is
/// where the messages are: the host it runs on when the operation starts, its home, or a
/// fixed host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Crashes {
    /// The host the process runs on (its calls to the home or the server are on the wire).
    Runner,
    /// The process's home (its forwarded calls, and the answers to them, are on the wire).
    Home,
    /// This host.
    Host(HostId),
}

/// The operations [`Step::EventAmid`] starts: each sends at least one message when its
/// process is away from home, or always. Not the calls the file server may suspend on a
/// callback (open, stat, and reads and writes it serves): a crash that kills other
/// processes while one is suspended has their closes wait behind it at the server, and
/// the abstraction, which counts a killed process's closes as part of the crash, cannot
/// map that moment. Nor pipe: the inode number the server gives it depends on whether
/// the crash's closes freed one first, and the abstraction compares inode numbers as they
/// are (both written up in `conform/README.md`, "Crashes inside an operation").
pub const AMID_OPS: [Op; 10] = [
    Op::Fork,
    Op::Wait,
    Op::Exit { status: 3 },
    Op::Kill {
        pid: vocab::Pid::new(0, 0),
    },
    Op::Gettimeofday,
    Op::Getpgrp,
    Op::Close { fd: Fd(0) },
    Op::Unlink { name: FileName(0) },
    Op::MemRead { page: PageNo(0) },
    Op::Killpg {
        pgrp: vocab::Pid::new(0, 0),
    },
];

/// Bytes [`Scenario::from_bytes_with_mid_migration_event`] takes for the event.
pub const MID_EVENT_BYTES: usize = 6;

/// A generated scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub hosts: Vec<HostGen>,
    /// Initial files /f0, /f1: their data (each at most `MAX_FILE_LEN` symbols).
    pub files: Vec<(FileName, Vec<u8>)>,
    /// Pages per process.
    pub pages: u8,
    /// Initial processes: p0.0, and p1.0 if true.
    pub second_proc: bool,
    /// p0.0 shares writable memory (REFUSE).
    pub pinned: bool,
    /// Design switches of both sides (the harness can override the implementation's).
    pub switches: Switches,
    /// Seed of the implementation's scheduler.
    pub seed: u64,
    pub steps: Vec<Step>,
}

fn file(u: &mut Unstructured) -> Result<FileName> {
    Ok(FileName(u.int_in_range(0..=2)?))
}
fn fd(u: &mut Unstructured) -> Result<Fd> {
    Ok(Fd(if u.ratio(7, 8)? {
        0
    } else {
        u.int_in_range(1..=3)?
    }))
}
fn sym(u: &mut Unstructured) -> Result<u8> {
    u.int_in_range(1..=9)
}
/// A pid a group operation names: p0.0 to p1.2 (a live process's, or a group's, or none).
fn pid(u: &mut Unstructured) -> Result<vocab::Pid> {
    Ok(vocab::Pid::new(
        u.int_in_range(0..=1)?,
        u.int_in_range(0..=2)?,
    ))
}
fn who(u: &mut Unstructured) -> Result<Who> {
    Ok(if u.ratio(1, 3)? {
        Who::Newest
    } else {
        Who::Slot(u.int_in_range(0..=3)?)
    })
}

/// One random operation, weighted towards the ones that move state around.
pub fn op(u: &mut Unstructured, hosts: u8) -> Result<Op> {
    let host =
        |u: &mut Unstructured| -> Result<HostId> { Ok(HostId(u.int_in_range(0..=hosts - 1)?)) };
    let mode = |u: &mut Unstructured| -> Result<Mode> {
        Ok(match u.int_in_range(0..=2)? {
            0 => Mode::Read,
            1 => Mode::Write,
            _ => Mode::ReadWrite,
        })
    };
    Ok(match u.int_in_range(0..=25u8)? {
        0..=2 => Op::Open {
            name: file(u)?,
            mode: mode(u)?,
            create: u.ratio(2, 3)?,
        },
        3..=4 => Op::Read { fd: fd(u)? },
        5..=6 => Op::Write {
            fd: fd(u)?,
            sym: sym(u)?,
        },
        7 if u.ratio(1, 2)? => Op::Lseek {
            fd: fd(u)?,
            pos: u.int_in_range(0..=4)?,
        },
        7 => Op::LseekCur {
            fd: fd(u)?,
            delta: u.int_in_range(-2..=2)?,
        },
        8 => Op::Close { fd: fd(u)? },
        9 => Op::Unlink { name: file(u)? },
        10 => Op::Dup { fd: fd(u)? },
        11 => Op::Fork,
        12 => Op::Exec {
            target: if u.ratio(1, 2)? { Some(host(u)?) } else { None },
        },
        13 => Op::Exit {
            status: u.int_in_range(0..=3)?,
        },
        14 => Op::Wait,
        15 => Op::Getpid,
        16 => Op::Gettimeofday,
        17 => Op::MemRead {
            page: PageNo(u.int_in_range(0..=2)?),
        },
        18 => Op::MemWrite {
            page: PageNo(u.int_in_range(0..=1)?),
            sym: sym(u)?,
        },
        19 => Op::Pipe,
        20 => Op::Getpgrp,
        21 => Op::Setpgid { pgrp: pid(u)? },
        22 => Op::Killpg { pgrp: pid(u)? },
        23 => Op::Stat { name: file(u)? },
        _ => Op::Migrate { target: host(u)? },
    })
}

fn event(u: &mut Unstructured, hosts: u8) -> Result<ClusterEvent> {
    let h = HostId(u.int_in_range(0..=hosts - 1)?);
    Ok(match u.int_in_range(0..=10u8)? {
        0..=4 => ClusterEvent::OwnerReturns(h),
        5..=6 => ClusterEvent::OwnerLeaves(h),
        7..=8 => ClusterEvent::Crash(h),
        9 => ClusterEvent::Reboot(h),
        _ => ClusterEvent::ClockTick(h),
    })
}

/// Operations a `During` step's other process issues after its first, back to back: none
/// most of the time, else one or two that run to completion (none that may end the
/// process, block it or move it: a later operation of a dead or blocked process would never
/// start; see [`ends_a_sequence`]).
fn then_ops(u: &mut Unstructured, hosts: u8) -> Result<Vec<Op>> {
    let mut ops = Vec::new();
    if u.ratio(1, 3)? {
        for _ in 0..u.int_in_range(1..=2u8)? {
            let o = op(u, hosts)?;
            if !ends_a_sequence(&o) {
                ops.push(o);
            }
        }
    }
    Ok(ops)
}

/// An operation after which a process's queued operations may never start (it exits,
/// blocks, may kill itself, or moves), so that a `During` step issues no `then` after it.
pub fn ends_a_sequence(o: &Op) -> bool {
    matches!(
        o,
        Op::Exit { .. }
            | Op::Wait
            | Op::Exec { .. }
            | Op::Fork
            | Op::Migrate { .. }
            | Op::Kill { .. }
            | Op::Killpg { .. }
    )
}

/// `w` writes one symbol (from the input) through its first descriptor.
fn write_fd0(u: &mut Unstructured, w: Who) -> Result<Step> {
    Ok(op_step(
        w,
        Op::Write {
            fd: Fd(0),
            sym: sym(u)?,
        },
    ))
}

fn op_step(w: Who, op: Op) -> Step {
    Step::Op { who: w, op }
}

/// A template: a few steps that set up one interesting situation.
fn template(u: &mut Unstructured, hosts: u8, out: &mut Vec<Step>) -> Result<()> {
    let away = HostId(u.int_in_range(1..=hosts - 1)?);
    let p = Who::Slot(u.int_in_range(0..=1)?);
    let f = file(u)?;
    let open_rw = Op::Open {
        name: f,
        mode: Mode::ReadWrite,
        create: true,
    };
    match u.int_in_range(0..=10u8)? {
        // A process moves with two references to a file it writes (a dup, or a second
        // open), so that moving them one descriptor at a time would make the process look
        // like two users of its own file. First, so that short inputs (bytes missing read
        // as zeros) reach it.
        0 => {
            out.push(op_step(p, open_rw));
            out.push(write_fd0(u, p)?);
            out.push(op_step(
                p,
                if u.ratio(1, 2)? {
                    Op::Open {
                        name: f,
                        mode: Mode::ReadWrite,
                        create: false,
                    }
                } else {
                    Op::Dup { fd: Fd(0) }
                },
            ));
            out.push(op_step(p, Op::Migrate { target: away }));
            out.push(op_step(p, Op::Read { fd: Fd(1) }));
        }
        // A stream shared across hosts: open, fork, the child migrates, both use it.
        10 => {
            out.push(op_step(p, open_rw));
            out.push(write_fd0(u, p)?);
            out.push(op_step(p, Op::Lseek { fd: Fd(0), pos: 0 }));
            out.push(op_step(p, Op::Fork));
            out.push(op_step(Who::Newest, Op::Migrate { target: away }));
            out.push(op_step(p, Op::Read { fd: Fd(0) }));
            out.push(op_step(Who::Newest, Op::Read { fd: Fd(0) }));
            if u.ratio(1, 2)? {
                out.push(op_step(
                    Who::Newest,
                    Op::Write {
                        fd: Fd(0),
                        sym: sym(u)?,
                    },
                ));
                out.push(op_step(p, Op::Lseek { fd: Fd(0), pos: 0 }));
                out.push(op_step(p, Op::Read { fd: Fd(0) }));
            }
        }
        // An unlink while a holder migrates.
        1 => {
            out.push(op_step(p, open_rw));
            out.push(write_fd0(u, p)?);
            out.push(Step::During {
                mover: p,
                target: away,
                exec: false,
                after: u.int_in_range(0..=4)?,
                other: who(u)?,
                op: Some(Op::Unlink { name: f }),
                then: Vec::new(),
            });
            out.push(op_step(p, Op::Lseek { fd: Fd(0), pos: 0 }));
            out.push(op_step(p, Op::Read { fd: Fd(0) }));
            out.push(op_step(p, Op::Close { fd: Fd(0) }));
        }
        // A signal mid-migration.
        2 => {
            if u.ratio(1, 2)? {
                out.push(op_step(p, Op::Fork));
            }
            out.push(Step::During {
                mover: if u.ratio(1, 2)? { Who::Newest } else { p },
                target: if u.ratio(1, 4)? { HostId(0) } else { away },
                exec: u.ratio(1, 6)?,
                after: u.int_in_range(0..=4)?,
                other: who(u)?,
                op: None,
                then: Vec::new(),
            });
        }
        // An eviction with dirty pages.
        3 => {
            out.push(op_step(p, Op::Migrate { target: away }));
            out.push(op_step(
                p,
                Op::MemWrite {
                    page: PageNo(0),
                    sym: sym(u)?,
                },
            ));
            if u.ratio(1, 2)? {
                out.push(op_step(p, open_rw));
                out.push(write_fd0(u, p)?);
            }
            out.push(Step::Event(ClusterEvent::OwnerReturns(away)));
            out.push(op_step(p, Op::MemRead { page: PageNo(0) }));
        }
        // A migration and a memory read right behind it (pages in flight).
        6 => {
            out.push(op_step(
                p,
                Op::MemWrite {
                    page: PageNo(0),
                    sym: sym(u)?,
                },
            ));
            out.push(Step::Pipe {
                who: p,
                first: Op::Migrate { target: away },
                second: Op::MemRead { page: PageNo(0) },
            });
            if u.ratio(1, 2)? {
                out.push(Step::Pipe {
                    who: p,
                    first: Op::Migrate { target: HostId(0) },
                    second: Op::MemRead { page: PageNo(0) },
                });
            }
        }
        // A pipe across hosts, as pmake uses one with its jobs: the parent makes it and
        // forks, the child migrates and writes, the parent reads; the writer's close ends
        // it (EOF).
        7 => {
            out.push(op_step(p, Op::Pipe));
            out.push(op_step(p, Op::Fork));
            out.push(op_step(Who::Newest, Op::Migrate { target: away }));
            out.push(op_step(
                Who::Newest,
                Op::Write {
                    fd: Fd(1),
                    sym: sym(u)?,
                },
            ));
            out.push(op_step(p, Op::Read { fd: Fd(0) }));
            out.push(op_step(p, Op::Close { fd: Fd(1) }));
            out.push(op_step(Who::Newest, Op::Close { fd: Fd(1) }));
            out.push(op_step(p, Op::Read { fd: Fd(0) }));
        }
        // A process group spread over two hosts, signalled while a member migrates.
        8 => {
            let leader = vocab::Pid::new(0, 0);
            let p0 = Who::Pid(leader);
            out.push(op_step(p0, Op::Setpgid { pgrp: leader }));
            out.push(op_step(p0, Op::Fork));
            out.push(op_step(Who::Newest, Op::Migrate { target: away }));
            out.push(Step::During {
                mover: Who::Newest,
                target: HostId(0),
                exec: false,
                after: u.int_in_range(0..=4)?,
                other: p0,
                op: Some(Op::Killpg { pgrp: leader }),
                then: Vec::new(),
            });
            out.push(op_step(Who::Newest, Op::Getpgrp));
        }
        // A remote fork and a wait across hosts.
        4 => {
            out.push(op_step(p, Op::Migrate { target: away }));
            out.push(op_step(p, Op::Fork));
            if u.ratio(1, 2)? {
                out.push(op_step(p, Op::Wait));
                out.push(op_step(Who::Newest, Op::Getpid));
                out.push(op_step(Who::Newest, Op::Exit { status: sym(u)? }));
            } else {
                out.push(op_step(Who::Newest, Op::Exit { status: sym(u)? }));
                out.push(op_step(p, Op::Wait));
            }
        }
        // Another process on the source opens the file, writes and closes it while the
        // holder migrates: blocks dirtied after the migration's flush and left on a host
        // that no longer uses the file (the CONS window before the stream exchange). The
        // child is forked before the open, so it does not share the holder's stream.
        9 => {
            out.push(op_step(p, Op::Fork));
            out.push(op_step(p, open_rw));
            if u.ratio(1, 2)? {
                out.push(write_fd0(u, p)?);
            }
            out.push(Step::During {
                mover: p,
                target: away,
                exec: false,
                after: u.int_in_range(0..=5)?,
                other: Who::Newest,
                op: Some(Op::Open {
                    name: f,
                    mode: Mode::Write,
                    create: false,
                }),
                then: vec![
                    Op::Write {
                        fd: Fd(0),
                        sym: sym(u)?,
                    },
                    Op::Close { fd: Fd(0) },
                ],
            });
            out.push(op_step(p, Op::Lseek { fd: Fd(0), pos: 0 }));
            out.push(op_step(p, Op::Read { fd: Fd(0) }));
        }
        // Time read before and after a move.
        _ => {
            out.push(op_step(p, Op::Gettimeofday));
            out.push(op_step(p, Op::Migrate { target: away }));
            out.push(op_step(p, Op::Gettimeofday));
            out.push(op_step(
                p,
                Op::Kill {
                    pid: vocab::Pid::new(0, 0),
                },
            ));
        }
    }
    Ok(())
}

impl<'a> Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n: u8 = if u.ratio(1, 3)? { 3 } else { 2 };
        let mut hosts = Vec::new();
        for _ in 0..n {
            hosts.push(HostGen {
                version: if u.ratio(1, 10)? { 2 } else { 1 },
                clock: u.int_in_range(0..=3)?,
                owner: u.ratio(1, 8)?,
            });
        }
        let mut files = Vec::new();
        for i in 0..u.int_in_range(0..=2u8)? {
            let len = u.int_in_range(0..=vocab::MAX_FILE_LEN)?;
            let mut data = Vec::new();
            for _ in 0..len {
                data.push(sym(u)?);
            }
            files.push((FileName(i), data));
        }
        let pages = u.int_in_range(1..=2)?;
        let second_proc = u.ratio(1, 2)?;
        let pinned = u.ratio(1, 16)?;
        let switches = match u.int_in_range(0..=19u8)? {
            0 => Switches::only(Switch::PrecopyVm),
            1 => Switches::only(Switch::FullCopyVm),
            2 => Switches::only(Switch::RemoteToRemote),
            3 => Switches::only(Switch::DirectSignals),
            _ => Switches::SPRITE,
        };
        let seed = u.arbitrary()?;
        let mut steps = Vec::new();
        let mut count = 0;
        while count < MAX_STEPS && !u.is_empty() {
            count += 1;
            match u.int_in_range(0..=15u8)? {
                0..=5 => template(u, n, &mut steps)?,
                6..=10 => {
                    let w = who(u)?;
                    steps.push(op_step(w, op(u, n)?));
                }
                11 => steps.push(Step::Kill {
                    who: who(u)?,
                    target: who(u)?,
                }),
                12 => steps.push(Step::During {
                    mover: who(u)?,
                    target: HostId(u.int_in_range(0..=n - 1)?),
                    exec: u.ratio(1, 5)?,
                    after: u.int_in_range(0..=5)?,
                    other: who(u)?,
                    op: if u.ratio(1, 2)? {
                        None
                    } else {
                        Some(op(u, n)?)
                    },
                    then: then_ops(u, n)?,
                }),
                13 => steps.push(Step::Event(event(u, n)?)),
                14 => steps.push(Step::Pipe {
                    who: who(u)?,
                    first: op(u, n)?,
                    second: op(u, n)?,
                }),
                _ => steps.push(Step::Sched(u.arbitrary()?)),
            }
        }
        Ok(Scenario {
            hosts,
            files,
            pages,
            second_proc,
            pinned,
            switches,
            seed,
            steps,
        })
    }
}

impl Scenario {
    /// The scenario these bytes generate (never fails: missing bytes read as zeros).
    pub fn from_bytes(bytes: &[u8]) -> Scenario {
        let mut u = Unstructured::new(bytes);
        Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::empty())
    }

    /// A scenario with a cluster event in the middle of a migration, or (one in four) of
    /// another operation: the first [`MID_EVENT_BYTES`] bytes choose an
    /// [`Step::EventDuring`] (who moves where, after how many internal steps, which event:
    /// mostly a crash of the source, the target or a third host) or an
    /// [`Step::EventAmid`] (which process, which of [`AMID_OPS`], after how many internal
    /// steps, which event) and where it goes; the rest generate the scenario around it, as
    /// [`Scenario::from_bytes`] does. The main generator leaves such steps out, so that its
    /// measured figures (situations, detection) stay comparable; this one has a suite of
    /// its own (`tests/mid_migration_events.rs`).
    pub fn from_bytes_with_mid_migration_event(bytes: &[u8]) -> Scenario {
        let split = bytes.len().min(MID_EVENT_BYTES);
        let (head, rest) = bytes.split_at(split);
        let mut sc = Scenario::from_bytes(rest);
        let b = |i: usize| head.get(i).copied().unwrap_or(0);
        let n = sc.hosts.len().max(1) as u8;
        let mover = match b(0) % 4 {
            3 => Who::Newest,
            k => Who::Slot(k),
        };
        let h = HostId(b(3) % n);
        let event = if b(4) % 4 == 3 {
            ClusterEvent::OwnerReturns(h)
        } else {
            ClusterEvent::Crash(h)
        };
        let step = if b(0) >= 192 {
            // A crash only: an owner who returns while a process is inside a call gets
            // it evicted when the call returns (Sprite migrates a process at a safe
            // point), and the model's calls are single steps, so there is no moment inside
            // one for the model to be evicted at. Mostly a process away from home, whose
            // calls go home, and a crash of one end of them.
            Step::EventAmid {
                who: mover,
                away: (b(4) % 4 != 0).then_some(b(4) / 4 % 2),
                op: AMID_OPS[b(1) as usize % AMID_OPS.len()],
                // Mostly none: the operation's first message is then on the wire.
                after: [0, 0, 1, 2][b(2) as usize % 4],
                crash: match b(3) % 4 {
                    0 => Crashes::Runner,
                    1 => Crashes::Home,
                    _ => Crashes::Host(HostId(b(3) / 4 % n)),
                },
            }
        } else {
            Step::EventDuring {
                mover,
                target: HostId(b(1) % n),
                exec: b(1) >= 224,
                after: b(2) % 10,
                event,
            }
        };
        let at = b(5) as usize % (sc.steps.len() + 1);
        sc.steps.insert(at, step);
        sc
    }

    /// Whether a scenario read from a file (`replay`'s JSON) stays within what the
    /// generator makes, which is what the harness and the model are built for: 2 or 3
    /// hosts of version 1 or 2 with a clock from [`CLOCKS`], files /f0 to /f2 of at most
    /// `MAX_FILE_LEN` symbols, 1 or 2 pages, 1 to [`MAX_FILE_STEPS`] steps, hosts named in
    /// steps that exist, descriptors below `unix::MAX_FDS`, pages below 3, positions at
    /// most `MAX_FILE_LEN + 1`. The message names the first thing out of range.
    pub fn check(&self) -> std::result::Result<(), String> {
        let n = self.hosts.len();
        if !(2..=3).contains(&n) {
            return Err(format!("{n} hosts: a scenario has 2 or 3"));
        }
        for (i, h) in self.hosts.iter().enumerate() {
            if !(1..=2).contains(&h.version) || h.clock as usize >= CLOCKS.len() {
                return Err(format!(
                    "host {i}: version {} and clock #{} (versions 1 and 2, clocks #0 to #{})",
                    h.version,
                    h.clock,
                    CLOCKS.len() - 1
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (name, data) in &self.files {
            if name.0 > 2 || !names.insert(*name) || data.len() > vocab::MAX_FILE_LEN as usize {
                return Err(format!(
                    "file {name}: names /f0 to /f2, each once, at most {} symbols",
                    vocab::MAX_FILE_LEN
                ));
            }
        }
        if !(1..=2).contains(&self.pages) {
            return Err(format!("{} pages: a process has 1 or 2", self.pages));
        }
        if self.steps.is_empty() {
            return Err("no steps: nothing to replay".into());
        }
        if self.steps.len() > MAX_FILE_STEPS {
            return Err(format!(
                "{} steps, more than {MAX_FILE_STEPS}",
                self.steps.len()
            ));
        }
        let host = |h: HostId| -> std::result::Result<(), String> {
            if (h.0 as usize) < n {
                Ok(())
            } else {
                Err(format!("no host {h} among the {n}"))
            }
        };
        let who = |w: &Who| match w {
            Who::Pid(p) => host(p.home),
            _ => Ok(()),
        };
        let op = |o: &Op| -> std::result::Result<(), String> {
            let fd_ok = |fd: Fd| fd.0 < unix::MAX_FDS;
            let bad = match *o {
                Op::Open { name, .. } | Op::Unlink { name } | Op::Stat { name } => name.0 > 2,
                Op::Read { fd } | Op::Close { fd } | Op::Dup { fd } | Op::Write { fd, .. } => {
                    !fd_ok(fd)
                }
                Op::Lseek { fd, pos } => !fd_ok(fd) || pos > vocab::MAX_FILE_LEN + 1,
                Op::LseekCur { fd, delta } => !fd_ok(fd) || !(-2..=2).contains(&delta),
                Op::MemRead { page } | Op::MemWrite { page, .. } => page.0 > 2,
                Op::Migrate { target }
                | Op::Exec {
                    target: Some(target),
                } => return host(target),
                Op::Kill { pid } | Op::Setpgid { pgrp: pid } | Op::Killpg { pgrp: pid } => {
                    return host(pid.home)
                }
                _ => false,
            };
            if bad {
                Err(format!("`{o}` is out of the generator's range"))
            } else {
                Ok(())
            }
        };
        for (k, step) in self.steps.iter().enumerate() {
            let r = match step {
                Step::Op { who: w, op: o } => who(w).and(op(o)),
                Step::Kill { who: w, target } => who(w).and(who(target)),
                Step::During {
                    mover,
                    target,
                    other,
                    op: o,
                    then,
                    ..
                } => who(mover)
                    .and(host(*target))
                    .and(who(other))
                    .and(o.as_ref().map_or(Ok(()), op))
                    .and(then.iter().try_for_each(op)),
                Step::Pipe {
                    who: w,
                    first,
                    second,
                } => who(w).and(op(first)).and(op(second)),
                Step::Event(e) => host(e.host()),
                Step::Sched(_) => Ok(()),
                Step::EventDuring {
                    mover,
                    target,
                    event,
                    ..
                } => who(mover).and(host(*target)).and(host(event.host())),
                Step::EventAmid {
                    who: w,
                    away,
                    op: o,
                    crash,
                    ..
                } => who(w)
                    .and(match away {
                        Some(k) if *k > 1 => Err(format!("away {k}: 0 or 1")),
                        _ => Ok(()),
                    })
                    .and(op(o))
                    .and(match crash {
                        Crashes::Host(h) => host(*h),
                        Crashes::Runner | Crashes::Home => Ok(()),
                    }),
            };
            r.map_err(|e| format!("step {k}: {e}"))?;
        }
        Ok(())
    }

    /// Two hosts, one process, nothing to do.
    pub fn empty() -> Scenario {
        Scenario {
            hosts: vec![
                HostGen {
                    version: 1,
                    clock: 0,
                    owner: false,
                };
                2
            ],
            files: Vec::new(),
            pages: 1,
            second_proc: false,
            pinned: false,
            switches: Switches::SPRITE,
            seed: 0,
            steps: Vec::new(),
        }
    }
}
