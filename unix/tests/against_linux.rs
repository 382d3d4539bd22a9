//! The one-machine Unix (`unix::Unix`) checked against the real Linux kernel.
//!
//! Transparency (TR) is defined relative to `unix::Unix`, so that reference must itself
//! behave like a real Unix. Each case here runs one sequence of file, pipe and
//! process-group operations twice: on `Unix`, and on Linux in a fresh temporary directory.
//! It compares every result, step by step, and after every step the whole observable
//! state: which descriptors each process holds, each descriptor's access position (or, for
//! a pipe end, how many bytes the pipe holds) and access mode, each process's process group
//! and the number of signals it received, which names exist and what the named files
//! contain.
//!
//! # How the model is mapped onto Linux
//!
//! * Names: `FileName(n)` (`/fn` in the model) is `<tmpdir>/f<n>`.
//! * Operations: `open` is `open(2)` with `O_RDONLY`/`O_WRONLY`/`O_RDWR`, plus `O_CREAT`
//!   (mode 0644) when `create` (never `O_TRUNC` or `O_EXCL`: the model has neither); `read`
//!   and `write` move one byte (the model's symbols are bytes); `lseek` is
//!   `lseek(fd, pos, SEEK_SET)`; `close`, `unlink` and `dup` are themselves. Results map to
//!   `Fd`, `Data(Some(b))` (one byte read), `Data(None)` (end of file), `Pos`, `Unit`, and
//!   errors map to `ENOENT`, `EBADF`, `EINVAL`, `EMFILE`, `EFBIG`, `EAGAIN`, `EPIPE`,
//!   `ESPIPE`, `EPERM`, `ESRCH` by errno; any other errno or return value is a
//!   disagreement.
//! * Pipes: `pipe` is `pipe2(fds, O_NONBLOCK)` (the model's pipes never block: an empty
//!   pipe with a writer left is `EAGAIN`); p0 ignores SIGPIPE, so a write without readers
//!   is `EPIPE` as in the model; a pipe's contents are compared by count (`FIONREAD`) after
//!   each step and symbol by symbol through the reads.
//! * Process groups: p0 starts by making its own group (`setpgid(0, 0)`), as the model's
//!   initial process leads its own. A model pid `p0.k` names the real pid of the case's
//!   k-th process; a pid no process of the case has (`p0.3` before a third fork, `p1.0`:
//!   another home) becomes a number above Linux's largest pid, which no group has. `getpgrp`,
//!   `setpgid(0, g)` and `killpg(g, SIGRTMIN)` are themselves. Signals are counted by a
//!   handler in each process (a real-time signal, so that Linux queues each one instead of
//!   merging those not yet delivered; a forked child starts from zero). A process that
//!   sends to its own group runs the handler before the call returns; another member has
//!   the signal pending before the test sends it the next request, and handles it before
//!   that request: the counts compared after each step are exact, not timing-dependent.
//! * Processes: every process of a case is a real process. p0 is a fresh child of the test
//!   process, and the model's `fork` (by p0 or by a process forked from it) is a real
//!   `libc::fork()` by that process. Each runs a small server loop: it reads a request from
//!   a pipe, performs the system call in its own descriptor table and writes the result
//!   back. The processes of a case use only async-signal-safe system calls (`read`,
//!   `write`, `open`, `lseek`, `close`, `unlink`, `dup`, `fcntl`, `fstat`, `ioctl`, `pipe2`,
//!   `getpgrp`, `setpgid`, `killpg`, `sigaction`, `fork`, `waitpid`, `_exit`), do not
//!   allocate, cannot panic and never return into the test harness, which
//!   makes forking the multi-threaded test process safe. So the sharing of an access
//!   position between parent and child is the kernel's own, not an imitation (it is the
//!   same shared open file description that `dup` gives).
//! * Descriptor numbers: p0 starts by reserving a window of `WINDOW` consecutive free
//!   descriptors in its own table, starting at `base`, the lowest free one (any lower hole
//!   is plugged with a `/dev/null` placeholder). No thread of the test harness can touch
//!   that table, so Linux's lowest-free rule then hands out `base + n` exactly when the
//!   model hands out `Fd(n)`: the test compares descriptor *numbers*, not only success. The
//!   table from model `Fd(n)` to real descriptor is `base + n`, also for a descriptor the
//!   model says is closed (so `EBADF` is Linux's answer too, not assumed). Forked processes
//!   inherit the window, as the model's children inherit descriptors. Cases are
//!   independent (own directory, own processes) and may run in parallel.
//! * End of a case: the processes exit newest first, each reaping those it forked, so all
//!   real descriptors of the case are closed; the test reaps p0 and closes its pipes; the
//!   temporary directory removes itself. No timing is asserted anywhere (a 60 s wait for an
//!   answer only turns a lost process into a failure instead of a hang).
//!
//! # Model-only steps: the model's documented bounds
//!
//! The model bounds a process to [`unix::MAX_FDS`] descriptors (`EMFILE`; a pipe needs
//! two), a file to [`vocab::MAX_FILE_LEN`] symbols (`EFBIG` for a write at or past it,
//! `EINVAL` for an lseek past it) and a pipe to [`vocab::PIPE_CAPACITY`] symbols (`EAGAIN`
//! for a write to a full pipe). Linux has none of these bounds at these sizes. The
//! generator produces such calls on purpose; when the model answers with one of these
//! errors the test checks, on Linux, that the bound is really what the call hit (the
//! process holds `MAX_FDS` descriptors, or more than `MAX_FDS - 2` for a pipe; the
//! descriptor is open for writing at a position `>= MAX_FILE_LEN`; the descriptor is open
//! and the target position is past the bound; the pipe behind the write end holds
//! `PIPE_CAPACITY` bytes), and does *not* run the
//! call on Linux, so that both sides stay in the same state. Every other error the model
//! returns must be Linux's error.
//!
//! # What is generated, and the harness's limits
//!
//! 1024 cases from a fixed seed. A case is: each of /f0, /f1 absent or holding up to
//! `MAX_FILE_LEN` bytes beforehand, an open with create or a pipe by p0, then up to 19
//! calls among open (with and without create; r, w, rw), read, write, lseek (to
//! 0..=MAX_FILE_LEN + 1), close, unlink, dup, fork, pipe, getpgrp, setpgid and killpg, by
//! p0..p3, on descriptors 0..=MAX_FDS. Generated process numbers are taken modulo the
//! processes that exist at that point, and most generated descriptors are mapped onto
//! descriptors the process holds (a read or write onto one open for it), most generated
//! process groups onto the case's processes (see `normalize`); the rest stay literal, so
//! closed descriptors and groups nobody is in are used too. At most `MAX_PROCS` processes
//! (p0..p3) per case: a fork beyond that (or, in a hand-written case, a call by a process
//! not forked yet) is skipped on both sides and shown as skipped. A tally of what the
//! generated steps exercised is printed (`--nocapture`) and each kind must occur.
//!
//! The model's other operations (exec, exit, wait, kill, memory, migrate) are not
//! compared here: this file checks the file system, pipe, descriptor and process-group
//! semantics that TR's file invariants (DEL, OFF, CONS) and killpg's SIG rest on. With no
//! exit here, no case has a zombie: the ghost's one departure from Unix in process groups
//! (a zombie is no member) is not exercised.
//!
//! Failure persistence of proptest is disabled: the random sequence is derived from a
//! fixed seed, so a failure reproduces by running the test again; and CI runs in a fresh
//! clone, where a persistence file would not survive anyway. A failure prints the whole
//! sequence with both sides' results.
#![cfg(target_os = "linux")]

use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed};
use std::ffi::CString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;
use unix::{Unix, MAX_FDS};
use vocab::outcome::show;
use vocab::{Errno, Fd, FileName, Mode, Op, Outcome, Pid, Value, MAX_FILE_LEN, PIPE_CAPACITY};

/// File names the generator uses: /f0, /f1.
const NAMES: u8 = 2;
/// Reserved descriptor numbers per case: `base .. base + WINDOW`.
const WINDOW: i32 = 8;
/// Processes per case: p0 and up to three processes forked from it or its children.
const MAX_PROCS: usize = 4;
/// A guard against a hang if a process of the case died (never a timing assertion): how
/// long the test waits for an answer before it reports the process as lost.
const ANSWER_TIMEOUT_MS: i32 = 60_000;

// ---------------------------------------------------------------------------------------
// The Linux side: each process of a case is a real process serving requests over pipes.
// ---------------------------------------------------------------------------------------

const K_OPEN: i32 = 1;
const K_READ: i32 = 2;
const K_WRITE: i32 = 3;
const K_LSEEK: i32 = 4;
const K_CLOSE: i32 = 5;
const K_UNLINK: i32 = 6;
const K_DUP: i32 = 7;
const K_FORK: i32 = 8;
/// Position (`lseek(fd, 0, SEEK_CUR)`) and access mode of every descriptor in the window.
const K_PROBE: i32 = 9;
/// Reap own children, answer, `_exit(0)`.
const K_EXIT: i32 = 10;
/// `pipe2(O_NONBLOCK)`: the read end is the return value, the write end `aux`.
const K_PIPE: i32 = 11;
const K_GETPGRP: i32 = 12;
/// `lseek(fd, arg, SEEK_CUR)`.
const K_LSEEK_CUR: i32 = 15;
/// `setpgid(0, arg)`.
const K_SETPGID: i32 = 13;
/// `killpg(arg, SIGRTMIN)`.
const K_KILLPG: i32 = 14;
/// `stat(name)`: the size in `aux`.
const K_STAT: i32 = 16;

