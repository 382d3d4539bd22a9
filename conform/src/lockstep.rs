//! The model follows the implementation, one implementation step at a time.
//!
//! After every step of the implementation (one message delivered, or one operation
//! started) the harness observes the implementation's mapped state ([`crate::abs::obs`]).
//! The implementation names the model steps that step performed: its *refinement
//! witnesses* (`vocab::Witness`, named by the kernels, the server and the simulator at
//! each step's linearisation point, and by the settled copy's deliveries for messages
//! whose effect is already decided). [`follow_witnessed`] applies exactly those steps to
//! each model state of the *frontier* and keeps the states whose observation and results
//! then equal the implementation's. There is no search on that path: a step that names
//! nothing must change nothing the model observes, and named steps that do not lead to
//! the implementation's state are a mismatch (a wrong witness, or a behaviour the model
//! does not have).
//!
//! Three witnesses stand for more than one model step, deterministically: a delivered
//! signal is the model's hops of that signal until it reaches the process (the two may
//! route it differently, invisibly); a stream the server granted is the model's
//! STREAM_MOVE steps up to the last descriptor on it (the model moves descriptors one by
//! one in descriptor order, the implementation whole files); `run p` is the process's next
//! scripted operation.
//!
//! [`follow`], the search, is a diagnostic: when the witnesses fail, it looks for model
//! states reachable from the frontier in at most [`DEPTH`] actions whose observation
//! equals the implementation's and whose operation results agree with every result the
//! implementation has returned, to tell a wrong witness (some model steps do match) from a
//! behaviour the model does not have (none does), and to show the nearest state. It never
//! runs when the witnesses match. Model states whose own checks fail (the model's result
//! differs from the one-machine Unix's, a transition invariant breaks) are dropped and
//! reported if nothing else is left.

use crate::abs::{self, Obs};
use model::log::{Line, Log};
use model::state::State;
use model::{Action, SpriteModel};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use vocab::{Errno, Op, Outcome, Pid, Refusal, Value, Witness};

/// How many model actions one implementation step may correspond to (a step that ends a
/// stream exchange can end the whole migration: the last STREAM_MOVE, HOME_UPDATE and
/// RESUME when the target is the home, and the held signals it then delivers).
pub const DEPTH: usize = 10;

/// How many model states the frontier keeps.
pub const WIDTH: usize = 48;

/// Results of operations, per process, in the order they returned (`exit` has none).
pub type Results = BTreeMap<Pid, Vec<(Op, Outcome)>>;

/// What the implementation's operations have done: the results returned, and the
/// processes with an operation started and not yet returned.
#[derive(Clone, Debug, Default)]
pub struct ImplOps {
    pub done: Results,
    pub running: BTreeSet<Pid>,
}

/// One model state consistent with what the implementation has shown.
#[derive(Clone, Debug)]
pub struct Cand {
    pub s: State,
    /// What the model's operations returned.
    pub results: Results,
    /// The model actions taken to reach it from the scenario step's start (for reports).
    pub path: Vec<Action>,
}

impl Cand {
    pub fn new(s: State) -> Cand {
        Cand {
            s,
            results: Results::new(),
            path: Vec::new(),
        }
    }
}

/// Results compared: time values by kind (TIME checks their order), refusals without
/// their reason.
pub fn same(op: &Op, a: &Outcome, b: &Outcome) -> bool {
    norm(op, a) == norm(op, b)
}

fn norm(_op: &Op, o: &Outcome) -> Outcome {
    match o {
        Ok(Value::Time(_)) => Ok(Value::Time(0)),
        Err(Errno::Refused(_)) => Err(Errno::Refused(Refusal::SameHost)),
        x => *x,
    }
}

/// How a model state's results stand against the implementation's.
enum Standing {
    /// Every result the implementation returned, the model returned too, equal.
    Agrees,
    /// The model has not yet run some operation the implementation completed.
    Behind,
    /// A result differs.
    Differs {
        pid: Pid,
        op: Op,
        implementation: Outcome,
        model: Outcome,
    },
}

fn standing(model: &Results, implementation: &Results) -> Standing {
    let mut behind = false;
    for (pid, done) in implementation {
        let mine = model.get(pid).map_or(&[][..], |v| &v[..]);
        for (k, (op, o)) in done.iter().enumerate() {
            match mine.get(k) {
                Some((mop, mo)) if mop == op && same(op, o, mo) => {}
                Some((_, mo)) => {
                    return Standing::Differs {
                        pid: *pid,
                        op: *op,
                        implementation: *o,
                        model: *mo,
                    }
                }
                None => behind = true,
            }
        }
    }
    if behind {
        Standing::Behind
    } else {
        Standing::Agrees
    }
}

