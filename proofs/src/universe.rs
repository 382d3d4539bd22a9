//! A systematic enumerator over a tiny universe: two hosts, one file name, up to two
//! processes, data symbols from {0, 1}, positions 0..=2, one page per process.
//!
//! The universe is covered by five sub-universes, each the full product of its own
//! dimensions (listed on each function), with the other parts of the state empty:
//!
//! - [`files`]: two processes with streams on one file, every combination of hosts, modes,
//!   next operation, file data, version, last writer, cacheability and cache entries;
//! - [`sharing`]: a process and its child sharing one stream (dup and fork), with every
//!   placement of the access position, every position value and the migration phases;
//! - [`migration`]: a process with an open stream migrating in either direction, every
//!   phase and kind, with a second process on the source doing file operations and every
//!   combination of cache entries on source and target;
//! - [`three_hosts`] (with [`config3`]): three processes on three hosts with streams on one
//!   file, every combination of next operation, cache entries on the three hosts, file data,
//!   cacheability and last writer;
//! - [`procs`]: no files; a process and a child (live or exited) with every combination of
//!   host, next operation, status or migration phase, page state, time read, signals
//!   (received, in flight, held), owner and up/down.
//!
//! In each candidate the fields a strengthening determines from the others (the server's
//! stream hosts, the clients' reference counts, the home tables, the waiters, the ghost)
//! are computed from the enumerated ones, so that the candidates are not all rejected by
//! the bookkeeping facts; the filter (the strengthening) then keeps those it admits. The
//! bounds: [`Bounds::small`] for the default test, [`Bounds::large`] for the ignored one.

use crate::generate::reabstracted;
use model::config::{Config, HostSpec, ProcSpec, Script};
use model::state::{
    CacheEntry, ClientStream, Kind, Loc, Migration, Phase, ServerStream, State, Status,
};
use model::SpriteModel;
use std::collections::BTreeSet;
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Pid, StreamId, Switches};

const H0: HostId = HostId(0);
const H1: HostId = HostId(1);
const F0: FileName = FileName(0);
const P: Pid = Pid::new(0, 0);
const C: Pid = Pid::new(0, 1);
const Q: Pid = Pid::new(1, 0);

/// How large the domains are.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Data symbols of files and pages are drawn from `0..symbols`.
    pub symbols: u8,
    /// Positions are drawn from `0..=max_pos`.
    pub max_pos: u8,
    /// Whether to try every operation as the next one (else a representative subset).
    pub all_ops: bool,
}

impl Bounds {
    pub fn small() -> Bounds {
        Bounds {
            symbols: 2,
            max_pos: 1,
            all_ops: false,
        }
    }
    pub fn large() -> Bounds {
        Bounds {
            symbols: 2,
            max_pos: 2,
            all_ops: true,
        }
    }
}

/// The operations a process may have next: one script per operation.
pub fn ops() -> Vec<Op> {
    let open = |mode, create| Op::Open {
        name: F0,
        mode,
        create,
    };
    vec![
        open(Mode::Read, false),
        open(Mode::ReadWrite, false),
        open(Mode::ReadWrite, true),
        Op::Read { fd: Fd(0) },
        Op::Write { fd: Fd(0), sym: 1 },
        Op::Lseek { fd: Fd(0), pos: 0 },
        Op::Lseek { fd: Fd(0), pos: 2 },
        Op::Close { fd: Fd(0) },
        Op::Unlink { name: F0 },
        Op::Dup { fd: Fd(0) },
        Op::Fork,
        Op::Exec { target: None },
        Op::Exec { target: Some(H1) },
        Op::Exec { target: Some(H0) },
        Op::Exit { status: 3 },
        Op::Wait,
        Op::Getpid,
        Op::Gettimeofday,
        Op::Kill { pid: P },
        Op::Kill { pid: C },
        Op::MemRead { page: PageNo(0) },
        Op::MemWrite {
            page: PageNo(0),
            sym: 1,
        },
        Op::Migrate { target: H1 },
        Op::Migrate { target: H0 },
        Op::Read { fd: Fd(1) },
        Op::Pipe,
        Op::Write { fd: Fd(1), sym: 1 },
        Op::Close { fd: Fd(1) },
        Op::Dup { fd: Fd(1) },
        Op::Getpgrp,
        Op::Setpgid { pgrp: P },
        Op::Setpgid { pgrp: C },
        Op::Killpg { pgrp: P },
        Op::Killpg { pgrp: C },
    ]
}

