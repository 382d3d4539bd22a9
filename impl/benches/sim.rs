//! Simulated operations per second and migrations per second (the fuzzing issue needs a
//! 64-operation scenario well under 100 µs), and host selections per second through migd.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sprite::msg::Msg;
use sprite::policy::IdleRule;
use sprite::{Cluster, ClusterConfig};
use vocab::{Fd, FileName, HostId, Mode, Op, PageNo, Pid};

const P: Pid = Pid::new(0, 0);

fn ops64() -> Vec<Op> {
    let mut v = vec![Op::Open {
        name: FileName(0),
        mode: Mode::ReadWrite,
        create: true,
    }];
    for i in 0..9u8 {
        v.push(Op::Write {
            fd: Fd(0),
            sym: i % 3,
        });
        v.push(Op::MemWrite {
            page: PageNo(i % 4),
            sym: i,
        });
        v.push(Op::Lseek { fd: Fd(0), pos: 0 });
        v.push(Op::Read { fd: Fd(0) });
        v.push(Op::Migrate {
            target: HostId(1 - (i % 2)),
        });
        v.push(Op::MemRead {
            page: PageNo((i + 1) % 4),
        });
        v.push(Op::Getpid);
    }
    v.truncate(63);
    v.push(Op::Close { fd: Fd(0) });
    v
}

fn bench(c: &mut Criterion) {
    let cfg = ClusterConfig::simple(3, &[(P, 4)]);
    let ops = ops64();
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(ops.len() as u64));
    g.bench_function("64-op scenario (9 migrations)", |b| {
        b.iter(|| {
            let mut cl = Cluster::new(&cfg, 1).expect("cluster");
            for op in &ops {
                black_box(cl.run_op(P, *op).expect("quiescent"));
            }
        })
    });
    // A fuzz-like mix: 64 operations, 2 of them migrations.
    let mut light = ops64();
    let mut seen = 0;
    for op in light.iter_mut() {
        if matches!(op, Op::Migrate { .. }) {
            seen += 1;
            if seen > 2 {
                *op = Op::Getpid;
            }
        }
    }
    light[20] = Op::Migrate { target: HostId(0) };
    g.bench_function("64-op scenario (2 migrations)", |b| {
        b.iter(|| {
            let mut cl = Cluster::new(&cfg, 1).expect("cluster");
            for op in &light {
                black_box(cl.run_op(P, *op).expect("quiescent"));
            }
        })
    });
    g.throughput(Throughput::Elements(2));
    g.bench_function("migrate there and back (dirty page, open file)", |b| {
        let mut cl = Cluster::new(&cfg, 1).expect("cluster");
        cl.run_op(
            P,
            Op::Open {
                name: FileName(0),
                mode: Mode::ReadWrite,
                create: true,
            },
        )
        .expect("open");
        b.iter(|| {
            cl.run_op(
                P,
                Op::MemWrite {
                    page: PageNo(0),
                    sym: 1,
                },
            )
            .expect("write");
            black_box(
                cl.run_op(P, Op::Migrate { target: HostId(1) })
                    .expect("there"),
            );
            black_box(
                cl.run_op(P, Op::Migrate { target: HostId(0) })
                    .expect("back"),
            );
        })
    });
    g.finish();
}

/// Host selections per second: one select-and-release (MIGD_OPEN, HOST_REQUEST, MIGD_CLOSE
/// and their replies) through the simulator, codec and migd, on a cluster whose daemons
/// have reported the other hosts idle.
fn selection(c: &mut Criterion) {
    let cfg = ClusterConfig::simple(4, &[(P, 1)]);
    let mut cl = Cluster::new(&cfg, 1).expect("cluster");
    cl.enable_policy(IdleRule::default()).expect("policy");
    cl.run_until(35_000).expect("daemons report");
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(1));
    g.bench_function("select and release a host through migd", |b| {
        b.iter(|| {
            for msg in [
                Msg::MigdOpen { client: P },
                Msg::HostRequest { client: P },
                Msg::MigdClose { client: P },
            ] {
                cl.client_send(P, msg).expect("sent");
                cl.run_until_quiescent().expect("quiescent");
                black_box(cl.client_mail(P));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench, selection);
criterion_main!(benches);
