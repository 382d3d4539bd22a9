//! Every proof (`proofs/WF.md` and `proofs/<ID>.md` for each invariant ID) has a case table:
//! a Markdown table under the heading `## Cases`, with a row for every kind of action the
//! model has. The kinds are enumerated from `model::Action` by a `match` with no wildcard
//! (and, for `Event`, one on `vocab::ClusterEvent`), so adding an action to the model does
//! not compile until it is named here, and then fails this test until every proof has a
//! row for it.

use model::log::Log;
use model::{configs, Action, SpriteModel};
use std::collections::{BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use vocab::{ClusterEvent, Fd, HostId, InvariantId, Op, PageNo, Pid, Switch};

/// What the case tables need to know about one kind of action.
struct Kind {
    /// How the first column of a case table names it.
    name: &'static str,
    /// The design switch under which alone the model takes this step, if it is not one of
    /// Sprite's own (its row then says it is not enabled in Sprite's design).
    switch: Option<Switch>,
}

/// The kind of an action, and an action of the next kind (in the order of the variants,
/// `None` after the last), so that walking from `Run` visits every kind once. A variant
/// added to `model::Action` or `vocab::ClusterEvent` makes this `match` fail to compile:
/// give it its table name, and make the arm before it lead to it.
fn kind(a: &Action) -> (Kind, Option<Action>) {
    let p = Pid::new(0, 0);
    let h = HostId(0);
    let fd = Fd(0);
    let sprite = |name| Kind { name, switch: None };
    let switched = |name, sw| Kind {
        name,
        switch: Some(sw),
    };
    match a {
        Action::Run(..) => (sprite("Run"), Some(Action::MigInit(p))),
        Action::MigInit(_) => (sprite("MigInit"), Some(Action::MigState(p))),
        Action::MigState(_) => (sprite("MigState"), Some(Action::StreamMove(p, fd))),
        Action::StreamMove(..) => (sprite("StreamMove"), Some(Action::StreamRegister(p, fd))),
        Action::StreamRegister(..) => (
            switched("StreamRegister", Switch::NotifyTargetFirst),
            Some(Action::StreamRelease(p, fd)),
        ),
        Action::StreamRelease(..) => (
            switched("StreamRelease", Switch::NotifyTargetFirst),
            Some(Action::StreamClose(p, fd)),
        ),
        Action::StreamClose(..) => (
            switched("StreamClose", Switch::ReopenFiles),
            Some(Action::StreamReopen(p, fd)),
        ),
        Action::StreamReopen(..) => (
            switched("StreamReopen", Switch::ReopenFiles),
            Some(Action::HomeUpdate(p)),
        ),
        Action::HomeUpdate(_) => (sprite("HomeUpdate"), Some(Action::Resume(p))),
        Action::Resume(_) => (
            sprite("Resume"),
            Some(Action::DeliverSignal {
                pid: p,
                to: h,
                direct: false,
            }),
        ),
        Action::DeliverSignal { .. } => (
            sprite("DeliverSignal"),
            Some(Action::ExitNoticeArrives { child: p, to: h }),
        ),
        Action::ExitNoticeArrives { .. } => (
            switched("ExitNoticeArrives", Switch::WaitOnCurrent),
            Some(Action::FlushArrives(p, PageNo(0))),
        ),
        Action::FlushArrives(..) => (
            switched("FlushArrives", Switch::NoVmFlush),
            Some(Action::WriteBack(h, unix::Ino(0))),
        ),
        Action::WriteBack(..) => (
            sprite("WriteBack"),
            Some(Action::Event(ClusterEvent::Crash(h))),
        ),
        Action::Event(e) => match e {
            ClusterEvent::Crash(_) => (
                sprite("Event(Crash)"),
                Some(Action::Event(ClusterEvent::Reboot(h))),
            ),
            ClusterEvent::Reboot(_) => (
                sprite("Event(Reboot)"),
                Some(Action::Event(ClusterEvent::OwnerReturns(h))),
            ),
            ClusterEvent::OwnerReturns(_) => (
                sprite("Event(OwnerReturns)"),
                Some(Action::Event(ClusterEvent::OwnerLeaves(h))),
            ),
            ClusterEvent::OwnerLeaves(_) => (
                sprite("Event(OwnerLeaves)"),
                Some(Action::Event(ClusterEvent::ClockTick(h))),
            ),
            ClusterEvent::ClockTick(_) => (sprite("Event(ClockTick)"), None),
        },
    }
}

/// Every kind of action, in the order of the variants.
fn kinds() -> Vec<Kind> {
    let mut out: Vec<Kind> = Vec::new();
    let mut next = Some(Action::Run(Pid::new(0, 0), Op::Getpid));
    while let Some(a) = next {
        let (k, n) = kind(&a);
        assert!(
            out.iter().all(|x| x.name != k.name),
            "the walk over the kinds visits {} twice",
            k.name
        );
        out.push(k);
        next = n;
    }
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The proof files: the well-formedness proof and one per invariant ID.
fn proof_files() -> Vec<String> {
    std::iter::once("WF".to_string())
        .chain(InvariantId::ALL.iter().map(|id| id.as_str().to_string()))
        .map(|id| format!("{id}.md"))
        .collect()
}

/// The cells of each body row of the table under `## Cases` (up to the next heading of
/// the same or a higher level), or `None` if there is no such heading.
fn case_rows(text: &str) -> Option<Vec<Vec<String>>> {
    let mut lines = text.lines().skip_while(|l| l.trim_end() != "## Cases");
    lines.next()?;
    let table: Vec<&str> = lines
        .take_while(|l| !(l.starts_with("## ") || l.starts_with("# ")))
        .filter(|l| l.trim_start().starts_with('|'))
        .collect();
    Some(
        table
            .iter()
            // The header row, then the delimiter row.
            .skip(2)
            .map(|l| cells(l))
            .collect(),
    )
}

/// A table row's cells, trimmed (a `\|` inside a cell does not split it).
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    let mut out = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().expect("one cell").push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            c => out.last_mut().expect("one cell").push(c),
        }
    }
    out.iter().map(|c| c.trim().to_string()).collect()
}

