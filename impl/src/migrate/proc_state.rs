//! Process and execution state: parent, address-space size, and the properties that make a
//! process immovable (SPE "Mechanics of Migration": shared writable memory, mapped devices).

use super::{Cx, MigrationModule};
use crate::kernel::{Kernel, Pcb, Pending};
use crate::msg::MigKind;
use crate::vm::Vm;
use serde::{Deserialize, Serialize};
use vocab::{Pid, Refusal};

pub struct ProcModule;

#[derive(Serialize, Deserialize)]
pub struct ProcState {
    parent: Option<Pid>,
    pages: u8,
    shares_memory: bool,
    maps_device: bool,
    /// Blocked in wait (an eviction may move it; the answer comes from the home).
    waiting: bool,
    /// The arguments its program was started with.
    args: Vec<String>,
    /// Its process group (Sprite's family id travels in the PCB [SRC procMigrate.c]).
    pgrp: Pid,
}

impl MigrationModule for ProcModule {
    const TOKEN: u8 = 1;
    const NAME: &'static str = "proc";
    type State = ProcState;

    fn needed_for(_kind: MigKind) -> bool {
        true
    }

    fn prepare(_k: &Kernel, pcb: &Pcb, _cx: &Cx) -> Result<(), Refusal> {
        // Also at exec: the check comes before the old image is given up, and a refused
        // exec-time migration leaves the process as it was (REFUSE, as in the model).
        if pcb.shares_memory {
            return Err(Refusal::SharedMemory);
        }
        if pcb.maps_device {
            return Err(Refusal::MapsDevice);
        }
        Ok(())
    }

    fn encapsulate(k: &mut Kernel, cx: &Cx) -> ProcState {
        let p = k.procs.get(&cx.pid);
        ProcState {
            parent: p.and_then(|p| p.parent),
            pages: p.map(|p| p.vm.pages.len() as u8).unwrap_or(0),
            shares_memory: p.is_some_and(|p| p.shares_memory),
            maps_device: p.is_some_and(|p| p.maps_device),
            waiting: p.is_some_and(|p| p.pending == Some(Pending::Wait)),
            args: p.map(|p| p.args.clone()).unwrap_or_default(),
            pgrp: p.map_or(cx.pid, |p| p.pgrp),
        }
    }

    fn deencapsulate(_k: &mut Kernel, pcb: &mut Pcb, st: ProcState, _cx: &Cx) -> Vec<super::Rpc> {
        pcb.parent = st.parent;
        pcb.shares_memory = st.shares_memory;
        pcb.maps_device = st.maps_device;
        pcb.args = st.args;
        pcb.pgrp = st.pgrp;
        // A fresh address space; the VM module (if it takes part) replaces it.
        pcb.vm = Vm::new(st.pages);
        if st.waiting {
            pcb.pending = Some(Pending::Wait);
        }
        Vec::new()
    }
}