fn script_of(op: Op) -> u8 {
    ops().iter().position(|o| *o == op).expect("listed") as u8
}

/// The tiny universe's configuration: two hosts with different clocks, one file, the
/// processes `P = p0.0`, `C = p0.1` (P's child when present) and `Q = p1.0`, one script per
/// operation, and the cluster events.
pub fn config() -> Config {
    let scripts = ops()
        .into_iter()
        .map(|op| Script::forking(vec![op], vec![script_of(Op::Getpid)]))
        .collect();
    Config {
        name: "tiny-universe".into(),
        about: "systematic enumeration: 2 hosts, 1 file, up to 2 processes".into(),
        hosts: vec![
            HostSpec {
                version: 1,
                clock: 10,
                owner: false,
            },
            HostSpec {
                version: 1,
                clock: 11,
                owner: false,
            },
        ],
        files: vec![(F0, vec![])],
        procs: vec![
            ProcSpec::new(P, 0),
            ProcSpec::new(C, 0),
            ProcSpec::new(Q, 0),
        ],
        scripts,
        pages: 1,
        events: vec![
            ClusterEvent::OwnerReturns(H1),
            ClusterEvent::OwnerLeaves(H1),
            ClusterEvent::Crash(H1),
            ClusterEvent::Crash(H0),
            ClusterEvent::Reboot(H1),
            ClusterEvent::ClockTick(H0),
            ClusterEvent::ClockTick(H1),
        ]
        .into_iter()
        .map(|e| (e, 1))
        .collect(),
        switches: Switches::SPRITE,
        delayed_writes: false,
    }
}

/// Calls `f` with every element of the product of the given radices.
fn product(radices: &[usize], mut f: impl FnMut(&[usize])) {
    if radices.contains(&0) {
        return;
    }
    let mut c = vec![0; radices.len()];
    loop {
        f(&c);
        let mut i = 0;
        loop {
            if i == radices.len() {
                return;
            }
            c[i] += 1;
            if c[i] < radices[i] {
                break;
            }
            c[i] = 0;
            i += 1;
        }
    }
}

fn proc(host: HostId, op: Op, parent: Option<Pid>) -> model::state::Proc {
    model::state::Proc {
        host,
        parent,
        script: script_of(op),
        pc: 0,
        current: None,
        status: Status::Ready,
        pages: vocab::inline![model::state::Page::ZERO],
        fds: Default::default(),
        signals: 0,
        last_time: None,
        born_remote: false,
        // Set to the pid's home when the state is completed (`complete`).
        login: host,
        lazy_from: None,
        pinned: None,
    }
}

/// An empty state of the universe: hosts up, the file `F0` (ino 0) with the given data.
fn empty(m: &SpriteModel) -> State {
    let mut s = m.initial();
    s.procs.clear();
    for h in s.hosts.iter_mut() {
        h.home_table.clear();
        h.groups.clear();
    }
    s
}

