//! The architecture diagram: the snapshot's layout drawn as SVG, each
//! simulated component with its live state, and an empty layer on top into
//! which the page draws message pulses (see `messages.rs`): an SVG of its
//! own over the diagram's, so the dots moving every frame do not repaint
//! the diagram.

use crate::layout::{
    fit_text, raft_lift, text_width, Band, Layout, Link, LinkKind, PlacedComponent, PlacedNode,
    Rect,
};
use crate::palette;
use kubesim::inspect::Target;
use kubesim::{ComponentKind, Health, NodeRole};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties)]
pub struct DiagramProps {
    pub layout: Rc<Layout>,
    /// The group message pulses are drawn into.
    pub pulse_layer: NodeRef,
    /// A pod, node or component was clicked (or chosen with Enter).
    pub on_inspect: Callback<Target>,
}

impl PartialEq for DiagramProps {
    /// The layout is replaced only when something drawn changed: comparing
    /// pointers keeps the diagram from re-rendering on every frame.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.layout, &other.layout)
            && self.pulse_layer == other.pulse_layer
            && self.on_inspect == other.on_inspect
    }
}

/// What an element of the diagram stands for: the nearest pod tile, node or
/// component around it.
fn target_of(el: Option<web_sys::Element>) -> Option<Target> {
    let hit = el?
        .closest("[data-pod],[data-component],[data-node]")
        .ok()
        .flatten()?;
    if let Some(pod) = hit.get_attribute("data-pod") {
        return Some(Target::Pod(pod));
    }
    if let Some(id) = hit.get_attribute("data-component") {
        return (id != "kubectl").then_some(Target::Component(id));
    }
    hit.get_attribute("data-node").map(Target::Node)
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

fn link(l: &Link) -> Html {
    let (class, marker) = match l.kind {
        LinkKind::RaftPeer => ("link raft", None),
        LinkKind::Api => ("link api", Some("url(#arrow)")),
        LinkKind::Kubectl => ("link kubectl", Some("url(#arrow)")),
        LinkKind::EtcdClient => ("link etcd-client", Some("url(#arrow-small)")),
        LinkKind::Runtime => ("link runtime", Some("url(#arrow-small)")),
    };
    html! { <path class={class} d={l.route.svg_d()} marker-end={marker} /> }
}

/// A component's live state, split for the chip: the role or readiness
/// (`leader`, `ready`, `crashed`) and the details after it (`term 2 · rev 57`).
fn state_lines(state: &str) -> (String, String) {
    match state.split_once(" · ") {
        Some((head, rest)) => (head.to_string(), rest.to_string()),
        None => (state.to_string(), String::new()),
    }
}

fn health_word(h: Health) -> &'static str {
    match h {
        Health::Up => "up",
        Health::Degraded => "degraded",
        Health::Down => "down",
        Health::Unknown => "unknown",
    }
}