/// One system call to perform. For `K_OPEN`, `fd` carries the flags; `arg` is the name,
/// the symbol, the position or (for `K_FORK`) the new process's number.
#[derive(Clone, Copy, Debug)]
struct Req {
    kind: i32,
    fd: i32,
    arg: i32,
}

const REQ_BYTES: usize = 12;

impl Req {
    fn new(kind: i32, fd: i32, arg: i32) -> Req {
        Req { kind, fd, arg }
    }

    fn encode(self) -> [u8; REQ_BYTES] {
        let mut b = [0u8; REQ_BYTES];
        b[0..4].copy_from_slice(&self.kind.to_ne_bytes());
        b[4..8].copy_from_slice(&self.fd.to_ne_bytes());
        b[8..12].copy_from_slice(&self.arg.to_ne_bytes());
        b
    }

    fn decode(b: &[u8; REQ_BYTES]) -> Req {
        let word = |i: usize| i32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Req::new(word(0), word(4), word(8))
    }
}

/// `[return value, errno (if the return value is negative), byte read, aux (pipe's write
/// end), signals counted, process group, then for each descriptor of the window: position
/// (-1 if closed or a pipe), access mode (-1 if closed), bytes in the pipe (-1 if closed or
/// not a pipe)]`. p0's first message carries `base` as its return value.
const REPLY_LEN: usize = R_FDS + 3 * WINDOW as usize;
const R_BYTE: usize = 2;
const R_AUX: usize = 3;
const R_SIGNALS: usize = 4;
const R_PGID: usize = 5;
const R_FDS: usize = 6;
const REPLY_BYTES: usize = REPLY_LEN * 8;
type Reply = [i64; REPLY_LEN];

fn encode_reply(r: &Reply) -> [u8; REPLY_BYTES] {
    let mut b = [0u8; REPLY_BYTES];
    for (chunk, v) in b.chunks_exact_mut(8).zip(r.iter()) {
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    b
}

fn decode_reply(b: &[u8; REPLY_BYTES]) -> Reply {
    let mut r = [0i64; REPLY_LEN];
    for (v, chunk) in r.iter_mut().zip(b.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        *v = i64::from_ne_bytes(w);
    }
    r
}

/// The two pipes between the test and one process of the case: requests go down `cmd`,
/// answers come up `rep`.
#[derive(Clone, Copy, Debug)]
struct Pipes {
    cmd_r: i32,
    cmd_w: i32,
    rep_r: i32,
    rep_w: i32,
}

/// What a process of the case needs to serve requests: built before p0 is forked, so
/// every process of the case has a copy (and `base` once p0 has chosen it).
#[derive(Clone, Copy, Debug)]
struct Ctx {
    paths: [*const libc::c_char; NAMES as usize],
    base: i32,
    slots: [Pipes; MAX_PROCS],
    /// The signal `killpg` sends: a real-time one, so that Linux queues each sending
    /// instead of merging those not yet delivered (the model counts every signal).
    sig: i32,
}

/// Signals the process of the case has received (each process has its own copy; a forked
/// child starts from zero, as the model's does).
static SIGNALS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

fn set_errno(e: i32) {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = e }
}

/// Reads exactly `buf.len()` bytes; false on end of file or error. Async-signal-safe.
fn read_full(fd: i32, buf: &mut [u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is a valid writable buffer of the given length.
        let n = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), rest.len()) };
        if n > 0 {
            done += n as usize;
        } else if n < 0 && errno() == libc::EINTR {
            continue;
        } else {
            return false;
        }
    }
    true
}

/// Writes all of `buf`; false on error. Async-signal-safe.
fn write_full(fd: i32, buf: &[u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        let rest = &buf[done..];
        // SAFETY: `rest` is a valid readable buffer of the given length.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n > 0 {
            done += n as usize;
        } else if n < 0 && errno() == libc::EINTR {
            continue;
        } else {
            return false;
        }
    }
    true
}

fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD on any integer is harmless.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

fn close(fd: i32) {
    // SAFETY: closes a descriptor this harness opened.
    unsafe {
        libc::close(fd);
    }
}

fn exit_now(status: i32) -> ! {
    // SAFETY: _exit ends a process of the case without running any destructor or
    // returning into the test harness.
    unsafe { libc::_exit(status) }
}

/// Performs one request in the calling process (a process of the case) and returns the
/// raw result.
///
/// Runs in forked children of the multi-threaded test process, so: async-signal-safe
/// system calls only, no allocation, nothing that can panic. A fork request forks here;
/// the new process serves its own pipes and never returns.
fn execute(ctx: &Ctx, req: Req) -> Reply {
    let mut r: Reply = [0; REPLY_LEN];
    let path = |n: i32| match ctx.paths.get(n as usize) {
        Some(p) => *p,
        None => std::ptr::null(),
    };
    // SAFETY: plain system calls on integers and on buffers that live across each call;
    // the paths point at NUL-terminated strings that outlive the case (every process of
    // the case has a copy of the test's memory).
    let ret: i64 = unsafe {
        match req.kind {
            K_OPEN if !path(req.arg).is_null() => {
                libc::open(path(req.arg), req.fd, 0o644 as libc::c_uint) as i64
            }
            K_READ => {
                let mut b = 0u8;
                let n = libc::read(req.fd, (&mut b as *mut u8).cast(), 1);
                r[R_BYTE] = b as i64;
                n as i64
            }
            K_WRITE => {
                let b = req.arg as u8;
                libc::write(req.fd, (&b as *const u8).cast(), 1) as i64
            }
            K_LSEEK => libc::lseek(req.fd, req.arg as libc::off_t, libc::SEEK_SET),
            K_LSEEK_CUR => libc::lseek(req.fd, req.arg as libc::off_t, libc::SEEK_CUR),
            K_CLOSE => libc::close(req.fd) as i64,
            K_UNLINK if !path(req.arg).is_null() => libc::unlink(path(req.arg)) as i64,
            K_STAT if !path(req.arg).is_null() => {
                let mut st: libc::stat = std::mem::zeroed();
                let rc = libc::stat(path(req.arg), &mut st);
                r[R_AUX] = st.st_size as i64;
                rc as i64
            }
            K_DUP => libc::dup(req.fd) as i64,
            K_PROBE => {
                r[R_SIGNALS] = SIGNALS.load(std::sync::atomic::Ordering::SeqCst);
                r[R_PGID] = libc::getpgrp() as i64;
                for i in 0..WINDOW as usize {
                    let fd = ctx.base + i as i32;
                    let slot = R_FDS + 3 * i;
                    let flags = libc::fcntl(fd, libc::F_GETFL);
                    r[slot..slot + 3].copy_from_slice(&[-1, -1, -1]);
                    if flags >= 0 {
                        let mut st: libc::stat = std::mem::zeroed();
                        let fifo = libc::fstat(fd, &mut st) == 0
                            && st.st_mode & libc::S_IFMT == libc::S_IFIFO;
                        let mut queued: libc::c_int = 0;
                        if fifo && libc::ioctl(fd, libc::FIONREAD, &mut queued) == 0 {
                            r[slot + 2] = queued as i64;
                        } else {
                            r[slot] = libc::lseek(fd, 0, libc::SEEK_CUR);
                        }
                        r[slot + 1] = (flags & libc::O_ACCMODE) as i64;
                    }
                }
                0
            }
            K_FORK if (1..MAX_PROCS as i32).contains(&req.arg) => {
                let pid = libc::fork();
                if pid == 0 {
                    SIGNALS.store(0, std::sync::atomic::Ordering::SeqCst);
                    serve(ctx, req.arg as usize);
                }
                pid as i64
            }
            K_PIPE => {
                let mut fds = [-1; 2];
                let ret = libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK);
                r[R_AUX] = fds[1] as i64;
                if ret == 0 {
                    fds[0] as i64
                } else {
                    ret as i64
                }
            }
            K_GETPGRP => libc::getpgrp() as i64,
            K_SETPGID => libc::setpgid(0, req.arg) as i64,
            K_KILLPG => libc::killpg(req.arg, ctx.sig) as i64,
            _ => {
                set_errno(libc::EINVAL);
                -1
            }
        }
    };
    r[0] = ret;
    if ret < 0 {
        r[1] = errno() as i64;
    }
    r
}

/// The life of a process of the case: answer requests on pipe pair `slot` until told to
/// exit. Never returns.
fn serve(ctx: &Ctx, slot: usize) -> ! {
    let Some(p) = ctx.slots.get(slot).copied() else {
        exit_now(2)
    };
    loop {
        let mut buf = [0u8; REQ_BYTES];
        if !read_full(p.cmd_r, &mut buf) {
            exit_now(3)
        }
        let req = Req::decode(&buf);
        if req.kind == K_EXIT {
            // Processes forked from this one were told to exit first; reap them.
            // SAFETY: waitpid with a null status pointer is allowed.
            while unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) } > 0 {}
            write_full(p.rep_w, &encode_reply(&[0; REPLY_LEN]));
            exit_now(0)
        }
        let r = execute(ctx, req);
        if !write_full(p.rep_w, &encode_reply(&r)) {
            exit_now(4)
        }
    }
}

