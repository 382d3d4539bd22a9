//! The inductive strengthenings, one per invariant ID: `ind_x(m, s)` is the invariant as
//! the model states it (`model::properties::inv_x`) together with the auxiliary facts of
//! [`crate::lemmas`] that make it preserved by every action of the model.
//!
//! Every strengthening contains the well-formedness facts [`WF`]: without them some step
//! of the model is not even defined (it indexes a map with a key that is not there), so no
//! invariant is preserved "by every action" without them. What each ID adds beyond `WF` is
//! listed in [`STRENGTHENINGS`] and argued in `proofs/<ID>.md`.

use crate::lemmas::lemma;
use model::properties as p;
use model::state::State;
use model::SpriteModel;
use vocab::InvariantId;

/// The well-formedness facts every strengthening contains.
pub const WF: &[&str] = &[
    "shape",
    "up",
    "migrations",
    "home_tables",
    "groups",
    "rendezvous",
    "streams",
    "files",
    "g_files",
    "g_streams",
    "g_procs",
    "g_gen",
];

/// One strengthening: the ID, the function's name, the property it strengthens, and the
/// auxiliary facts it adds to `WF`.
pub struct Strengthening {
    pub id: InvariantId,
    pub function: &'static str,
    pub property: &'static str,
    pub invariant: fn(&SpriteModel, &State) -> bool,
    pub extra: &'static [&'static str],
    pub check: fn(&SpriteModel, &State) -> bool,
}

const ALL_GHOST: &[&str] = &[
    "cacheability",
    "cache_data",
    "signals",
    "signal_pids",
    "mem_clean",
    "g_data",
    "g_pos",
    "g_mem",
    "g_sig",
];

/// Every strengthening, in catalogue order.
pub const STRENGTHENINGS: &[Strengthening] = &[
    Strengthening {
        id: InvariantId::TR,
        function: "ind_tr",
        property: "inv_tr",
        invariant: p::inv_tr,
        extra: ALL_GHOST,
        check: ind_tr,
    },
    Strengthening {
        id: InvariantId::DEL,
        function: "ind_del",
        property: "inv_del",
        invariant: p::inv_del,
        extra: &[],
        check: ind_del,
    },
    Strengthening {
        id: InvariantId::CONS,
        function: "ind_cons",
        property: "inv_cons",
        invariant: p::inv_cons,
        extra: &["cacheability", "cache_data", "g_data", "g_pos"],
        check: ind_cons,
    },
    Strengthening {
        id: InvariantId::CACHE,
        function: "ind_cache",
        property: "inv_cache",
        invariant: p::inv_cache,
        extra: &["cacheability", "cache_data"],
        check: ind_cache,
    },
    Strengthening {
        id: InvariantId::OFF,
        function: "ind_off",
        property: "inv_off",
        invariant: p::inv_off,
        extra: &["cacheability", "cache_data", "g_data", "g_pos"],
        check: ind_off,
    },
    Strengthening {
        id: InvariantId::MEM,
        function: "ind_mem",
        property: "inv_mem",
        invariant: p::inv_mem,
        extra: &["mem_clean", "g_mem"],
        check: ind_mem,
    },
    Strengthening {
        id: InvariantId::PID,
        function: "ind_pid",
        property: "inv_pid",
        invariant: p::inv_pid,
        extra: &[],
        check: ind_pid,
    },
    Strengthening {
        id: InvariantId::SIG,
        function: "ind_sig",
        property: "inv_sig",
        invariant: p::inv_sig,
        extra: &["signals", "signal_pids", "g_sig"],
        check: ind_sig,
    },
    Strengthening {
        id: InvariantId::WAIT,
        function: "ind_wait",
        property: "inv_wait",
        invariant: p::inv_wait,
        extra: &[],
        check: ind_wait,
    },
    Strengthening {
        id: InvariantId::TIME,
        function: "ind_time",
        property: "inv_time",
        invariant: p::inv_time,
        extra: &["time"],
        check: ind_time,
    },
    Strengthening {
        id: InvariantId::HOME,
        function: "ind_home",
        property: "inv_home",
        invariant: p::inv_home,
        extra: &[],
        check: ind_home,
    },
    Strengthening {
        id: InvariantId::RES,
        function: "ind_res",
        property: "inv_res",
        invariant: p::inv_res,
        extra: &[],
        check: ind_res,
    },
    Strengthening {
        id: InvariantId::EVICT,
        function: "ind_evict",
        property: "inv_evict",
        invariant: p::inv_evict,
        extra: &[],
        check: ind_evict,
    },
    Strengthening {
        id: InvariantId::LIVE,
        function: "ind_live",
        property: "inv_live",
        invariant: p::inv_live,
        extra: &[],
        check: ind_live,
    },
    Strengthening {
        id: InvariantId::REFUSE,
        function: "ind_refuse",
        property: "inv_refuse",
        invariant: p::inv_refuse,
        extra: &[],
        check: ind_refuse,
    },
    Strengthening {
        id: InvariantId::FAIL,
        function: "ind_fail",
        property: "inv_fail",
        invariant: p::inv_fail,
        extra: &[],
        check: ind_fail,
    },
];

