//! What stateright's Explorer shows (`check explore`): each step as the numbered trace
//! shows it, followed by a compact account of the state it leads to, and the path so far
//! as an SVG sequence diagram.

use crate::log::{Actor, Line};
use crate::state::{State, Status};
use crate::trace;
use crate::{Action, SpriteModel};
use std::fmt::Write;

/// A step as the Explorer shows it: the action and what it did (as `trace::render` prints
/// it), the invariants broken in the state it leads to, then that state in brief.
pub fn format_step(model: &SpriteModel, last: &State, action: Action) -> Option<String> {
    let (next, lines) = trace::step(model, last, action)?;
    let mut out = trace::step_text(&action, &lines, "  ");
    if lines.is_empty() {
        out.push_str("  (nothing to report)\n");
    }
    let broken = trace::explain(model, &next);
    if !broken.is_empty() {
        out.push_str("\nBroken in the state after this step:\n");
        for b in broken {
            let _ = writeln!(out, "  !! {b}");
        }
    }
    out.push_str("\nState after this step:\n");
    out.push_str(&summary(model, &next));
    Some(out)
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>, sep: &str) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

fn symbols(data: &[u8]) -> String {
    if data.is_empty() {
        "empty".into()
    } else {
        format!("\"{}\"", join(data, " "))
    }
}

/// The state in brief, one line per host, process, file, stream and message, indented by
/// two spaces (what the Explorer shows under a step; its "Complete State?" box shows
/// every field).
pub fn summary(model: &SpriteModel, s: &State) -> String {
    let mut out = String::new();
    let o = &mut out;
    for (i, h) in s.hosts.iter().enumerate() {
        let mut parts = vec![if !h.up {
            "DOWN".to_string()
        } else if h.owner {
            "owner present".to_string()
        } else {
            "idle".to_string()
        }];
        if !h.home_table.is_empty() {
            parts.push(format!(
                "home of {}",
                join(h.home_table.iter().map(|(p, l)| format!("{p} ({l})")), ", ")
            ));
        }
        if !h.streams.is_empty() {
            parts.push(format!(
                "streams {}",
                join(
                    h.streams.iter().map(|(sid, c)| match c.pos {
                        Some(pos) => format!("{sid} (refs {}, pos {pos})", c.refs),
                        None => format!("{sid} (refs {}, pos at server)", c.refs),
                    }),
                    ", "
                )
            ));
        }
        if !h.cache.is_empty() {
            parts.push(format!(
                "caches {}",
                join(
                    h.cache.iter().map(|(ino, e)| format!(
                        "{ino} {}{}",
                        symbols(&e.data),
                        if e.dirty { " dirty" } else { "" }
                    )),
                    ", "
                )
            ));
        }
        let rz = &h.rendezvous;
        if !rz.zombies.is_empty() {
            parts.push(format!(
                "exit statuses {}",
                join(
                    rz.zombies
                        .iter()
                        .map(|(c, (p, st))| format!("{c} {st} for {p}")),
                    ", "
                )
            ));
        }
        if !rz.waiters.is_empty() {
            parts.push(format!("waiting: {}", join(rz.waiters.iter(), ", ")));
        }
        if !h.held_signals.is_empty() {
            parts.push(format!(
                "holds signals {}",
                join(
                    h.held_signals.iter().map(|(p, n)| format!("{p} x{n}")),
                    ", "
                )
            ));
        }
        if !h.residue.is_empty() {
            parts.push(format!("pages left by {}", join(h.residue.keys(), ", ")));
        }
        let _ = writeln!(o, "  h{i}: {}", parts.join("; "));
    }
    for (pid, p) in &s.procs {
        let status = match p.status {
            Status::Ready => "ready",
            Status::Waiting => "waiting",
            Status::Migrating => "migrating",
        };
        let script = &model.cfg.scripts[p.script as usize];
        let next = match script.budget {
            None => script
                .ops
                .get(p.pc as usize)
                .map_or("done".to_string(), |op| format!("next {op}")),
            Some(b) => format!("{} of {b} operations done", p.pc),
        };
        let mut line = format!("  {pid} on {}, {status}, {next}", p.host);
        if !p.fds.is_empty() {
            let _ = write!(
                line,
                "; {}",
                join(p.fds.iter().map(|(fd, sid)| format!("{fd}={sid}")), " ")
            );
        }
        let _ = write!(
            line,
            "; memory {}",
            join(
                p.pages.iter().map(|pg| match pg.resident {
                    Some(v) if pg.dirty => format!("{v}*"),
                    Some(v) => v.to_string(),
                    None => "-".into(),
                }),
                " "
            )
        );
        if p.signals > 0 {
            let _ = write!(line, "; {} signals", p.signals);
        }
        let _ = writeln!(o, "{line}");
    }
    for (pid, m) in &s.migrations {
        let _ = writeln!(
            o,
            "  moving: {pid} {} -> {} ({}), next {}",
            m.source, m.target, m.kind, m.phase
        );
    }
    let fs = &s.server;
    let names = join(fs.dir.iter().map(|(n, i)| format!("{n}={i}")), " ");
    let _ = writeln!(
        o,
        "  fs: names {}",
        if names.is_empty() { "none" } else { &names }
    );
    for (ino, f) in &fs.files {
        let kind = if fs.pipes.contains(ino) {
            "pipe"
        } else {
            "file"
        };
        let _ = writeln!(
            o,
            "  fs: {kind} {ino} {}{}{}",
            symbols(&f.data),
            if f.linked { "" } else { ", unlinked" },
            if f.cacheable { "" } else { ", uncacheable" }
        );
    }
    for (sid, st) in &fs.streams {
        let _ = writeln!(
            o,
            "  fs: stream {sid} of {} used on {}{}",
            st.ino,
            join(st.hosts.iter(), ", "),
            st.shadow
                .map_or(String::new(), |p| format!(", position {p} at the server"))
        );
    }
    if !fs.backing.is_empty() {
        let _ = writeln!(
            o,
            "  fs: backing pages {}",
            join(
                fs.backing
                    .iter()
                    .map(|((p, pg), v)| format!("{p} {pg}={v}")),
                ", "
            )
        );
    }
    for (m, n) in &s.signals {
        let _ = writeln!(o, "  in flight: SIGNAL {} to {} x{n}", m.pid, m.to);
    }
    for ((pid, pg), v) in &s.flushes {
        let _ = writeln!(o, "  in flight: PAGE_FLUSH {pid} {pg}={v}");
    }
    let g = &s.ghost;
    let procs = join(
        g.procs.iter().map(|(pid, p)| {
            let state = match p.state {
                unix::ProcState::Running => String::new(),
                unix::ProcState::Waiting => " waiting".into(),
                unix::ProcState::Zombie(st) => format!(" exited {st}"),
            };
            format!("{pid}{state} memory {}", join(p.mem.iter(), " "))
        }),
        ", ",
    );
    let _ = writeln!(o, "  one Unix machine: {procs}");
    let files = join(
        g.inodes.iter().map(|(ino, i)| {
            format!(
                "{ino} {}{}",
                symbols(&i.data),
                if i.linked || i.pipe { "" } else { " unlinked" }
            )
        }),
        ", ",
    );
    let streams = join(
        g.streams
            .iter()
            .map(|(sid, st)| format!("{sid} pos {}", st.pos)),
        ", ",
    );
    if !files.is_empty() || !streams.is_empty() {
        let _ = writeln!(o, "  one Unix machine: files {files}; streams {streams}");
    }
    out
}

