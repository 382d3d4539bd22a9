//! The alternatives the papers turned down for their cost rather than for a wrong
//! result, compared on counts the implementation measures. What is measured and what is
//! composed is said row by row; `scenario --report` prints the comparison.
//!
//! - **Direct remote-to-remote eviction** [SPE §Eviction]: an evicted process goes straight
//!   to another idle host instead of home, from where pmake would migrate it again. Run
//!   for real: the design switch `remote-to-remote` lets a foreign process move between two
//!   remote hosts, with the home told by MIG_START and HOME_UPDATE messages (the
//!   three-way communication SPE names); the model checks that the switch keeps every
//!   invariant (`check alt remote-to-remote`).
//! - **Forward every kernel call home** (Remote UNIX, and Sprite's first plan)
//!   [TH §4.3.1]: the kernel state stays at home; every call is an RPC to it.
//! - **Forward file calls to the host where the file was opened** ("arrange for
//!   forwarding") [SPE §Migrating Open Files]: open streams stay behind; every call on
//!   them is an RPC to that host, which may call the file server in turn.
//! - **Drop the home dependency** (nontransparent migration) [TH §4.4, §9.3]: the target
//!   becomes the process's home, so after the move every call costs what it costs a
//!   process at its home; what it gives up is transparency (a new pid, another clock,
//!   gone from its user's process list) and what it gains is surviving a crash of the
//!   host it left. The per-call side is measured; the rest is argued in
//!   `specs/design-alternatives.md`.

use crate::calibrate::{run_ops, traffic_since, P};
use crate::cost::{CostModel, MigrationRecord, Traffic};
use crate::msg::MigKind;
use crate::sim::{Cluster, ClusterConfig};
use serde::Serialize;
use vocab::{ClusterEvent, Fd, FileName, HostId, Mode, Op, Switch, Switches};

/// The remote host the process runs on before the eviction.
const H1: HostId = HostId(1);
/// The idle host it ends up on.
const H2: HostId = HostId(2);
/// SPE §Usage Patterns: dirty pages written per evicted process, 37 on average.
const DIRTY_PAGES: u8 = crate::predict::EVICTED_DIRTY_PAGES;
const INPUT: FileName = FileName(0);

/// The measured counts of every comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlternativeCounts {
    /// Sprite: evicted home (`OwnerReturns`), then migrated from home to the idle host.
    pub evict_home: MigrationRecord,
    pub remigrate: MigrationRecord,
    /// Messages sent meanwhile that no migration owns (consistency actions).
    pub via_home_other: Traffic,
    /// The alternative: migrated from the reclaimed host straight to the idle one.
    pub direct: MigrationRecord,
    pub direct_other: Traffic,
    /// One kernel call forwarded home, as the implementation forwards `gettimeofday`:
    /// the messages a remote call sends minus those the same call sends at home.
    pub forward: Traffic,
    /// Kernel calls, each measured run by a migrated process and run at home.
    pub calls: Vec<CallCounts>,
    /// A process on h1 kills the child it forked there: through the home (Sprite), and
    /// with `direct-signals` (the location known from the fork, so delivered on the spot).
    pub kill_here_sprite: Traffic,
    pub kill_here_direct: Traffic,
}

/// One kernel call's messages in two placements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallCounts {
    pub call: &'static str,
    /// Run by a process migrated to h1 (Sprite's design).
    pub remote: Traffic,
    /// Run by the same process at home.
    pub home: Traffic,
    /// Whether Sprite forwards the call home already [TH App. A], so that forwarding
    /// every call changes nothing for it.
    pub sprite_forwards: bool,
    /// Whether the call acts on a stream that is already open, so that "arrange for
    /// forwarding" sends it to the host that opened the file.
    pub on_open_stream: bool,
}