/// Whether `cell` (code marks removed) names `name` as a whole word: not as part of a
/// longer identifier.
fn names(cell: &str, name: &str) -> bool {
    let cell = cell.replace('`', "");
    let word = |c: char| c.is_alphanumeric() || c == '_';
    cell.match_indices(name).any(|(i, _)| {
        let before = cell[..i].chars().next_back();
        let after = cell[i + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The kind names of the actions the model enables in the first `cap` states of `cfg`
/// reached breadth first.
fn kinds_enabled(cfg: model::Config, cap: usize) -> BTreeSet<&'static str> {
    let m = SpriteModel::new(cfg);
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([m.initial()]);
    let mut out = BTreeSet::new();
    let mut actions = Vec::new();
    while let Some(s) = queue.pop_front() {
        if seen.len() >= cap || !seen.insert(s.clone()) {
            continue;
        }
        actions.clear();
        m.enabled(&s, &mut actions);
        for a in &actions {
            out.insert(kind(a).0.name);
            if let Some(t) = m.apply(&s, *a, &mut Log::off()) {
                queue.push_back(t);
            }
        }
    }
    out
}

#[test]
fn the_walk_visits_every_kind_once() {
    let ks = kinds();
    let walked: BTreeSet<&str> = ks.iter().map(|k| k.name).collect();
    assert_eq!(ks.first().map(|k| k.name), Some("Run"));
    // A kind the model enables but the walk does not reach (a new variant whose arm no
    // other arm leads to) is caught here if some configuration below takes it. The steps
    // of a design switch are never enabled in Sprite's scripted configurations, as their
    // rows in the case tables say.
    for cfg in configs::suite("scripts").expect("a suite") {
        let name = cfg.name.clone();
        for k in kinds_enabled(cfg, 20_000) {
            assert!(walked.contains(k), "{name}: {k} is not among the kinds");
            let switch = ks.iter().find(|x| x.name == k).and_then(|x| x.switch);
            assert!(switch.is_none(), "{name} (Sprite's design) enables {k}");
        }
    }
    for sw in [
        Switch::NotifyTargetFirst,
        Switch::ReopenFiles,
        Switch::NoVmFlush,
        Switch::WaitOnCurrent,
    ] {
        let taken = kinds_enabled(configs::for_switch(sw), 20_000);
        assert!(taken.iter().all(|k| walked.contains(k)), "{sw}: {taken:?}");
        let steps: Vec<&str> = ks
            .iter()
            .filter(|k| k.switch == Some(sw))
            .map(|k| k.name)
            .collect();
        assert!(
            steps.iter().any(|k| taken.contains(k)),
            "{sw}: none of {steps:?} is taken"
        );
    }
}

#[test]
fn every_proof_has_a_row_for_every_action() {
    let ks = kinds();
    let mut problems = Vec::new();
    for file in proof_files() {
        let path = root().join(&file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let Some(rows) = case_rows(&text) else {
            problems.push(format!("{file}: no `## Cases` section"));
            continue;
        };
        if rows.is_empty() {
            problems.push(format!("{file}: the `## Cases` section has no table rows"));
        }
        for row in &rows {
            let first = row.first().map(String::as_str).unwrap_or("");
            let named: Vec<&str> = ks
                .iter()
                .filter(|k| names(first, k.name))
                .map(|k| k.name)
                .collect();
            if named.len() != 1 {
                problems.push(format!(
                    "{file}: the row `{first}` must name exactly one action kind (it names {named:?})"
                ));
            }
            if row.len() < 2 || row[1..].iter().all(|c| c.is_empty()) {
                problems.push(format!("{file}: the row `{first}` gives no reason"));
            }
        }
        for k in &ks {
            let mine: Vec<&Vec<String>> = rows
                .iter()
                .filter(|r| r.first().is_some_and(|c| names(c, k.name)))
                .collect();
            if mine.is_empty() {
                problems.push(format!("{file}: no row for {}", k.name));
                continue;
            }
            // `Run` may be split by operation; every other kind has one row.
            if k.name != "Run" && mine.len() > 1 {
                problems.push(format!("{file}: {} has {} rows", k.name, mine.len()));
            }
            let text = mine
                .iter()
                .map(|r| r.join(" "))
                .collect::<Vec<_>>()
                .join(" ");
            if k.name == "Event(Crash)" && !text.contains("MIG_ABORT") {
                problems.push(format!(
                    "{file}: the Event(Crash) row does not mention MIG_ABORT"
                ));
            }
            if let Some(sw) = k.switch {
                if !(text.contains("not enabled in Sprite's design") && text.contains(sw.name())) {
                    problems.push(format!(
                        "{file}: the {} row must say it is not enabled in Sprite's design \
                         (switch {})",
                        k.name,
                        sw.name()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_table_without_a_row_is_caught() {
    let text = "# X\n\n## Cases\n\n| action | why |\n| --- | --- |\n| `Run` | reason |\n\
                | `Event(Crash)`, MIG_ABORT | reason |\n\n## Proof\n\n| `MigInit` | not in the table |\n";
    let rows = case_rows(text).expect("a Cases section");
    assert_eq!(rows.len(), 2);
    assert!(names(&rows[0][0], "Run") && !names(&rows[0][0], "Resume"));
    assert!(names(&rows[1][0], "Event(Crash)"));
    assert!(!rows.iter().any(|r| names(&r[0], "MigInit")));
    assert!(!names("`StreamMoves`", "StreamMove"));
    assert_eq!(cells("| a \\| b | c |"), vec!["a | b", "c"]);
}