/// Recomputes the bookkeeping a strengthening determines: the server's stream hosts and
/// the clients' reference counts from the descriptors (positions: `pos` for every stream,
/// on the server if two hosts share it or `shadow_single`, else on the one client), the home
/// tables from the processes and migrations, the waiters, and then the ghost.
fn complete(m: &SpriteModel, mut s: State, pos: u8, shadow_single: bool) -> State {
    // Sprite's processes belong to their home's user (`inv_pid`'s consequence, `g_login`).
    for (pid, p) in s.procs.iter_mut() {
        p.login = pid.home;
    }
    for st in s.server.streams.values_mut() {
        st.hosts.clear();
        st.shadow = None;
    }
    for h in s.hosts.iter_mut() {
        h.streams.clear();
        h.home_table.clear();
        h.groups.clear();
        h.rendezvous.waiters.clear();
    }
    let refs: Vec<(StreamId, Option<HostId>)> = s
        .procs
        .iter()
        .flat_map(|(pid, p)| p.fds.iter().map(move |(fd, sid)| (*pid, *fd, *sid)))
        .map(|(pid, fd, sid)| (sid, s.ref_host(pid, fd)))
        .collect();
    for (sid, h) in refs {
        let Some(h) = h else { continue };
        if let Some(st) = s.server.streams.get_mut(&sid) {
            st.hosts.insert(h);
        }
        s.host_mut(h)
            .streams
            .entry(sid)
            .or_insert(ClientStream { refs: 0, pos: None })
            .refs += 1;
    }
    let sids: Vec<StreamId> = s.server.streams.keys().copied().collect();
    for sid in sids {
        let hosts: Vec<HostId> = s.server.streams[&sid].hosts.iter().copied().collect();
        if hosts.len() >= 2 || shadow_single {
            s.server.streams.get_mut(&sid).expect("listed").shadow = Some(pos);
        } else if let [h] = hosts[..] {
            s.host_mut(h).streams.get_mut(&sid).expect("counted").pos = Some(pos);
        }
    }
    let procs: Vec<(Pid, HostId)> = s.procs.iter().map(|(p, x)| (*p, x.host)).collect();
    for (pid, host) in procs {
        let loc = match s.migrations.get(&pid) {
            None => Loc::At(host),
            Some(mg) => match mg.phase {
                Phase::Init => Loc::At(mg.source),
                Phase::Resume => Loc::At(mg.target),
                _ => Loc::Moving(mg.source, mg.target),
            },
        };
        s.host_mut(pid.home).home_table.insert(pid, loc);
        // A child is in its parent's group, another process leads its own.
        let parent = s.procs[&pid].parent.filter(|q| q.home == pid.home);
        s.host_mut(pid.home)
            .groups
            .insert(pid, parent.unwrap_or(pid));
        if crate::abstraction::waiting(&s, pid) {
            s.host_mut(pid.home).rendezvous.waiters.insert(pid);
        }
    }
    // Every pid alive or exited has been handed out by its home: the slot's next
    // generation is above it.
    let pids: Vec<Pid> = s
        .procs
        .keys()
        .copied()
        .chain(
            s.hosts
                .iter()
                .flat_map(|h| h.rendezvous.zombies.keys().copied()),
        )
        .collect();
    for pid in pids {
        let g = s
            .host_mut(pid.home)
            .generations
            .entry(pid.index)
            .or_default();
        *g = (*g).max(pid.gen + 1);
    }
    reabstracted(m, &s)
}

fn cache_entry(kind: usize, data: &[u8], version: u8) -> Option<CacheEntry> {
    match kind {
        1 => Some(CacheEntry {
            data: data.into(),
            dirty: false,
            version,
        }),
        2 => Some(CacheEntry {
            data: vocab::inline![1, 1],
            dirty: false,
            version: version.saturating_sub(1),
        }),
        3 => Some(CacheEntry {
            data: [data, &[1]].concat().into(),
            dirty: true,
            version,
        }),
        _ => None,
    }
}

fn data_domain(b: Bounds) -> Vec<Vec<u8>> {
    if !b.all_ops {
        return vec![vec![], vec![1]];
    }
    let mut v = vec![vec![]];
    for x in 0..b.symbols {
        v.push(vec![x]);
    }
    v.push(vec![0, 1]);
    v
}

/// Cache entry kinds: none, clean current, dirty (and, in the large bounds, clean stale).
fn cache_kinds(b: Bounds) -> usize {
    if b.all_ops {
        4
    } else {
        3
    }
}

fn cache_kind(b: Bounds, k: usize) -> usize {
    if b.all_ops || k < 2 {
        k
    } else {
        3
    }
}

fn file_ops(b: Bounds) -> Vec<Op> {
    let all = ops();
    if b.all_ops {
        return all;
    }
    all.into_iter()
        .filter(|o| {
            matches!(
                o,
                Op::Open { .. }
                    | Op::Read { fd: Fd(0) }
                    | Op::Write { fd: Fd(0), .. }
                    | Op::Lseek { pos: 2, .. }
                    | Op::Close { fd: Fd(0) }
                    | Op::Unlink { .. }
                    | Op::Dup { fd: Fd(0) }
                    | Op::Fork
                    | Op::Exit { .. }
                    | Op::Migrate { target: H1 }
            )
        })
        .collect()
}

fn stream(ino: u8, mode: Mode) -> ServerStream {
    ServerStream {
        ino: unix::Ino(ino),
        mode,
        hosts: Default::default(),
        shadow: None,
    }
}

const MODES: [Mode; 2] = [Mode::Read, Mode::ReadWrite];

