//! Configuration files (`model::file`, `check --file`, `check show`): every built-in
//! configuration written by `show` loads back as itself and checks the same states; the
//! committed files `model/configs/*.toml` are the built-in open configurations; the
//! implementation's scenario files load where the model can express them; bad input gets a
//! located error; and the `check` binary reads and writes files.

use model::config::Config;
use model::configs;
use model::file::{canonical, load, show};
use model::run::{check, Options};
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn unique_states(cfg: &Config) -> usize {
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    let r = check(cfg, &opts);
    assert!(r.complete);
    r.unique_states
}

#[test]
fn every_builtin_configuration_round_trips_through_show() {
    for c in configs::all() {
        let text = show(&c).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let back =
            load(&format!("{}.toml", c.name), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, canonical(&c), "{}:\n{text}", c.name);
        assert_eq!(show(&back).expect("shows"), text, "{}", c.name);
    }
}

/// `check show NAME > f.toml && check --file f.toml` checks the same thing: the same number
/// of unique states (for the scripted configurations that take a second or less).
#[test]
fn a_shown_configuration_checks_the_same_states() {
    for c in configs::all() {
        if ["family", "crowd"].contains(&c.name.as_str()) || c.is_open() {
            continue;
        }
        let back = load("f.toml", &show(&c).expect("shows")).expect("loads");
        assert_eq!(unique_states(&back), unique_states(&c), "{}", c.name);
    }
}

#[test]
fn the_committed_open_configurations_are_the_builtin_ones() {
    for builtin in configs::suite("open").expect("exists") {
        let rel = format!("model/configs/{}.toml", builtin.name);
        let cfg = load(&rel, &read(&rel)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg, canonical(&builtin), "{rel} differs from the built-in");
    }
}

/// Every committed example loads; the scripted one is the one the implementation's tests
/// run too (`impl/tests/model_files.rs`).
#[test]
fn every_committed_example_loads() {
    let dir = root().join("model/configs");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("model/configs")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    for n in &names {
        let rel = format!("model/configs/{n}");
        let cfg = load(&rel, &read(&rel)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format!("{}.toml", cfg.name), *n);
    }
    assert!(names.contains(&"temp-file.toml".to_string()), "{names:?}");
}

/// The implementation's scenarios mean the same on the model where the model can say
/// them; the others are refused for a stated reason.
#[test]
fn the_implementations_scenarios_load_where_the_model_can_express_them() {
    let refused = [
        ("pmake.toml", "`pmake` cannot be checked on the model"),
        ("process-group-signal.toml", "the same number of pages"),
        ("refused.toml", "the same number of pages"),
    ];
    let mut loaded = 0;
    for e in std::fs::read_dir(root().join("scenarios")).expect("scenarios") {
        let name = e.expect("entry").file_name().into_string().expect("utf-8");
        if !name.ends_with(".toml") {
            continue;
        }
        let rel = format!("scenarios/{name}");
        match (
            load(&rel, &read(&rel)),
            refused.iter().find(|r| r.0 == name),
        ) {
            (Ok(cfg), None) => {
                loaded += 1;
                assert!(!cfg.procs.is_empty(), "{rel}");
            }
            (Err(e), Some((_, why))) => assert!(e.message.contains(why), "{e}"),
            (Ok(_), Some(_)) => panic!("{rel} loads: take it off the refused list"),
            (Err(e), None) => panic!("{e}"),
        }
    }
    assert!(loaded >= 9, "{loaded}");
    // The remote fork: the children's steps are theirs.
    let cfg = load("r.toml", &read("scenarios/remote-fork-wait.toml")).expect("loads");
    let parent = &cfg.scripts[cfg.procs[0].script as usize];
    assert_eq!(parent.children.len(), 2);
    let second = &cfg.scripts[parent.children[1] as usize];
    assert_eq!(second.ops.len(), 2, "getpid, exit 7: {second:?}");
}

