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
    /// The arguments and environment, as bytes: the scenario's `exec_args`, each ended by
    /// a NUL as in an argument vector, or `exec_args_bytes` of filler.
    args: Vec<u8>,
    /// `args` are real arguments, which the new program records.
    real: bool,
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
        let (args, real) = match &k.cfg.exec_args {
            Some(list) => (encode_args(list), true),
            None => (
                vec![0x41; k.cfg.exec_args_bytes.min(MAX_EXEC_ARGS) as usize],
                false,
            ),
        };
        ExecState {
            args,
            real,
            old_backing: k.procs.get(&cx.pid).is_some_and(|p| p.vm.has_backing),
        }
    }

    fn deencapsulate(_k: &mut Kernel, pcb: &mut Pcb, st: ExecState, cx: &Cx) -> Vec<Rpc> {
        // What arrived is what the new program starts with (modules after `proc` run
        // later, so this replaces the old image's arguments).
        pcb.args = if st.real {
            decode_args(&st.args)
        } else {
            Vec::new()
        };
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

/// An argument vector as the bytes an exec carries: each argument ended by a NUL.
pub fn encode_args(list: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in list {
        out.extend_from_slice(a.as_bytes());
        out.push(0);
    }
    out
}

/// The arguments back from [`encode_args`]' bytes (a final piece without its NUL counts).
pub fn decode_args(bytes: &[u8]) -> Vec<String> {
    let body = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if body.is_empty() && bytes.len() <= 1 {
        return if bytes.is_empty() {
            Vec::new()
        } else {
            vec![String::new()]
        };
    }
    body.split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_survive_the_trip() {
        for list in [
            vec![],
            vec![String::new()],
            vec!["cc".to_string(), "-c".into(), "x.c".into()],
            vec!["a".to_string(), String::new(), "b".into()],
        ] {
            assert_eq!(decode_args(&encode_args(&list)), list, "{list:?}");
        }
    }
}
