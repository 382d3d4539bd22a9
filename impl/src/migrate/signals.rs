//! Signal state: the counter of signals received. Signals that arrive while the process
//! moves are held by the home and delivered after HOME_UPDATE (SIG).

use super::{Cx, MigrationModule, Rpc};
use crate::kernel::{Kernel, Pcb};
use crate::msg::MigKind;
use serde::{Deserialize, Serialize};

pub struct SignalsModule;

#[derive(Serialize, Deserialize)]
pub struct SignalState {
    count: u32,
}

impl MigrationModule for SignalsModule {
    const TOKEN: u8 = 5;
    const NAME: &'static str = "signals";
    type State = SignalState;

    fn needed_for(_kind: MigKind) -> bool {
        true
    }

    fn encapsulate(k: &mut Kernel, cx: &Cx) -> SignalState {
        SignalState {
            count: k.procs.get(&cx.pid).map(|p| p.signals).unwrap_or(0),
        }
    }

    fn deencapsulate(_k: &mut Kernel, pcb: &mut Pcb, st: SignalState, _cx: &Cx) -> Vec<Rpc> {
        pcb.signals = pcb.signals.saturating_add(st.count);
        Vec::new()
    }
}
