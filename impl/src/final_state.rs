//! Expectations on the cluster once a scenario's run is over (`[final]` in a scenario
//! file): what happened to a file, where a process ended up and how many signals reached
//! it, what a migration cost, how many RPCs the run took.
//!
//! ```toml
//! [final]
//! rpcs = 14                 # optional: RPCs of the whole run, every message kind
//!
//! [[final.file]]
//! name = "/f1"
//! reclaimed = true          # every file ever created under this name is gone (DEL)
//! cacheable = false         # the server's flag for the file under this name (or, once
//! dirty_blocks = 0          #   unlinked, the last one created under it); dirty blocks
//! data = [7]                #   of it in every client cache; its contents
//!
//! [[final.process]]
//! pid = "p0.0"
//! host = "h1"               # or "none": no live host runs it
//! signals = 1               # signals delivered to it
//! args = ["cc", "-c", "x.c"] # what its last exec started it with (`exec_args`)
//!
//! [[final.migration]]
//! pid = "p0.0"
//! nth = 1                   # optional: its first migration (default)
//! result = "ok"             # or "unfinished", or the refusal's text (a prefix with `*`)
//! rpcs = 5
//! pages_flushed = 3         # written back to the backing file by the source
//! pages_faulted = 0         # brought in on demand by the target
//! blocks_flushed = 1        # dirty file blocks written back
//! files_moved = 1           # three-party exchanges (one per open file)
//! ```
//!
//! Every key but the table's identifying one (`name`, `pid`) is optional. Each expectation
//! is reported with what the run gave and counts like a step's `expect`: one that does not
//! hold fails the run (exit status 1). The model's files accept the table and do not use
//! it (the model checks its invariants in every state instead).

use crate::fs::FileId;
use crate::sim::Cluster;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;
use vocab::syntax::{parse_host, parse_name, parse_pid, quote, Source, TextError};
use vocab::{FileName, HostId, Pid};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FinalSpec {
    rpcs: Option<Spanned<u32>>,
    #[serde(default)]
    file: Vec<FileSpec>,
    #[serde(default)]
    process: Vec<ProcSpec>,
    #[serde(default)]
    migration: Vec<MigSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: Spanned<String>,
    reclaimed: Option<bool>,
    cacheable: Option<bool>,
    dirty_blocks: Option<u32>,
    data: Option<Vec<u8>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcSpec {
    pid: Spanned<String>,
    host: Option<Spanned<String>>,
    signals: Option<u32>,
    args: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MigSpec {
    pid: Spanned<String>,
    nth: Option<Spanned<u32>>,
    result: Option<String>,
    rpcs: Option<u32>,
    pages_flushed: Option<u32>,
    pages_faulted: Option<u32>,
    blocks_flushed: Option<u32>,
    files_moved: Option<u32>,
}

/// One expected value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Want {
    Bool(bool),
    Count(u32),
    Data(Vec<u8>),
    /// A host, or none.
    Host(Option<HostId>),
    /// A text (a trailing `*` matches a prefix).
    Text(String),
    /// An argument vector.
    Args(Vec<String>),
}

/// What an expectation is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Subject {
    Run,
    File(FileName),
    Process(Pid),
    /// The `nth` (from 1) migration of the process.
    Migration(Pid, u32),
}

/// One checked quantity: `subject`'s `key` should be `want`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FinalExpect {
    pub line: usize,
    pub subject: Subject,
    pub key: &'static str,
    pub want: Want,
}

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FinalResult {
    pub line: usize,
    /// `file /f1 reclaimed`, `migration 1 of p0.0 rpcs`, ...
    pub what: String,
    pub want: String,
    pub got: String,
    pub ok: bool,
}