/// Why the model could not follow a step.
#[derive(Clone, Debug)]
pub enum Miss {
    /// No model state within reach shows what the implementation shows.
    NoAction {
        /// The observation's differences from the nearest model state found, and the
        /// actions that lead there from the frontier.
        nearest: Vec<String>,
        path: Vec<Action>,
    },
    /// The implementation returned a result no model state within reach returns.
    Result {
        pid: Pid,
        op: Op,
        implementation: Outcome,
        model: Outcome,
    },
    /// Every model state within reach broke one of the model's own checks.
    Model {
        state: Box<State>,
        path: Vec<Action>,
    },
}

/// The results the implementation returned that the model has not (yet), as diff lines.
fn missing_results(model: &Results, implementation: &Results) -> Vec<String> {
    let mut out = Vec::new();
    for (pid, done) in implementation {
        let n = model.get(pid).map_or(0, |v| v.len());
        for (op, o) in done.iter().skip(n) {
            out.push(format!(
                "result of {pid} {op}: impl {}, model (not returned)",
                vocab::outcome::show(o)
            ));
        }
    }
    out
}

fn fingerprint(c: &Cand) -> u64 {
    let mut h = ahash::AHasher::default();
    c.s.hash(&mut h);
    c.results.hash(&mut h);
    h.finish()
}

/// Applies `a` to a candidate, recording the model's results. A result for a process
/// that the same step kills (a crash that ends a waiting parent's child and the parent
/// together) reaches nobody: the implementation has no result for it either.
pub fn apply(m: &SpriteModel, c: &Cand, a: Action) -> Option<Cand> {
    let mut log = Log::outcomes_only();
    let s = m.apply(&c.s, a, &mut log)?;
    let mut results = c.results.clone();
    for (pid, r) in outcomes(log, &s) {
        results.entry(pid).or_default().push(r);
    }
    let mut path = c.path.clone();
    path.push(a);
    Some(Cand { s, results, path })
}

/// The results a model step returned (its log, taken with [`Log::outcomes_only`]), but
/// for processes the same step killed: those reach nobody.
fn outcomes(log: Log, s: &State) -> impl Iterator<Item = (Pid, (Op, Outcome))> + '_ {
    log.into_lines()
        .into_iter()
        .filter_map(move |line| match line {
            Line::Outcome {
                pid, op, outcome, ..
            } if s.procs.contains_key(&pid) => Some((pid, (op, outcome))),
            _ => None,
        })
}

/// Whether the search tries action `a` from candidate `c`: every step of a migration, a
/// signal or a flush; events never (the runner applies them); and an operation only if the
/// implementation has started it: it returned more results for the process than the model
/// has, or it has an operation in progress (which may show before it returns: an exit, a
/// close waiting for the server, a migration). The implementation's results are those of
/// its settled copy, so they are known from the operation's linearisation point on.
fn worth_trying(c: &Cand, imp: &ImplOps, a: &Action) -> bool {
    match a {
        Action::Event(_) => false,
        Action::Run(pid, _) => {
            imp.running.contains(pid)
                || imp.done.get(pid).map_or(0, |v| v.len())
                    > c.results.get(pid).map_or(0, |v| v.len())
        }
        _ => true,
    }
}

/// Delivers, in the model state, every signal on its way that the implementation shows
/// delivered already (the process has received more signals there): deliveries to
/// different processes commute, and a `killpg` to a large group may deliver one to each
/// member in one implementation step, more than the search's depth could take one by one.
/// A delivery that would only hop (the process is elsewhere) is left to the search.
fn deliver_shown_signals(m: &SpriteModel, c: &mut Cand, target: &Obs) {
    loop {
        let due = c.s.signals.keys().copied().find(|sig| {
            let shown = target.procs.get(&sig.pid).map(|p| p.signals);
            let p = c.s.procs.get(&sig.pid);
            p.is_some_and(|p| p.host == sig.to && shown.is_some_and(|n| n > p.signals))
        });
        let Some(sig) = due else { return };
        let a = Action::DeliverSignal {
            pid: sig.pid,
            to: sig.to,
            direct: sig.direct,
        };
        match apply(m, c, a) {
            Some(next) if next.s.violated == 0 => *c = next,
            _ => return,
        }
    }
}