/// A component chip: a coloured box, a glyph badge, its name, its live state
/// when simulated, and a tooltip.
fn chip(c: &PlacedComponent, sub: Option<String>) -> Html {
    let r: Rect = c.rect;
    let v = &c.view;
    let kind = v.kind;
    let (fill, stroke) = palette::colors(kind);
    let wide = r.w >= kind.label().len() as f64 * 7.2 + 52.0;
    let label = if wide {
        kind.label()
    } else {
        palette::short_label(kind)
    };
    // Crashed: dark, name struck through. Down for another reason (a
    // balancer with no API server in rotation): a red outline and a cross.
    let crashed = v.simulated && v.health == Health::Down && v.state == "crashed";
    let down = v.simulated && v.health == Health::Down && !crashed;
    let degraded = v.simulated && v.health == Health::Degraded;
    let leader = kind == ComponentKind::Etcd && v.state.starts_with("leader");
    let (head, rest) = state_lines(&v.state);
    let status = if !v.simulated {
        "placed; behaviour not simulated yet".to_string()
    } else if v.state.is_empty() {
        format!("simulated, {}", health_word(v.health))
    } else {
        format!("{} ({})", v.state, health_word(v.health))
    };
    let tooltip = format!(
        "{} ({})\nruns as: {}\n{}\nstate: {}",
        v.id,
        kind.label(),
        v.runs_as,
        kind.summary(),
        status
    );
    // Lines of text inside the chip: name, then state (role, details), then
    // the "runs as" line of cluster-wide components.
    let mut lines: Vec<(&'static str, String)> = Vec::new();
    if v.simulated && !v.state.is_empty() {
        let role = if crashed {
            "✕ crashed".to_string()
        } else if down {
            format!("✕ {head}")
        } else if leader {
            format!("★ {head}")
        } else if degraded {
            format!("⚠ {head}")
        } else {
            head
        };
        if sub.is_some() {
            // Cluster-wide chips are wide: one line for the whole state.
            let whole = if rest.is_empty() {
                role
            } else {
                format!("{role} · {rest}")
            };
            lines.push(("chip-state", whole));
        } else {
            lines.push(("chip-state", role));
            if !rest.is_empty() {
                lines.push(("chip-detail", rest));
            }
        }
    }
    if let Some(s) = sub {
        lines.push(("chip-sub", s));
    }
    // Each line fits the chip (11.5 px bold state, 11 px details, as
    // style.css draws them): a line a little too long is drawn a little
    // narrower (SVG `textLength`), a longer one drops its trailing details
    // or is cut; the tooltip keeps the whole state.
    let room = r.w - 44.0 - 4.0;
    let lines: Vec<(&'static str, String, Option<f64>)> = lines
        .into_iter()
        .map(|(class, text)| {
            let (px, bold) = if class == "chip-state" {
                (11.5, true)
            } else {
                (11.0, false)
            };
            let width = text_width(&text, px, bold);
            if width <= room {
                (class, text, None)
            } else if width <= room * 1.15 {
                (class, text, Some(room))
            } else {
                (class, fit_text(&text, room, px, bold), None)
            }
        })
        .collect();
    let n = lines.len() as f64;
    // The name and the lines below it, centred as a block.
    let block = 13.0 + 13.0 * n;
    let top = r.cy() - block / 2.0 + 10.5;
    let (fill, stroke) = if crashed {
        ("#3b4150", "#1c2433")
    } else if down {
        ("#fde3d3", "#c0392b")
    } else if degraded {
        ("#fff4dc", "#b86e00")
    } else {
        (fill, stroke)
    };
    html! {
        <g class={classes!(
                "component",
                (!v.simulated).then_some("unsimulated"),
                leader.then_some("leader"),
                crashed.then_some("crashed"),
                down.then_some("down"),
                degraded.then_some("degraded"),
            )}
           data-component={v.id.clone()} data-kind={format!("{kind:?}")}
           data-health={health_word(v.health)} data-state={v.state.clone()}
           tabindex="0" role="img" aria-label={format!("{}: {}", v.id, status)}>
            <title>{tooltip}</title>
            <rect class="chip" x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="7"
                  style={format!("fill:{fill};stroke:{stroke}")} />
            <rect class="badge" x={f(r.x + 6.0)} y={f(r.cy() - 10.0)} width="30" height="20" rx="4"
                  style={format!("fill:{}", if crashed { "#1c2433" } else { stroke })} />
            <text class="glyph" x={f(r.x + 21.0)} y={f(r.cy() + 3.8)}>{palette::glyph(kind)}</text>
            <text class="chip-label" x={f(r.x + 44.0)} y={f(top)}>{label}</text>
            { for lines.into_iter().enumerate().map(|(i, (class, text, squeeze))| html! {
                <text class={class} x={f(r.x + 44.0)} y={f(top + 13.5 * (i as f64 + 1.0))}
                      textLength={squeeze.map(f)} lengthAdjust={squeeze.map(|_| "spacingAndGlyphs")}>{text}</text>
            }) }
            { for leader.then(|| html! {
                <g class="crown" aria-hidden="true">
                    <circle cx={f(r.right() - 2.0)} cy={f(r.y + 2.0)} r="9" />
                    <text x={f(r.right() - 2.0)} y={f(r.y + 6.0)}>{"♛"}</text>
                </g>
            }) }
        </g>
    }
}

#[derive(Properties)]
struct NodeProps {
    node: Rc<PlacedNode>,
}

impl PartialEq for NodeProps {
    /// The lease and the chips are drawn by their own components: a node
    /// whose only change is there is not drawn again.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.node, &other.node) || self.node.same_box(&other.node)
    }
}

/// A node's box, components and pods: redrawn only when one of them
/// changed (with 100 nodes, most frames change a few).
#[function_component(NodeBox)]
fn node_box(p: &NodeProps) -> Html {
    node(&p.node)
}

#[derive(Properties, PartialEq)]
struct LeaseProps {
    rect: Rect,
    lease: kubesim::LeaseView,
    now: kubesim::SimTime,
}

#[derive(Properties)]
struct NodeChipsProps {
    node: Rc<PlacedNode>,
}

impl PartialEq for NodeChipsProps {
    /// The same node, or one whose chips are all the same: its chips
    /// are not compared one by one.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.node, &other.node)
            || (self.node.components == other.node.components
                && self.node.view.powered_off == other.node.view.powered_off)
    }
}