/// Validates the `[final]` table against the scenario's hosts.
pub(crate) fn validate(
    cx: &Source,
    spec: &FinalSpec,
    known: &dyn Fn(HostId) -> bool,
) -> Result<Vec<FinalExpect>, TextError> {
    let mut out = Vec::new();
    let mut push = |line: usize, subject: &Subject, key: &'static str, want: Option<Want>| {
        if let Some(want) = want {
            out.push(FinalExpect {
                line,
                subject: subject.clone(),
                key,
                want,
            });
        }
    };
    if let Some(r) = &spec.rpcs {
        push(
            cx.line(r.span()),
            &Subject::Run,
            "rpcs",
            Some(Want::Count(*r.get_ref())),
        );
    }
    for f in &spec.file {
        let name = parse_name(f.name.get_ref()).map_err(|e| cx.err(f.name.span(), e))?;
        let s = Subject::File(name);
        let line = cx.line(f.name.span());
        push(line, &s, "reclaimed", f.reclaimed.map(Want::Bool));
        push(line, &s, "cacheable", f.cacheable.map(Want::Bool));
        push(line, &s, "dirty_blocks", f.dirty_blocks.map(Want::Count));
        push(line, &s, "data", f.data.clone().map(Want::Data));
    }
    for p in &spec.process {
        let pid = parse_pid(p.pid.get_ref()).map_err(|e| cx.err(p.pid.span(), e))?;
        if !known(pid.home) {
            return Err(cx.err(
                p.pid.span(),
                format!("{pid}: its home {} is not a host", pid.home),
            ));
        }
        let host = match &p.host {
            None => None,
            Some(h) if h.get_ref() == "none" => Some(Want::Host(None)),
            Some(h) => {
                let id = parse_host(h.get_ref()).map_err(|e| cx.err(h.span(), e))?;
                if !known(id) {
                    return Err(cx.err(h.span(), format!("no host {id} in the scenario")));
                }
                Some(Want::Host(Some(id)))
            }
        };
        let s = Subject::Process(pid);
        let line = cx.line(p.pid.span());
        push(line, &s, "host", host);
        push(line, &s, "signals", p.signals.map(Want::Count));
        push(line, &s, "args", p.args.clone().map(Want::Args));
    }
    for m in &spec.migration {
        let pid = parse_pid(m.pid.get_ref()).map_err(|e| cx.err(m.pid.span(), e))?;
        let nth = match &m.nth {
            None => 1,
            Some(n) if *n.get_ref() >= 1 => *n.get_ref(),
            Some(n) => return Err(cx.err(n.span(), "`nth` counts from 1")),
        };
        let s = Subject::Migration(pid, nth);
        let line = cx.line(m.pid.span());
        push(line, &s, "result", m.result.clone().map(Want::Text));
        push(line, &s, "rpcs", m.rpcs.map(Want::Count));
        push(line, &s, "pages_flushed", m.pages_flushed.map(Want::Count));
        push(line, &s, "pages_faulted", m.pages_faulted.map(Want::Count));
        push(
            line,
            &s,
            "blocks_flushed",
            m.blocks_flushed.map(Want::Count),
        );
        push(line, &s, "files_moved", m.files_moved.map(Want::Count));
    }
    Ok(out)
}

/// Which files (by their unique incarnation) each name has referred to during a run: what
/// `reclaimed` needs, since an unlinked file has no name left at the end.
#[derive(Clone, Debug, Default)]
pub struct NameHistory {
    seen: BTreeMap<FileName, BTreeSet<u32>>,
}

impl NameHistory {
    /// Records what each name refers to now (called after every simulator step).
    pub fn observe(&mut self, c: &Cluster) {
        let srv = c.server();
        for (name, id) in &srv.dir {
            if let Some(f) = srv.files.get(id) {
                self.seen.entry(*name).or_default().insert(f.incarnation);
            }
        }
    }
}

/// The file a name refers to at the end, or the last one created under it that is still
/// on the server.
fn file_of(c: &Cluster, names: &NameHistory, name: FileName) -> Option<FileId> {
    let srv = c.server();
    if let Some(id) = srv.dir.get(&name) {
        return Some(*id);
    }
    let ever = names.seen.get(&name)?;
    srv.files
        .iter()
        .filter(|(_, f)| ever.contains(&f.incarnation))
        .max_by_key(|(_, f)| f.incarnation)
        .map(|(id, _)| *id)
}