const GOOD: &str = r#"
pages = 1
steps = [
  { pid = "p0.0", op = "open /f0 rw create", expect = "fd0" },
  { pid = "p0.0", op = "fork" },
  { pid = "p0.1", op = "migrate h1" },
  { pid = "p0.1", op = "exit 3" },
  { pid = "p0.0", op = "wait" },
  { pid = "p0.0", op = "fork" },
  { pid = "p0.1.1", op = "getpid" },
  { event = "owner-returns h1" },
]

[[host]]
id = 0

[[host]]
id = 1
clock_skew_ms = 5000

[[process]]
pid = "p0.0"
"#;

#[test]
fn a_scenario_becomes_scripts_and_children() {
    let cfg = load("good.toml", GOOD).expect("loads");
    assert_eq!(cfg.name, "good");
    assert_eq!(cfg.hosts[1].clock, 5);
    assert_eq!(cfg.pages, 1);
    assert_eq!(cfg.events.len(), 1);
    let s = &cfg.scripts;
    // The parent, its first child (which exits and is collected), its second, which gets
    // the first one's slot again, in the next generation: p0.1.1.
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].children, vec![1, 2]);
    assert_eq!(s[1].ops.len(), 2);
    assert_eq!(s[2].ops, vec![vocab::Op::Getpid]);
}

/// (message, line, column) of the error `text` gives.
fn error_of(text: &str) -> (String, usize, usize) {
    let e = load("bad.toml", text).unwrap_err();
    assert!(e.message.len() < 500, "{e}");
    assert!(e.to_string().starts_with("bad.toml:"), "{e}");
    (e.message, e.line, e.column)
}