fn set_file(s: &mut State, data: &[u8], linked: bool, cacheable: bool, lw: Option<HostId>) {
    let f = s.server.files.get_mut(&unix::Ino(0)).expect("F0");
    f.data = data.into();
    f.linked = linked;
    f.cacheable = cacheable;
    f.version = 1;
    f.last_writer = lw;
    if !linked {
        s.server.dir.clear();
    }
}

const LWS: [Option<HostId>; 3] = [None, Some(H0), Some(H1)];

/// Two processes `P` (home h0) and `Q` (home h1), each with or without its own stream on
/// the file. Dimensions: hosts of P and Q; P's next operation; Q's next operation (read,
/// write, close); whether each has a stream and its mode; file data, linked, cacheable, last
/// writer; position; a cache entry on each host (none, clean current, clean stale, dirty).
pub fn files(m: &SpriteModel, b: Bounds, f: &mut dyn FnMut(State)) {
    let pops = file_ops(b);
    let qops = [
        Op::Read { fd: Fd(0) },
        Op::Write { fd: Fd(0), sym: 1 },
        Op::Close { fd: Fd(0) },
    ];
    let data = data_domain(b);
    let radices = [
        2,
        2,
        pops.len(),
        qops.len(),
        3,
        3,
        data.len(),
        2,
        2,
        3,
        b.max_pos as usize + 1,
        cache_kinds(b),
        cache_kinds(b),
    ];
    product(&radices, |c| {
        let mut s = empty(m);
        let (ph, qh) = (HostId(c[0] as u8), HostId(c[1] as u8));
        let mut p = proc(ph, pops[c[2]], None);
        let mut q = proc(qh, qops[c[3]], None);
        if c[4] > 0 {
            s.server
                .streams
                .insert(StreamId(0), stream(0, MODES[c[4] - 1]));
            p.fds.insert(Fd(0), StreamId(0));
        }
        if c[5] > 0 {
            let sid = StreamId(if c[4] > 0 { 1 } else { 0 });
            s.server.streams.insert(sid, stream(0, MODES[c[5] - 1]));
            q.fds.insert(Fd(0), sid);
        }
        s.procs.insert(P, p.into());
        s.procs.insert(Q, q.into());
        set_file(&mut s, &data[c[6]], c[7] == 0, c[8] == 0, LWS[c[9]]);
        for (i, k) in [c[11], c[12]].into_iter().enumerate() {
            if let Some(e) = cache_entry(cache_kind(b, k), &data[c[6]], 1) {
                s.hosts[i].cache.insert(unix::Ino(0), e);
            }
        }
        f(complete(m, s, c[10] as u8, false));
    });
}

/// A voluntary migration from h0 to h1 in `phase`, with the descriptors `moved`.
fn to_h1(phase: Phase, moved: BTreeSet<Fd>) -> Migration {
    Migration {
        source: H0,
        target: H1,
        kind: Kind::Voluntary,
        phase,
        moved: moved.into_iter().collect(),
        half: None,
        reopen: None,
        resume_waiting: false,
    }
}

/// A process `P` and its child `C` sharing stream 0 (P may hold it twice, after dup).
/// Dimensions: hosts of P and C; P's next operation; C's next operation (read, close,
/// exit); P holds 1 or 2 descriptors; C holds it or not; mode; position and whether a single
/// host keeps it on the server (after a crash); file data; P migrating (none, MIG_STATE
/// next, stream phase, HOME_UPDATE next, RESUME next) from h0 to h1.
pub fn sharing(m: &SpriteModel, b: Bounds, f: &mut dyn FnMut(State)) {
    let pops = file_ops(b);
    let cops = [
        Op::Read { fd: Fd(0) },
        Op::Close { fd: Fd(0) },
        Op::Exit { status: 3 },
    ];
    let data = data_domain(b);
    let phases = [
        None,
        Some(Phase::State),
        Some(Phase::Streams),
        Some(Phase::HomeUpdate),
        Some(Phase::Resume),
    ];
    let radices = [
        2,
        2,
        pops.len(),
        cops.len(),
        2,
        2,
        2,
        b.max_pos as usize + 1,
        2,
        data.len(),
        phases.len(),
    ];
    product(&radices, |c| {
        let mut s = empty(m);
        let (ph, ch) = (HostId(c[0] as u8), HostId(c[1] as u8));
        let mut p = proc(ph, pops[c[2]], None);
        let mut child = proc(ch, cops[c[3]], Some(P));
        s.server.streams.insert(StreamId(0), stream(0, MODES[c[6]]));
        p.fds.insert(Fd(0), StreamId(0));
        if c[4] == 1 {
            p.fds.insert(Fd(1), StreamId(0));
        }
        if c[5] == 1 {
            child.fds.insert(Fd(0), StreamId(0));
        }
        if let Some(phase) = phases[c[10]] {
            if ph != H0 {
                return;
            }
            let target_side = !matches!(phase, Phase::State);
            p.host = if target_side { H1 } else { H0 };
            p.status = Status::Migrating;
            p.script = script_of(Op::Migrate { target: H1 });
            let moved = match phase {
                Phase::HomeUpdate | Phase::Resume => p.fds.keys().copied().collect(),
                // The two stream-phase entries: none moved yet, or (with two descriptors) one.
                Phase::Streams if p.fds.len() == 2 && c[10] == 3 => [Fd(0)].into_iter().collect(),
                _ => BTreeSet::new(),
            };
            s.migrations.insert(P, to_h1(phase, moved).into());
        }
        s.procs.insert(P, p.into());
        s.procs.insert(C, child.into());
        set_file(&mut s, &data[c[9]], true, true, None);
        f(complete(m, s, c[7] as u8, c[8] == 1));
    });
}

