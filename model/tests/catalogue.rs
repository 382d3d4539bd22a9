//! One vocabulary: every invariant ID has a model property, a spec section and a proof
//! file; every design switch has a spec section and a configuration that tries it.

use std::path::Path;
use vocab::{InvariantId, Switch};

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_invariant_has_a_property_named_by_its_id() {
    use stateright::Model;
    let m = model::SpriteModel::new(model::configs::files());
    let names: Vec<&str> = m.properties().iter().map(|p| p.name).collect();
    for id in InvariantId::ALL {
        assert!(names.contains(&id.as_str()), "{id} has no property");
        assert_eq!(model::invariant_of(model::property_name(id)), Some(id));
        assert!(model::property_title(id.as_str()).starts_with(&format!("{id}: ")));
    }
    let reach: Vec<&&str> = names.iter().filter(|n| n.starts_with("reach:")).collect();
    assert!(reach.len() >= 6);
    for r in reach {
        assert!(model::property_title(r).starts_with("reach: "));
    }
}

#[test]
fn every_invariant_has_a_spec_section() {
    let spec = read("specs/invariants.md");
    for id in InvariantId::ALL {
        let heading = format!("\n## {id}\n");
        assert!(
            spec.contains(&heading),
            "specs/invariants.md lacks `## {id}`"
        );
    }
}

#[test]
fn every_switch_has_a_spec_section_and_a_configuration() {
    let spec = read("specs/design-alternatives.md");
    for sw in Switch::ALL {
        assert!(
            spec.contains(&format!("## {}", sw.name()))
                || spec.contains(&format!("## `{}`", sw.name())),
            "specs/design-alternatives.md lacks a section for {sw}"
        );
        let cfg = model::configs::for_switch(sw);
        assert_eq!(cfg.switches.iter().collect::<Vec<_>>(), vec![sw]);
    }
}

/// The message names of the message tables in specs/ (first cell of each row that starts
/// with an upper-case name), from the tables whose header is `| message | from → to |`.
fn spec_message_rows(text: &str) -> Vec<String> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("| message | from → to |") {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let first = line.trim_start_matches('|').split('|').next().unwrap_or("");
        let name = first.trim();
        if in_table && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            rows.push(name.to_string());
        }
    }
    rows
}

#[test]
fn every_message_kind_is_a_row_of_the_spec_message_tables_and_nothing_else_is() {
    let mut rows = spec_message_rows(&read("specs/migration-protocol.md"));
    rows.extend(spec_message_rows(&read("specs/policy.md")));
    for k in vocab::MsgKind::ALL {
        let n = rows.iter().filter(|r| *r == k.name()).count();
        assert_eq!(n, 1, "{k} should be one row of the message tables");
    }
    for r in &rows {
        assert!(
            vocab::MsgKind::ALL.iter().any(|k| k.name() == r),
            "the spec lists a message {r} the vocabulary does not have"
        );
    }
}