/// The strengthening of an ID.
pub fn of(id: InvariantId) -> &'static Strengthening {
    STRENGTHENINGS
        .iter()
        .find(|x| x.id == id)
        .expect("every ID has a strengthening")
}

/// The names of the conjuncts of a strengthening: the invariant, `WF`, its extras.
pub fn conjuncts(id: InvariantId) -> Vec<&'static str> {
    let st = of(id);
    std::iter::once(st.property)
        .chain(WF.iter().copied())
        .chain(st.extra.iter().copied())
        .collect()
}

/// The first conjunct of the strengthening of `id` that `s` does not satisfy.
pub fn first_broken(id: InvariantId, m: &SpriteModel, s: &State) -> Option<&'static str> {
    let st = of(id);
    if !(st.invariant)(m, s) {
        return Some(st.property);
    }
    WF.iter()
        .chain(st.extra.iter())
        .copied()
        .find(|name| !lemma(name)(m, s))
}

fn holds(id: InvariantId, m: &SpriteModel, s: &State) -> bool {
    first_broken(id, m, s).is_none()
}

/// TR: results equal the one-machine Unix's. Strengthened by every fact: the whole
/// refinement coupling (the ghost is the abstraction of the state) and the cache facts.
pub fn ind_tr(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::TR, m, s)
}
/// DEL: the server's files are the ghost's. Strengthened by the stream bookkeeping and the
/// coupling of files, streams and processes.
pub fn ind_del(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::DEL, m, s)
}
/// CONS: the latest data are the ghost's. Strengthened by the cache facts and the coupling
/// of files, data, streams, positions and processes.
pub fn ind_cons(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::CONS, m, s)
}
/// CACHE: write-shared files are uncacheable and uncached; caching is turned off only for
/// real sharing. Strengthened by the stream bookkeeping and the cache facts.
pub fn ind_cache(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::CACHE, m, s)
}
/// OFF: one access position. Strengthened like CONS (a read advances the position only if
/// the file has a symbol there).
pub fn ind_off(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::OFF, m, s)
}
/// MEM: pages read the latest writes. Strengthened by "clean resident pages equal their
/// backing copy" and the memory coupling.
pub fn ind_mem(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::MEM, m, s)
}
/// PID: live pids are the ghost's, each in its home's table only. Strengthened by the
/// process coupling (live and zombie pids).
pub fn ind_pid(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::PID, m, s)
}
/// SIG: received + in flight + held = sent. Strengthened by the process and signal
/// coupling and "held signals are for moving processes".
pub fn ind_sig(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::SIG, m, s)
}
/// WAIT: waiters and uncollected statuses are the ghost's. Strengthened by the rendezvous
/// facts and the process coupling.
pub fn ind_wait(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::WAIT, m, s)
}
/// TIME: time never went backwards. Strengthened by "the last time read is at most the
/// home's clock now".
pub fn ind_time(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::TIME, m, s)
}
/// HOME: the home table is right. Strengthened by the well-formedness facts only (they
/// contain the home-table facts).
pub fn ind_home(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::HOME, m, s)
}
/// RES: no residual state on hosts a process left. Under Sprite's VM strategy there is no
/// residue at all (`shape`).
pub fn ind_res(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::RES, m, s)
}
/// EVICT: foreign processes on an owned host are leaving, evictions go home. Strengthened
/// by the well-formedness facts only.
pub fn ind_evict(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::EVICT, m, s)
}
/// LIVE: every migration's next step is enabled and lowers its rank.
pub fn ind_live(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::LIVE, m, s)
}
/// REFUSE: pinned processes never move; migrations stay within the rules.
pub fn ind_refuse(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::REFUSE, m, s)
}
/// FAIL: crashes killed exactly their victims; live processes are on up hosts with up homes.
pub fn ind_fail(m: &SpriteModel, s: &State) -> bool {
    holds(InvariantId::FAIL, m, s)
}