/// A process `P` with one stream migrating between h0 (its home) and h1, in either
/// direction, in every phase and as a voluntary migration or an eviction; a second process
/// `Q` on the source with its own stream on the file or none, next opening, writing or
/// closing; a cache entry on each host (none, clean current, clean stale, dirty); file data;
/// last writer; P's stream mode.
pub fn migration(m: &SpriteModel, b: Bounds, f: &mut dyn FnMut(State)) {
    let phases = [
        Phase::Init,
        Phase::State,
        Phase::Streams,
        Phase::HomeUpdate,
        Phase::Resume,
    ];
    let qops = [
        Op::Open {
            name: F0,
            mode: Mode::ReadWrite,
            create: false,
        },
        Op::Write { fd: Fd(0), sym: 1 },
        Op::Close { fd: Fd(0) },
    ];
    let data = data_domain(b);
    let ck = cache_kinds(b);
    let radices = [2, phases.len(), 2, 2, 3, qops.len(), ck, ck, data.len(), 3];
    product(&radices, |c| {
        let mut s = empty(m);
        let (src, tgt) = if c[0] == 0 { (H0, H1) } else { (H1, H0) };
        let phase = phases[c[1]];
        let kind = if c[2] == 0 {
            Kind::Voluntary
        } else {
            Kind::Evict
        };
        // An eviction goes home; a migration home has no MIG_INIT step.
        if (kind == Kind::Evict && tgt != H0) || (phase == Phase::Init && tgt == H0) {
            return;
        }
        let on_target = !matches!(phase, Phase::Init | Phase::State);
        let op = if kind == Kind::Voluntary {
            Op::Migrate { target: tgt }
        } else {
            Op::Getpid
        };
        let mut p = proc(if on_target { tgt } else { src }, op, None);
        p.status = Status::Migrating;
        s.server.streams.insert(StreamId(0), stream(0, MODES[c[3]]));
        p.fds.insert(Fd(0), StreamId(0));
        let moved = if matches!(phase, Phase::HomeUpdate | Phase::Resume) {
            [Fd(0)].into_iter().collect()
        } else {
            BTreeSet::new()
        };
        s.migrations.insert(
            P,
            Migration {
                source: src,
                target: tgt,
                kind,
                phase,
                moved: moved.into_iter().collect(),
                half: None,
                reopen: None,
                resume_waiting: false,
            }
            .into(),
        );
        s.procs.insert(P, p.into());
        if c[4] > 0 {
            let mut q = proc(src, qops[c[5]], None);
            if c[4] == 2 {
                s.server
                    .streams
                    .insert(StreamId(1), stream(0, Mode::ReadWrite));
                q.fds.insert(Fd(0), StreamId(1));
            }
            s.procs.insert(Q, q.into());
        }
        set_file(&mut s, &data[c[8]], true, true, LWS[c[9]]);
        for (i, k) in [c[6], c[7]].into_iter().enumerate() {
            if let Some(e) = cache_entry(cache_kind(b, k), &data[c[8]], 1) {
                s.hosts[i].cache.insert(unix::Ino(0), e);
            }
        }
        f(complete(m, s, 0, false));
    });
}

