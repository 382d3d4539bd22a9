//! The `wait-on-current` alternative's exit/wait rendezvous, which lives on the host where
//! the parent runs and so moves with it: its children's exit statuses not yet collected,
//! and the children it still waits for. In Sprite's design the rendezvous is at the home
//! and this module has nothing to send, so its part of the MIG_STATE buffer is left out.

use super::{Cx, MigrationModule, Rpc};
use crate::kernel::{Kernel, LocalRdv, Pcb};
use crate::msg::MigKind;
use vocab::Pid;

pub struct RendezvousModule;

impl MigrationModule for RendezvousModule {
    const TOKEN: u8 = 6;
    const NAME: &'static str = "rendezvous";
    type State = Vec<(Pid, LocalRdv)>;

    fn needed_for(_kind: MigKind) -> bool {
        true
    }

    fn omit(st: &Self::State) -> bool {
        st.is_empty()
    }

    fn encapsulate(k: &mut Kernel, cx: &Cx) -> Self::State {
        k.local_rdv
            .iter()
            .filter(|(_, r)| r.parent == cx.pid)
            .map(|(c, r)| (*c, r.clone()))
            .collect()
    }

    fn deencapsulate(k: &mut Kernel, _pcb: &mut Pcb, st: Self::State, _cx: &Cx) -> Vec<Rpc> {
        k.local_rdv.extend(st);
        Vec::new()
    }

    /// Once the target has the process, the source keeps nothing of its rendezvous (an
    /// exit status arriving later is sent on while the source still knows the target,
    /// `Kernel::child_exit`).
    fn finish(k: &mut Kernel, cx: &Cx, ok: bool) {
        if ok {
            k.local_rdv.retain(|_, r| r.parent != cx.pid);
        }
    }
}