/// The frontier after an implementation step that shows `target`, with what the
/// implementation's operations have done (those of its settled copy).
pub fn follow(
    m: &SpriteModel,
    frontier: Vec<Cand>,
    target: &Obs,
    imp: &ImplOps,
) -> Result<Vec<Cand>, Miss> {
    let done = &imp.done;
    let mut out: Vec<Cand> = Vec::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut explored: Vec<Cand> = Vec::new();
    let mut differs: Option<Miss> = None;
    let mut flagged: Option<Cand> = None;
    let mut queue: VecDeque<(Cand, usize)> = frontier.into_iter().map(|c| (c, 0)).collect();
    let mut acts = Vec::new();
    // The fewest model actions that match: the search stops after that depth (the model
    // catches up lazily; anything it did not take now it can take at a later step).
    let mut found_at: Option<usize> = None;
    while let Some((mut c, depth)) = queue.pop_front() {
        if found_at.is_some_and(|d| depth > d) {
            break;
        }
        deliver_shown_signals(m, &mut c, target);
        match standing(&c.results, done) {
            Standing::Differs {
                pid,
                op,
                implementation,
                model,
            } => {
                differs.get_or_insert(Miss::Result {
                    pid,
                    op,
                    implementation,
                    model,
                });
                continue;
            }
            Standing::Agrees if abs::obs(&c.s) == *target => {
                found_at = Some(depth);
                out.push(c);
                if out.len() >= 4 * WIDTH {
                    break;
                }
                continue;
            }
            _ => {}
        }
        if depth >= DEPTH {
            explored.push(c);
            continue;
        }
        if !seen.insert(fingerprint(&c)) {
            continue;
        }
        acts.clear();
        m.enabled(&c.s, &mut acts);
        for a in acts.iter().filter(|a| worth_trying(&c, imp, a)) {
            let Some(next) = apply(m, &c, *a) else {
                continue;
            };
            if next.s.violated != 0 {
                flagged.get_or_insert(next);
                continue;
            }
            queue.push_back((next, depth + 1));
        }
        explored.push(c);
    }
    if out.len() > 1 {
        // Hashing a state costs: only when there is something to tell it from.
        let mut kept: HashSet<u64> = HashSet::new();
        out.retain(|c| kept.insert(fingerprint(c)));
        out.truncate(WIDTH);
    }
    if !out.is_empty() {
        return Ok(out);
    }
    if let Some(d) = differs {
        return Err(d);
    }
    if let Some(f) = flagged {
        return Err(Miss::Model {
            state: Box::new(f.s),
            path: f.path,
        });
    }
    if std::env::var("CONFORM_DEBUG_LOCKSTEP").is_ok() {
        // Debugging aid: every model state the search looked at, and how it differs.
        for c in &explored {
            let path: Vec<String> = c.path.iter().map(|a| a.to_string()).collect();
            eprintln!("model state after [{}]:", path.join(", "));
            for d in abs::diff(target, &abs::obs(&c.s)) {
                eprintln!("    {d}");
            }
        }
    }
    // The nearest state: one that has returned every result the implementation has, if
    // any (its differences then say what the operation did wrong), with the fewest
    // differences, reached with the fewest actions.
    let nearest = explored
        .iter()
        .map(|c| {
            let missing = missing_results(&c.results, done);
            let mut d = abs::diff(target, &abs::obs(&c.s));
            let behind = !missing.is_empty();
            d.extend(missing);
            (behind, d, c)
        })
        .min_by_key(|(behind, d, c)| (*behind, d.len(), c.path.len()))
        .map(|(_, d, c)| (d, c));
    Err(match nearest {
        Some((d, c)) => Miss::NoAction {
            nearest: d,
            path: c.path.clone(),
        },
        None => Miss::NoAction {
            nearest: vec!["(no model state to compare with)".into()],
            path: Vec::new(),
        },
    })
}

