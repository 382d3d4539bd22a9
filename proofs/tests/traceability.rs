//! The traceability table in `specs/traceability.md` is the generated one, and every cell
//! points at something that exists: the spec section (a heading of specs/invariants.md),
//! the model's property function, the strengthening function, the proof file (with a
//! section per action group), and the conformance check (a file, or exactly the placeholder
//! "pending: conformance harness").

use proofs::traceability::{render, rows, PENDING};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn has_fn(file: &str, name: &str) -> bool {
    read(file).contains(&format!("pub fn {name}("))
}

#[test]
fn every_cell_points_at_something() {
    let invariants = read("specs/invariants.md");
    for r in rows() {
        let id = r.id.as_str();
        let (file, anchor) = r.spec.split_once('#').expect("spec anchor");
        assert_eq!(file, "specs/invariants.md");
        assert!(
            invariants.lines().any(|l| l == format!("## {id}")) && anchor == id.to_lowercase(),
            "{id}: no section `## {id}` in specs/invariants.md"
        );
        let (file, name) = r.property.split_once("::").expect("property path");
        assert!(has_fn(file, name), "{id}: no `pub fn {name}` in {file}");
        let (file, name) = r
            .strengthening
            .split_once("::")
            .expect("strengthening path");
        assert!(has_fn(file, name), "{id}: no `pub fn {name}` in {file}");
        let proof = read(&r.proof);
        assert!(
            proof.starts_with(&format!("# {id}")),
            "{id}: {} does not start with `# {id}`",
            r.proof
        );
        for section in ["## Strengthening", "## Proof"] {
            assert!(
                proof.contains(section),
                "{id}: {} has no `{section}`",
                r.proof
            );
        }
        assert!(
            proof.contains(&format!("`{}`", proofs::of(r.id).function)),
            "{id}: {} does not name its strengthening",
            r.proof
        );
        if r.conformance != PENDING {
            let (file, name) = r.conformance.split_once("::").expect("conformance path");
            assert!(has_fn(file, name), "{id}: no `pub fn {name}` in {file}");
        }
    }
}

#[test]
fn committed_table_is_current() {
    let path = root().join("specs/traceability.md");
    let want = render();
    if std::env::var_os("UPDATE_TRACEABILITY").is_some() {
        std::fs::write(&path, &want).expect("write specs/traceability.md");
        return;
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "specs/traceability.md is missing or stale; regenerate with \
         UPDATE_TRACEABILITY=1 cargo test -p proofs --test traceability"
    );
}
