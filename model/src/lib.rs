//! The reference model of Sprite's transparent process migration, for the stateright
//! model checker.
//!
//! A state holds the hosts, the processes, the file server, the migrations in progress,
//! the messages in flight and a ghost one-machine Unix (`unix::Unix`); an action is one
//! scripted operation, one step of the migration message sequence, one message delivery
//! or one cluster event. The properties are the invariant catalogue (`properties.rs`, one
//! function per ID) and the reachability checks. `specs/` explains every part; the names
//! here (actions, phases, message names, invariant IDs) are the spec's.

pub mod action;
pub mod clauses;
pub mod config;
pub mod configs;
pub mod coverage;
mod ctx;
mod events;
pub mod explorer;
pub mod figures;
pub mod file;
mod files;
mod groups;
pub mod json;
pub mod log;
mod migrate;
mod ops;
mod pipes;
pub mod properties;
pub mod run;
pub mod state;
pub mod trace;

pub use action::Action;
pub use config::Config;
pub use state::State;

use crate::ctx::Ctx;
use crate::log::Log;
use crate::state::{Host, Loc, Page, Proc, Status};
use stateright::{Model, Property};
use vocab::shared::Shared;
use vocab::small::SmallMap;
use vocab::{HostId, InvariantId, Pid};

/// The model of one configuration.
#[derive(Clone, Debug)]
pub struct SpriteModel {
    pub cfg: Config,
    /// How the invariants are given to the checker.
    pub invariants: Invariants,
    /// The kinds of step taken so far (shared by the model's clones, so the checker's).
    pub coverage: std::sync::Arc<coverage::Coverage>,
    /// Once set, no state has a next step: how `run` stops a check at its `--timeout`.
    /// stateright's depth-first checker looks at its deadline only when a thread runs out
    /// of work, which a depth-first thread seldom does, so without this a run went on
    /// long past its deadline. Shared by the model's clones, so the checker's.
    pub halt: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How the invariants are given to the checker: one property each (a counterexample per
/// ID), or one property for all of them. stateright looks every property's name up in a
/// shared map for every state it visits, so sixteen properties cost more than all the
/// invariants' predicates together; a run that finds no violation needs only the one, and
/// `run::check` runs again with one each when it does find one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invariants {
    Each,
    Together,
}

/// The property that stands for every invariant in `Invariants::Together`.
pub const ALL_INVARIANTS: &str = "invariants";

impl SpriteModel {
    pub fn new(cfg: Config) -> SpriteModel {
        SpriteModel {
            cfg,
            invariants: Invariants::Each,
            coverage: Default::default(),
            halt: Default::default(),
        }
    }

    pub fn with_invariants(mut self, invariants: Invariants) -> SpriteModel {
        self.invariants = invariants;
        self
    }

    /// The state before anything runs.
    pub fn initial(&self) -> State {
        let cfg = &self.cfg;
        let mut hosts: vocab::small::Inline<[Host; 4]> =
            cfg.hosts.iter().map(|h| Host::new(true, h.owner)).collect();
        let mut ghost = unix::Unix::new();
        let mut server = state::Server::default();
        for (name, data) in &cfg.files {
            let ino = ghost.add_file(*name, data.as_slice());
            server.dir.insert(*name, ino);
            server.files.insert(
                ino,
                state::File {
                    data: data.as_slice().into(),
                    linked: true,
                    cacheable: true,
                    version: 0,
                    last_writer: None,
                },
            );
        }
        let mut procs = SmallMap::new();
        for spec in &cfg.procs {
            ghost.add_process(spec.pid, cfg.pages);
            let home = spec.pid.home;
            let at = spec.start_on.unwrap_or(home);
            hosts[home.0 as usize]
                .home_table
                .insert(spec.pid, Loc::At(at));
            hosts[home.0 as usize].groups.insert(spec.pid, spec.pid);
            hosts[home.0 as usize].generations.insert(
                spec.pid.index,
                spec.pid.gen.wrapping_add(1) % Pid::GENERATIONS,
            );
            procs.insert(
                spec.pid,
                Proc {
                    host: at,
                    parent: None,
                    script: spec.script,
                    pc: 0,
                    status: Status::Ready,
                    pages: vocab::inline![Page::ZERO; cfg.pages as usize],
                    fds: SmallMap::new(),
                    current: None,
                    signals: 0,
                    last_time: None,
                    born_remote: false,
                    login: home,
                    lazy_from: None,
                    pinned: Proc::pin(spec.shares_memory, spec.maps_device),
                }
                .into(),
            );
        }
        State {
            hosts: hosts.0.into_iter().map(Shared::new).collect(),
            procs,
            server: Shared::new(server),
            migrations: SmallMap::new(),
            signals: SmallMap::new(),
            flushes: SmallMap::new(),
            exit_notices: SmallMap::new(),
            events_used: 0,
            ghost: Shared::new(ghost),
            violated: 0,
        }
    }