/// p0's start: lead a process group of its own (the model's initial process leads its
/// group), count `ctx.sig` with a handler, ignore SIGPIPE (a write without readers is
/// then `EPIPE`, as in the model); reserve the window in its own descriptor table (the
/// lowest free descriptor with `WINDOW - 1` free ones after it, plugging any hole below
/// with a `/dev/null` placeholder held for p0's life), report `base`, then serve.
fn serve_first(ctx: &Ctx) -> ! {
    let mut ctx = *ctx;
    // SAFETY: plain system calls in the new process; the handler only adds to an atomic.
    unsafe {
        if libc::setpgid(0, 0) != 0 {
            exit_now(6)
        }
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as usize;
        act.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        if libc::sigaction(ctx.sig, &act, std::ptr::null_mut()) != 0 {
            exit_now(7)
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let base = loop {
        // SAFETY: opening /dev/null; kept as a placeholder or closed below.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY) };
        if fd < 0 {
            exit_now(5)
        }
        if (fd + 1..fd + WINDOW).all(|n| !is_open(n)) {
            close(fd);
            break fd;
        }
    };
    ctx.base = base;
    let mut r = [0; REPLY_LEN];
    r[0] = base as i64;
    if !write_full(ctx.slots[0].rep_w, &encode_reply(&r)) {
        exit_now(4)
    }
    serve(&ctx, 0)
}

/// The Linux side of one case.
struct Linux {
    dir: tempfile::TempDir,
    /// Keeps the strings `ctx.paths` points at alive.
    _paths: Vec<CString>,
    ctx: Ctx,
    /// The real pid of each process of the case, p0 first.
    pids: Vec<libc::pid_t>,
    finished: bool,
}

impl Linux {
    /// A fresh temporary directory holding the initial files (`files[n]` is /f<n>), and
    /// p0, a fresh child of the test process, with its descriptor window reserved.
    fn new(files: &[Option<Vec<u8>>]) -> Result<Linux, String> {
        let dir = tempfile::Builder::new()
            .prefix("unix-against-linux-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
        for (n, data) in files.iter().enumerate() {
            if let Some(data) = data {
                std::fs::write(dir.path().join(format!("f{n}")), data)
                    .map_err(|e| format!("cannot write f{n}: {e}"))?;
            }
        }
        let paths: Vec<CString> = (0..NAMES)
            .map(|n| {
                let p = dir.path().join(format!("f{n}"));
                CString::new(p.into_os_string().into_vec()).expect("no NUL in a temp path")
            })
            .collect();
        let mut ptrs = [std::ptr::null(); NAMES as usize];
        for (slot, p) in ptrs.iter_mut().zip(&paths) {
            *slot = p.as_ptr();
        }
        let mut linux = Linux {
            dir,
            _paths: paths,
            ctx: Ctx {
                paths: ptrs,
                base: -1,
                slots: [Pipes {
                    cmd_r: -1,
                    cmd_w: -1,
                    rep_r: -1,
                    rep_w: -1,
                }; MAX_PROCS],
                sig: libc::SIGRTMIN(),
            },
            pids: Vec::new(),
            finished: false,
        };
        for k in 0..MAX_PROCS {
            let [cmd_r, cmd_w] = pipe()?;
            linux.ctx.slots[k].cmd_r = cmd_r;
            linux.ctx.slots[k].cmd_w = cmd_w;
            let [rep_r, rep_w] = pipe()?;
            linux.ctx.slots[k].rep_r = rep_r;
            linux.ctx.slots[k].rep_w = rep_w;
        }
        // SAFETY: the child runs only `serve_first`: async-signal-safe calls, no return.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!("fork: errno {}", errno()));
        }
        if pid == 0 {
            serve_first(&linux.ctx);
        }
        linux.pids.push(pid);
        // The processes of the case have these ends; the test keeps only its own.
        for s in linux.ctx.slots.iter_mut() {
            close(s.cmd_r);
            close(s.rep_w);
            s.cmd_r = -1;
            s.rep_w = -1;
        }
        let first = linux.answer(0, "p0's start")?;
        linux.ctx.base = first[0] as i32;
        Ok(linux)
    }

    fn base(&self) -> i32 {
        self.ctx.base
    }

    /// Waits for process `k`'s next answer.
    fn answer(&mut self, k: usize, what: &str) -> Result<Reply, String> {
        let p = self.ctx.slots[k];
        let mut pfd = libc::pollfd {
            fd: p.rep_r,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, ANSWER_TIMEOUT_MS) };
        let mut buf = [0u8; REPLY_BYTES];
        if ready != 1 || !read_full(p.rep_r, &mut buf) {
            return Err(format!("p{k} did not answer {what} (the process is lost)"));
        }
        Ok(decode_reply(&buf))
    }

    /// Runs a request in process `k` of the case.
    fn call(&mut self, k: usize, req: Req) -> Result<Reply, String> {
        if !write_full(self.ctx.slots[k].cmd_w, &req.encode()) {
            return Err(format!("cannot send {req:?} to p{k}: errno {}", errno()));
        }
        self.answer(k, &format!("{req:?}"))
    }

    /// The real process group standing for the model's group `pgrp` (`pids` are the model's
    /// pids of the case's processes, in the order of `self.pids`): that process's real pid,
    /// or, for a pid no process of the case has, a number above Linux's largest pid, so
    /// that no group has it.
    fn real_pgrp(&self, pids: &[Pid], pgrp: Pid) -> i32 {
        match pids.iter().position(|p| *p == pgrp) {
            Some(k) => self.pids[k],
            None => NO_SUCH_PGRP,
        }
    }

    /// The model's pid for a real process group, if it is one of the case's processes.
    fn model_pgrp(&self, pids: &[Pid], real: i64) -> Option<Pid> {
        let k = self.pids.iter().position(|p| *p as i64 == real)?;
        pids.get(k).copied()
    }

    /// Performs a model operation on Linux in process `k`.
    fn perform(&mut self, k: usize, op: &Op, pids: &[Pid]) -> Result<LinuxOutcome, String> {
        let base = self.base();
        let real = |fd: Fd| base + fd.0 as i32;
        let req = match *op {
            Op::Open { name, mode, create } => {
                let flags = access_mode(mode) | if create { libc::O_CREAT } else { 0 };
                Req::new(K_OPEN, flags, name.0 as i32)
            }
            Op::Read { fd } => Req::new(K_READ, real(fd), 0),
            Op::Write { fd, sym } => Req::new(K_WRITE, real(fd), sym as i32),
            Op::Lseek { fd, pos } => Req::new(K_LSEEK, real(fd), pos as i32),
            Op::LseekCur { fd, delta } => Req::new(K_LSEEK_CUR, real(fd), delta as i32),
            Op::Close { fd } => Req::new(K_CLOSE, real(fd), 0),
            Op::Unlink { name } => Req::new(K_UNLINK, -1, name.0 as i32),
            Op::Stat { name } => Req::new(K_STAT, -1, name.0 as i32),
            Op::Dup { fd } => Req::new(K_DUP, real(fd), 0),
            Op::Fork => Req::new(K_FORK, -1, self.pids.len() as i32),
            Op::Pipe => Req::new(K_PIPE, -1, 0),
            Op::Getpgrp => Req::new(K_GETPGRP, -1, 0),
            Op::Setpgid { pgrp } => Req::new(K_SETPGID, -1, self.real_pgrp(pids, pgrp)),
            Op::Killpg { pgrp } => Req::new(K_KILLPG, -1, self.real_pgrp(pids, pgrp)),
            ref other => return Err(format!("{other} is not an operation this test maps")),
        };
        let r = self.call(k, req)?;
        let (ret, err, byte) = (r[0], r[1] as i32, r[R_BYTE] as u8);
        if ret < 0 {
            return Ok(match errno_to_model(err) {
                Some(e) => LinuxOutcome::Same(Err(e)),
                None => LinuxOutcome::Strange(format!("errno {err}")),
            });
        }
        let fd_value = |ret: i64| {
            let n = ret - base as i64;
            if (0..WINDOW as i64).contains(&n) {
                LinuxOutcome::Same(Ok(Value::Fd(Fd(n as u8))))
            } else {
                LinuxOutcome::Strange(format!("descriptor {ret}, outside the window"))
            }
        };
        Ok(match (op, ret) {
            (Op::Open { .. } | Op::Dup { .. }, _) => fd_value(ret),
            (Op::Pipe, _) => match (fd_value(ret), fd_value(r[R_AUX])) {
                (
                    LinuxOutcome::Same(Ok(Value::Fd(read))),
                    LinuxOutcome::Same(Ok(Value::Fd(write))),
                ) => LinuxOutcome::Same(Ok(Value::Pipe { read, write })),
                _ => LinuxOutcome::Strange(format!("pipe ends {ret} and {}", r[R_AUX])),
            },
            (Op::Getpgrp, g) => match self.model_pgrp(pids, g) {
                Some(p) => LinuxOutcome::Same(Ok(Value::Pid(p))),
                None => LinuxOutcome::Strange(format!("process group {g}, not a case's")),
            },
            (Op::Setpgid { .. } | Op::Killpg { .. }, 0) => LinuxOutcome::Same(Ok(Value::Unit)),
            (Op::Read { .. }, 1) => LinuxOutcome::Same(Ok(Value::Data(Some(byte)))),
            (Op::Read { .. }, 0) => LinuxOutcome::Same(Ok(Value::Data(None))),
            (Op::Write { .. }, 1) => LinuxOutcome::Same(Ok(Value::Unit)),
            (Op::Lseek { .. } | Op::LseekCur { .. }, p) if p <= u8::MAX as i64 => {
                LinuxOutcome::Same(Ok(Value::Pos(p as u8)))
            }
            (Op::Close { .. } | Op::Unlink { .. }, 0) => LinuxOutcome::Same(Ok(Value::Unit)),
            (Op::Stat { .. }, 0) if (0..=u8::MAX as i64).contains(&r[R_AUX]) => {
                LinuxOutcome::Same(Ok(Value::Size(r[R_AUX] as u8)))
            }
            (Op::Fork, pid) => {
                self.pids.push(pid as libc::pid_t);
                LinuxOutcome::Forked(pid as libc::pid_t)
            }
            (_, ret) => LinuxOutcome::Strange(format!("return value {ret}")),
        })
    }

    /// Process `k`'s descriptors in the window (position, access mode, pipe contents),
    /// the signals it counted and its process group.
    fn probe(&mut self, k: usize) -> Result<Probe, String> {
        let r = self.call(k, Req::new(K_PROBE, -1, 0))?;
        let fds = (0..WINDOW as usize)
            .map(|i| {
                let slot = R_FDS + 3 * i;
                let (pos, acc, queued) = (r[slot], r[slot + 1], r[slot + 2]);
                (acc >= 0).then_some(FdProbe {
                    pos,
                    acc: acc as i32,
                    pipe: (queued >= 0).then_some(queued),
                })
            })
            .collect();
        Ok(Probe {
            fds,
            signals: r[R_SIGNALS],
            pgid: r[R_PGID],
        })
    }

    /// The contents of /f<n>, or None if the name does not exist.
    fn file(&self, n: u8) -> Result<Option<Vec<u8>>, String> {
        match std::fs::read(self.dir.path().join(format!("f{n}"))) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read f{n}: {e}")),
        }
    }

    /// Orderly end: the processes exit newest first, each reaping those it forked (so
    /// every real descriptor of the case is closed by its process's exit); the test reaps
    /// p0 and closes its pipe ends; the temporary directory then removes itself.
    fn finish(mut self) -> Result<(), String> {
        let mut trouble = Vec::new();
        for k in (0..self.pids.len()).rev() {
            if let Err(e) = self.call(k, Req::new(K_EXIT, -1, 0)) {
                trouble.push(e);
            }
        }
        let mut status = 0;
        // SAFETY: reaps the test's own child.
        unsafe { libc::waitpid(self.pids[0], &mut status, 0) };
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            trouble.push(format!("p0 ended with status {status:#x}"));
        }
        self.finished = true;
        self.close_pipes();
        if trouble.is_empty() {
            Ok(())
        } else {
            Err(trouble.join("; "))
        }
    }

    fn close_pipes(&mut self) {
        for p in self.ctx.slots.iter_mut() {
            for fd in [&mut p.cmd_r, &mut p.cmd_w, &mut p.rep_r, &mut p.rep_w] {
                if *fd >= 0 {
                    close(*fd);
                    *fd = -1;
                }
            }
        }
    }
}

