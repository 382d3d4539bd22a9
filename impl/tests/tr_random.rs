//! Random operation sequences without crashes: every result equals the one-machine Unix's
//! (TR), under many seeds. A failure prints the seed and the script.

mod common;
use common::{check_tr, Step};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprite::ClusterConfig;
use vocab::{Fd, FileName, HostId, Mode, Op, PageNo, Pid};

fn random_op(rng: &mut ChaCha8Rng, hosts: u8, pids: &[Pid]) -> Op {
    let fd = Fd(rng.gen_range(0..3));
    match rng.gen_range(0..24) {
        0 | 1 => Op::Open {
            name: FileName(rng.gen_range(0..2)),
            mode: [Mode::Read, Mode::Write, Mode::ReadWrite][rng.gen_range(0..3)],
            create: rng.gen_bool(0.7),
        },
        2 | 3 => Op::Read { fd },
        4 | 5 => Op::Write {
            fd,
            sym: rng.gen_range(1..9),
        },
        6 => Op::Lseek {
            fd,
            pos: rng.gen_range(0..4),
        },
        7 => Op::Close { fd },
        8 => Op::Unlink {
            name: FileName(rng.gen_range(0..2)),
        },
        9 => Op::Dup { fd },
        10 => Op::Fork,
        11 => Op::Exec {
            target: rng.gen_bool(0.5).then(|| HostId(rng.gen_range(0..hosts))),
        },
        12 if rng.gen_bool(0.3) => Op::Exit {
            status: rng.gen_range(0..5),
        },
        12 => Op::Getpid,
        13 => Op::Wait,
        14 => Op::Kill {
            pid: pids[rng.gen_range(0..pids.len())],
        },
        15 | 16 => Op::MemRead {
            page: PageNo(rng.gen_range(0..3)),
        },
        17 => Op::MemWrite {
            page: PageNo(rng.gen_range(0..3)),
            sym: rng.gen_range(1..9),
        },
        18 | 19 => Op::Migrate {
            target: HostId(rng.gen_range(0..hosts)),
        },
        20 => Op::Pipe,
        21 => Op::Getpgrp,
        22 => Op::Setpgid {
            pgrp: pids[rng.gen_range(0..pids.len())],
        },
        _ => Op::Killpg {
            pgrp: pids[rng.gen_range(0..pids.len())],
        },
    }
}

/// Mostly the initial processes (p0.0, p1.0), sometimes a child.
fn pick(rng: &mut ChaCha8Rng, pids: &[Pid]) -> Pid {
    if rng.gen_bool(0.6) {
        [Pid::new(0, 0), Pid::new(1, 0)][rng.gen_range(0..2)]
    } else {
        pids[rng.gen_range(0..pids.len())]
    }
}

fn run_seed(seed: u64, switches: vocab::Switches) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let hosts = 3;
    let mut cfg = ClusterConfig::simple(hosts, &[(Pid::new(0, 0), 2), (Pid::new(1, 0), 2)]);
    cfg.files.push((FileName(0), vec![1, 2]));
    cfg.switches = switches;
    // Candidate pids: the initial ones and the first children.
    let pids: Vec<Pid> = (0..2)
        .flat_map(|h| (0..3).map(move |i| Pid::new(h, i)))
        .collect();
    let steps: Vec<Step> = (0..40)
        .map(|_| {
            let pid = pick(&mut rng, &pids);
            Step::Op(pid, random_op(&mut rng, hosts, &pids))
        })
        .collect();
    check_tr(&cfg, seed, &steps);
}

/// How many seeds to try (`SPRITE_SEEDS` overrides, for long runs).
fn seeds(default: u64) -> u64 {
    std::env::var("SPRITE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn tr_random_sequences_sprite() {
    for seed in 0..seeds(300) {
        run_seed(seed, vocab::Switches::SPRITE);
    }
}

#[test]
fn tr_random_sequences_other_vm_strategies() {
    for sw in ["full-copy-vm", "precopy-vm", "lazy-vm"] {
        let s: vocab::Switches = sw.parse().expect("switch");
        for seed in 0..seeds(100) {
            run_seed(seed, s);
        }
    }
}

#[test]
fn random_runs_do_real_work() {
    // Not vacuous: across seeds, many operations succeed and migrations complete.
    let mut ok = 0;
    let mut migrations = 0;
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for seed in 0..50 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut cfg = ClusterConfig::simple(3, &[(Pid::new(0, 0), 2), (Pid::new(1, 0), 2)]);
        cfg.files.push((FileName(0), vec![1, 2]));
        let pids: Vec<Pid> = (0..2)
            .flat_map(|h| (0..3).map(move |i| Pid::new(h, i)))
            .collect();
        let steps: Vec<Step> = (0..40)
            .map(|_| {
                let pid = pick(&mut rng, &pids);
                Step::Op(pid, random_op(&mut rng, 3, &pids))
            })
            .collect();
        let c = check_tr(&cfg, seed, &steps);
        ok += c
            .ops()
            .iter()
            .filter(|r| matches!(r.outcome, Some(Ok(_))))
            .count();
        for r in c.ops() {
            let kind = match (r.op, r.outcome) {
                (Op::Pipe, Some(Ok(_))) => "pipe",
                (Op::Read { .. } | Op::Write { .. }, Some(Err(vocab::Errno::EAGAIN))) => {
                    "pipe EAGAIN"
                }
                (Op::Write { .. }, Some(Err(vocab::Errno::EPIPE))) => "pipe EPIPE",
                (Op::Setpgid { .. }, Some(Ok(_))) => "setpgid",
                (Op::Killpg { .. }, Some(Ok(_))) => "killpg",
                _ => continue,
            };
            *kinds.entry(kind).or_default() += 1;
        }
        migrations += c.ledger.migrations.iter().filter(|m| m.succeeded()).count();
    }
    eprintln!("ok ops {ok}, migrations {migrations}, {kinds:?}");
    assert!(ok > 500, "only {ok} operations succeeded");
    assert!(migrations > 30, "only {migrations} migrations");
    for k in ["pipe", "pipe EAGAIN", "setpgid", "killpg"] {
        assert!(
            kinds.get(k).copied().unwrap_or(0) >= 5,
            "hardly any {k}: {kinds:?}"
        );
    }
}

#[test]
fn tr_random_sequences_bigger_cluster() {
    // Four hosts, three homes, longer scripts, skewed clocks and an exec-args size.
    for seed in 0..seeds(150) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37));
        let homes = [Pid::new(0, 0), Pid::new(1, 0), Pid::new(3, 0)];
        let mut cfg = ClusterConfig::simple(4, &[(homes[0], 3), (homes[1], 1), (homes[2], 2)]);
        cfg.files.push((FileName(0), vec![5]));
        cfg.files.push((FileName(1), vec![1, 2, 3]));
        for (i, h) in cfg.hosts.iter_mut().enumerate() {
            h.clock_skew_ms = 1000 * i as i64 - 1500;
        }
        let pids: Vec<Pid> = homes
            .iter()
            .flat_map(|h| (0..3).map(move |i| Pid::with_gen(h.home, i, 0)))
            .collect();
        let steps: Vec<Step> = (0..60)
            .map(|_| {
                let pid = if rng.gen_bool(0.6) {
                    homes[rng.gen_range(0..3)]
                } else {
                    pids[rng.gen_range(0..pids.len())]
                };
                Step::Op(pid, random_op(&mut rng, 4, &pids))
            })
            .collect();
        check_tr(&cfg, seed, &steps);
    }
}