/// No files. `P` (home h0) and optionally its child `C`, live or exited. Dimensions: P's
/// host; P's next operation; P's status (ready, waiting, or migrating in each phase to the
/// other host, voluntary, exec or eviction, resuming waiting or not); P's page (resident
/// value or not, dirty or not, backing value or none); the last time P read (none, its
/// home's clock, or h1's later clock); P's signals (none; one received; one in flight to h0 or h1; one held by
/// the home); the child (none; live on h0 or h1, next exiting or getpid; exited with status
/// 3); h1's owner present or not; h1 up or down.
pub fn procs(m: &SpriteModel, b: Bounds, f: &mut dyn FnMut(State)) {
    let all = ops();
    let pops: Vec<Op> = if b.all_ops {
        all
    } else {
        all.into_iter()
            .filter(|o| {
                !matches!(
                    o,
                    Op::Open { .. }
                        | Op::Read { .. }
                        | Op::Write { .. }
                        | Op::Lseek { .. }
                        | Op::Close { .. }
                        | Op::Unlink { .. }
                        | Op::Dup { .. }
                        | Op::Pipe
                        | Op::Getpgrp
                        | Op::Setpgid { pgrp: P }
                )
            })
            .collect()
    };
    let phases = [Phase::Init, Phase::State, Phase::HomeUpdate, Phase::Resume];
    // Page values: in the small bounds only 1 (resident or in the backing file) or none.
    let vals: Vec<u8> = if b.all_ops {
        (0..b.symbols).collect()
    } else {
        vec![1]
    };
    let sym = vals.len();
    let ups = if b.all_ops { 2 } else { 1 };
    // status: 0 ready, 1 waiting, 2.. migrating (phase, kind, resume_waiting)
    let statuses = 2 + phases.len() * 3 * if b.all_ops { 2 } else { 1 };
    let radices = [
        2,
        pops.len(),
        statuses,
        sym + 1,
        2,
        sym + 1,
        2,
        5,
        5,
        2,
        ups,
    ];
    product(&radices, |c| {
        let mut s = empty(m);
        s.server.files.clear();
        s.server.dir.clear();
        s.ghost = unix::Unix::new().into();
        let home_host = HostId(c[0] as u8);
        let op = pops[c[1]];
        let mut p = proc(home_host, op, None);
        let other = if home_host == H0 { H1 } else { H0 };
        match c[2] {
            0 => {}
            1 => p.status = Status::Waiting,
            k => {
                let k = k - 2;
                let phase = phases[k % phases.len()];
                let kind = [Kind::Voluntary, Kind::Exec, Kind::Evict][(k / phases.len()) % 3];
                let resume_waiting = k / (phases.len() * 3) == 1;
                let (src, tgt) = if kind == Kind::Evict {
                    (p.host, H0)
                } else {
                    (p.host, other)
                };
                if src == tgt {
                    return;
                }
                p.status = Status::Migrating;
                p.host = if matches!(phase, Phase::Init) {
                    src
                } else {
                    tgt
                };
                s.migrations.insert(
                    P,
                    Migration {
                        source: src,
                        target: tgt,
                        kind,
                        phase,
                        moved: Default::default(),
                        half: None,
                        reopen: None,
                        resume_waiting,
                    }
                    .into(),
                );
            }
        }
        p.pages[0] = model::state::Page {
            resident: (c[3] < sym).then(|| vals[c[3]]),
            dirty: c[4] == 1,
        };
        if c[5] < sym {
            s.server.backing.insert((P, PageNo(0)), vals[c[5]]);
        }
        // The last time read: none, the home's clock, or a later clock (another host's).
        match c[6] {
            1 => p.last_time = Some(10),
            2 => p.last_time = Some(11),
            _ => {}
        }
        match c[7] {
            1 => p.signals = 1,
            2 | 3 => {
                let to = HostId((c[7] - 2) as u8);
                s.signals.insert(
                    model::state::SignalMsg {
                        pid: P,
                        to,
                        direct: false,
                    },
                    1,
                );
            }
            4 => {
                s.hosts[0].held_signals.insert(P, 1);
            }
            _ => {}
        }
        match c[8] {
            1 | 2 => {
                s.procs.insert(
                    C,
                    proc(HostId((c[8] - 1) as u8), Op::Exit { status: 3 }, Some(P)).into(),
                );
            }
            3 => {
                s.procs.insert(C, proc(H0, Op::Getpid, Some(P)).into());
            }
            4 => {
                s.hosts[0].rendezvous.zombies.insert(C, (P, 3));
            }
            _ => {}
        }
        s.procs.insert(P, p.into());
        s.hosts[1].owner = c[9] == 1;
        s.hosts[1].up = c[10] == 0;
        f(complete(m, s, 0, false));
    });
}

