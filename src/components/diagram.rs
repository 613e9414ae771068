//! The architecture diagram: the snapshot's layout drawn as SVG.

use crate::layout::{Band, Layout, Link, LinkKind, PlacedComponent, PlacedNode, Rect};
use crate::palette;
use kubesim::{ComponentKind, NodeRole};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DiagramProps {
    pub layout: Rc<Layout>,
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

fn gib(bytes: u64) -> String {
    format!("{} GiB", bytes / kubesim::Resources::GI)
}

fn band(b: &Band) -> Html {
    let r = b.rect;
    html! {
        <g class="band">
            <rect x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="14" />
            <text class="band-title" x={f(r.x + 16.0)} y={f(r.y + 22.0)}>{b.title}</text>
        </g>
    }
}

/// How far a Raft arc's control point rises above its ends.
fn raft_lift(dx: f64) -> f64 {
    24.0 + 0.08 * dx.abs()
}

fn link(l: &Link) -> Html {
    let (x1, y1) = l.from;
    let (x2, y2) = l.to;
    match l.kind {
        LinkKind::RaftPeer => {
            // An arc above the control-plane nodes, higher for farther peers.
            let lift = raft_lift(x2 - x1);
            let (cx, cy) = ((x1 + x2) / 2.0, y1.min(y2) - lift);
            html! {
                <path class="link raft" d={format!("M{} {} Q{} {} {} {}", f(x1), f(y1), f(cx), f(cy), f(x2), f(y2))} />
            }
        }
        LinkKind::Api => {
            // A gentle S-curve between vertical or horizontal ends.
            let d = if (y1 - y2).abs() > (x1 - x2).abs() / 3.0 {
                let my = (y1 + y2) / 2.0;
                format!(
                    "M{} {} C{} {} {} {} {} {}",
                    f(x1),
                    f(y1),
                    f(x1),
                    f(my),
                    f(x2),
                    f(my),
                    f(x2),
                    f(y2)
                )
            } else {
                let mx = (x1 + x2) / 2.0;
                format!(
                    "M{} {} C{} {} {} {} {} {}",
                    f(x1),
                    f(y1),
                    f(mx),
                    f(y1),
                    f(mx),
                    f(y2),
                    f(x2),
                    f(y2)
                )
            };
            html! { <path class="link api" d={d} marker-end="url(#arrow)" /> }
        }
        LinkKind::EtcdClient => html! {
            <line class="link etcd-client" x1={f(x1)} y1={f(y1)} x2={f(x2)} y2={f(y2)} marker-end="url(#arrow-small)" />
        },
        LinkKind::Runtime => html! {
            <line class="link runtime" x1={f(x1)} y1={f(y1)} x2={f(x2)} y2={f(y2)} marker-end="url(#arrow-small)" />
        },
    }
}

/// A component chip: a coloured box, a glyph badge, its name, and a tooltip.
fn chip(c: &PlacedComponent, sub: Option<String>) -> Html {
    let r: Rect = c.rect;
    let kind = c.view.kind;
    let (fill, stroke) = palette::colors(kind);
    let wide = r.w >= kind.label().len() as f64 * 7.2 + 52.0;
    let label = if wide {
        kind.label()
    } else {
        palette::short_label(kind)
    };
    let status = if c.view.simulated {
        "simulated"
    } else {
        "placed; behaviour not simulated yet"
    };
    let tooltip = format!(
        "{} ({})\nruns as: {}\n{}\nstatus: {}",
        c.view.id,
        kind.label(),
        c.view.runs_as,
        kind.summary(),
        status
    );
    let text_y = if sub.is_some() {
        r.y + r.h / 2.0 - 3.0
    } else {
        r.cy() + 4.5
    };
    html! {
        <g class={classes!("component", (!c.view.simulated).then_some("unsimulated"))}
           data-component={c.view.id.clone()} data-kind={format!("{kind:?}")}
           tabindex="0" role="img" aria-label={format!("{}: {}", c.view.id, status)}>
            <title>{tooltip}</title>
            <rect class="chip" x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="7"
                  style={format!("fill:{fill};stroke:{stroke}")} />
            <rect class="badge" x={f(r.x + 6.0)} y={f(r.cy() - 10.0)} width="30" height="20" rx="4"
                  style={format!("fill:{stroke}")} />
            <text class="glyph" x={f(r.x + 21.0)} y={f(r.cy() + 3.8)}>{palette::glyph(kind)}</text>
            <text class="chip-label" x={f(r.x + 44.0)} y={f(text_y)}>{label}</text>
            { for sub.map(|s| html! {
                <text class="chip-sub" x={f(r.x + 44.0)} y={f(r.y + r.h / 2.0 + 12.0)}>{s}</text>
            }) }
        </g>
    }
}

fn node(n: &PlacedNode) -> Html {
    let r = n.rect;
    let v = &n.view;
    let facts = format!(
        "{} · {} · {} CPU · {} · {} pods",
        v.zone,
        v.instance_type,
        v.capacity.cpu_millis / 1000,
        gib(v.capacity.memory_bytes),
        v.capacity.pods
    );
    let divider = (v.role == NodeRole::ControlPlane)
        .then(|| {
            n.components
                .iter()
                .find(|c| c.view.kind == ComponentKind::Kubelet)
                .map(|k| k.rect.y - 6.0)
        })
        .flatten();
    html! {
        <g class={classes!("node", if v.role == NodeRole::ControlPlane { "control-plane" } else { "worker" })}
           data-node={v.name.clone()}>
            <rect class="node-box" x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="10" />
            <text class="node-name" x={f(r.x + 12.0)} y={f(r.y + 20.0)}>{v.name.clone()}</text>
            <text class="node-facts" x={f(r.x + 12.0)} y={f(r.y + 36.0)}>{facts}</text>
            { for (v.role == NodeRole::ControlPlane).then(|| html! {
                <g class="taint">
                    <title>{"Taint node-role.kubernetes.io/control-plane:NoSchedule: pods without a matching toleration are not scheduled here"}</title>
                    <text x={f(r.x + 12.0)} y={f(r.bottom() - 10.0)}>{"⊘ taint control-plane:NoSchedule"}</text>
                </g>
            }) }
            { for (v.role == NodeRole::ControlPlane).then(|| n.components.iter().find(|c| c.view.kind == ComponentKind::Etcd).map(|e| html! {
                <circle class="raft-port" cx={f(e.rect.cx())} cy={f(r.y)} r="3.5" />
            })).flatten() }
            { for divider.map(|y| html! {
                <g class="divider">
                    <line x1={f(r.x + 12.0)} x2={f(r.right() - 12.0)} y1={f(y - 4.0)} y2={f(y - 4.0)} />
                    <text x={f(r.cx())} y={f(y - 7.0)} text-anchor="middle">{"node agents"}</text>
                </g>
            }) }
            { for n.components.iter().map(|c| chip(c, None)) }
            { for n.pods_area.map(|p| html! {
                <g class="pods-area">
                    <rect x={f(p.x)} y={f(p.y)} width={f(p.w)} height={f(p.h)} rx="6" />
                    <text x={f(p.cx())} y={f(p.cy() + 4.0)} text-anchor="middle">{"pods: none yet"}</text>
                </g>
            }) }
        </g>
    }
}

#[function_component(Diagram)]
pub fn diagram(p: &DiagramProps) -> Html {
    let l = &p.layout;
    let raft_label = l
        .links
        .iter()
        .filter(|k| k.kind == LinkKind::RaftPeer)
        .max_by(|a, b| {
            let da = (a.to.0 - a.from.0).abs();
            let db = (b.to.0 - b.from.0).abs();
            da.total_cmp(&db)
        })
        .map(|k| {
            let peak = k.from.1.min(k.to.1) - raft_lift(k.to.0 - k.from.0) / 2.0;
            html! {
                <text class="link-label raft-label" x={f((k.from.0 + k.to.0) / 2.0)} y={f(peak - 6.0)} text-anchor="middle">
                    {"etcd Raft peers · :2380"}
                </text>
            }
        });
    html! {
        <svg class="diagram" viewBox={format!("0 0 {} {}", f(l.width), f(l.height))}
             preserveAspectRatio="xMidYMin meet" role="group"
             aria-label="Architecture of the simulated cluster">
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M0 0 L10 5 L0 10 z" class="arrowhead" />
                </marker>
                <marker id="arrow-small" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                    <path d="M0 0 L10 5 L0 10 z" class="arrowhead" />
                </marker>
            </defs>
            { for l.bands.iter().map(band) }
            { for l.links.iter().filter(|k| matches!(k.kind, LinkKind::Api | LinkKind::RaftPeer)).map(link) }
            { for raft_label }
            { for l.nodes.iter().map(node) }
            { for l.links.iter().filter(|k| matches!(k.kind, LinkKind::EtcdClient | LinkKind::Runtime)).map(link) }
            { for l.cluster_components.iter().map(|c| chip(c, Some(c.view.runs_as.clone()))) }
        </svg>
    }
}