impl Drop for Linux {
    /// On a failed case: kill every process of the case (newest first) and reap p0.
    /// (Processes forked from p1.. are then reaped by init, not by their dead parent.)
    fn drop(&mut self) {
        if !self.finished {
            for &pid in self.pids.iter().rev() {
                // SAFETY: signals a process of this case.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            if let Some(&p0) = self.pids.first() {
                // SAFETY: reaps the test's own child.
                unsafe { libc::waitpid(p0, std::ptr::null_mut(), 0) };
            }
        }
        self.close_pipes();
    }
}

fn pipe() -> Result<[i32; 2], String> {
    let mut fds = [-1; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: errno {}", errno()));
    }
    Ok(fds)
}

fn errno_to_model(e: i32) -> Option<Errno> {
    match e {
        libc::ENOENT => Some(Errno::ENOENT),
        libc::EBADF => Some(Errno::EBADF),
        libc::EINVAL => Some(Errno::EINVAL),
        libc::EMFILE => Some(Errno::EMFILE),
        libc::EFBIG => Some(Errno::EFBIG),
        libc::EAGAIN => Some(Errno::EAGAIN),
        libc::EPIPE => Some(Errno::EPIPE),
        libc::ESPIPE => Some(Errno::ESPIPE),
        libc::EPERM => Some(Errno::EPERM),
        libc::ESRCH => Some(Errno::ESRCH),
        _ => None,
    }
}

/// A process group no process has: above Linux's largest possible pid (`PID_MAX_LIMIT`,
/// 2^22), so `setpgid` to it is `EPERM` and `killpg` of it `ESRCH`.
const NO_SUCH_PGRP: i32 = 1 << 30;

/// One descriptor of the window as Linux reports it.
#[derive(Clone, Copy, Debug)]
struct FdProbe {
    /// The access position (-1 for a pipe: `lseek` fails with ESPIPE).
    pos: i64,
    acc: i32,
    /// For a pipe end: the bytes in the pipe (`FIONREAD`).
    pipe: Option<i64>,
}

/// What a probe of one process reports.
#[derive(Clone, Debug)]
struct Probe {
    fds: Vec<Option<FdProbe>>,
    signals: i64,
    pgid: i64,
}

fn access_mode(mode: Mode) -> i32 {
    match mode {
        Mode::Read => libc::O_RDONLY,
        Mode::Write => libc::O_WRONLY,
        Mode::ReadWrite => libc::O_RDWR,
    }
}

/// What Linux answered, in the model's terms where it has them.
#[derive(Debug)]
enum LinuxOutcome {
    Same(Outcome),
    Forked(libc::pid_t),
    /// A return value or errno the model has no name for.
    Strange(String),
}

impl fmt::Display for LinuxOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinuxOutcome::Same(o) => f.write_str(&show(o)),
            LinuxOutcome::Forked(pid) => write!(f, "forked (real pid {pid})"),
            LinuxOutcome::Strange(s) => write!(f, "{s}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cases: sequences of calls, run on both sides.
// ---------------------------------------------------------------------------------------

/// One operation by process `p<proc>` of the case (p0 is the first process, p1.. are the
/// processes forked from it or from each other, numbered in the order they were forked).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Call {
    proc: u8,
    op: Op,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}: {}", self.proc, self.op)
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The files that exist before a case: `files[n]` is the contents of /f<n>, or None.
type Files = Vec<Option<Vec<u8>>>;

fn show_files(files: &[Option<Vec<u8>>]) -> String {
    let shown: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(n, d)| match d {
            Some(d) => format!("{} = {d:?}", FileName(n as u8)),
            None => format!("{} absent", FileName(n as u8)),
        })
        .collect();
    if shown.is_empty() {
        "no files".into()
    } else {
        shown.join(", ")
    }
}

/// A generated case; its Debug form (which proptest prints for the minimal failing case)
/// is the initial files, then one numbered call per line.
#[derive(Clone)]
struct Case {
    files: Files,
    calls: Vec<Call>,
    /// Whether each call's descriptor is a pipe end when it runs (for the tally).
    on_pipe: Vec<bool>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "initially {}; {} calls:",
            show_files(&self.files),
            self.calls.len()
        )?;
        for (i, c) in self.calls.iter().enumerate() {
            writeln!(f, "  {:2}. {c}", i + 1)?;
        }
        Ok(())
    }
}

/// The report of a disagreement: the whole sequence, each step with both results.
fn report(
    files: &[Option<Vec<u8>>],
    calls: &[Call],
    lines: &[String],
    at: usize,
    why: &str,
) -> String {
    let mut s = format!(
        "unix::Unix and Linux disagree at step {} (each p<n> is a real process, each fork a \
         real fork); initially {}:\n",
        at + 1,
        show_files(files)
    );
    for (i, c) in calls.iter().enumerate() {
        let call = format!("{:2}. {c}", i + 1);
        let mark = if i == at { ">" } else { " " };
        let result = match lines.get(i) {
            Some(l) => l.clone(),
            None if i == at => "(failed)".to_string(),
            None => "(not run)".to_string(),
        };
        s += &format!("{mark} {call:<34} {result}\n");
        if i == at {
            s += &format!("      DISAGREEMENT: {why}\n");
        }
    }
    s
}

/// Runs `calls` on a fresh `Unix` and on Linux; returns the model's outcome of each call
/// (None for a skipped call), or the whole sequence with the first disagreement.
fn run(calls: &[Call]) -> Result<Vec<Option<Outcome>>, String> {
    run_with(&[], calls)
}

/// As [`run`], with files that exist before the first call.
fn run_with(files: &[Option<Vec<u8>>], calls: &[Call]) -> Result<Vec<Option<Outcome>>, String> {
    run_from(initial_model(files), files, calls)
}

fn initial_model(files: &[Option<Vec<u8>>]) -> Unix {
    let mut model = Unix::new();
    for (n, data) in files.iter().enumerate() {
        if let Some(data) = data {
            model.add_file(FileName(n as u8), data.clone());
        }
    }
    model
}

