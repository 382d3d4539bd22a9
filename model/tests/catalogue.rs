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
        let prefix = format!("{id}: ");
        assert!(
            names.iter().any(|n| n.starts_with(&prefix)),
            "{id} has no property"
        );
        assert_eq!(model::invariant_of(model::property_name(id)), Some(id));
    }
    assert!(names.iter().filter(|n| n.starts_with("reach: ")).count() >= 6);
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
