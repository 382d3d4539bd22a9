//! Exec arguments and environment: what an exec-time migration carries instead of the
//! address space (TH §4.2; SPE Table 1 "transfer exec arguments", 480 KB/s).

use super::{Cx, MigrationModule, Rpc};
use crate::kernel::{Kernel, Pcb};
use crate::msg::MigKind;
use serde::{Deserialize, Serialize};

pub struct ExecModule;

/// Upper bound on the arguments carried, so a buffer always fits one message.
pub const MAX_EXEC_ARGS: u32 = 16 * 1024;

#[derive(Serialize, Deserialize)]
pub struct ExecState {
    args: Vec<u8>,
}

impl MigrationModule for ExecModule {
    const TOKEN: u8 = 2;
    const NAME: &'static str = "exec";
    type State = ExecState;

    fn needed_for(kind: MigKind) -> bool {
        kind == MigKind::Exec
    }

    fn encapsulate(k: &mut Kernel, _cx: &Cx) -> ExecState {
        ExecState {
            args: vec![0x41; k.cfg.exec_args_bytes.min(MAX_EXEC_ARGS) as usize],
        }
    }

    fn deencapsulate(_k: &mut Kernel, _pcb: &mut Pcb, _st: ExecState, _cx: &Cx) -> Vec<Rpc> {
        Vec::new()
    }
}