/// Escapes the characters XML gives a meaning to.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The advance of one character of a 12-pixel monospace font, with a little to spare.
const CHAR_W: f64 = 7.4;
const ROW_H: f64 = 22.0;
const LANE_W: f64 = 190.0;
const TOP: f64 = 44.0;

fn text_w(s: &str) -> f64 {
    // Whole pixels, so that the coordinates print short.
    (s.chars().count() as f64 * CHAR_W).ceil()
}

/// A sequence diagram of a path: one lifeline per host and one for the file server; each
/// step's label in the left margin, its messages as arrows and its events as notes on
/// the lifeline where they happen; alarms in red; and, at the end, the invariants broken
/// in the last state.
pub fn svg(model: &SpriteModel, actions: &[Action]) -> String {
    let hosts = model.cfg.hosts.len();
    let lanes = hosts + 1;
    let steps = trace::steps(model, actions);
    let broken = trace::explain_path(model, actions);
    let labels: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, (a, _))| format!("{}. {a}", i + 1))
        .collect();
    let gutter = labels.iter().map(|l| text_w(l)).fold(120.0, f64::max) + 16.0;
    let x = |a: &Actor| {
        let lane = match a {
            Actor::Host(h) => h.0 as usize,
            Actor::Server => hosts,
        };
        gutter + LANE_W / 2.0 + lane as f64 * LANE_W
    };
    let mut width = gutter + lanes as f64 * LANE_W;
    let mut body = String::new();
    let mut bands = String::new();
    let mut y = TOP + 8.0;
    let b = &mut body;
    for (i, ((_, lines), label)) in steps.iter().zip(&labels).enumerate() {
        let n = i + 1;
        let rows = lines.len().max(1) as f64;
        if i % 2 == 0 {
            let _ = writeln!(
                bands,
                r##"<rect x="0" y="{y}" width="100%" height="{}" fill="#f3f5f8"/>"##,
                rows * ROW_H
            );
        }
        let _ = writeln!(
            b,
            r##"<text x="8" y="{}" fill="#555">{}</text>"##,
            y + 15.0,
            xml_escape(label)
        );
        let mut row = y;
        for l in lines {
            match l {
                Line::Msg { from, to, text } => {
                    let (xa, xb) = (x(from), x(to));
                    let t = format!("{n}. {text}");
                    let tx = xa.min(xb) + 8.0;
                    width = width.max(tx + text_w(&t) + 8.0);
                    let _ = writeln!(
                        b,
                        r##"<line x1="{xa}" y1="{ay}" x2="{xb}" y2="{ay}" stroke="#1f4e9c" stroke-width="1.5" marker-end="url(#arrow)"/><text x="{tx}" y="{ty}" class="halo" fill="#1f4e9c">{}</text>"##,
                        xml_escape(&t),
                        ay = row + 18.0,
                        ty = row + 13.0,
                    );
                }
                Line::Note { at, .. } | Line::Outcome { at, .. } | Line::Alarm { at, .. } => {
                    let (fill, stroke, color, t) = match l {
                        Line::Alarm { text, .. } => {
                            ("#ffe1e1", "#c00000", "#b00000", format!("!! {text}"))
                        }
                        Line::Outcome { .. } => {
                            let t = trace::line_text(l);
                            let t = t
                                .strip_prefix(&format!("[{at}] "))
                                .unwrap_or(&t)
                                .to_string();
                            ("#e3f2e3", "#5a9a5a", "#1d3d1d", t)
                        }
                        Line::Note { text, .. } => ("#fff6cc", "#c2a83e", "#3d3410", text.clone()),
                        Line::Msg { .. } => unreachable!("matched above"),
                    };
                    let nx = x(at) - 6.0;
                    let w = text_w(&t) + 12.0;
                    width = width.max(nx + w + 8.0);
                    let _ = writeln!(
                        b,
                        r##"<rect x="{nx}" y="{ry}" width="{w}" height="{rh}" rx="3" fill="{fill}" stroke="{stroke}"/><text x="{tx}" y="{ty}" fill="{color}">{}</text>"##,
                        xml_escape(&t),
                        ry = row + 2.0,
                        rh = ROW_H - 4.0,
                        tx = nx + 6.0,
                        ty = row + 15.0,
                    );
                }
            }
            row += ROW_H;
        }
        y += rows * ROW_H;
    }
    if steps.is_empty() {
        let _ = writeln!(
            b,
            r##"<text x="8" y="{}" fill="#555">initial state: no step yet</text>"##,
            y + 15.0
        );
        y += ROW_H;
    }
    let lifelines_end = y + 6.0;
    if !broken.is_empty() {
        y += 6.0;
        let _ = writeln!(
            b,
            r##"<text x="8" y="{}" fill="#b00000" font-weight="bold">BROKEN after step {}:</text>"##,
            y + 15.0,
            steps.len()
        );
        y += ROW_H;
        for br in &broken {
            let t = br.to_string();
            width = width.max(text_w(&t) + 40.0);
            let _ = writeln!(
                b,
                r##"<rect x="4" y="{ry}" width="{w}" height="{rh}" rx="3" fill="#ffe1e1" stroke="#c00000"/><text x="12" y="{ty}" fill="#b00000">{}</text>"##,
                xml_escape(&t),
                ry = y + 2.0,
                w = text_w(&t) + 20.0,
                rh = ROW_H - 4.0,
                ty = y + 15.0,
            );
            y += ROW_H;
        }
    }
    let height = y + 12.0;
    let mut head = String::new();
    let h = &mut head;
    for lane in 0..lanes {
        let (name, actor) = if lane < hosts {
            (format!("h{lane}"), Actor::Host(vocab::HostId(lane as u8)))
        } else {
            ("file server".to_string(), Actor::Server)
        };
        let cx = x(&actor);
        let _ = writeln!(
            h,
            r##"<line x1="{cx}" y1="{TOP}" x2="{cx}" y2="{lifelines_end}" stroke="#9aa4b2" stroke-dasharray="4 3"/><rect x="{rx}" y="8" width="110" height="28" rx="4" fill="#dde6f3" stroke="#5c6f8c"/><text x="{cx}" y="27" text-anchor="middle" font-weight="bold" fill="#1b2a40">{name}</text>"##,
            rx = cx - 55.0,
        );
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1f4e9c"/></marker>
<style>.halo {{ paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }}</style></defs>
<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>
{bands}{head}{body}</svg>
"##
    )
}
