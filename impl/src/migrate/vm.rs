//! Virtual memory (SPE "Virtual Memory Transfer"). Sprite's strategy: flush dirty pages to
//! the backing file on the file server, send no pages, let the target demand-page. The
//! alternatives the paper weighs are selectable: full copy (LOCUS, Charlotte), pre-copy
//! (V), copy-on-reference (Accent; leaves pages on the source: a residual dependency).

use super::{Cx, MigrationModule, Rpc};
use crate::kernel::{Kernel, Note, Pcb};
use crate::msg::{MigKind, Msg, Node};
use crate::vm::{Page, Vm};
use serde::{Deserialize, Serialize};
use vocab::{PageNo, Switch, VmStrategy};

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
                let all =
                    p.vm.resident()
                        .into_iter()
                        .map(|(pg, s, _)| (pg, s))
                        .collect();
                (all, Node::Host(cx.to), true)
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
            let sym = buf
                .iter()
                .find(|(p, _)| *p == page)
                .map(|(_, s)| *s)
                .unwrap_or(0);
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