#[test]
fn errors_are_located() {
    let open = r#"
[[host]]
id = 0
[[host]]
id = 1

[[process]]
pid = "p0.0"
alphabet = ["open /f0 rw create", "read fd0", "migrate h1"]
budget = 4
"#;
    assert!(load("open.toml", open).is_ok());
    let three_hosts = format!("{open}[[host]]\nid = 2\n");
    let nine_events: Vec<String> = ["crash", "reboot", "owner-returns"]
        .iter()
        .flat_map(|e| (0..3).map(move |h| format!("{{ event = \"{e} h{h}\" }}")))
        .collect();
    let step = |old: &str, new: &str| GOOD.replace(old, new);
    // (text, what the message says, line, column); GOOD's first line is empty.
    let cases: Vec<(String, &str, usize, usize)> = vec![
        // Operations, pids, events: the shared syntax.
        (
            step("op = \"fork\" }", "op = \"teleport h1\" }"),
            "unknown operation `teleport`",
            5,
            24,
        ),
        (
            step("\"p0.1\", op = \"migrate h1\"", "\"q0.1\", op = \"migrate h1\""),
            "bad pid `q0.1`",
            6,
            11,
        ),
        (
            step("owner-returns h1", "owner-returns h4"),
            "no host h4 in the configuration",
            11,
            13,
        ),
        (
            step("{ pid = \"p0.0\", op = \"wait\" }", "{ pid = \"p0.0\", op = \"wait\", event = \"crash h1\" }"),
            "either `pid` and `op`, or `event`",
            8,
            40,
        ),
        // An event's moment on the implementation: checked here too.
        (
            step("owner-returns h1\" }", "owner-returns h1\", after = \"MIG_STAT p0.1\" }"),
            "unknown step `MIG_STAT`",
            11,
            41,
        ),
        (
            step("op = \"getpid\" }", "op = \"getpid\", after = \"run p0.0\" }"),
            "only an `event` step has an `after`",
            10,
            44,
        ),
        // Unknown keys, anywhere.
        (step("pages = 1", "colour = 3"), "unknown field `colour`", 2, 1),
        (
            open.replace("budget = 4", "budget = 4\ncolour = 3"),
            "unknown field `colour`",
            11,
            1,
        ),
        // Ranges the model needs.
        (open.replace("budget = 4", "budget = 16"), "from 0 to 15", 10, 10),
        (
            format!("events = [{{ event = \"crash h1\", times = 16 }}]\n{open}"),
            "times 16 is out of range: from 1 to 15",
            1,
            41,
        ),
        (
            format!("events = [{}]\n{three_hosts}", nine_events.join(", ")),
            "more than 8 different events",
            1,
            232,
        ),
        (
            format!("events = [{{ event = \"crash h1\" }}, {{ event = \"crash h1\" }}]\n{open}"),
            "listed twice in `events` (use `times`)",
            1,
            45,
        ),
        (
            format!("{GOOD}[[host]]\nid = 2\n[[host]]\nid = 3\n[[host]]\nid = 4\n"),
            "more than 4 hosts",
            28,
            6,
        ),
        (
            step("[[host]]\nid = 1", "[[host]]\nid = 2"),
            "h0 to h1 (no gaps)",
            18,
            6,
        ),
        (
            step("clock_skew_ms = 5000", "clock_skew_ms = 5500"),
            "multiple of 1000",
            19,
            17,
        ),
        (
            step("pid = \"p0.0\"\n", "pid = \"p0.0\"\n[[process]]\npid = \"p1.0\"\npages = 2\n"),
            "p1.0 has 2 pages and p0.0 1",
            25,
            9,
        ),
        // Steps the model cannot map.
        (
            step("\"p0.1.1\", op = \"getpid\"", "\"p0.2\", op = \"getpid\""),
            "p0.2 is not a listed process, and no fork before this step creates it",
            10,
            11,
        ),
        (
            step("\"p0.1.1\", op = \"getpid\"", "\"p0.1\", op = \"getpid\""),
            "p0.1 exited at line 7: on the model nothing runs after `exit` (a fork since gave \
             its slot to p0.1.1)",
            10,
            11,
        ),
        (
            step(
                "{ pid = \"p0.1.1\", op = \"getpid\" }",
                "{ pid = \"p0.1.1\", op = \"getpid\" },\n  { pid = \"p0.1.1\", op = \"exit 1\" },\n  { pid = \"p0.1.1\", op = \"getpid\" }",
            ),
            "p0.1.1 exited at line 11",
            12,
            11,
        ),
        (
            // Not collected: the second child is p0.2.
            step("op = \"wait\"", "op = \"getpid\""),
            "p0.1.1 is not a listed process",
            10,
            11,
        ),
        (
            step("{ pid = \"p0.0\", op = \"wait\" },", "{ event = \"crash h1\" },"),
            "the crash at line 8 may have ended processes",
            10,
            11,
        ),
        (
            step("\"p0.1\", op = \"exit 3\"", "\"p0.1\", op = \"getpid\""),
            "p0.0 is still blocked in the `wait` of line 8",
            9,
            24,
        ),
        (
            format!("steps = [{{ pid = \"p0.0\", op = \"getpid\" }}]\n{open}"),
            "p0.0 runs an alphabet",
            1,
            18,
        ),
        (
            format!("{GOOD}[[pmake]]\nclient = \"p0.0\"\njobs = 1\nsteps = 1\nstep_ms = 1\n"),
            "`pmake` cannot be checked on the model",
            23,
            1,
        ),
        // Alphabets.
        (
            open.replace("\"read fd0\", \"migrate h1\"", "\"read fd0\", \"read fd0\""),
            "`read fd0` is twice in the alphabet",
            9,
            47,
        ),
        (
            open.replace("budget = 4", "budget = 4\nchildren_alphabet = [\"getpid\"]\nchildren_budget = 1"),
            "the `alphabet` has no `fork`",
            11,
            21,
        ),
        (
            open.replace("budget = 4\n", ""),
            "an `alphabet` needs a `budget`",
            9,
            12,
        ),
        (
            step(
                "  { event",
                &format!("{}  {{ event", "  { pid = \"p0.0\", op = \"open /f0 r\" },\n".repeat(250)),
            ),
            "more than 250 files, opens and pipes",
            260,
            24,
        ),
        (step("pages = 1", "switches = \"teleport\""), "teleport", 2, 12),
        (step("pages = 1", "pages = "), "", 2, 9),
    ];
    let mut wrong = Vec::new();
    for (text, want, line, col) in cases {
        let (m, at, column) = error_of(&text);
        if !m.contains(want) || at != line || column != col {
            wrong.push(format!(
                "{at}:{column}: {m}\n  (wanted {line}:{col}: {want})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn long_and_garbled_input_never_panics_and_is_quoted_short() {
    let long = "x".repeat(1 << 16);
    for text in [
        GOOD.replace("open /f0 rw create", &long),
        GOOD.replace("\"p0.0\", op", &format!("\"p{long}\", op")),
        GOOD.replace("owner-returns h1", &format!("crash {long}")),
        GOOD.replace("pages = 1", &format!("switches = \"{long}\"")),
        GOOD.replace("pages = 1", &format!("{long} = 3")),
    ] {
        let (m, _, _) = error_of(&text);
        assert!(m.len() < 500, "{} bytes", m.len());
    }
    let big = format!("# {}\n{GOOD}", "x".repeat(model::file::MAX_FILE_BYTES));
    assert!(error_of(&big).0.contains("more than"));
    // Bytes changed at random: an error or a configuration, never a panic.
    let mut seed = 1u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let mut b = GOOD.as_bytes().to_vec();
        for _ in 0..1 + next() % 4 {
            let i = (next() % b.len() as u64) as usize;
            b[i] = b' ' + (next() % 94) as u8;
        }
        let _ = load("fuzz.toml", &String::from_utf8_lossy(&b));
    }
}

fn check_bin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_check"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_reads_a_file_and_show_writes_one() {
    let (code, out, err) = check_bin(&[
        "--file",
        "model/configs/open-vm.toml",
        "--no-alternatives",
        "--threads",
        "2",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("open-vm") && out.contains("OK: every invariant holds"),
        "{out}"
    );

    let (code, out, err) = check_bin(&["show", "open-files"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        load("shown.toml", &out).expect("loads"),
        canonical(&configs::open_files())
    );
    let (code, out2, _) = check_bin(&["show", "--file", "model/configs/open-files.toml"]);
    assert_eq!((code, &out2), (0, &out));

    let (code, _, err) = check_bin(&["show", "no-such-configuration"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown configuration"), "{err}");

    let dir = std::env::temp_dir().join(format!("check-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, GOOD.replace("op = \"wait\"", "op = \"wiat\"")).expect("write");
    let (code, out, err) = check_bin(&["--file", bad.to_str().expect("utf-8")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "nothing ran: {out}");
    assert!(
        err.contains("bad.toml:8:24: unknown operation `wiat`"),
        "{err}"
    );
}

#[test]
fn a_process_may_start_away_from_its_home() {
    let cfg = load("a.toml", &read("scenarios/started-away.toml")).expect("loads");
    assert_eq!(cfg.procs[0].start_on, Some(vocab::HostId(1)));
    let s = model::SpriteModel::new(cfg.clone()).initial();
    assert_eq!(
        s.procs.get(&cfg.procs[0].pid).map(|p| p.host),
        Some(vocab::HostId(1))
    );
    // `show` writes it, and what it writes loads back the same.
    let text = show(&cfg).expect("shows");
    assert!(text.contains("start_on = \"h1\""), "{text}");
    assert_eq!(load("b.toml", &text).expect("loads").procs, cfg.procs);
    // A host that is not there is located.
    let bad = read("scenarios/started-away.toml").replace("start_on = \"h1\"", "start_on = \"h4\"");
    let e = load("c.toml", &bad).unwrap_err();
    assert!(e.message.contains("no host h4"), "{e}");
    assert_eq!(e.line, 23, "{e}");
    // Where it could never have migrated to: an owner at h1, or a process that may not move.
    let owned = read("scenarios/started-away.toml").replace(
        "[[host]]
id = 1
",
        "[[host]]
id = 1
owner = true
",
    );
    let e = load("d.toml", &owned).unwrap_err();
    assert!(e.message.contains("its owner is present"), "{e}");
    let pinned = read("scenarios/started-away.toml")
        .replace("start_on = \"h1\"", "start_on = \"h1\"\nmaps_device = true");
    let e = load("e.toml", &pinned).unwrap_err();
    assert!(e.message.contains("can never have migrated"), "{e}");
}
