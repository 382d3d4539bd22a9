//! Virtual memory (SPE "Virtual Memory Transfer"). Sprite's strategy: flush dirty pages to
//! the backing file on the file server, send no pages, let the target demand-page. The
//! alternatives the paper weighs are selectable: full copy (LOCUS, Charlotte), pre-copy
//! (V), copy-on-reference (Accent; leaves pages on the source: a residual dependency).
//!
//! Pre-copy, as SPE and TH §2.3.3 describe V's: the process goes on running on the source
//! while its pages are copied to the target, round after round; a page written after its
//! copy left is copied again; then the process is frozen and a last round sends the pages
//! still stale, with the rest of the state. V iterates "until a small number of pages are
//! dirty"; here a new round is sent only while it makes progress: the first round sends
//! every resident page, and another round follows only if some pages went stale during
//! the last one, fewer than that round sent, and fewer than [`MAX_ROUNDS`] rounds were
//! sent. A process that dirties pages as fast as they are copied would otherwise keep the
//! migration going for ever; the bound keeps it finite (LIVE), and the frozen round then
//! carries whatever is left. Only a voluntary migration copies while running: an evicted
//! process is suspended at once (the owner wants the processor back, STATUS §3), so its
//! one round runs frozen, as a full copy's would.
//!
//! Running during the rounds is a setting of the cluster (`KernelConfig::precopy_runs`,
//! `Cluster::set_precopy_runs`, the scenario key `precopy_runs`), off by default: the
//! reference model's `precopy-vm` keeps the process frozen for the whole move, and the
//! conformance harness follows the implementation step by step against it, so a process
//! that runs during the copy would be a behaviour the model lacks. With the setting off,
//! the one round is sent frozen, before the state.

use super::{Cx, MigrationModule, Rpc};
use crate::kernel::{Kernel, Note, Pcb};
use crate::msg::{MigKind, Msg, Node};
use crate::vm::{Page, Vm};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use vocab::{HostId, PageNo, Pid, Switch, VmStrategy};

/// Most rounds of pre-copy while the process runs (the frozen round comes on top).
pub const MAX_ROUNDS: u8 = 4;

/// The source's record of V's pre-copy rounds for one migration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreCopy {
    /// Rounds sent while the process ran.
    pub rounds: u8,
    /// Pages the last round sent.
    pub last_sent: usize,
    /// Pages the target holds a copy of.
    pub sent: BTreeSet<PageNo>,
    /// Pages written since their copy was sent (the dirty bits V keeps for the rounds).
    pub redirtied: BTreeSet<PageNo>,
    /// The rounds are over: freeze as soon as the operation in progress ends.
    pub freeze_due: bool,
}

impl PreCopy {
    /// Resident pages the target's copy lacks or holds stale: never sent, or written since.
    fn stale(&self, vm: &Vm) -> Vec<(PageNo, u8)> {
        vm.resident()
            .into_iter()
            .filter(|(pg, _, _)| !self.sent.contains(pg) || self.redirtied.contains(pg))
            .map(|(pg, sym, _)| (pg, sym))
            .collect()
    }

    fn mark_sent(&mut self, pages: &[(PageNo, u8)]) {
        for (pg, _) in pages {
            self.sent.insert(*pg);
            self.redirtied.remove(pg);
        }
    }
}

/// Pages pre-copied to a target, waiting for the migration's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreCopyBuffer {
    /// The source that sent them (the buffer goes if that host crashes).
    pub from: Option<HostId>,
    pub pages: BTreeMap<PageNo, u8>,
}

/// Whether this migration copies pages while the process keeps running (V's pre-copy of a
/// voluntary migration, when the cluster lets processes run during the copy).
pub fn copies_while_running(k: &Kernel, cx: &Cx) -> bool {
    k.cfg.precopy_runs && k.cfg.switches.vm() == VmStrategy::PreCopy && cx.kind == MigKind::Migrate
}

/// Sends the next pre-copy round if the rule above calls for one; false when the rounds
/// are over (the caller freezes the process).
pub fn send_round(k: &mut Kernel, cx: &Cx) -> bool {
    let Some(vm) = k.procs.get(&cx.pid).map(|p| p.vm.clone()) else {
        return false;
    };
    let Some(pc) = k.outgoing.get_mut(&cx.pid).and_then(|m| m.precopy.as_mut()) else {
        return false;
    };
    let stale = pc.stale(&vm);
    let more = !stale.is_empty()
        && (pc.rounds == 0 || (stale.len() < pc.last_sent && pc.rounds < MAX_ROUNDS));
    if !more {
        return false;
    }
    pc.rounds += 1;
    pc.last_sent = stale.len();
    pc.mark_sent(&stale);
    k.note(Note::MigPhase {
        pid: cx.pid,
        phase: super::Phase::PreCopy,
    });
    for (page, _) in &stale {
        k.note(Note::PageXfer {
            pid: cx.pid,
            page: *page,
        });
    }
    k.send(
        Node::Host(cx.to),
        Msg::PageFlush {
            pid: cx.pid,
            pages: stale,
            reply: true,
        },
    );
    true
}

/// The process wrote `page`: if its copy already left in a pre-copy round, it is stale.
pub fn page_written(k: &mut Kernel, pid: Pid, page: PageNo) {
    if let Some(pc) = k.outgoing.get_mut(&pid).and_then(|m| m.precopy.as_mut()) {
        if pc.sent.contains(&page) {
            pc.redirtied.insert(page);
        }
    }
}

/// Pre-copied pages arriving at the target: a later round's copy replaces an earlier one.
pub fn receive_pages(k: &mut Kernel, pid: Pid, from: Option<HostId>, pages: Vec<(PageNo, u8)>) {
    let buf = k.precopied.entry(pid).or_default();
    buf.from = from;
    buf.pages.extend(pages);
}

