//! The model's counterexamples for the design switches, replayed on the implementation.
//!
//! `model::run::try_alternative(switch)` gives the shortest path the checker found to the
//! invariant the switch breaks, on `model::configs::for_switch(switch)`. The path's
//! `Run(pid)` actions become operations of those processes (the script's next operation);
//! events stay events; migration steps, signal deliveries and page flushes are internal to
//! the implementation and are dropped, except that an operation the path runs while a
//! migration is in progress becomes a `During` step (the operation lands after as many
//! internal steps as the path took), so that "a signal mid-migration" keeps its shape.
//! An event in the middle of a migration cannot be placed there (the implementation's
//! events apply at quiescent points): it is applied after the migration, and noted.
//!
//! The translated steps run with the model in Sprite's design and the implementation with
//! the switch on (must be detected, for some scheduler seed among the first few) and off
//! (must pass, for every seed tried).

use crate::gen::{Step, Who};
use crate::run::{run_with, RunResult, Runner};
use model::config::{Config, Script};
use model::log::Log;
use model::{Action, SpriteModel};
use sprite::{ClusterConfig, HostConfig, ProcConfig};
use vocab::{HostId, Op, Switch, Switches};

/// A translated counterexample.
#[derive(Clone, Debug)]
pub struct Translated {
    pub switch: Switch,
    pub config: Config,
    pub steps: Vec<Step>,
    /// What could not be kept as in the model's path.
    pub notes: Vec<String>,
    /// The model's path, readably.
    pub path: Vec<String>,
}

/// Translates a model path (on `cfg`) into harness steps.
pub fn translate(sw: Switch, cfg: &Config, path: &[Action]) -> Translated {
    let m = SpriteModel::new(cfg.clone());
    let mut s = m.initial();
    let mut steps: Vec<Step> = Vec::new();
    let mut notes = Vec::new();
    let mut open: Option<usize> = None;
    let mut internal = 0u8;
    for a in path {
        match *a {
            Action::Run(pid, op) => {
                let moving = open.and_then(|i| match steps[i] {
                    Step::Op {
                        who: Who::Pid(mover),
                        op: mop,
                    } if mover != pid && s.migrations.contains_key(&mover) => Some((i, mover, mop)),
                    _ => None,
                });
                if let Some((i, mover, mop)) = moving {
                    let (target, exec) = match mop {
                        Op::Migrate { target } => (target, false),
                        Op::Exec { target: Some(t) } => (t, true),
                        _ => unreachable!("only migrations are open"),
                    };
                    steps[i] = Step::During {
                        mover: Who::Pid(mover),
                        target,
                        exec,
                        after: internal,
                        other: Who::Pid(pid),
                        op: Some(op),
                        then: Vec::new(),
                    };
                    open = None;
                } else {
                    steps.push(Step::Op {
                        who: Who::Pid(pid),
                        op,
                    });
                    open = matches!(op, Op::Migrate { .. } | Op::Exec { target: Some(_) })
                        .then_some(steps.len() - 1);
                    internal = 0;
                }
            }
            Action::Event(e) => {
                if !s.migrations.is_empty() {
                    notes.push(format!(
                        "event `{e}` happens mid-migration in the model; the implementation gets it after the migration"
                    ));
                }
                steps.push(Step::Event(e));
                open = None;
            }
            _ => internal = internal.saturating_add(1),
        }
        s = m
            .apply(&s, *a, &mut Log::off())
            .expect("a counterexample's actions are enabled");
    }
    // A path that ends inside a migration shows a state, not a result: the
    // implementation shows it through an operation. For no-vm-flush the state is "a
    // page-in would read stale data": the process reads the page right behind the
    // migration (piped, so that the page-in can overtake the flush).
    if let (Some(i), false) = (open, s.migrations.is_empty()) {
        if let Step::Op {
            who,
            op: op @ Op::Migrate { .. },
        } = steps[i]
        {
            if sw == Switch::NoVmFlush {
                steps[i] = Step::Pipe {
                    who,
                    first: op,
                    second: Op::MemRead {
                        page: vocab::PageNo(0),
                    },
                };
                notes.push("the path ends mid-migration: a memread is piped behind it".into());
            }
        }
    }
    Translated {
        switch: sw,
        config: cfg.clone(),
        steps,
        notes,
        path: path.iter().map(|a| a.to_string()).collect(),
    }
}