fn show(w: &Want) -> String {
    match w {
        Want::Bool(b) => b.to_string(),
        Want::Count(n) => n.to_string(),
        Want::Data(d) => format!("{d:?}"),
        Want::Host(Some(h)) => h.to_string(),
        Want::Host(None) => "none".into(),
        Want::Text(t) => quote(t),
        Want::Args(a) => format!("{a:?}"),
    }
}

fn holds(want: &Want, got: &Want) -> bool {
    match (want, got) {
        (Want::Text(w), Want::Text(g)) => match w.strip_suffix('*') {
            Some(prefix) => g.starts_with(prefix),
            None => w == g,
        },
        _ => want == got,
    }
}

/// Checks each expectation on the cluster at the end of the run.
pub fn check(expects: &[FinalExpect], c: &Cluster, names: &NameHistory) -> Vec<FinalResult> {
    let view = c.view();
    let srv = c.server();
    expects
        .iter()
        .map(|e| {
            let (what, got): (String, Option<Want>) = match (&e.subject, e.key) {
                (Subject::Run, _) => (
                    "the run's rpcs".into(),
                    Some(Want::Count(c.ledger.totals.values().map(|t| t.rpcs).sum())),
                ),
                (Subject::File(name), key) => {
                    let id = file_of(c, names, *name);
                    let got = match key {
                        "reclaimed" => Some(Want::Bool(match names.seen.get(name) {
                            // Never created: nothing to reclaim, and nothing left.
                            None => !srv.dir.contains_key(name),
                            Some(ever) => {
                                srv.files.values().all(|f| !ever.contains(&f.incarnation))
                            }
                        })),
                        "cacheable" => id
                            .and_then(|i| srv.files.get(&i))
                            .map(|f| Want::Bool(f.cacheable)),
                        "data" => id
                            .and_then(|i| srv.files.get(&i))
                            .map(|f| Want::Data(f.data.clone())),
                        _ => id
                            .and_then(|i| srv.files.get(&i).map(|f| (i, f)))
                            .map(|(i, f)| {
                                let dirty: usize = c
                                    .kernels()
                                    .filter(|(h, _)| c.is_up(**h))
                                    .filter_map(|(_, k)| k.cache.get(&i))
                                    .filter(|ce| ce.incarnation == f.incarnation)
                                    .map(|ce| ce.dirty.len())
                                    .sum();
                                Want::Count(dirty as u32)
                            }),
                    };
                    (format!("file {name} {key}"), got)
                }
                (Subject::Process(pid), key) => {
                    let p = view.process(*pid);
                    let got = match key {
                        "host" => Some(Want::Host(p.map(|p| p.host))),
                        "args" => p.map(|p| Want::Args(p.args.clone())),
                        _ => p.map(|p| Want::Count(p.signals)),
                    };
                    (format!("process {pid} {key}"), got)
                }
                (Subject::Migration(pid, nth), key) => {
                    let m = c
                        .ledger
                        .migrations
                        .iter()
                        .filter(|m| m.pid == *pid)
                        .nth(*nth as usize - 1);
                    let got = m.map(|m| match key {
                        "result" => Want::Text(match &m.result {
                            None => "unfinished".into(),
                            Some(Ok(())) => "ok".into(),
                            Some(Err(why)) => why.clone(),
                        }),
                        "rpcs" => Want::Count(m.rpcs()),
                        "pages_flushed" => Want::Count(m.pages_flushed),
                        "pages_faulted" => Want::Count(m.pages_faulted),
                        "blocks_flushed" => Want::Count(m.blocks_flushed),
                        _ => Want::Count(m.files_moved),
                    });
                    (format!("migration {nth} of {pid} {key}"), got)
                }
            };
            let ok = got.as_ref().is_some_and(|g| holds(&e.want, g));
            FinalResult {
                line: e.line,
                what,
                want: show(&e.want),
                got: got
                    .as_ref()
                    .map_or("nothing (no such file, process or migration)".into(), show),
                ok,
            }
        })
        .collect()
}