pub struct VmModule;

#[derive(Serialize, Deserialize)]
pub struct VmState {
    pages: Vec<Page>,
    has_backing: bool,
    /// Pages the target takes from its pre-copy buffer, with their dirty bits.
    precopied: Vec<(PageNo, bool)>,
}

impl MigrationModule for VmModule {
    const TOKEN: u8 = 3;
    const NAME: &'static str = "vm";
    type State = VmState;

    fn needed_for(kind: MigKind) -> bool {
        kind != MigKind::Exec
    }

    fn flush(k: &mut Kernel, cx: &Cx) -> Vec<Rpc> {
        let Some(p) = k.procs.get_mut(&cx.pid) else {
            return Vec::new();
        };
        let (pages, to, await_reply): (Vec<(PageNo, u8)>, Node, bool) = match k.cfg.switches.vm() {
            VmStrategy::Flush => {
                let dirty = p.vm.dirty();
                if !dirty.is_empty() {
                    p.vm.has_backing = true;
                }
                // `no-vm-flush`: the flush is not awaited, so a page-in may overtake it.
                (dirty, Node::Server, !k.cfg.switches.has(Switch::NoVmFlush))
            }
            VmStrategy::PreCopy => {
                // The frozen round: what the running rounds left stale, or (no running
                // rounds: an eviction) every resident page.
                let vm = p.vm.clone();
                let pages = match k.outgoing.get_mut(&cx.pid).and_then(|m| m.precopy.as_mut()) {
                    Some(pc) => {
                        let stale = pc.stale(&vm);
                        pc.mark_sent(&stale);
                        stale
                    }
                    None => vm
                        .resident()
                        .into_iter()
                        .map(|(pg, s, _)| (pg, s))
                        .collect(),
                };
                (pages, Node::Host(cx.to), true)
            }
            VmStrategy::FullCopy | VmStrategy::CopyOnReference => return Vec::new(),
        };
        if pages.is_empty() {
            return Vec::new();
        }
        for (page, _) in &pages {
            k.note(Note::PageXfer {
                pid: cx.pid,
                page: *page,
            });
        }
        vec![Rpc {
            token: Self::TOKEN,
            to,
            msg: Msg::PageFlush {
                pid: cx.pid,
                pages,
                reply: await_reply,
            },
            await_reply,
        }]
    }

    fn encapsulate(k: &mut Kernel, cx: &Cx) -> VmState {
        let strategy = k.cfg.switches.vm();
        let Some(p) = k.procs.get(&cx.pid) else {
            return VmState {
                pages: Vec::new(),
                has_backing: false,
                precopied: Vec::new(),
            };
        };
        let mut precopied = Vec::new();
        let mut copied = Vec::new();
        let pages =
            p.vm.pages
                .iter()
                .enumerate()
                .map(|(i, pg)| match (strategy, *pg) {
                    (VmStrategy::Flush, Page::Resident { .. }) => Page::Backing,
                    (VmStrategy::FullCopy, Page::Resident { .. }) => {
                        copied.push(PageNo(i as u8));
                        *pg
                    }
                    (VmStrategy::PreCopy, Page::Resident { dirty, .. }) => {
                        precopied.push((PageNo(i as u8), dirty));
                        Page::Zero
                    }
                    (VmStrategy::CopyOnReference, Page::Resident { .. }) => Page::Remote(cx.from),
                    (_, other) => other,
                })
                .collect();
        let has_backing = p.vm.has_backing;
        for page in copied {
            k.note(Note::PageXfer { pid: cx.pid, page });
        }
        VmState {
            pages,
            has_backing,
            precopied,
        }
    }

    fn deencapsulate(k: &mut Kernel, pcb: &mut Pcb, st: VmState, cx: &Cx) -> Vec<Rpc> {
        pcb.vm = Vm {
            pages: st.pages,
            has_backing: st.has_backing,
        };
        // Copy-on-reference pages left on this very host earlier come back home.
        let me = k.host();
        for i in 0..pcb.vm.pages.len() {
            if pcb.vm.pages[i] == Page::Remote(me) {
                let sym = k
                    .residual
                    .get_mut(&cx.pid)
                    .and_then(|r| r.remove(&PageNo(i as u8)));
                pcb.vm.pages[i] = Page::Resident {
                    sym: sym.unwrap_or(0),
                    dirty: true,
                };
            }
        }
        if k.residual.get(&cx.pid).is_some_and(|r| r.is_empty()) {
            k.residual.remove(&cx.pid);
        }
        let buf = k.precopied.remove(&cx.pid).unwrap_or_default();
        for (page, dirty) in st.precopied {
            // The source sends every page it lists here (the frozen round re-sends the
            // stale ones), so the buffer has each.
            let sym = buf.pages.get(&page).copied().unwrap_or(0);
            pcb.vm.set(page, Page::Resident { sym, dirty });
        }
        Vec::new()
    }

    fn finish(k: &mut Kernel, cx: &Cx, ok: bool) {
        if ok && k.cfg.switches.vm() == VmStrategy::CopyOnReference {
            // Accent: the source keeps serving the pages it did not send.
            if let Some(p) = k.procs.get(&cx.pid) {
                let kept: Vec<(PageNo, u8)> =
                    p.vm.resident()
                        .into_iter()
                        .map(|(pg, s, _)| (pg, s))
                        .collect();
                // Merge: pages kept from an earlier stay here may still be referenced.
                k.residual.entry(cx.pid).or_default().extend(kept);
            }
        }
    }
}
