//! Exec arguments and environment: what an exec-time migration carries instead of the
//! address space (TH §4.2; SPE Table 1 "transfer exec arguments", 480 KB/s). The target
//! starts the new image with a fresh address space and, before the process resumes,
//! discards the old image's backing file at the server; the source keeps the old image
//! until then, so a migration refused or aborted before MIG_STATE leaves it untouched.

use super::{Cx, MigrationModule, Rpc};
use crate::kernel::{Kernel, Pcb};
use crate::msg::{FileReq, MigKind, Msg, Node};
use serde::{Deserialize, Serialize};

pub struct ExecModule;

/// Upper bound on the arguments carried, so a buffer always fits one message.
pub const MAX_EXEC_ARGS: u32 = 16 * 1024;

#[derive(Serialize, Deserialize)]
pub struct ExecState {
    args: Vec<u8>,
    /// The old image has a backing file on the server, to be discarded.
    old_backing: bool,
}

impl MigrationModule for ExecModule {
    const TOKEN: u8 = 2;
    const NAME: &'static str = "exec";
    type State = ExecState;

    fn needed_for(kind: MigKind) -> bool {
        kind == MigKind::Exec
    }

    fn encapsulate(k: &mut Kernel, cx: &Cx) -> ExecState {
        ExecState {
            args: vec![0x41; k.cfg.exec_args_bytes.min(MAX_EXEC_ARGS) as usize],
            old_backing: k.procs.get(&cx.pid).is_some_and(|p| p.vm.has_backing),
        }
    }

    fn deencapsulate(_k: &mut Kernel, _pcb: &mut Pcb, st: ExecState, cx: &Cx) -> Vec<Rpc> {
        if !st.old_backing {
            return Vec::new();
        }
        vec![Rpc {
            token: Self::TOKEN,
            to: Node::Server,
            msg: Msg::FileOp {
                pid: cx.pid,
                req: FileReq::DiscardBacking { pid: cx.pid },
            },
            await_reply: true,
        }]
    }
}