/// Measures every comparison on the simulated cluster (Sprite's design).
pub fn measure() -> Result<AlternativeCounts, String> {
    let (evict_home, remigrate, via_home_other) = eviction(false)?;
    let (direct, _, direct_other) = eviction(true)?;
    let gettime_home = call(false, &[], Op::Gettimeofday)?;
    let gettime_remote = call(true, &[], Op::Gettimeofday)?;
    let forward = gettime_remote.minus(gettime_home);
    let open = |mode, create| Op::Open {
        name: INPUT,
        mode,
        create,
    };
    let opened = [open(Mode::Read, false)];
    let writing = [open(Mode::Write, false)];
    // (call, operations before it that are not counted, the call, on an open stream,
    // forwarded by Sprite)
    // The grant of an open carries the file's blocks to a host that may cache it (files
    // are a few symbols long here), so a read is served from the cache.
    let table: [(&'static str, &[Op], Op, bool, bool); 9] = [
        ("open", &[], open(Mode::Read, false), false, false),
        ("read", &opened, Op::Read { fd: Fd(0) }, true, false),
        (
            "write",
            &writing,
            Op::Write { fd: Fd(0), sym: 4 },
            true,
            false,
        ),
        (
            "lseek",
            &opened,
            Op::Lseek { fd: Fd(0), pos: 1 },
            true,
            false,
        ),
        ("close", &opened, Op::Close { fd: Fd(0) }, true, false),
        ("stat", &[], Op::Stat { name: INPUT }, false, false),
        ("getpid", &[], Op::Getpid, false, false),
        ("gettimeofday", &[], Op::Gettimeofday, false, true),
        ("fork", &[], Op::Fork, false, true),
    ];
    let mut calls = Vec::new();
    for (name, before, op, on_open_stream, sprite_forwards) in table {
        calls.push(CallCounts {
            call: name,
            remote: call(true, before, op)?,
            home: call(false, before, op)?,
            sprite_forwards,
            on_open_stream,
        });
    }
    Ok(AlternativeCounts {
        evict_home,
        remigrate,
        via_home_other,
        direct,
        direct_other,
        forward,
        calls,
        kill_here_sprite: kill_here(Switches::SPRITE)?,
        kill_here_direct: kill_here(Switches::only(Switch::DirectSignals))?,
    })
}

/// `P` migrates to h1 and forks there; the messages of its kill of the child, on h1.
fn kill_here(switches: Switches) -> Result<Traffic, String> {
    let mut cfg = ClusterConfig::simple(3, &[(P, 1)]);
    cfg.switches = switches;
    let mut c = Cluster::new(&cfg, 1).map_err(|e| e.to_string())?;
    run_ops(&mut c, P, &[Op::Migrate { target: H1 }, Op::Fork])?;
    let child = crate::calibrate::child_of_p(&c)?;
    let t0 = c.ledger.totals.clone();
    run_ops(&mut c, P, &[Op::Kill { pid: child }])?;
    c.run_until_quiescent().map_err(|e| e.to_string())?;
    Ok(traffic_since(&t0, &c.ledger.totals))
}

/// A process of h0 opens its input and three output files at home, migrates to h1, writes
/// one block of output and 37 pages there; then h1 is reclaimed. Sprite evicts it home
/// and pmake migrates it again to the idle h2 (`direct == false`); the alternative moves
/// it from h1 to h2 at once. Returns the first and second migrations (the second is
/// `evict_home` again when direct) and the messages neither owns.
fn eviction(direct: bool) -> Result<(MigrationRecord, MigrationRecord, Traffic), String> {
    let mut cfg = ClusterConfig::simple(3, &[(P, DIRTY_PAGES)]);
    cfg.files.push((INPUT, vec![1, 2, 3]));
    if direct {
        cfg.switches = Switches::only(Switch::RemoteToRemote);
    }
    let mut c = Cluster::new(&cfg, 1).map_err(|e| e.to_string())?;
    run_ops(&mut c, P, &crate::predict::evictable_job(0))?;
    let before = c.ledger.totals.clone();
    let done = c.ledger.migrations.len();
    if direct {
        run_ops(&mut c, P, &[Op::Migrate { target: H2 }])?;
    } else {
        c.event(ClusterEvent::OwnerReturns(H1))
            .map_err(|e| e.to_string())?;
        c.run_until_quiescent().map_err(|e| e.to_string())?;
        run_ops(&mut c, P, &[Op::Migrate { target: H2 }])?;
    }
    let moved: Vec<MigrationRecord> = c.ledger.migrations[done..]
        .iter()
        .filter(|m| m.succeeded())
        .cloned()
        .collect();
    let want = if direct { 1 } else { 2 };
    let ends = moved
        .iter()
        .map(|m| (m.from, m.to, m.kind))
        .collect::<Vec<_>>();
    let expected: Vec<(HostId, HostId, MigKind)> = if direct {
        vec![(H1, H2, MigKind::Migrate)]
    } else {
        vec![
            (H1, HostId(0), MigKind::Evict),
            (HostId(0), H2, MigKind::Migrate),
        ]
    };
    if moved.len() != want || ends != expected {
        return Err(format!("expected migrations {expected:?}, got {ends:?}"));
    }
    let all = traffic_since(&before, &c.ledger.totals);
    let other = all.minus(Traffic::of(&moved.iter().collect::<Vec<_>>()));
    let second = moved.last().cloned().unwrap_or_else(|| moved[0].clone());
    Ok((moved[0].clone(), second, other))
}

/// The messages of `op` run by `P`, at home or after a migration to h1, after `before`
/// (not counted).
fn call(remote: bool, before: &[Op], op: Op) -> Result<Traffic, String> {
    let mut cfg = ClusterConfig::simple(3, &[(P, 1)]);
    cfg.switches = Switches::SPRITE;
    cfg.files.push((INPUT, vec![1, 2, 3]));
    let mut c = Cluster::new(&cfg, 1).map_err(|e| e.to_string())?;
    if remote {
        run_ops(&mut c, P, &[Op::Migrate { target: H1 }])?;
    }
    run_ops(&mut c, P, before)?;
    let t0 = c.ledger.totals.clone();
    run_ops(&mut c, P, &[op])?;
    Ok(traffic_since(&t0, &c.ledger.totals))
}

/// How a forwarding row's alternative was obtained: composed from two measurements.
pub const COMPOSED: &str = "composed";
/// The alternative runs the call as Sprite does: measured.
pub const UNCHANGED: &str = "unchanged";
/// The alternative runs the call as a process at its home does: measured there.
pub const AT_HOME: &str = "at home";
/// What [`COMPOSED`] means.
pub const COMPOSED_MEANS: &str = "composed = the call as the serving host runs it (measured) \
     plus one forwarded call (measured: the RPC home of a remote gettimeofday); data a \
     forwarded read or write would carry is left out, so forwarding is if anything cheaper \
     here than it would be; unchanged = the call as Sprite runs it (measured); at home = \
     the call as a process at its home runs it (measured)";

/// One row of the comparison: Sprite's cost and the alternative's, priced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostRow {
    pub what: String,
    pub sprite: Traffic,
    pub sprite_ms: f64,
    pub alternative: Traffic,
    pub alternative_ms: f64,
    /// How the alternative's counts were obtained.
    pub basis: &'static str,
}

