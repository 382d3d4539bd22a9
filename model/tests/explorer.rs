//! What the Explorer shows: `format_step` (a step as the numbered trace prints it, then
//! the state in brief) and `as_svg` (the path as a sequence diagram, well-formed XML that
//! ends with the broken invariants).

use model::{configs, explorer, trace, SpriteModel};
use stateright::{Model, Path};
use vocab::Switch;

/// The `wait-on-current` counterexample of `specs/counterexamples/wait-on-current.md`: a
/// child exits while its parent moves to h1, the source sends the exit notice on to h1,
/// and the parent moves again, home, before the notice arrives: h1 knows nothing of the
/// parent any more, and the status is lost.
fn wait_on_current() -> (SpriteModel, Vec<model::Action>) {
    let m = SpriteModel::new(configs::for_switch(Switch::WaitOnCurrent));
    let path = trace::from_indices(&m, &[0, 4, 6, 6, 0, 2, 2, 5, 2, 2, 2, 2]).expect("a path");
    (m, path)
}

/// The tags of an XML text balance, attribute values are quoted, and every `&` starts
/// one of XML's five entities. Returns the element names in order of opening.
fn well_formed(xml: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut opened = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(['<', '&']) {
        let text = &rest[..i];
        assert!(!text.contains('>'), "a bare > in text: {text:?}");
        rest = &rest[i..];
        if rest.starts_with('&') {
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "an unescaped &: {:?}",
                &rest[..rest.len().min(20)]
            );
            rest = &rest[1..];
            continue;
        }
        let end = rest.find('>').expect("a tag closes");
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        assert!(!tag.contains('<'), "a < inside a tag: {tag:?}");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes: {tag:?}"
        );
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name.trim(), "</{name}> closes <{open}>");
        } else {
            let name = tag
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .expect("a name")
                .to_string();
            opened.push(name.clone());
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
    }
    assert!(!rest.contains('>'), "a bare > after the last tag");
    assert!(stack.is_empty(), "left open: {stack:?}");
    opened
}

#[test]
fn format_step_shows_messages_results_and_the_state() {
    let m = SpriteModel::new(configs::files());
    let s = m.initial();
    let mut actions = Vec::new();
    m.actions(&s, &mut actions);
    let open = actions
        .into_iter()
        .find(|a| a.to_string().contains("open("))
        .expect("an open is enabled at the start of `files`");
    let text = m.format_step(&s, open).expect("enabled");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(open.to_string().as_str()), "{text}");
    assert!(text.contains(" -> fs: FILE_OP open"), "{text}");
    assert!(text.contains(", as on one Unix machine"), "{text}");
    assert!(text.contains("State after this step:"), "{text}");
    assert!(text.contains("  fs: names"), "{text}");
    assert!(text.contains("one Unix machine:"), "{text}");
    assert!(!text.contains("Some("), "no Debug output: {text}");
}

#[test]
fn format_step_puts_the_alarm_after_its_cause_and_explains_it() {
    let (m, path) = wait_on_current();
    let states = trace::replay(&m, &path).expect("replays");
    let last = path.last().copied().expect("non-empty");
    let text = m
        .format_step(&states[states.len() - 2], last)
        .expect("enabled");
    let cause = text
        .find("EXIT_NOTICE p0.1 arrives at h1")
        .expect("the arrival");
    let alarm = text.find("!! EXIT_NOTICE p0.1 lost").expect("the alarm");
    assert!(cause < alarm, "the cause comes first:\n{text}");
    assert!(
        text.contains("h1 knows nothing of p0.0, which has left"),
        "what happened, in words:\n{text}"
    );
    let broken = text
        .find("Broken in the state after this step:\n  !! WAIT:")
        .expect("the broken invariant");
    assert!(alarm < broken, "{text}");
    assert!(
        text[broken..].contains("one Unix machine has p0.1 (status 5)"),
        "what one Unix machine keeps:\n{text}"
    );
}

#[test]
fn svg_of_a_counterexample_is_well_formed_and_ends_with_the_violation() {
    let (m, path) = wait_on_current();
    let svg = m
        .as_svg(Path::from_actions(&m, m.initial(), &path).expect("a path"))
        .expect("an svg");
    let tags = well_formed(svg.trim());
    assert_eq!(tags.first().map(String::as_str), Some("svg"));
    // One lifeline per host and one for the file server, each with its name.
    for name in ["h0", "h1", "h2", "file server"] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name}");
    }
    // Messages are arrows labelled with their step.
    assert!(svg.contains("marker-end=\"url(#arrow)\""));
    assert!(svg.contains(">3. MIG_INIT p0.0</text>"), "{svg}");
    // Results, with the arrow in them escaped.
    assert!(svg.contains("p0.0: fork() -&gt; p0.1, as on one Unix machine"));
    // The alarm, in red, and the broken invariants at the end.
    assert!(svg.contains("!! EXIT_NOTICE p0.1 lost: h1 knows nothing of p0.0"));
    let end = svg.rfind("BROKEN after step 12").expect("the closing list");
    assert!(svg[end..].contains("WAIT: each exit status collected exactly once: exit statuses"));
    assert!(!svg.contains("Some("));
}

#[test]
fn svg_of_the_initial_state_has_the_lifelines_only() {
    let m = SpriteModel::new(configs::files());
    let svg = m
        .as_svg(Path::from_actions(&m, m.initial(), &[]).expect("a path"))
        .expect("an svg");
    well_formed(svg.trim());
    assert!(svg.contains("initial state: no step yet"));
    assert!(!svg.contains("BROKEN"));
}

#[test]
fn xml_special_characters_are_escaped() {
    assert_eq!(
        explorer::xml_escape(r#"a<b>&"c"'d'"#),
        "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
    );
    well_formed(&format!("<t>{}</t>", explorer::xml_escape("<&>\"'")));
}
