//! The scenario runner checks every result against the one-machine Unix also when
//! operations run concurrently (`mode = "concurrent"`): concurrent runs of Sprite's design
//! agree under every seed tried, with every VM strategy, and the rejected designs are caught
//! by the concurrent comparison alone (no expectations in the files).

mod common;
use common::{deliver_until, seeds};
use sprite::cost::CostModel;
use sprite::run::{run, RunReport};
use sprite::scenario::{parse, Scenario};
use vocab::Switches;

/// Two processes share a file and a stream, one migrates while the others write, read,
/// unlink, fork and wait: every interleaving the seed picks.
const SHARING: &str = r#"
mode = "concurrent"
steps = [
  { pid = "p0.0", op = "open /f0 rw" },
  { pid = "p0.0", op = "fork" },
  { pid = "p0.0", op = "memwrite pg0 4" },
  { pid = "p0.0", op = "migrate h1" },
  { pid = "p0.0", op = "write fd0 7" },
  { pid = "p0.0", op = "read fd0" },
  { pid = "p0.0", op = "memread pg0" },
  { pid = "p0.1", op = "read fd0" },
  { pid = "p0.1", op = "write fd0 8" },
  { pid = "p0.1", op = "exit 3" },
  { pid = "p1.0", op = "open /f0 r" },
  { pid = "p1.0", op = "read fd0" },
  { pid = "p1.0", op = "read fd0" },
  { pid = "p1.0", op = "unlink /f0" },
  { pid = "p1.0", op = "read fd0" },
  { pid = "p0.0", op = "wait" },
  { pid = "p0.0", op = "close fd0" },
  { pid = "p1.0", op = "gettimeofday" },
]
[[host]]
id = 0
[[host]]
id = 1
[[host]]
id = 2
[[file]]
name = "/f0"
data = [1, 2, 3]
[[process]]
pid = "p0.0"
pages = 2
[[process]]
pid = "p1.0"
"#;

/// The temporary-file idiom (temp-file.toml) while another process unlinks the file.
const TEMP_FILE: &str = r#"
mode = "concurrent"
steps = [
  { pid = "p0.0", op = "open /f1 rw create" },
  { pid = "p0.0", op = "write fd0 7" },
  { pid = "p0.0", op = "lseek fd0 0" },
  { pid = "p0.0", op = "migrate h1" },
  { pid = "p0.0", op = "read fd0" },
  { pid = "p0.0", op = "close fd0" },
  { pid = "p1.0", op = "getpid" },
  { pid = "p1.0", op = "getpid" },
  { pid = "p1.0", op = "unlink /f1" },
  { pid = "p1.0", op = "open /f1 r" },
]
[[host]]
id = 0
[[host]]
id = 1
[[process]]
pid = "p0.0"
[[process]]
pid = "p1.0"
"#;

/// A shared offset after fork: the child migrates while both read the one stream.
const SHARED_OFFSET: &str = r#"
mode = "concurrent"
steps = [
  { pid = "p0.0", op = "open /f0 r" },
  { pid = "p0.0", op = "fork" },
  { settle = true },
  { pid = "p0.0", op = "read fd0" },
  { pid = "p0.0", op = "read fd0" },
  { pid = "p0.1", op = "migrate h1" },
  { pid = "p0.1", op = "read fd0" },
  { pid = "p0.1", op = "read fd0" },
  { pid = "p0.1", op = "read fd0" },
]
[[host]]
id = 0
[[host]]
id = 1
[[file]]
name = "/f0"
data = [1, 2, 3]
[[process]]
pid = "p0.0"
"#;

/// `switches`, with `+runs` at the end for pre-copy during which the process runs.
fn scenario(text: &str, seed: u64, switches: &str) -> Scenario {
    let mut s = parse("test.toml", text).expect("valid scenario");
    s.seed = seed;
    let (switches, runs) = match switches.strip_suffix("+runs") {
        Some(sw) => (sw, true),
        None => (switches, false),
    };
    s.cluster.switches = switches.parse::<Switches>().expect("switches");
    s.precopy_runs = runs;
    s
}

fn go(text: &str, seed: u64, switches: &str) -> RunReport {
    run(
        &scenario(text, seed, switches),
        false,
        &CostModel::default(),
    )
    .unwrap_or_else(|e| panic!("{e} (seed {seed}, {switches})"))
}

fn differs(r: &RunReport) -> Option<String> {
    r.steps
        .iter()
        .find(|s| s.agrees == Some(false))
        .map(|s| format!("{} = {}, one Unix: {:?}", s.step, s.outcome, s.unix))
}

#[test]
fn tr_concurrent_runs_agree_with_one_machine_under_every_seed() {
    let mut compared = 0;
    let mut reordered = 0;
    for switches in [
        "sprite",
        "precopy-vm",
        "precopy-vm+runs",
        "full-copy-vm",
        "lazy-vm",
    ] {
        for text in [SHARING, TEMP_FILE, SHARED_OFFSET] {
            for seed in 0..seeds(60) {
                let r = go(text, seed, switches);
                assert!(
                    r.ok(),
                    "seed {seed}, {switches}: {:?}\n{:#?}",
                    differs(&r),
                    r.steps
                );
                compared += r.steps.iter().filter(|s| s.agrees == Some(true)).count();
                reordered += r.reordered as usize;
            }
        }
    }
    eprintln!(
        "{compared} results compared, {reordered} runs needed an order other than completion"
    );
    assert!(compared > 6000, "only {compared} results compared");
}