/// The model action a witness names in candidate state `s`, if the model has it: `Run` is
/// the process's next scripted operation (it must be ready to run it), a migration step
/// must be the one the migration record says comes next, a signal must be on its way.
pub fn action_of(m: &SpriteModel, s: &State, w: Witness) -> Option<Action> {
    let mig = |pid: Pid, want: Action| {
        s.migrations
            .contains_key(&pid)
            .then(|| m.migration_step(s, pid))
            .filter(|a| *a == want)
    };
    match w {
        Witness::Run(pid) => {
            let p = s.procs.get(&pid)?;
            let op = m
                .cfg
                .scripts
                .get(p.script as usize)?
                .ops
                .get(p.pc as usize)?;
            Some(Action::Run(pid, *op))
        }
        Witness::MigInit(p) => mig(p, Action::MigInit(p)),
        Witness::MigState(p) => mig(p, Action::MigState(p)),
        // Several STREAM_MOVE steps, found one at a time (`Taking::stream_moved`).
        Witness::StreamMoved { .. } => None,
        Witness::WriteBack { host, file } => Some(Action::WriteBack(host, unix::Ino(file))),
        Witness::HomeUpdate(p) => mig(p, Action::HomeUpdate(p)),
        Witness::Resume(p) => mig(p, Action::Resume(p)),
        // One hop of a signal on its way to the process: the one to that host if there is
        // one, else the first (see `Taking::signal_delivered`).
        Witness::Signal { pid, to } => {
            let exact = s.signals.keys().find(|k| k.pid == pid && k.to == to);
            let k = exact.or_else(|| s.signals.keys().find(|k| k.pid == pid))?;
            Some(Action::DeliverSignal {
                pid,
                to: k.to,
                direct: k.direct,
            })
        }
    }
}

/// Why a candidate could not take the witnessed steps.
#[derive(Clone, Debug)]
pub enum WitnessMiss {
    /// The model has no such step now.
    NotEnabled(Witness),
    /// The model's step broke one of its own checks.
    Model(Witness),
    /// After the steps, the model's observation or results differ from the
    /// implementation's: the differences, as lines.
    Differs(Vec<String>),
}

/// A candidate taking witnessed steps in place, able to go back to where it started: the
/// state it started from (kept, not copied: each model step makes a new state anyway) and
/// the results it has added.
struct Taking<'a> {
    m: &'a SpriteModel,
    c: &'a mut Cand,
    start: Option<State>,
    added: Vec<Pid>,
}

impl Taking<'_> {
    /// Takes model action `a`; `false` (nothing changed) if the model has no such step or
    /// the step breaks one of the model's own checks.
    fn take(&mut self, a: Action) -> bool {
        let mut log = Log::outcomes_only();
        let Some(s) = self.m.apply(&self.c.s, a, &mut log) else {
            return false;
        };
        if s.violated != 0 {
            return false;
        }
        for (pid, r) in outcomes(log, &s) {
            self.c.results.entry(pid).or_default().push(r);
            self.added.push(pid);
        }
        let before = std::mem::replace(&mut self.c.s, s);
        self.start.get_or_insert(before);
        true
    }

    /// Takes the model step witness `w` names.
    fn witness(&mut self, w: Witness) -> Result<(), WitnessMiss> {
        match w {
            Witness::Signal { pid, .. } => self.signal_delivered(w, pid),
            Witness::StreamMoved { pid, stream } => self.stream_moved(w, pid, stream),
            // Blocks the model has no dirty copy of (already written back inside the step
            // they belong to): nothing to do. The observation compared after the steps tells
            // whether that is so.
            Witness::WriteBack { host, file }
                if !self.m.write_back_enabled(&self.c.s, host, unix::Ino(file)) =>
            {
                Ok(())
            }
            _ => {
                let a = action_of(self.m, &self.c.s, w).ok_or(WitnessMiss::NotEnabled(w))?;
                self.take(a).then_some(()).ok_or(WitnessMiss::Model(w))
            }
        }
    }

    /// The model's SIGNAL steps for a signal the implementation delivered to `pid`: hops
    /// of a signal on its way to the process until one reaches it. The implementation
    /// names only deliveries: a signal's route may differ between the two (a signal that
    /// reaches a frozen process before its state left is delivered there by the model,
    /// while the implementation sends it back to the home, which holds it until
    /// HOME_UPDATE; one sent to a host the process left is bounced by both, at different
    /// moments), and the hops on the way change nothing observed (a signal in flight or
    /// held counts as pending either way).
    fn signal_delivered(&mut self, w: Witness, pid: Pid) -> Result<(), WitnessMiss> {
        let received = |s: &State| s.procs.get(&pid).map_or(0, |p| p.signals);
        let before = received(&self.c.s);
        // Each hop delivers or sends the signal on; a route longer than the hosts can
        // make is a wrong witness.
        for _ in 0..8 {
            let a = action_of(self.m, &self.c.s, w).ok_or(WitnessMiss::NotEnabled(w))?;
            if !self.take(a) {
                return Err(WitnessMiss::Model(w));
            }
            if received(&self.c.s) > before {
                return Ok(());
            }
        }
        Err(WitnessMiss::NotEnabled(w))
    }

    /// The model's STREAM_MOVE steps for a stream the implementation moved. The model
    /// moves a process's descriptors one at a time in descriptor order; the implementation
    /// moves all of a process's streams on one file in one exchange, file by file. So the
    /// model takes its next STREAM_MOVE steps until every descriptor of `pid` on `stream`
    /// has moved (moving, on the way, descriptors of files whose exchange the
    /// implementation has not finished: the observation compared after the step shows
    /// whether that is invisible, as it must be); a stream whose descriptors the model
    /// moved already is a stutter.
    fn stream_moved(
        &mut self,
        w: Witness,
        pid: Pid,
        stream: vocab::StreamId,
    ) -> Result<(), WitnessMiss> {
        loop {
            let s = &self.c.s;
            let Some(mig) = s.migrations.get(&pid) else {
                return Ok(());
            };
            let pending = s.procs.get(&pid).is_some_and(|p| {
                p.fds
                    .iter()
                    .any(|(fd, sid)| *sid == stream && !mig.moved.contains(fd))
            });
            if !pending {
                return Ok(());
            }
            let a = self.m.migration_step(s, pid);
            if !matches!(a, Action::StreamMove(..)) {
                return Err(WitnessMiss::NotEnabled(w));
            }
            if !self.take(a) {
                return Err(WitnessMiss::Model(w));
            }
        }
    }

    /// Back to where the candidate started.
    fn undo(self) {
        if let Some(s) = self.start {
            self.c.s = s;
        }
        for pid in self.added.into_iter().rev() {
            if let Some(v) = self.c.results.get_mut(&pid) {
                v.pop();
                if v.is_empty() {
                    self.c.results.remove(&pid);
                }
            }
        }
    }
}