/// The comparisons, priced with the calibrated model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlternativeCosts {
    /// Evict home and remigrate, against a direct move.
    pub eviction: CostRow,
    /// Per kernel call: Sprite, forward every call home, forward calls on open streams to
    /// the host that opened them.
    pub forward_home: Vec<CostRow>,
    pub forward_to_opener: Vec<CostRow>,
    /// Per kernel call: Sprite, and a process whose home moved with it (no home
    /// dependency), which runs every call as at home.
    pub no_home: Vec<CostRow>,
    /// A kill of a process on the sender's own (remote) host.
    pub kill_here: CostRow,
}

impl AlternativeCosts {
    pub fn from_counts(m: &CostModel, c: &AlternativeCounts) -> AlternativeCosts {
        let via_home = Traffic::of(&[&c.evict_home, &c.remigrate]).plus(c.via_home_other);
        let direct = Traffic::of(&[&c.direct]).plus(c.direct_other);
        let eviction = CostRow {
            what: format!(
                "evict a process with {} files and {} dirty pages, then place it on an idle \
                 host (Sprite: eviction {} RPCs + migration from home {} RPCs + {} other; \
                 direct: {} RPCs, MIG_START and HOME_UPDATE to the home among them, + {} other)",
                c.direct.files_moved,
                c.direct.pages_flushed,
                c.evict_home.rpcs(),
                c.remigrate.rpcs(),
                c.via_home_other.rpcs,
                c.direct.rpcs(),
                c.direct_other.rpcs
            ),
            sprite: via_home,
            sprite_ms: m.predict(&c.evict_home)
                + m.predict(&c.remigrate)
                + m.traffic_ms(c.via_home_other),
            alternative: direct,
            alternative_ms: m.predict(&c.direct) + m.traffic_ms(c.direct_other),
            basis: "both measured: Sprite's eviction home and pmake's migration from home, \
                    against one migration between the two remote hosts",
        };
        let row = |k: &CallCounts, forwarded: bool| {
            let alternative = if forwarded {
                k.home.plus(c.forward)
            } else {
                k.remote
            };
            CostRow {
                what: k.call.to_string(),
                sprite: k.remote,
                sprite_ms: m.traffic_ms(k.remote),
                alternative,
                alternative_ms: m.traffic_ms(alternative),
                basis: if forwarded { COMPOSED } else { UNCHANGED },
            }
        };
        let kill_here = CostRow {
            what: "a process on h1 kills the child it forked there".into(),
            sprite: c.kill_here_sprite,
            sprite_ms: m.traffic_ms(c.kill_here_sprite),
            alternative: c.kill_here_direct,
            alternative_ms: m.traffic_ms(c.kill_here_direct),
            basis: "both measured: through the home, against the location the fork left \
                    (direct-signals)",
        };
        AlternativeCosts {
            kill_here,
            eviction,
            forward_home: c.calls.iter().map(|k| row(k, !k.sprite_forwards)).collect(),
            forward_to_opener: c.calls.iter().map(|k| row(k, k.on_open_stream)).collect(),
            no_home: c
                .calls
                .iter()
                .map(|k| CostRow {
                    what: k.call.to_string(),
                    sprite: k.remote,
                    sprite_ms: m.traffic_ms(k.remote),
                    alternative: k.home,
                    alternative_ms: m.traffic_ms(k.home),
                    basis: AT_HOME,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_situations_measure_what_they_say() {
        let c = measure().expect("measured");
        assert_eq!(c.evict_home.kind, MigKind::Evict);
        assert_eq!(c.evict_home.pages_flushed, DIRTY_PAGES as u32);
        assert_eq!(c.direct.pages_flushed, DIRTY_PAGES as u32);
        assert_eq!(
            c.remigrate.pages_flushed, 0,
            "the eviction already flushed every dirty page"
        );
        assert_eq!((c.evict_home.files_moved, c.direct.files_moved), (4, 4));
        assert_eq!(c.remigrate.files_moved, 4);
        assert_eq!(c.forward.rpcs, 1, "one RPC home per forwarded call");
        let by = |name: &str| c.calls.iter().find(|k| k.call == name).expect(name);
        assert_eq!(by("read").remote.rpcs, 0, "served from h1's cache");
        assert_eq!(by("getpid").remote.rpcs, 0, "answered locally");
        assert_eq!(by("gettimeofday").home.rpcs, 0);
        assert!(by("gettimeofday").remote.rpcs >= 1, "Sprite forwards it");
        assert!(by("open").remote.rpcs >= 1, "the server is called");
        assert_eq!(c.kill_here_direct.rpcs, 0, "delivered on the spot");
        assert!(c.kill_here_sprite.rpcs >= 1, "through the home");
    }

    /// Forwarding adds one forwarded call to every call it forwards and changes nothing
    /// else; a direct eviction saves exactly the second migration.
    #[test]
    fn the_composition_is_what_the_rows_say() {
        let m = CostModel::default();
        let c = measure().expect("measured");
        let a = AlternativeCosts::from_counts(&m, &c);
        for (k, r) in c.calls.iter().zip(&a.forward_home) {
            if k.sprite_forwards {
                assert_eq!(r.alternative, r.sprite, "{}", k.call);
            } else {
                assert_eq!(r.alternative.rpcs, k.home.rpcs + 1, "{}", k.call);
            }
        }
        for (k, r) in c.calls.iter().zip(&a.forward_to_opener) {
            let extra = u32::from(k.on_open_stream);
            if k.on_open_stream {
                assert_eq!(r.alternative.rpcs, k.home.rpcs + extra, "{}", k.call);
            } else {
                assert_eq!(r.alternative, k.remote, "{}", k.call);
            }
        }
        for (k, r) in c.calls.iter().zip(&a.no_home) {
            assert_eq!((r.sprite, r.alternative), (k.remote, k.home), "{}", k.call);
            if k.sprite_forwards {
                assert!(
                    r.alternative.rpcs < r.sprite.rpcs,
                    "{}: no RPC home",
                    k.call
                );
            }
        }
        let saved = a.eviction.sprite_ms - a.eviction.alternative_ms;
        let second = m.predict(&c.remigrate);
        assert!(saved > 0.0 && saved <= second + 1e-9, "{saved} vs {second}");

        let mut more = c.clone();
        more.forward.rpcs += 1;
        let b = AlternativeCosts::from_counts(&m, &more);
        let read = |x: &AlternativeCosts| x.forward_home[1].alternative_ms;
        let d = read(&b) - read(&a);
        assert!((d - m.inputs.rpc_latency_ms).abs() < 1e-9, "{d}");
    }
}