/// The first seed in 0..200 whose concurrent run `switches` makes disagree with one Unix
/// machine; Sprite's design agrees on the same seeds.
fn caught(text: &str, switches: &str) -> Option<(u64, String)> {
    (0..200).find_map(|seed| {
        assert!(go(text, seed, "sprite").ok(), "sprite, seed {seed}");
        let r = go(text, seed, switches);
        differs(&r).map(|d| (seed, d))
    })
}

#[test]
fn alt_reopen_files_is_caught_by_the_concurrent_comparison() {
    let (seed, what) = caught(TEMP_FILE, "reopen-files").expect("reopen-files caught");
    eprintln!("reopen-files: seed {seed}: {what}");
}

#[test]
fn alt_client_offsets_is_caught_by_the_concurrent_comparison() {
    let (seed, what) = caught(SHARED_OFFSET, "client-offsets").expect("client-offsets caught");
    eprintln!("client-offsets: seed {seed}: {what}");
}

// ------------------------------------------------------------------ OFF under concurrency
//
// Two defects the concurrent comparison found in the implementation (SHARING, seed 16),
// each pinned here with a schedule chosen by hand.

use sprite::msg::Node;
use sprite::{Cluster, ClusterConfig, Enabled};
use vocab::{Fd, FileName, HostId, Mode, MsgKind, Op, Pid, Value};

const P: Pid = Pid::new(0, 0);
const CHILD: Pid = Pid::new(0, 1);
const Q: Pid = Pid::new(1, 0);
const F0: FileName = FileName(0);

/// p0.0 and its child p0.1 share a stream on /f0 on h0; p1.0 has /f0 open on h1 too, so
/// the file is write-shared, not cacheable, and every read and write goes to the server
/// (with h0's own access position, since the stream is only on h0).
fn shared_uncached(switches: Switches) -> Cluster {
    let mut cfg = ClusterConfig::simple(2, &[(P, 1), (Q, 1)]);
    cfg.files.push((F0, vec![1, 2, 3]));
    cfg.switches = switches;
    let mut c = Cluster::new(&cfg, 0).unwrap();
    let open = |mode| Op::Open {
        name: F0,
        mode,
        create: false,
    };
    assert_eq!(
        c.run_op(P, open(Mode::ReadWrite)).unwrap(),
        Some(Ok(Value::Fd(Fd(0))))
    );
    assert_eq!(
        c.run_op(Q, open(Mode::Read)).unwrap(),
        Some(Ok(Value::Fd(Fd(0))))
    );
    assert_eq!(c.run_op(P, Op::Fork).unwrap(), Some(Ok(Value::Pid(CHILD))));
    c
}

#[test]
fn off_a_request_overtaken_by_its_stream_exchange_moves_the_shadow_position_on() {
    // p0.0 migrates; the server calls h0 back (STREAM_RELEASE) and, meanwhile, the child
    // on h0 writes with h0's own position 0. The release reports position 0 (the write's
    // reply is not back yet) and the server runs the write after the exchange: the shadow
    // position must be 1 afterwards, not 0.
    let mut c = shared_uncached(Switches::SPRITE);
    c.submit(P, Op::Migrate { target: HostId(1) });
    let w = c.submit(CHILD, Op::Write { fd: Fd(0), sym: 8 });
    deliver_until(&mut c, MsgKind::StreamRelease, Node::Host(HostId(0)));
    assert!(c.perform(&Enabled::Start {
        pid: CHILD,
        host: Some(HostId(0))
    }));
    c.run_until_quiescent().unwrap();
    assert_eq!(c.outcome(w), Some(Ok(Value::Unit)));
    assert_eq!(
        c.run_op(P, Op::Read { fd: Fd(0) }).unwrap(),
        Some(Ok(Value::Data(Some(2)))),
        "one position for both: after the child's write, p0.0 reads the second symbol"
    );
}

#[test]
fn off_two_processes_on_one_host_never_send_the_same_position() {
    // Parent and child on h0 read the shared stream at once: one reads the first symbol,
    // the other the second (h0 holds the position; the second request waits for the first).
    let mut c = shared_uncached(Switches::SPRITE);
    let a = c.submit(P, Op::Read { fd: Fd(0) });
    let b = c.submit(CHILD, Op::Read { fd: Fd(0) });
    for pid in [P, CHILD] {
        assert!(c.perform(&Enabled::Start {
            pid,
            host: Some(HostId(0))
        }));
    }
    c.run_until_quiescent().unwrap();
    let mut got = [c.outcome(a), c.outcome(b)];
    got.sort();
    assert_eq!(
        got,
        [
            Some(Ok(Value::Data(Some(1)))),
            Some(Ok(Value::Data(Some(2))))
        ]
    );
    assert_eq!(
        c.run_op(P, Op::Read { fd: Fd(0) }).unwrap(),
        Some(Ok(Value::Data(Some(3))))
    );
}