/// A node's component chips, over its box (in a group that says whether
/// the machine is off, as the node's own group does).
#[function_component(NodeChips)]
fn node_chips(p: &NodeChipsProps) -> Html {
    let n = &p.node;
    html! {
        <g class={classes!("node-chips", n.view.powered_off.then_some("powered-off"))}>
            { for n.components.iter().map(|c| html! { <Chip key={c.view.id.clone()} component={c.clone()} /> }) }
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct ChipProps {
    component: PlacedComponent,
}

/// One component's chip, redrawn only when its state changed.
#[function_component(Chip)]
fn chip_component(p: &ChipProps) -> Html {
    // A cloud-controller-manager replica names its four control loops
    // (kube-controller-manager's many are listed in the inspector).
    let sub = (p.component.view.kind == ComponentKind::CloudControllerManager)
        .then(|| "cloud-node · node-lifecycle · route · service".to_string());
    chip(&p.component, sub)
}

#[function_component(LeaseMeter)]
fn lease_meter_component(p: &LeaseProps) -> Html {
    lease_meter(p.rect, &p.lease, p.now)
}

#[derive(Properties, PartialEq)]
struct LinksProps {
    /// Compared by value: the links change only with the topology.
    links: Rc<Vec<Link>>,
}

/// The links between components (hundreds of paths with 100 nodes).
#[function_component(Links)]
fn links(p: &LinksProps) -> Html {
    html! { <>{ for p.links.iter().map(link) }</> }
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
    let cp = v.role == NodeRole::ControlPlane;
    let divider = cp
        .then(|| {
            n.components
                .iter()
                .find(|c| c.view.kind == ComponentKind::Kubelet)
                .map(|k| k.rect.y - 6.0)
        })
        .flatten();
    let badges: Vec<(&str, &str, &str)> = [
        v.powered_off.then_some((
            "off",
            "⏼ powered off",
            "The machine is powered off: every component on it is down",
        )),
        v.partitioned.then_some((
            "partitioned",
            "✂ partitioned",
            "The machine is cut off from the network: its messages are dropped",
        )),
        match v.ready.as_deref() {
            Some("Unknown") => Some((
                "not-ready",
                "? NotReady (Unknown)",
                "The node lifecycle controller heard no heartbeat for 50 s: Ready is Unknown",
            )),
            Some("False") => Some((
                "not-ready",
                "✗ NotReady",
                "The kubelet reports the node not ready",
            )),
            _ => None,
        },
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut bx = r.right() - 10.0;
    html! {
        <g class={classes!(
                "node",
                if cp { "control-plane" } else { "worker" },
                v.powered_off.then_some("powered-off"),
                v.partitioned.then_some("partitioned"),
            )}
           data-node={v.name.clone()} tabindex="0" aria-label={format!("node {}", v.name)}>
            <rect class="node-box" x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="10" />
            <text class="node-name" x={f(r.x + 12.0)} y={f(r.y + 20.0)}>{v.name.clone()}</text>
            <text class="node-facts" x={f(r.x + 12.0)} y={f(r.y + 36.0)}>{facts}</text>
            { for badges.into_iter().map(|(class, text, help)| {
                let w = text.chars().count() as f64 * 6.4 + 14.0;
                bx -= w;
                let x = bx;
                bx -= 6.0;
                html! {
                    <g class={classes!("node-badge", class)}>
                        <title>{help}</title>
                        <rect x={f(x)} y={f(r.y + 8.0)} width={f(w)} height="18" rx="9" />
                        <text x={f(x + w / 2.0)} y={f(r.y + 21.0)}>{text}</text>
                    </g>
                }
            }) }
            { for cp.then(|| html! {
                <g class="taint">
                    <title>{"Taint node-role.kubernetes.io/control-plane:NoSchedule: pods without a matching toleration are not scheduled here"}</title>
                    <text x={f(r.x + 14.0)} y={f(r.bottom() - 10.0)}>{"⊘ taint control-plane:NoSchedule"}</text>
                </g>
            }) }
            { for cp.then(|| n.components.iter().find(|c| c.view.kind == ComponentKind::Etcd).map(|e| html! {
                <circle class="raft-port" cx={f(e.rect.cx())} cy={f(r.y)} r="3.5" />
            })).flatten() }
            { for divider.map(|y| html! {
                <g class="divider">
                    <line x1={f(r.x + 12.0)} x2={f(r.right() - 12.0)} y1={f(y - 4.0)} y2={f(y - 4.0)} />
                    <text x={f(r.cx())} y={f(y - 7.0)} text-anchor="middle">{"node agents"}</text>
                </g>
            }) }
            { for n.pods_area.map(|p| pods(p, &v.pods)) }
        </g>
    }
}

/// The pods bound to a node: one tile each, coloured and marked by state.
fn pods(p: Rect, list: &[Rc<kubesim::PodView>]) -> Html {
    const TILE_W: f64 = 62.0;
    const TILE_H: f64 = 16.0;
    const GAP: f64 = 4.0;
    let per_row = (((p.w - GAP) / (TILE_W + GAP)).floor() as usize).max(1);
    let rows = (((p.h - GAP) / (TILE_H + GAP)).floor() as usize).max(1);
    let room = per_row * rows;
    let shown = if list.len() > room {
        room - 1
    } else {
        list.len()
    };
    let tile = |i: usize, pod: &Rc<kubesim::PodView>| {
        let x = p.x + GAP + (i % per_row) as f64 * (TILE_W + GAP);
        let y = p.y + GAP + (i / per_row) as f64 * (TILE_H + GAP);
        let waiting_reason = pod
            .containers
            .iter()
            .find_map(|c| c.reason.clone())
            .unwrap_or_default();
        let state = match pod.phase.as_str() {
            "Running" if pod.ready => "running",
            "Running" => "unready",
            "Succeeded" => "succeeded",
            "Failed" => "failed",
            "Terminating" => "terminating",
            _ if waiting_reason.contains("BackOff") || waiting_reason.starts_with("Err") => {
                "failed"
            }
            _ => "pending",
        };
        let mark = match state {
            "running" => "●",
            "unready" => "◐",
            "succeeded" => "✓",
            "failed" => "✗",
            "terminating" => "↓",
            _ => "○",
        };
        let short: String = pod.name.chars().take(8).collect();
        let containers: Vec<String> = pod
            .containers
            .iter()
            .map(|c| match &c.reason {
                Some(r) => format!("{}: {} ({r})", c.name, c.state),
                None => format!("{}: {}", c.name, c.state),
            })
            .collect();
        html! {
            <g class={classes!("pod", state)} data-pod={format!("{}/{}", pod.namespace, pod.name)}
               tabindex="0" role="button" aria-label={format!("pod {}/{}: {}", pod.namespace, pod.name, pod.phase)}>
                <title>{format!("pod {}/{}\n{}{}\n{}", pod.namespace, pod.name, pod.phase,
                    if pod.ready { " · Ready" } else { "" }, containers.join("\n"))}</title>
                <rect x={f(x)} y={f(y)} width={f(TILE_W)} height={f(TILE_H)} rx="4" />
                <text x={f(x + 4.0)} y={f(y + 11.5)}>{format!("{mark} {short}")}</text>
            </g>
        }
    };
    html! {
        <g class="pods-area">
            <rect x={f(p.x)} y={f(p.y)} width={f(p.w)} height={f(p.h)} rx="6" />
            { if list.is_empty() { html! {
                <text class="empty" x={f(p.cx())} y={f(p.cy() + 4.0)} text-anchor="middle">{"no pods"}</text>
            } } else { html! {} } }
            { for list.iter().take(shown).enumerate().map(|(i, pod)| tile(i, pod)) }
            { for (list.len() > shown).then(|| {
                let i = shown;
                let x = p.x + GAP + (i % per_row) as f64 * (TILE_W + GAP);
                let y = p.y + GAP + (i / per_row) as f64 * (TILE_H + GAP);
                html! { <text class="more" x={f(x + 4.0)} y={f(y + 11.5)}>{format!("+{} more", list.len() - shown)}</text> }
            }) }
        </g>
    }
}

/// The node's heartbeat: how long its Lease has left, as a draining bar.
fn lease_meter(r: Rect, lease: &kubesim::LeaseView, now: kubesim::SimTime) -> Html {
    let left = lease.remaining(now).as_millis() as f64 / 1000.0;
    let total = f64::from(lease.duration_seconds.max(1));
    let fraction = (left / total).clamp(0.0, 1.0);
    let state = if left <= 0.0 {
        "expired"
    } else if left < total - 10.5 {
        "late"
    } else {
        "fresh"
    };
    let text = if left <= 0.0 {
        "♥ lease expired".to_string()
    } else {
        format!("♥ lease {:.0}s", left.ceil())
    };
    // One line in the node's footer: the label, then the draining bar.
    let bar = 60.0;
    let x = r.right() - bar - 86.0;
    let y = r.bottom() - 9.0;
    html! {
        <g class={classes!("lease-meter", state)}>
            <title>{format!(
                "Node Lease kube-node-lease/{}: renewed by the kubelet every 10 s, valid {} s. {}",
                lease.holder,
                lease.duration_seconds,
                if left <= 0.0 { "Expired: the kubelet has stopped heartbeating.".to_string() } else { format!("{left:.0} s left.") }
            )}</title>
            <text x={f(x)} y={f(y)}>{text}</text>
            <rect class="track" x={f(x + 80.0)} y={f(y - 6.0)} width={f(bar)} height="5" rx="2.5" />
            <rect class="fill" x={f(x + 80.0)} y={f(y - 6.0)} width={f(bar * fraction)} height="5" rx="2.5" />
        </g>
    }
}

/// The user's kubectl: a terminal outside the cluster.
/// A konnectivity-server or -agent: a tab on its node's top edge.
fn tunnel_chip(t: &crate::layout::TunnelChip) -> Html {
    let r = t.rect;
    html! {
        <g class={classes!("tunnel-chip", (!t.up).then_some("down"))} data-component={t.id.clone()}>
            <title>{format!("{} ({})", t.id, if t.up { "running" } else { "stopped" })}</title>
            <rect x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="7" />
            <text x={f(r.cx())} y={f(r.y + 10.5)}>{t.label.clone()}</text>
        </g>
    }
}

fn kubectl(r: Rect) -> Html {
    html! {
        <g class="kubectl" data-component="kubectl" tabindex="0" role="img"
           aria-label="kubectl: your terminal, outside the cluster; the console's commands start here">
            <title>{"kubectl: the user's terminal, outside the cluster.\nIt reaches the API only through the load balancer, with the kubeadm admin credential (admin.conf).\nThe console's kubectl commands start here."}</title>
            <rect class="term" x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="8" />
            <circle cx={f(r.x + 12.0)} cy={f(r.y + 10.0)} r="2.6" class="dot1" />
            <circle cx={f(r.x + 20.0)} cy={f(r.y + 10.0)} r="2.6" class="dot2" />
            <circle cx={f(r.x + 28.0)} cy={f(r.y + 10.0)} r="2.6" class="dot3" />
            <text class="prompt" x={f(r.x + 14.0)} y={f(r.cy() + 10.0)}>{"❯_"}</text>
            <text class="chip-label term-label" x={f(r.x + 44.0)} y={f(r.cy() + 1.0)}>{"kubectl"}</text>
            <text class="term-sub" x={f(r.x + 44.0)} y={f(r.cy() + 15.0)}>{"your terminal · admin.conf"}</text>
        </g>
    }
}

#[function_component(Diagram)]
pub fn diagram(p: &DiagramProps) -> Html {
    // Marks the first drawing of the diagram in the page's performance
    // timeline (`cargo xtask bench page` reads it: time to first diagram).
    use_effect_with((), |_| {
        if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
            let _ = perf.mark("kubesim:first-diagram");
        }
    });
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
    let kubectl_label = l.links.iter().find(|k| k.kind == LinkKind::Kubectl).map(|k| {
        html! {
            <text class="link-label kubectl-label" x={f((k.from.0 + k.to.0) / 2.0)} y={f(k.from.1 - 8.0)} text-anchor="middle">
                {"HTTPS :6443"}
            </text>
        }
    });
    let on_click = {
        let on = p.on_inspect.clone();
        Callback::from(move |e: MouseEvent| {
            if let Some(t) = target_of(e.target_dyn_into::<web_sys::Element>()) {
                on.emit(t);
            }
        })
    };
    let on_key = {
        let on = p.on_inspect.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                if let Some(t) = target_of(e.target_dyn_into::<web_sys::Element>()) {
                    e.prevent_default();
                    on.emit(t);
                }
            }
        })
    };
    let view_box = format!("0 0 {} {}", f(l.width), f(l.height));
    html! {
        <div class="diagram-stack">
        <svg class="diagram" onclick={on_click} onkeydown={on_key} viewBox={view_box.clone()}
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
            { for l.nodes.iter().map(|n| html! { <NodeBox key={n.view.name.clone()} node={n.clone()} /> }) }
            // Each node's components, over its box (in a group that says
            // whether the machine is off, as the node's own group does).
            { for l.nodes.iter().map(|n| html! { <NodeChips key={n.view.name.clone()} node={n.clone()} /> }) }
            // Each node's lease meter, drawn over its footer.
            { for l.nodes.iter().filter_map(|n| n.view.lease.clone().map(|lease| html! {
                <LeaseMeter key={n.view.name.clone()} rect={n.rect} {lease} now={n.now} />
            })) }
            <Links links={l.links.clone()} />
            { for raft_label }
            { for kubectl_label }
            { for l.cluster_components.iter().map(|c| chip(c, Some(c.view.runs_as.clone()))) }
            { for l.tunnel_chips.iter().map(tunnel_chip) }
            { kubectl(l.kubectl) }
        </svg>
        // The pulses move every frame: drawn over the diagram in an SVG of
        // their own (the same box and viewBox), which the browser keeps on
        // its own layer, so a moving dot does not make it paint the
        // thousands of elements of the diagram again.
        <svg class="diagram pulse-overlay" viewBox={view_box} preserveAspectRatio="xMidYMin meet"
             aria-hidden="true">
            <g class="pulses" ref={p.pulse_layer.clone()}></g>
        </svg>
        </div>
    }
}