/// The three-host variant of the universe's configuration (for [`three_hosts`]): hosts
/// h0, h1, h2, and the processes `P = p0.0`, `Q = p1.0`, `R = p2.0`.
pub fn config3() -> Config {
    let mut cfg = config();
    cfg.name = "tiny-universe-3".into();
    cfg.about = "systematic enumeration: 3 hosts, 1 file, 3 processes".into();
    cfg.hosts.push(HostSpec {
        version: 1,
        clock: 12,
        owner: false,
    });
    cfg.procs = vec![
        ProcSpec::new(P, 0),
        ProcSpec::new(Q, 0),
        ProcSpec::new(R, 0),
    ];
    cfg.events = vec![(ClusterEvent::Crash(HostId(2)), 1)];
    cfg
}

const R: Pid = Pid::new(2, 0);

/// Three processes at their homes h0, h1, h2 (use [`config3`]), each with or without its
/// own stream on the file (P's read-write, Q's and R's read-only, or all read-write in the
/// large bounds), each next opening, reading, writing or closing; a cache entry on each host
/// (none, clean current, clean stale, dirty); file data, cacheability and last writer. This
/// is where a host that neither uses a file nor last wrote it keeps blocks of it while two
/// others share it.
pub fn three_hosts(m: &SpriteModel, b: Bounds, f: &mut dyn FnMut(State)) {
    let nops = [
        Op::Open {
            name: F0,
            mode: Mode::ReadWrite,
            create: false,
        },
        Op::Open {
            name: F0,
            mode: Mode::Read,
            create: false,
        },
        Op::Write { fd: Fd(0), sym: 1 },
        Op::Close { fd: Fd(0) },
    ];
    // The small bounds: one non-empty content (the point is who caches what).
    let data: Vec<Vec<u8>> = if b.all_ops {
        data_domain(b)
    } else {
        vec![vec![1]]
    };
    let modes = if b.all_ops { 2 } else { 1 };
    let radices = [
        nops.len(),
        nops.len(),
        nops.len(),
        2,
        2,
        2,
        modes,
        4,
        4,
        4,
        data.len(),
        2,
        4,
    ];
    product(&radices, |c| {
        let mut s = empty(m);
        let mut next = 0u8;
        for (i, pid) in [P, Q, R].into_iter().enumerate() {
            let mut p = proc(HostId(i as u8), nops[c[i]], None);
            if c[3 + i] == 1 {
                let mode = if i == 0 || c[6] == 1 {
                    Mode::ReadWrite
                } else {
                    Mode::Read
                };
                s.server.streams.insert(StreamId(next), stream(0, mode));
                p.fds.insert(Fd(0), StreamId(next));
                next += 1;
            }
            s.procs.insert(pid, p.into());
        }
        let lw = [None, Some(H0), Some(H1), Some(HostId(2))][c[12]];
        set_file(&mut s, &data[c[10]], true, c[11] == 0, lw);
        for i in 0..3 {
            if let Some(e) = cache_entry(c[7 + i], &data[c[10]], 1) {
                s.hosts[i].cache.insert(unix::Ino(0), e);
            }
        }
        f(complete(m, s, 0, false));
    });
}

/// Every sub-universe of the two-host configuration ([`config`]).
pub fn all(m: &SpriteModel, b: Bounds, f: &mut dyn FnMut(State)) {
    files(m, b, f);
    sharing(m, b, f);
    migration(m, b, f);
    procs(m, b, f);
    pipes(m, b, f);
}