/// Follows an implementation step that named the model steps `ws` and shows `target`:
/// each candidate of the frontier takes exactly those steps, in order, in place, and is
/// kept if its observation and results then agree with the implementation's. No search.
/// If no candidate agrees, the frontier is left as it was and the first candidate's
/// reason is returned.
pub fn follow_witnessed(
    m: &SpriteModel,
    frontier: &mut Vec<Cand>,
    ws: &[Witness],
    target: &Obs,
    imp: &ImplOps,
) -> Result<(), WitnessMiss> {
    let mut agrees: Vec<bool> = Vec::with_capacity(frontier.len());
    let mut first_miss = None;
    for c in frontier.iter_mut() {
        let mut t = Taking {
            m,
            c,
            start: None,
            added: Vec::new(),
        };
        let taken = ws.iter().try_for_each(|w| t.witness(*w));
        let verdict = match taken {
            Err(miss) => Err(miss),
            Ok(()) => {
                let o = abs::obs(&t.c.s);
                match standing(&t.c.results, &imp.done) {
                    Standing::Agrees if o == *target => Ok(()),
                    st => Err(WitnessMiss::Differs(differences(target, &o, t.c, imp, st))),
                }
            }
        };
        agrees.push(verdict.is_ok());
        if let Err(miss) = verdict {
            first_miss.get_or_insert(miss);
            t.undo();
        }
    }
    if !agrees.contains(&true) {
        return Err(first_miss.unwrap_or(WitnessMiss::Differs(Vec::new())));
    }
    let mut keep = agrees.into_iter();
    frontier.retain(|_| keep.next().unwrap_or(false));
    Ok(())
}

/// What differs between the implementation's observation and results and a candidate's.
fn differences(target: &Obs, o: &Obs, c: &Cand, imp: &ImplOps, st: Standing) -> Vec<String> {
    let mut d = abs::diff(target, o);
    d.extend(missing_results(&c.results, &imp.done));
    if let Standing::Differs {
        pid,
        op,
        implementation,
        model,
    } = st
    {
        d.push(format!(
            "result of {pid} {op}: impl {}, model {}",
            vocab::outcome::show(&implementation),
            vocab::outcome::show(&model)
        ));
    }
    d
}