    /// The next operation of a process running a script, as an action (`None` for a process
    /// that does not exist, runs an alphabet or has finished its script).
    pub fn script_step(&self, s: &State, pid: Pid) -> Option<Action> {
        let p = s.procs.get(&pid)?;
        let script = &self.cfg.scripts[p.script as usize];
        if script.is_alphabet() {
            return None;
        }
        let op = script.ops.get(p.pc as usize)?;
        Some(Action::Run(pid, *op))
    }

    /// Whether host `h` may write its blocks of `ino` back now (`Action::WriteBack`): delayed
    /// writes are on, the host is up and holds a dirty copy of a file the server has.
    pub fn write_back_enabled(&self, s: &State, h: HostId, ino: unix::Ino) -> bool {
        self.cfg.delayed_writes
            && s.hosts
                .get(h.0 as usize)
                .is_some_and(|host| host.up && host.cache.get(&ino).is_some_and(|e| e.dirty))
            && s.server.files.contains_key(&ino)
    }

    /// The next step of the migration of `pid` (which must be in progress).
    pub fn migration_step(&self, s: &State, pid: Pid) -> Action {
        migrate::next_migration_step(&self.cfg, s, pid, &s.migrations[&pid])
    }

    /// Applies an action, writing what happened into `log`. `None` if the action is not
    /// enabled in `s`.
    pub fn apply(&self, s: &State, action: Action, log: &mut Log) -> Option<State> {
        let mut next = s.clone();
        let mut ctx = Ctx {
            cfg: &self.cfg,
            s: &mut next,
            log,
        };
        let rank_before = action.migration_of().map(|pid| (pid, ctx.rank(pid)));
        let before = action
            .migration_of()
            .and_then(|pid| s.migrations.get(&pid))
            .map(|m| (m.source, m.target, m.kind));
        match action {
            Action::Run(pid, op) => {
                let p = s.procs.get(&pid)?;
                let script = &self.cfg.scripts[p.script as usize];
                let allowed = match script.budget {
                    None => script.ops.get(p.pc as usize) == Some(&op),
                    Some(b) => p.pc < b && script.ops.contains(&op),
                };
                if p.status != Status::Ready || !allowed || !s.host(p.host).up {
                    return None;
                }
                ctx.run(pid, op);
            }
            Action::DeliverSignal { pid, to, direct } => {
                let m = state::SignalMsg { pid, to, direct };
                s.signals.get(&m)?;
                ctx.deliver_signal(m);
            }
            Action::ExitNoticeArrives { child, to } => {
                if s.exit_notices.get(&child)?.to != to {
                    return None;
                }
                ctx.exit_notice_arrives(child);
            }
            Action::FlushArrives(pid, page) => {
                let v = ctx.s.flushes.remove(&(pid, page))?;
                ctx.s.server.backing.insert((pid, page), v);
            }
            Action::WriteBack(h, ino) => {
                if !self.write_back_enabled(s, h, ino) {
                    return None;
                }
                ctx.flush_blocks(h, ino);
            }
            Action::Event(e) => {
                let i = self.cfg.events.iter().position(|(x, _)| *x == e)?;
                if s.event_count(i) >= self.cfg.events[i].1 || !events::event_enabled(s, e) {
                    return None;
                }
                ctx.s.events_used += 1 << (4 * i);
                ctx.event(e);
            }
            step => {
                let pid = step
                    .migration_of()
                    .expect("the other actions are migration steps");
                let m = s.migrations.get(&pid)?;
                if migrate::next_migration_step(&self.cfg, s, pid, m) != step {
                    return None;
                }
                match step {
                    Action::MigInit(p) => ctx.mig_init(p),
                    Action::MigState(p) => ctx.mig_state(p),
                    Action::StreamMove(p, fd) => ctx.stream_move(p, fd),
                    Action::StreamRegister(p, fd) => ctx.stream_register(p, fd),
                    Action::StreamRelease(p, fd) => ctx.stream_release(p, fd),
                    Action::StreamClose(p, fd) => ctx.stream_close(p, fd),
                    Action::StreamReopen(p, fd) => ctx.stream_reopen(p, fd),
                    Action::HomeUpdate(p) => ctx.home_update(p),
                    Action::Resume(p) => ctx.resume(p),
                    _ => unreachable!("matched above"),
                }
            }
        }
        // LIVE: a step of a migration must bring it closer to its end.
        if let (Some((pid, r0)), Some(b)) = (rank_before, before) {
            let same = ctx
                .s
                .migrations
                .get(&pid)
                .is_some_and(|m| (m.source, m.target, m.kind) == b);
            if same && ctx.rank(pid) >= r0 {
                ctx.violate(InvariantId::LIVE, b.0, || {
                    format!("a step of {pid}'s migration did not progress")
                });
            }
        }
        ctx.log.end_step();
        Some(next)
    }