/// The model configuration the runner needs: the same world, empty scripts (one per
/// initial process), the given switches.
pub fn runner_config(cfg: &Config, switches: Switches) -> Config {
    let mut c = cfg.clone();
    c.scripts = cfg.procs.iter().map(|_| Script::new(Vec::new())).collect();
    for (i, p) in c.procs.iter_mut().enumerate() {
        p.script = i as u8;
    }
    c.events = Vec::new();
    c.switches = switches;
    // The implementation names its write-backs outside the model's steps (KNOWN-10).
    c.delayed_writes = true;
    c
}

/// The implementation's configuration for a model configuration. Clocks become skews of
/// `clock * 1000` ms so that the simulator's own time (a few ms per step) does not hide
/// their order.
pub fn impl_config(cfg: &Config, switches: Switches) -> ClusterConfig {
    ClusterConfig {
        hosts: cfg
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| HostConfig {
                id: HostId(i as u8),
                version: h.version as u16,
                clock_skew_ms: h.clock as i64 * 1000,
                owner_present: h.owner,
            })
            .collect(),
        files: cfg.files.clone(),
        processes: cfg
            .procs
            .iter()
            .map(|p| ProcConfig {
                pid: p.pid,
                start_on: p.start_on,
                pages: cfg.pages,
                shares_memory: p.shares_memory,
                maps_device: p.maps_device,
            })
            .collect(),
        switches,
        exec_args_bytes: 1024,
        exec_args: None,
    }
}

/// Runs translated steps with the implementation's switches `impl_sw` (model: Sprite).
pub fn replay(t: &Translated, impl_sw: Switches, seed: u64) -> RunResult {
    run_with(Runner::from_parts(
        runner_config(&t.config, Switches::SPRITE),
        impl_config(&t.config, impl_sw),
        seed,
        t.steps.clone(),
    ))
}

/// The outcome of replaying one switch's counterexample.
#[derive(Clone, Debug)]
pub struct AltReplay {
    pub translated: Translated,
    /// First scheduler seed for which the switch-on run was caught, and the report line.
    pub caught: Option<(u64, String)>,
    /// Seeds for which the switch-off run failed (must be none).
    pub off_failures: Vec<(u64, String)>,
}

/// Replays the model's counterexample for `sw` with seeds `0..seeds`.
pub fn replay_switch(sw: Switch, seeds: u64) -> Option<AltReplay> {
    let alt = model::run::try_alternative(sw, &model::run::Options::default());
    let path = alt.path()?.to_vec();
    let cfg = model::configs::for_switch(sw);
    let t = translate(sw, &cfg, &path);
    let mut caught = None;
    let mut off_failures = Vec::new();
    for seed in 0..seeds {
        if caught.is_none() {
            let r = replay(&t, Switches::only(sw), seed);
            if let Some(m) = r.mismatch {
                let line = format!(
                    "step {} ({}): {:?} speaks for {:?}",
                    m.step,
                    m.step_text,
                    crate::report::signature(&m),
                    m.invariant()
                );
                caught = Some((seed, line));
            }
        }
        let r = replay(&t, Switches::SPRITE, seed);
        if let Some(m) = r.mismatch {
            off_failures.push((
                seed,
                format!("step {}: {}", m.step, crate::report::signature(&m)),
            ));
        }
    }
    Some(AltReplay {
        translated: t,
        caught,
        off_failures,
    })
}