/// As [`run_with`], from a given model state (the harness's self-test seeds a wrong one).
fn run_from(
    mut model: Unix,
    files: &[Option<Vec<u8>>],
    calls: &[Call],
) -> Result<Vec<Option<Outcome>>, String> {
    let mut linux = Linux::new(files)?;
    let p0 = Pid::new(0, 0);
    model.add_process(p0, 0);
    let mut pids = vec![p0];
    let mut lines: Vec<String> = Vec::new();
    let mut outcomes = Vec::new();

    for (i, call) in calls.iter().enumerate() {
        let fail = |lines: &[String], why: String| report(files, calls, lines, i, &why);
        let k = call.proc as usize;
        let Some(&pid) = pids.get(k) else {
            lines.push(format!("skipped: p{k} not forked yet"));
            outcomes.push(None);
            continue;
        };
        if call.op == Op::Fork && pids.len() >= MAX_PROCS {
            lines.push(format!(
                "skipped: the harness runs at most {MAX_PROCS} processes"
            ));
            outcomes.push(None);
            continue;
        }

        // What the model says; the bounds first (the call is then not run on Linux).
        let m = model
            .apply(pid, &call.op)
            .outcome
            .ok_or_else(|| fail(&lines, "the model blocked on a file operation".into()))?;
        let bound = match (&call.op, &m) {
            (Op::Open { .. } | Op::Dup { .. } | Op::Pipe, Err(Errno::EMFILE)) => Some("MAX_FDS"),
            (Op::Write { .. }, Err(Errno::EFBIG)) => Some("MAX_FILE_LEN"),
            (Op::Write { .. }, Err(Errno::EAGAIN)) => Some("PIPE_CAPACITY"),
            (Op::Lseek { .. }, Err(Errno::EINVAL)) => Some("MAX_FILE_LEN"),
            // Forwards past the largest file; backwards before the start is Linux's
            // EINVAL too, and runs.
            (Op::LseekCur { delta, .. }, Err(Errno::EINVAL)) if *delta > 0 => Some("MAX_FILE_LEN"),
            _ => None,
        };
        let line = if let Some(bound) = bound {
            let probe = linux.probe(k).map_err(|e| fail(&lines, e))?;
            let at = |fd: Fd| probe.fds.get(fd.0 as usize).copied().flatten();
            let held = probe.fds.iter().flatten().count();
            let justified = match (call.op, m) {
                (Op::Open { .. } | Op::Dup { .. }, _) => {
                    (held == MAX_FDS as usize).then(|| format!("p{k} holds {held} descriptors"))
                }
                (Op::Pipe, _) => (held + 2 > MAX_FDS as usize)
                    .then(|| format!("p{k} holds {held} descriptors, a pipe needs 2")),
                (Op::Write { fd, .. }, Err(Errno::EFBIG)) => at(fd).and_then(|d| {
                    (d.pipe.is_none() && d.pos >= MAX_FILE_LEN as i64 && d.acc != libc::O_RDONLY)
                        .then(|| format!("Linux position {}", d.pos))
                }),
                (Op::Write { fd, .. }, _) => at(fd).and_then(|d| {
                    let queued = d.pipe?;
                    (queued >= PIPE_CAPACITY as i64 && d.acc == libc::O_WRONLY)
                        .then(|| format!("Linux's pipe holds {queued} bytes"))
                }),
                (Op::Lseek { fd, pos }, _) => at(fd).and_then(|d| {
                    (d.pipe.is_none() && pos > MAX_FILE_LEN)
                        .then(|| format!("descriptor open, {pos} > {MAX_FILE_LEN}"))
                }),
                (Op::LseekCur { fd, delta }, _) => at(fd).and_then(|d| {
                    let to = d.pos + i64::from(delta);
                    (d.pipe.is_none() && to > i64::from(MAX_FILE_LEN))
                        .then(|| format!("descriptor open, {to} > {MAX_FILE_LEN}"))
                }),
                _ => None,
            };
            match justified {
                Some(why) => format!("model: {:<12} linux: not run ({bound}; {why})", show(&m)),
                None => {
                    return Err(fail(
                        &lines,
                        format!(
                            "the model answered {} but Linux's state does not reach the \
                             model's bound {bound} (descriptors: {probe:?})",
                            show(&m)
                        ),
                    ))
                }
            }
        } else {
            let l = linux
                .perform(k, &call.op, &pids)
                .map_err(|e| fail(&lines, e))?;
            let line = format!("model: {:<12} linux: {l}", show(&m));
            let agree = match (&m, &l) {
                (Ok(Value::Pid(_)), LinuxOutcome::Forked(_)) => true,
                (m, LinuxOutcome::Same(l)) => m == l,
                _ => false,
            };
            if !agree {
                lines.push(line);
                return Err(fail(
                    &lines,
                    format!("the model answered {}, Linux {l}", show(&m)),
                ));
            }
            if let (Op::Fork, Ok(Value::Pid(child))) = (call.op, m) {
                pids.push(child);
            }
            line
        };
        lines.push(line);
        outcomes.push(Some(m));

        // The whole observable state must agree after every step.
        if let Err(why) = compare_state(&model, &pids, &mut linux) {
            return Err(fail(&lines, format!("after this step: {why}")));
        }
    }
    linux.finish()?;
    Ok(outcomes)
}

/// Descriptor tables (which descriptors, positions or pipe contents, access modes), signals
/// counted and process group of every process, the names and the named files' contents.
fn compare_state(model: &Unix, pids: &[Pid], linux: &mut Linux) -> Result<(), String> {
    for (k, pid) in pids.iter().enumerate() {
        let mp = &model.procs[pid];
        let fds = &mp.fds;
        let probe = linux.probe(k)?;
        if mp.signals as i64 != probe.signals {
            return Err(format!(
                "p{k}: model counted {} signals, Linux {}",
                mp.signals, probe.signals
            ));
        }
        if linux.model_pgrp(pids, probe.pgid) != Some(mp.pgrp) {
            return Err(format!(
                "p{k}: model process group {}, Linux {} (the real pid of {:?})",
                mp.pgrp,
                probe.pgid,
                linux.model_pgrp(pids, probe.pgid)
            ));
        }
        for (n, real) in probe.fds.iter().enumerate() {
            let m = fds.get(&Fd(n as u8)).map(|sid| &model.streams[sid]);
            match (m, real) {
                (None, None) => {}
                (Some(s), Some(d)) => {
                    let inode = &model.inodes[&s.ino];
                    let agree = access_mode(s.mode) == d.acc
                        && match (inode.pipe, d.pipe) {
                            (true, Some(queued)) => inode.data.len() as i64 == queued,
                            (false, None) => s.pos as i64 == d.pos,
                            _ => false,
                        };
                    if !agree {
                        return Err(format!(
                            "p{k} fd{n}: model {} {:?} mode {:?}, Linux {d:?}",
                            if inode.pipe {
                                "pipe holding"
                            } else {
                                "position"
                            },
                            if inode.pipe {
                                inode.data.len()
                            } else {
                                s.pos as usize
                            },
                            s.mode
                        ));
                    }
                }
                (Some(_), None) => {
                    return Err(format!("p{k} fd{n}: open in the model, closed on Linux"))
                }
                (None, Some(_)) => {
                    return Err(format!("p{k} fd{n}: closed in the model, open on Linux"))
                }
            }
        }
    }
    for n in 0..NAMES {
        let m = model
            .dir
            .get(&FileName(n))
            .map(|ino| model.inodes[ino].data.to_vec());
        let l = linux.file(n)?;
        if m != l {
            return Err(format!(
                "{}: model {}, Linux {}",
                FileName(n),
                contents(&m),
                contents(&l)
            ));
        }
    }
    Ok(())
}