    /// Every action enabled in `s`, in a fixed order.
    pub fn enabled(&self, s: &State, out: &mut Vec<Action>) {
        // A broken invariant ends the run: the counterexample stops there.
        if s.violated != 0 {
            return;
        }
        for (pid, p) in &s.procs {
            if p.status != Status::Ready || !s.host(p.host).up {
                continue;
            }
            let script = &self.cfg.scripts[p.script as usize];
            match script.budget {
                None => {
                    if let Some(op) = script.ops.get(p.pc as usize) {
                        out.push(Action::Run(*pid, *op));
                    }
                }
                Some(b) if p.pc < b => out.extend(
                    script
                        .ops
                        .iter()
                        .filter(|op| !ops::pointless(s, *pid, op))
                        .map(|op| Action::Run(*pid, *op)),
                ),
                Some(_) => {}
            }
        }
        for pid in s.migrations.keys() {
            out.push(self.migration_step(s, *pid));
        }
        for m in s.signals.keys() {
            out.push(Action::DeliverSignal {
                pid: m.pid,
                to: m.to,
                direct: m.direct,
            });
        }
        for (child, n) in s.exit_notices.iter() {
            out.push(Action::ExitNoticeArrives {
                child: *child,
                to: n.to,
            });
        }
        for (pid, page) in s.flushes.keys() {
            out.push(Action::FlushArrives(*pid, *page));
        }
        if self.cfg.delayed_writes {
            for (i, h) in s.hosts.iter().enumerate() {
                let h_id = HostId(i as u8);
                for ino in h.cache.keys() {
                    if self.write_back_enabled(s, h_id, *ino) {
                        out.push(Action::WriteBack(h_id, *ino));
                    }
                }
            }
        }
        for (i, (e, times)) in self.cfg.events.iter().enumerate() {
            if s.event_count(i) < *times && events::event_enabled(s, *e) {
                out.push(Action::Event(*e));
            }
        }
    }
}

impl Model for SpriteModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![self.initial()]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        if self.halt.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        self.enabled(state, actions);
    }

    fn next_state(&self, state: &State, action: Action) -> Option<State> {
        let next = self.apply(state, action, &mut Log::off());
        if next.is_some() {
            self.coverage.record(&action);
        }
        next
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    /// The step as the numbered trace shows it, then the state it leads to in brief.
    fn format_step(&self, last_state: &State, action: Action) -> Option<String> {
        explorer::format_step(self, last_state, action)
    }

    /// The path as a sequence diagram.
    fn as_svg(&self, path: stateright::Path<State, Action>) -> Option<String> {
        Some(explorer::svg(self, &path.into_actions()))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut props: Vec<Property<Self>> = match self.invariants {
            Invariants::Each => properties::invariants()
                .into_iter()
                .map(|(id, f)| Property::always(property_name(id), f))
                .collect(),
            Invariants::Together => {
                vec![Property::always(ALL_INVARIANTS, properties::all_hold)]
            }
        };
        props.extend(
            properties::reachables()
                .into_iter()
                .map(|r| Property::sometimes(r.key, r.check)),
        );
        props
    }
}

/// The checker's name for an invariant's property: its ID (short, because stateright
/// hashes every property name for every state it visits).
pub fn property_name(id: InvariantId) -> &'static str {
    id.as_str()
}

/// What a reader is shown for a property: the ID or key with its statement.
pub fn property_title(name: &str) -> &'static str {
    if let Some(id) = invariant_of(name) {
        return invariant_title(id);
    }
    properties::reachables()
        .into_iter()
        .find(|r| r.key == name)
        .map_or("(unknown property)", |r| r.title)
}

/// An invariant's ID, a colon, the statement in a few words.
pub fn invariant_title(id: InvariantId) -> &'static str {
    use InvariantId::*;
    match id {
        TR => "TR: results equal one Unix machine's",
        DEL => "DEL: unlinked file kept until last close, then reclaimed",
        CONS => "CONS: reads return the latest write",
        CACHE => "CACHE: write-shared files uncached; no needless disable",
        OFF => "OFF: sharers see one access position",
        MEM => "MEM: memory reads return the latest writes",
        PID => "PID: pids unique, unchanged, from the home",
        SIG => "SIG: each signal delivered exactly once",
        WAIT => "WAIT: each exit status collected exactly once",
        TIME => "TIME: time never goes backwards",
        HOME => "HOME: the home knows where each process is",
        RES => "RES: no state left on hosts a process left",
        EVICT => "EVICT: foreign processes leave when the owner returns",
        LIVE => "LIVE: migrations progress to their end",
        REFUSE => "REFUSE: forbidden migrations refused, process untouched",
        FAIL => "FAIL: a crash kills exactly its processes",
    }
}

/// The invariant a property name speaks for, if it is an invariant.
pub fn invariant_of(name: &str) -> Option<InvariantId> {
    InvariantId::ALL
        .into_iter()
        .find(|id| property_name(*id) == name)
}