/// A process `P` and its child `C` sharing a pipe (ino 1: stream 0 the read end, stream 1
/// the write end, descriptors 0 and 1 in each process that holds them), the pmake idiom.
/// Dimensions: C's host; P's next operation (pipe reads, writes, closes, dup, lseek, a new
/// pipe, fork, exit, the process-group calls, migrate); C's next operation (read, write,
/// close, exit, setpgid); which ends P holds (both, read, write); which ends C holds (none,
/// both, read, write); the symbols in the pipe (none, one, a full pipe); C's group (P's or
/// its own); C migrating from h0 to h1 (none, MIG_STATE next, stream phase, RESUME next);
/// a signal for C held by the home (when it moves) or in flight.
pub fn pipes(m: &SpriteModel, b: Bounds, f: &mut dyn FnMut(State)) {
    let pops = [
        Op::Read { fd: Fd(0) },
        Op::Write { fd: Fd(1), sym: 1 },
        Op::Close { fd: Fd(0) },
        Op::Close { fd: Fd(1) },
        Op::Dup { fd: Fd(1) },
        Op::Lseek { fd: Fd(0), pos: 0 },
        Op::Pipe,
        Op::Fork,
        Op::Exit { status: 3 },
        Op::Getpgrp,
        Op::Setpgid { pgrp: C },
        Op::Killpg { pgrp: P },
        Op::Killpg { pgrp: C },
        Op::Migrate { target: H1 },
    ];
    let cops = [
        Op::Read { fd: Fd(0) },
        Op::Write { fd: Fd(1), sym: 1 },
        Op::Close { fd: Fd(1) },
        Op::Exit { status: 3 },
        Op::Setpgid { pgrp: C },
    ];
    // The symbols in the pipe: none, one, a full pipe (and, in the large bounds, each
    // single symbol and the other full pipe).
    let data: Vec<Vec<u8>> = if b.all_ops {
        vec![vec![], vec![0], vec![1], vec![1, 0], vec![0, 1]]
    } else {
        vec![vec![], vec![1], vec![1, 0]]
    };
    let phases = [
        None,
        Some(Phase::State),
        Some(Phase::Streams),
        Some(Phase::Resume),
    ];
    let p_ends: [&[u8]; 3] = [&[0, 1], &[0], &[1]];
    let c_ends: [&[u8]; 4] = [&[], &[0, 1], &[0], &[1]];
    let radices = [
        2,
        pops.len(),
        cops.len(),
        p_ends.len(),
        c_ends.len(),
        data.len(),
        2,
        phases.len(),
        2,
    ];
    product(&radices, |c| {
        let ch = HostId(c[0] as u8);
        let phase = phases[c[7]];
        if phase.is_some() && ch != H0 {
            return;
        }
        let mut s = empty(m);
        let mut p = proc(H0, pops[c[1]], None);
        let mut child = proc(ch, cops[c[2]], Some(P));
        let pipe = unix::Ino(1);
        s.server.files.insert(
            pipe,
            model::state::File {
                data: data[c[5]].as_slice().into(),
                linked: false,
                cacheable: false,
                version: 0,
                last_writer: None,
            },
        );
        s.server.pipes.insert(pipe);
        for (end, mode) in [Mode::Read, Mode::Write].into_iter().enumerate() {
            let (in_p, in_c) = (
                p_ends[c[3]].contains(&(end as u8)),
                c_ends[c[4]].contains(&(end as u8)),
            );
            if in_p || in_c {
                s.server
                    .streams
                    .insert(StreamId(end as u8), stream(1, mode));
            }
            if in_p {
                p.fds.insert(Fd(end as u8), StreamId(end as u8));
            }
            if in_c {
                child.fds.insert(Fd(end as u8), StreamId(end as u8));
            }
        }
        if let Some(phase) = phase {
            child.host = if phase == Phase::State { H0 } else { H1 };
            child.status = Status::Migrating;
            child.script = script_of(Op::Migrate { target: H1 });
            let moved = match phase {
                Phase::Resume => child.fds.keys().copied().collect(),
                _ => BTreeSet::new(),
            };
            s.migrations.insert(C, to_h1(phase, moved).into());
        }
        s.procs.insert(P, p.into());
        s.procs.insert(C, child.into());
        let mut s = complete(m, s, 0, false);
        if c[6] == 1 {
            s.host_mut(H0).groups.insert(C, C);
        }
        match (c[8], phase) {
            (0, _) => {}
            (_, Some(Phase::State | Phase::Streams)) => {
                s.host_mut(H0).held_signals.insert(C, 1);
            }
            (_, _) => {
                let to = s.procs[&C].host;
                s.signals.insert(
                    model::state::SignalMsg {
                        pid: C,
                        to,
                        direct: false,
                    },
                    1,
                );
            }
        }
        f(reabstracted(m, &s));
    });
}