fn contents(d: &Option<Vec<u8>>) -> String {
    match d {
        None => "no such name".into(),
        Some(d) => format!("contents {d:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Generated sequences.
// ---------------------------------------------------------------------------------------

fn arb_mode() -> impl Strategy<Value = Mode> {
    prop_oneof![1 => Just(Mode::Read), 1 => Just(Mode::Write), 3 => Just(Mode::ReadWrite)]
}

fn arb_op() -> impl Strategy<Value = Op> {
    let name = || (0..NAMES).prop_map(FileName);
    // Low descriptors are the ones likely open; fd MAX_FDS is never open in the model
    // (always EBADF on both sides).
    let fd = || {
        prop_oneof![5 => Just(0u8), 4 => Just(1), 2 => Just(2), 1 => Just(3), 1 => Just(MAX_FDS)]
            .prop_map(Fd)
    };
    let create = prop_oneof![3 => Just(true), 1 => Just(false)];
    let sym = prop_oneof![3 => 1u8..=9, 1 => any::<u8>()];
    // Positions up to MAX_FILE_LEN + 1: one past the model's bound (model-only EINVAL).
    let pos = prop_oneof![3 => Just(0u8), 2 => Just(1), 1 => 2..=MAX_FILE_LEN + 1];
    // Process groups: p0.n is mapped onto the case's processes by `normalize` (unless
    // literal); p1.0 is another home's, never a group here.
    let pgrp = || prop_oneof![4 => (0u8..MAX_PROCS as u8).prop_map(|i| Pid::new(0, i)), 1 => Just(Pid::new(1, 0))];
    prop_oneof![
        1 => Just(Op::Pipe),
        1 => Just(Op::Getpgrp),
        2 => pgrp().prop_map(|pgrp| Op::Setpgid { pgrp }),
        2 => pgrp().prop_map(|pgrp| Op::Killpg { pgrp }),
        3 => (name(), arb_mode(), create)
            .prop_map(|(name, mode, create)| Op::Open { name, mode, create }),
        5 => fd().prop_map(|fd| Op::Read { fd }),
        4 => (fd(), sym).prop_map(|(fd, sym)| Op::Write { fd, sym }),
        4 => (fd(), pos).prop_map(|(fd, pos)| Op::Lseek { fd, pos }),
        3 => (fd(), -2i8..=2).prop_map(|(fd, delta)| Op::LseekCur { fd, delta }),
        2 => fd().prop_map(|fd| Op::Close { fd }),
        1 => name().prop_map(|name| Op::Unlink { name }),
        1 => name().prop_map(|name| Op::Stat { name }),
        2 => fd().prop_map(|fd| Op::Dup { fd }),
        1 => Just(Op::Fork),
    ]
}

/// Turns generated calls into a case whose calls mostly make sense, by simulating the
/// model (the Linux side is not consulted): the process number is taken modulo the number
/// of processes so far, and unless the call's descriptor is `literal` (or is `MAX_FDS`,
/// never open, or the process holds none), the generated number `n` picks the process's
/// `n`-th open descriptor (cyclically). Literal descriptors keep the closed-descriptor
/// cases (`EBADF`) common enough. Likewise a process group `p0.n` names the `n`-th process
/// of the case (cyclically) unless literal. Forks beyond `MAX_PROCS` stay, and are skipped
/// by `run`. Also returns, per call, whether its descriptor is a pipe end (for the tally).
fn normalize(files: &[Option<Vec<u8>>], raw: Vec<(u8, Op, bool)>) -> (Vec<Call>, Vec<bool>) {
    let mut model = initial_model(files);
    let p0 = Pid::new(0, 0);
    model.add_process(p0, 0);
    let mut pids = vec![p0];
    let mut calls = Vec::with_capacity(raw.len());
    let mut on_pipe = Vec::with_capacity(raw.len());
    for (proc, op, literal) in raw {
        let k = proc as usize % pids.len();
        let pid = pids[k];
        let open: Vec<Fd> = model.procs[&pid].fds.keys().copied().collect();
        let with_mode = |ok: fn(Mode) -> bool| -> Vec<Fd> {
            let m = &model;
            let fds = &m.procs[&pid].fds;
            let able: Vec<Fd> = fds
                .iter()
                .filter(|(_, sid)| ok(m.streams[*sid].mode))
                .map(|(fd, _)| *fd)
                .collect();
            if able.is_empty() {
                open.clone()
            } else {
                able
            }
        };
        let pick_in = |fd: Fd, among: &[Fd]| {
            if literal || among.is_empty() || fd.0 >= MAX_FDS {
                fd
            } else {
                among[fd.0 as usize % among.len()]
            }
        };
        let pick = |fd: Fd| pick_in(fd, &open);
        // Reads and writes mostly pick a descriptor open for them (a pipe has an end of
        // each kind); literal ones keep EBADF common.
        let op = match op {
            Op::Read { fd } => Op::Read {
                fd: pick_in(fd, &with_mode(Mode::reads)),
            },
            Op::Write { fd, sym } => Op::Write {
                fd: pick_in(fd, &with_mode(Mode::writes)),
                sym,
            },
            Op::Lseek { fd, pos } => Op::Lseek { fd: pick(fd), pos },
            Op::Close { fd } => Op::Close { fd: pick(fd) },
            Op::Dup { fd } => Op::Dup { fd: pick(fd) },
            Op::Setpgid { pgrp } if !literal && pgrp.home.0 == 0 => Op::Setpgid {
                pgrp: pids[pgrp.index as usize % pids.len()],
            },
            Op::Killpg { pgrp } if !literal && pgrp.home.0 == 0 => Op::Killpg {
                pgrp: pids[pgrp.index as usize % pids.len()],
            },
            other => other,
        };
        let fd = match op {
            Op::Read { fd } | Op::Write { fd, .. } | Op::Lseek { fd, .. } => Some(fd),
            Op::Close { fd } | Op::Dup { fd } => Some(fd),
            _ => None,
        };
        on_pipe.push(
            fd.and_then(|fd| model.stream_of(pid, fd))
                .is_some_and(|sid| model.inodes[&model.streams[&sid].ino].pipe),
        );
        let skipped = op == Op::Fork && pids.len() >= MAX_PROCS;
        if !skipped {
            if let (Op::Fork, Some(Ok(Value::Pid(child)))) = (op, model.apply(pid, &op).outcome) {
                pids.push(child);
            }
        }
        calls.push(Call { proc: k as u8, op });
    }
    (calls, on_pipe)
}

fn arb_case() -> impl Strategy<Value = Case> {
    let proc = prop_oneof![5 => Just(0u8), 3 => Just(1u8), 2 => Just(2u8), 2 => Just(3u8)];
    let literal = prop_oneof![4 => Just(false), 1 => Just(true)];
    // Each name exists beforehand with probability 1/2, holding up to MAX_FILE_LEN bytes.
    let file = prop::option::of(prop::collection::vec(1u8..=9, 0..=MAX_FILE_LEN as usize));
    let files = prop::collection::vec(file, NAMES as usize);
    // Every case starts with an open with create or a pipe by p0 (otherwise most early
    // calls would only meet an empty descriptor table), then up to 19 calls more.
    let first = prop_oneof![
        1 => (0..NAMES, arb_mode()).prop_map(|(n, mode)| open(n, mode, true)),
        1 => Just(Op::Pipe),
    ]
    .prop_map(|op| (0u8, op, false));
    let rest = prop::collection::vec((proc, arb_op(), literal), 0..=19);
    (files, first, rest).prop_map(|(files, first, rest)| {
        let raw = std::iter::once(first).chain(rest).collect();
        let (calls, on_pipe) = normalize(&files, raw);
        Case {
            calls,
            on_pipe,
            files,
        }
    })
}

/// Tallies of what the generated sequences exercised, so that a generator that drifted
/// into trivial sequences fails the test instead of passing vacuously.
#[derive(Debug, Default)]
struct Coverage {
    tally: std::collections::BTreeMap<&'static str, usize>,
}

impl Coverage {
    fn count(&mut self, call: &Call, outcome: &Option<Outcome>, pipe: bool) {
        let kind = match (&call.op, outcome) {
            (_, None) => "skipped (no such process / process limit)",
            (Op::Fork, Some(Ok(_))) => "fork",
            (Op::Pipe, Some(Ok(_))) => "pipe",
            (Op::Getpgrp, Some(Ok(_))) => "getpgrp",
            (Op::Setpgid { .. }, Some(Ok(_))) => "setpgid",
            (Op::Setpgid { .. }, Some(Err(Errno::EPERM))) => "setpgid: EPERM",
            (Op::Killpg { .. }, Some(Ok(_))) => "killpg",
            (Op::Killpg { .. }, Some(Err(Errno::ESRCH))) => "killpg: ESRCH",
            (Op::Write { .. }, Some(Err(Errno::EAGAIN))) => "model-only EAGAIN (PIPE_CAPACITY)",
            (Op::Read { .. }, Some(Err(Errno::EAGAIN))) => "pipe read: EAGAIN (empty)",
            (Op::Write { .. }, Some(Err(Errno::EPIPE))) => "pipe write: EPIPE",
            (Op::Lseek { .. }, Some(Err(Errno::ESPIPE))) => "pipe lseek: ESPIPE",
            (Op::Read { .. }, Some(Ok(Value::Data(Some(_))))) if pipe => "pipe read: a byte",
            (Op::Read { .. }, Some(Ok(Value::Data(None)))) if pipe => "pipe read: end of file",
            (Op::Write { .. }, Some(Ok(_))) if pipe => "pipe write",
            (Op::Close { .. } | Op::Dup { .. }, Some(Ok(_))) if pipe => "pipe close/dup",
            (_, Some(Err(Errno::EMFILE))) => "model-only EMFILE (MAX_FDS)",
            (_, Some(Err(Errno::EFBIG))) => "model-only EFBIG (MAX_FILE_LEN)",
            (_, Some(Err(Errno::EINVAL))) => "model-only EINVAL (lseek past MAX_FILE_LEN)",
            (Op::Open { .. }, Some(Err(Errno::ENOENT))) => "open: ENOENT",
            (Op::Unlink { .. }, Some(Err(Errno::ENOENT))) => "unlink: ENOENT",
            (Op::Stat { .. }, Some(Err(Errno::ENOENT))) => "stat: ENOENT",
            (Op::Stat { .. }, Some(Ok(_))) => "stat",
            (Op::Read { .. } | Op::Write { .. }, Some(Err(Errno::EBADF))) => "read/write: EBADF",
            (_, Some(Err(Errno::EBADF))) => "lseek/close/dup: EBADF",
            (Op::Open { create: true, .. }, Some(Ok(_))) => "open with create",
            (Op::Open { create: false, .. }, Some(Ok(_))) => "open without create",
            (Op::Read { .. }, Some(Ok(Value::Data(Some(_))))) => "read: a byte",
            (Op::Read { .. }, Some(Ok(Value::Data(None)))) => "read: end of file",
            (Op::Write { .. }, Some(Ok(_))) => "write",
            (Op::Lseek { .. }, Some(Ok(_))) => "lseek",
            (Op::Close { .. }, Some(Ok(_))) => "close",
            (Op::Unlink { .. }, Some(Ok(_))) => "unlink",
            (Op::Dup { .. }, Some(Ok(_))) => "dup",
            _ => "other",
        };
        *self.tally.entry(kind).or_default() += 1;
        if call.proc > 0 && outcome.is_some() {
            *self
                .tally
                .entry("calls run by p1..p3 (forked in the case)")
                .or_default() += 1;
        }
    }
}

/// 1024 generated sequences of up to 20 calls by up to four processes, from a fixed seed:
/// the same sequences on every run and in CI. Proptest shrinks a failing sequence and the
/// panic message shows the smallest one with both sides' results.
#[test]
fn generated_sequences_agree_with_linux() {
    use proptest::test_runner::{TestError, TestRunner};
    let config = ProptestConfig {
        cases: 1024,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x0005_b17e_0001),
        // Disabled: the fixed seed reproduces a failure, and CI's fresh clone would not
        // keep a persistence file anyway.
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let coverage = std::cell::RefCell::new(Coverage::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&arb_case(), |case| {
        let outcomes = run_with(&case.files, &case.calls).map_err(TestCaseError::fail)?;
        let mut cov = coverage.borrow_mut();
        for ((call, outcome), pipe) in case.calls.iter().zip(&outcomes).zip(&case.on_pipe) {
            cov.count(call, outcome, *pipe);
        }
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, case)) => {
            panic!("smallest failing sequence:\n{case:?}\n{why}")
        }
        Err(e) => panic!("{e}"),
    }
    let tally = coverage.into_inner().tally;
    eprintln!("steps of the passing generated sequences, by kind:");
    for (kind, n) in &tally {
        eprintln!("  {n:6}  {kind}");
    }
    for kind in [
        "fork",
        "calls run by p1..p3 (forked in the case)",
        "model-only EMFILE (MAX_FDS)",
        "model-only EFBIG (MAX_FILE_LEN)",
        "model-only EINVAL (lseek past MAX_FILE_LEN)",
        "open: ENOENT",
        "unlink: ENOENT",
        "read/write: EBADF",
        "lseek/close/dup: EBADF",
        "open with create",
        "open without create",
        "read: a byte",
        "read: end of file",
        "write",
        "lseek",
        "close",
        "unlink",
        "dup",
        "pipe",
        "pipe read: a byte",
        "pipe read: EAGAIN (empty)",
        "pipe read: end of file",
        "pipe write",
        "pipe write: EPIPE",
        "pipe lseek: ESPIPE",
        "pipe close/dup",
        "model-only EAGAIN (PIPE_CAPACITY)",
        "getpgrp",
        "setpgid",
        "setpgid: EPERM",
        "killpg",
        "killpg: ESRCH",
        "stat",
        "stat: ENOENT",
    ] {
        assert!(
            tally.get(kind).copied().unwrap_or(0) >= 5,
            "the generated sequences hardly exercise `{kind}`: {tally:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written cases: each step's expected result is also stated, so the comparison with
// Linux cannot pass vacuously.
// ---------------------------------------------------------------------------------------

const R: Mode = Mode::Read;
const W: Mode = Mode::Write;
const RW: Mode = Mode::ReadWrite;
const OK: Outcome = Ok(Value::Unit);
const EOF: Outcome = Ok(Value::Data(None));

fn open(n: u8, mode: Mode, create: bool) -> Op {
    Op::Open {
        name: FileName(n),
        mode,
        create,
    }
}
fn read(fd: u8) -> Op {
    Op::Read { fd: Fd(fd) }
}
fn write(fd: u8, sym: u8) -> Op {
    Op::Write { fd: Fd(fd), sym }
}
fn lseek(fd: u8, pos: u8) -> Op {
    Op::Lseek { fd: Fd(fd), pos }
}
fn close_(fd: u8) -> Op {
    Op::Close { fd: Fd(fd) }
}
fn unlink(n: u8) -> Op {
    Op::Unlink { name: FileName(n) }
}
fn dup(fd: u8) -> Op {
    Op::Dup { fd: Fd(fd) }
}
fn fd(n: u8) -> Outcome {
    Ok(Value::Fd(Fd(n)))
}
fn sym(b: u8) -> Outcome {
    Ok(Value::Data(Some(b)))
}
fn pos(p: u8) -> Outcome {
    Ok(Value::Pos(p))
}
fn err(e: Errno) -> Outcome {
    Err(e)
}
/// The model's pid for the `i`-th child of p0's home.
fn child(i: u8) -> Outcome {
    Ok(Value::Pid(Pid::new(0, i)))
}

/// Runs the steps on both sides and checks each against its stated result.
fn expect(steps: &[(u8, Op, Outcome)]) {
    let calls: Vec<Call> = steps
        .iter()
        .map(|&(proc, op, _)| Call { proc, op })
        .collect();
    let got = run(&calls).unwrap_or_else(|report| panic!("{report}"));
    for (i, ((_, _, want), got)) in steps.iter().zip(&got).enumerate() {
        assert_eq!(
            got.as_ref(),
            Some(want),
            "step {} ({}): model and Linux agree, but not with the stated result",
            i + 1,
            calls[i]
        );
    }
}

/// A real fork: parent and child read through one shared access position, alternately.
#[test]
fn a_real_fork_shares_the_access_position() {
    expect(&[
        (0, open(0, RW, true), fd(0)),
        (0, write(0, 1), OK),
        (0, write(0, 2), OK),
        (0, write(0, 3), OK),
        (0, lseek(0, 0), pos(0)),
        (0, Op::Fork, child(1)),
        (0, read(0), sym(1)),
        (1, read(0), sym(2)),
        (0, read(0), sym(3)),
        (1, read(0), EOF),
        (1, lseek(0, 1), pos(1)),
        (0, read(0), sym(2)),
        // The child's close drops its descriptor only.
        (1, close_(0), OK),
        (1, read(0), err(Errno::EBADF)),
        (0, read(0), sym(3)),
        // A descriptor opened after the fork is the parent's alone, at the same number the
        // child is free to reuse.
        (0, open(0, R, false), fd(1)),
        (1, open(0, R, false), fd(0)),
        (1, read(0), sym(1)),
        (0, read(1), sym(1)),
    ]);
}

/// A child's child: the fork copies the child's table, and all three share the stream.
#[test]
fn a_grandchild_shares_too() {
    expect(&[
        (0, open(1, RW, true), fd(0)),
        (0, Op::Fork, child(1)),
        (1, dup(0), fd(1)),
        (1, Op::Fork, child(2)),
        (2, write(1, 7), OK),
        (0, write(0, 8), OK),
        (1, write(0, 9), OK),
        (2, lseek(0, 0), pos(0)),
        (0, read(0), sym(7)),
        (2, read(1), sym(8)),
        (1, read(1), sym(9)),
        (0, read(0), EOF),
        (2, close_(0), OK),
        (2, open(1, R, false), fd(0)),
        (2, read(0), sym(7)),
    ]);
}

/// The temporary-file idiom: the data stay readable through an open descriptor after
/// unlink; the name is gone; a new file may take the name.
#[test]
fn unlink_while_open_keeps_the_data_and_drops_the_name() {
    expect(&[
        (0, open(0, RW, true), fd(0)),
        (0, write(0, 7), OK),
        (0, write(0, 8), OK),
        (0, unlink(0), OK),
        (0, open(0, R, false), err(Errno::ENOENT)),
        (0, unlink(0), err(Errno::ENOENT)),
        (0, lseek(0, 0), pos(0)),
        (0, read(0), sym(7)),
        (0, write(0, 9), OK),
        (0, lseek(0, 1), pos(1)),
        (0, read(0), sym(9)),
        (0, read(0), EOF),
        // A new file under the old name is another file.
        (0, open(0, RW, true), fd(1)),
        (0, read(1), EOF),
        (0, write(1, 5), OK),
        (0, lseek(0, 0), pos(0)),
        (0, read(0), sym(7)),
        (0, close_(0), OK),
        (0, lseek(1, 0), pos(0)),
        (0, read(1), sym(5)),
    ]);
}

/// Unlinked in one process, still used by another.
#[test]
fn unlink_by_one_process_while_another_holds_the_file() {
    expect(&[
        (0, open(1, W, true), fd(0)),
        (0, Op::Fork, child(1)),
        (0, write(0, 4), OK),
        (1, unlink(1), OK),
        (0, close_(0), OK),
        (1, write(0, 6), OK),
        (0, open(1, R, false), err(Errno::ENOENT)),
        (1, lseek(0, 0), pos(0)),
        (1, read(0), err(Errno::EBADF)),
    ]);
}

#[test]
fn ebadf_for_closed_descriptors_and_wrong_access_modes() {
    expect(&[
        (0, read(0), err(Errno::EBADF)),
        (0, write(0, 1), err(Errno::EBADF)),
        (0, lseek(0, 0), err(Errno::EBADF)),
        (0, close_(0), err(Errno::EBADF)),
        (0, dup(0), err(Errno::EBADF)),
        (0, open(0, W, true), fd(0)),
        (0, read(0), err(Errno::EBADF)),
        (0, write(0, 1), OK),
        (0, open(0, R, false), fd(1)),
        (0, write(1, 2), err(Errno::EBADF)),
        (0, read(1), sym(1)),
        (0, close_(1), OK),
        (0, close_(1), err(Errno::EBADF)),
        (0, read(1), err(Errno::EBADF)),
        // Past the bound of the model's descriptor numbers: never open.
        (0, read(MAX_FDS), err(Errno::EBADF)),
        // Checking the descriptor comes before checking the position's bound.
        (0, lseek(1, MAX_FILE_LEN + 1), err(Errno::EBADF)),
    ]);
}

#[test]
fn descriptors_are_the_lowest_free_numbers() {
    expect(&[
        (0, open(0, RW, true), fd(0)),
        (0, open(1, RW, true), fd(1)),
        (0, dup(0), fd(2)),
        (0, close_(1), OK),
        (0, dup(2), fd(1)),
        (0, close_(0), OK),
        (0, open(1, R, false), fd(0)),
        (0, close_(2), OK),
        (0, close_(1), OK),
        (0, dup(0), fd(1)),
    ]);
}

#[test]
fn dup_shares_the_access_position() {
    expect(&[
        (0, open(0, RW, true), fd(0)),
        (0, write(0, 1), OK),
        (0, dup(0), fd(1)),
        (0, write(1, 2), OK),
        (0, write(0, 3), OK),
        (0, lseek(1, 1), pos(1)),
        (0, read(0), sym(2)),
        (0, close_(0), OK),
        (0, read(1), sym(3)),
        (0, read(1), EOF),
        // A second open is a second stream with its own position.
        (0, open(0, R, false), fd(0)),
        (0, read(0), sym(1)),
        (0, read(1), EOF),
    ]);
}

/// Open with create of an existing file neither truncates it nor moves anything.
#[test]
fn open_with_create_of_an_existing_file_keeps_its_data() {
    expect(&[
        (0, open(0, W, true), fd(0)),
        (0, write(0, 1), OK),
        (0, write(0, 2), OK),
        (0, open(0, W, true), fd(1)),
        (0, write(1, 9), OK),
        (0, open(0, R, true), fd(2)),
        (0, read(2), sym(9)),
        (0, read(2), sym(2)),
        (0, read(2), EOF),
        (0, open(1, R, true), fd(3)),
        (0, read(3), EOF),
    ]);
}

/// Seeking past the end and writing leaves a hole that reads as zeros.
#[test]
fn a_hole_reads_as_zeros() {
    expect(&[
        (0, open(0, RW, true), fd(0)),
        (0, lseek(0, 2), pos(2)),
        (0, read(0), EOF),
        (0, write(0, 9), OK),
        (0, lseek(0, 0), pos(0)),
        (0, read(0), sym(0)),
        (0, read(0), sym(0)),
        (0, read(0), sym(9)),
        (0, read(0), EOF),
        (0, lseek(0, MAX_FILE_LEN), pos(MAX_FILE_LEN)),
        (0, read(0), EOF),
    ]);
}

/// The model's bounds: answered by the model alone, after checking on Linux that the
/// bound is what the call hits; Linux is left as it was, and the states still agree.
#[test]
fn the_models_bounds_are_model_only_steps() {
    let mut steps = vec![(0, open(0, RW, true), fd(0))];
    for b in 0..MAX_FILE_LEN {
        steps.push((0, write(0, b + 1), OK));
    }
    steps.extend([
        (0, write(0, 9), err(Errno::EFBIG)),
        (0, lseek(0, MAX_FILE_LEN + 1), err(Errno::EINVAL)),
        (0, read(0), EOF),
        (0, lseek(0, 0), pos(0)),
        (0, read(0), sym(1)),
    ]);
    for n in 1..MAX_FDS {
        steps.push((0, dup(0), fd(n)));
    }
    steps.extend([
        (0, open(1, R, true), err(Errno::EMFILE)),
        (0, dup(0), err(Errno::EMFILE)),
        // The refused create made no file.
        (0, close_(1), OK),
        (0, open(1, R, false), err(Errno::ENOENT)),
        (0, open(1, R, true), fd(1)),
        (0, read(0), sym(2)),
    ]);
    expect(&steps);
}

/// The harness itself: a model that differs from Linux (a file only the model has) is
/// caught, and the report shows the whole sequence.
#[test]
fn the_harness_catches_a_wrong_model() {
    let mut wrong = Unix::new();
    wrong.add_file(FileName(0), vec![1]);
    let calls = [
        Call {
            proc: 0,
            op: open(1, RW, true),
        },
        Call {
            proc: 0,
            op: read(0),
        },
    ];
    let report = run_from(wrong, &[], &calls).expect_err("a file only the model has");
    assert!(report.contains("step 1"), "{report}");
    assert!(report.contains("/f0"), "{report}");
    assert!(report.contains("(not run)"), "{report}");
}

fn pipe_() -> Op {
    Op::Pipe
}
fn pipe_ends(read: u8, write: u8) -> Outcome {
    Ok(Value::Pipe {
        read: Fd(read),
        write: Fd(write),
    })
}

/// A pipe between a parent and its child, as a shell or pmake sets one up: bytes come out
/// oldest first; an empty pipe with a writer left is `EAGAIN` (non-blocking); the reader
/// sees end of file only once every write end is closed, in every process; a write with
/// no reader left is `EPIPE`; neither end can seek.
#[test]
fn a_pipe_between_parent_and_child() {
    expect(&[
        (0, pipe_(), pipe_ends(0, 1)),
        (0, Op::Fork, child(1)),
        (1, read(0), err(Errno::EAGAIN)),
        (0, write(1, 7), OK),
        (0, write(1, 8), OK),
        (1, read(0), sym(7)),
        (0, read(0), sym(8)),
        (0, read(0), err(Errno::EAGAIN)),
        (0, read(1), err(Errno::EBADF)),
        (1, write(0, 1), err(Errno::EBADF)),
        (0, lseek(0, 0), err(Errno::ESPIPE)),
        (1, lseek(1, MAX_FILE_LEN + 1), err(Errno::ESPIPE)),
        (1, dup(1), fd(2)),
        (0, close_(1), OK),
        (1, close_(1), OK),
        // The child's dup still writes: not yet the end.
        (0, read(0), err(Errno::EAGAIN)),
        (1, write(2, 9), OK),
        (1, close_(2), OK),
        (0, read(0), sym(9)),
        (0, read(0), EOF),
        (1, read(0), EOF),
    ]);
}

#[test]
fn a_write_without_readers_is_epipe() {
    expect(&[
        (0, pipe_(), pipe_ends(0, 1)),
        (0, Op::Fork, child(1)),
        (0, close_(0), OK),
        (0, write(1, 1), OK),
        (1, close_(0), OK),
        (1, write(1, 2), err(Errno::EPIPE)),
        (0, write(1, 3), err(Errno::EPIPE)),
        (0, open(0, RW, true), fd(0)),
        (0, pipe_(), pipe_ends(2, 3)),
    ]);
}

/// The model's pipe capacity and descriptor bound are model-only steps.
#[test]
fn a_full_pipe_and_a_pipe_without_room_are_model_only_steps() {
    let mut steps = vec![(0, pipe_(), pipe_ends(0, 1))];
    for b in 0..PIPE_CAPACITY {
        steps.push((0, write(1, b + 1), OK));
    }
    steps.extend([
        (0, write(1, 9), err(Errno::EAGAIN)),
        (0, read(0), sym(1)),
        (0, write(1, 9), OK),
        (0, dup(0), fd(2)),
        (0, pipe_(), err(Errno::EMFILE)),
        (0, close_(2), OK),
        (0, pipe_(), pipe_ends(2, 3)),
    ]);
    expect(&steps);
}

/// Process groups: a child inherits its parent's; a process makes its own or joins one of
/// its home's; killpg signals every member once.
#[test]
fn process_groups_are_inherited_joined_and_signalled() {
    let p = |i: u8| Pid::new(0, i);
    let grp = |i: u8| Ok(Value::Pid(p(i)));
    expect(&[
        (0, Op::Getpgrp, grp(0)),
        (0, Op::Fork, child(1)),
        (1, Op::Getpgrp, grp(0)),
        (1, Op::Setpgid { pgrp: p(1) }, OK),
        (1, Op::Fork, child(2)),
        (2, Op::Getpgrp, grp(1)),
        (0, Op::Killpg { pgrp: p(1) }, OK),
        (2, Op::Killpg { pgrp: p(1) }, OK),
        (0, Op::Killpg { pgrp: p(0) }, OK),
        (2, Op::Setpgid { pgrp: p(0) }, OK),
        (1, Op::Killpg { pgrp: p(0) }, OK),
        // No such group; a group of another home.
        (0, Op::Setpgid { pgrp: p(3) }, err(Errno::EPERM)),
        (
            0,
            Op::Setpgid {
                pgrp: Pid::new(1, 0),
            },
            err(Errno::EPERM),
        ),
        (0, Op::Killpg { pgrp: p(3) }, err(Errno::ESRCH)),
        (1, Op::Setpgid { pgrp: p(0) }, OK),
        // Nobody is left in p0.1's group.
        (2, Op::Killpg { pgrp: p(1) }, err(Errno::ESRCH)),
        (2, Op::Setpgid { pgrp: p(1) }, err(Errno::EPERM)),
        (1, Op::Getpgrp, grp(0)),
    ]);
}
