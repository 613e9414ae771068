//! The architecture diagram: the snapshot's layout drawn as SVG, each
//! simulated component with its live state, and a canvas on top on which
//! the page paints message pulses (see `messages.rs`), so the dots moving
//! every frame do not restyle or repaint the diagram.
//!
//! A large cluster (more than `layout::CANVAS_WORKERS` workers) is drawn in
//! the canvas view: its worker nodes are painted on a canvas under the SVG
//! (`canvas.rs`), and the SVG keeps, for each of them, a transparent
//! focusable hit box: a click or a hover is hit-tested against the layout
//! for the pod or chip under the pointer, and a tooltip names it.

use crate::canvas::NodeCanvas;
use crate::layout::{
    chip_look, component_status, component_tooltip, health_word, lease_look, node_badges,
    node_facts, pod_label, pod_tooltip, raft_lift, Band, Layout, Link, LinkKind, PlacedComponent,
    PlacedNode, PodGrid, PodState, Rect,
};
use kubesim::inspect::Target;
use kubesim::{ComponentKind, NodeRole};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties)]
pub struct DiagramProps {
    pub layout: Rc<Layout>,
    /// The canvas message pulses are painted on.
    pub pulse_layer: NodeRef,
    /// A pod, node or component was clicked (or chosen with Enter).
    pub on_inspect: Callback<Target>,
    /// The page's theme (the canvas view paints in its colours).
    pub theme: AttrValue,
    /// The components a lesson's step lights (their ids): the SVG's are
    /// styled by the guide; the canvas view's are outlined here.
    #[prop_or_default]
    pub highlight: Rc<Vec<String>>,
}

impl PartialEq for DiagramProps {
    /// The layout is replaced only when something drawn changed: comparing
    /// pointers keeps the diagram from re-rendering on every frame.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.layout, &other.layout)
            && self.pulse_layer == other.pulse_layer
            && self.on_inspect == other.on_inspect
            && self.theme == other.theme
            && self.highlight == other.highlight
    }
}

/// Where a pointer event falls on the diagram, in the layout's units (the
/// SVG is as wide as its box and as tall as its viewBox's aspect makes it).
fn diagram_point(e: &MouseEvent, layout_w: f64) -> Option<(f64, f64)> {
    // Not `current_target`: Yew delegates events to the page's root.
    let svg = e
        .target_dyn_into::<web_sys::Element>()?
        .closest("svg.diagram")
        .ok()
        .flatten()?;
    let r = svg.get_bounding_client_rect();
    if r.width() <= 0.0 {
        return None;
    }
    let k = layout_w / r.width();
    Some((
        (f64::from(e.client_x()) - r.left()) * k,
        (f64::from(e.client_y()) - r.top()) * k,
    ))
}

/// What was clicked: in the canvas view, what the layout has under the
/// pointer on a node's hit box; else the element's pod, node or component.
fn clicked(e: &MouseEvent, layout: &Layout) -> Option<Target> {
    let el = e.target_dyn_into::<web_sys::Element>();
    if el
        .as_ref()
        .is_some_and(|el| el.class_list().contains("node-hit"))
    {
        if let Some((x, y)) = diagram_point(e, layout.width) {
            if let Some((t, _)) = layout.hit(x, y) {
                return Some(t);
            }
        }
    }
    target_of(el)
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

/// Puts the hover outline around `r` (the diagram's units), or hides it.
fn show_outline(el: &web_sys::Element, r: Option<Rect>) {
    match r {
        Some(r) => {
            let _ = el.set_attribute("x", &f(r.x - 1.0));
            let _ = el.set_attribute("y", &f(r.y - 1.0));
            let _ = el.set_attribute("width", &f(r.w + 2.0));
            let _ = el.set_attribute("height", &f(r.h + 2.0));
            let _ = el.set_attribute("visibility", "visible");
        }
        None => {
            if el.get_attribute("visibility").as_deref() != Some("hidden") {
                let _ = el.set_attribute("visibility", "hidden");
            }
        }
    }
}

fn f(v: f64) -> String {
    format!("{v:.1}")
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

/// A component chip: a coloured box, a glyph badge, its name, its live state
/// when simulated, and a tooltip.
fn chip(c: &PlacedComponent, sub: Option<String>) -> Html {
    let r: Rect = c.rect;
    let v = &c.view;
    let look = chip_look(c, sub);
    html! {
        <g class={classes!(
                "component",
                (!v.simulated).then_some("unsimulated"),
                look.leader.then_some("leader"),
                look.crashed.then_some("crashed"),
                look.down.then_some("down"),
                look.degraded.then_some("degraded"),
            )}
           data-component={v.id.clone()} data-kind={format!("{:?}", v.kind)}
           data-health={health_word(v.health)} data-state={v.state.clone()}
           tabindex="0" role="img" aria-label={format!("{}: {}", v.id, component_status(v))}>
            <title>{component_tooltip(v)}</title>
            <rect class="chip" x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="7"
                  style={format!("fill:{};stroke:{}", look.fill, look.stroke)} />
            <rect class="badge" x={f(r.x + 6.0)} y={f(r.cy() - 10.0)} width="30" height="20" rx="4"
                  style={format!("fill:{}", look.badge)} />
            <text class="glyph" x={f(r.x + 21.0)} y={f(r.cy() + 3.8)}>{look.glyph}</text>
            <text class="chip-label" x={f(r.x + 44.0)} y={f(look.top)}
                  textLength={look.label_squeeze.map(f)} lengthAdjust={look.label_squeeze.map(|_| "spacingAndGlyphs")}>{look.label}</text>
            { for look.lines.into_iter().enumerate().map(|(i, (class, text, squeeze))| html! {
                <text class={class} x={f(r.x + 44.0)} y={f(look.top + 13.5 * (i as f64 + 1.0))}
                      textLength={squeeze.map(f)} lengthAdjust={squeeze.map(|_| "spacingAndGlyphs")}>{text}</text>
            }) }
            { for look.leader.then(|| html! {
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
    let facts = node_facts(v);
    let facts_squeeze = crate::layout::facts_squeeze(&facts, r);
    let cp = v.role == NodeRole::ControlPlane;
    let divider = cp
        .then(|| {
            n.components
                .iter()
                .find(|c| c.view.kind == ComponentKind::Kubelet)
                .map(|k| k.rect.y - 6.0)
        })
        .flatten();
    let badges = node_badges(v);
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
            <text class="node-facts" x={f(r.x + 12.0)} y={f(r.y + 36.0)}
                  textLength={facts_squeeze.map(f)} lengthAdjust={facts_squeeze.map(|_| "spacingAndGlyphs")}>{facts}</text>
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
    let grid = PodGrid::new(p, list.len());
    let tile = |i: usize, pod: &Rc<kubesim::PodView>| {
        let r = grid.slot(i);
        let state = PodState::of(pod);
        html! {
            <g class={classes!("pod", state.class())} data-pod={format!("{}/{}", pod.namespace, pod.name)}
               tabindex="0" role="button" aria-label={format!("pod {}/{}: {}", pod.namespace, pod.name, pod.phase)}>
                <title>{pod_tooltip(pod)}</title>
                <rect x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="4" />
                <text x={f(r.x + 4.0)} y={f(r.y + 11.5)}>{pod_label(pod, state)}</text>
            </g>
        }
    };
    html! {
        <g class="pods-area">
            <rect x={f(p.x)} y={f(p.y)} width={f(p.w)} height={f(p.h)} rx="6" />
            { if list.is_empty() { html! {
                <text class="empty" x={f(p.cx())} y={f(p.cy() + 4.0)} text-anchor="middle">{"no pods"}</text>
            } } else { html! {} } }
            { for list.iter().take(grid.shown).enumerate().map(|(i, pod)| tile(i, pod)) }
            { for grid.more().map(|more| {
                let r = grid.slot(grid.shown);
                html! { <text class="more" x={f(r.x + 4.0)} y={f(r.y + 11.5)}>{format!("+{more} more")}</text> }
            }) }
        </g>
    }
}

/// The node's heartbeat: how long its Lease has left, as a draining bar.
fn lease_meter(r: Rect, lease: &kubesim::LeaseView, now: kubesim::SimTime) -> Html {
    let (state, text, fraction, left) = lease_look(lease, now);
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

/// A canvas node's hit box: transparent, focusable, named for screen
/// readers; Enter opens the node, a click what is under the pointer.
fn hit_box(n: &PlacedNode) -> Html {
    let r = n.rect;
    let v = &n.view;
    let ready = match v.ready.as_deref() {
        Some("True") => "Ready",
        Some(_) => "NotReady",
        None => "not registered",
    };
    let off = if v.powered_off { ", powered off" } else { "" };
    let label = format!("node {}: {ready}{off}, {} pods", v.name, v.pods.len());
    html! {
        <rect class="node-hit" key={v.name.clone()} data-node={v.name.clone()} tabindex="0" role="button"
              aria-label={label} x={f(r.x)} y={f(r.y)} width={f(r.w)} height={f(r.h)} rx="10" />
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
        let layout = p.layout.clone();
        Callback::from(move |e: MouseEvent| {
            if let Some(t) = clicked(&e, &layout) {
                on.emit(t);
            }
        })
    };
    let tip = use_node_ref();
    let outline = use_node_ref();
    // In the canvas view: the tooltip of what is under the pointer, and
    // the outline of its pod tile or chip, set straight on their elements
    // (a hover re-renders nothing).
    let on_move = {
        let tip = tip.clone();
        let outline = outline.clone();
        let layout = p.layout.clone();
        Callback::from(move |e: MouseEvent| {
            let Some(el) = tip.cast::<web_sys::HtmlElement>() else {
                return;
            };
            let on_hit_box = e
                .target_dyn_into::<web_sys::Element>()
                .is_some_and(|t| t.class_list().contains("node-hit"));
            let point = on_hit_box
                .then(|| diagram_point(&e, layout.width))
                .flatten();
            if let Some(o) = outline.cast::<web_sys::Element>() {
                show_outline(&o, point.and_then(|(x, y)| layout.hit_outline(x, y)));
            }
            let hit = point.and_then(|(x, y)| layout.hit(x, y));
            match hit {
                Some((target, text)) => {
                    let Some(stack) = el.parent_element() else {
                        return;
                    };
                    let r = stack.get_bounding_client_rect();
                    let x = f64::from(e.client_x()) - r.left() + 14.0;
                    let y = f64::from(e.client_y()) - r.top() + 16.0;
                    let style = el.style();
                    let _ = style.set_property("left", &format!("{x:.0}px"));
                    let _ = style.set_property("top", &format!("{y:.0}px"));
                    let key = match &target {
                        Target::Pod(p) => format!("pod {p}"),
                        Target::Node(n) => format!("node {n}"),
                        Target::Component(c) => format!("component {c}"),
                        Target::Object { name, .. } => name.clone(),
                    };
                    if el.get_attribute("data-target").as_deref() != Some(key.as_str()) {
                        el.set_text_content(Some(&text));
                        let _ = el.set_attribute("data-target", &key);
                    }
                    if el.hidden() {
                        el.set_hidden(false);
                    }
                }
                None if !el.hidden() => el.set_hidden(true),
                None => {}
            }
        })
    };
    let on_leave = {
        let tip = tip.clone();
        let outline = outline.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(o) = outline.cast::<web_sys::Element>() {
                show_outline(&o, None);
            }
            if let Some(el) = tip.cast::<web_sys::HtmlElement>().filter(|el| !el.hidden()) {
                el.set_hidden(true);
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
    // In the canvas view, the workers' band and nodes are on the canvas.
    let in_svg = |n: &&Rc<PlacedNode>| !(l.canvas && n.view.role == NodeRole::Worker);
    let canvas_band = l.canvas_band().map(|b| b.rect);
    // The pulse canvas covers only where routes run (the control plane,
    // mostly): a frame's clears and the compositor's copies stay small.
    let a = l.pulse_area;
    let pct = |v: f64, of: f64| if of > 0.0 { v / of * 100.0 } else { 0.0 };
    let pulse_style = format!(
        "left:{:.3}%;top:{:.3}%;width:{:.3}%;height:{:.3}%",
        pct(a.x, l.width),
        pct(a.y, l.height),
        pct(a.w, l.width),
        pct(a.h, l.height)
    );
    html! {
        <div class={classes!("diagram-stack", l.canvas.then_some("canvas-view"))}>
        if l.canvas {
            <NodeCanvas layout={l.clone()} theme={p.theme.clone()} />
        }
        <svg class="diagram" onclick={on_click} onkeydown={on_key} onmousemove={on_move}
             onmouseleave={on_leave} viewBox={view_box.clone()}
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
            { for l.bands.iter().filter(|b| Some(b.rect) != canvas_band).map(band) }
            { for l.nodes.iter().filter(in_svg).map(|n| html! { <NodeBox key={n.view.name.clone()} node={n.clone()} /> }) }
            // Each node's components, over its box (in a group that says
            // whether the machine is off, as the node's own group does).
            { for l.nodes.iter().filter(in_svg).map(|n| html! { <NodeChips key={n.view.name.clone()} node={n.clone()} /> }) }
            // Each node's lease meter, drawn over its footer.
            { for l.nodes.iter().filter(in_svg).filter_map(|n| n.view.lease.clone().map(|lease| html! {
                <LeaseMeter key={n.view.name.clone()} rect={n.rect} {lease} now={n.now} />
            })) }
            <Links links={l.links.clone()} />
            { for raft_label }
            { for kubectl_label }
            { for l.cluster_components.iter().map(|c| chip(c, Some(c.view.runs_as.clone()))) }
            { for l.tunnel_chips.iter().map(tunnel_chip) }
            { kubectl(l.kubectl) }
            // The canvas nodes' hit boxes: focusable, named, over the canvas.
            { for l.canvas_nodes().map(|n| hit_box(n)) }
            // Over the canvas: the chips a lesson's step lights, and the
            // pod tile or chip under the pointer.
            { for l.canvas_nodes().flat_map(|n| n.components.iter())
                .filter(|c| p.highlight.contains(&c.view.id))
                .map(|c| html! {
                    <rect class="canvas-highlight" data-component={c.view.id.clone()} x={f(c.rect.x - 1.5)} y={f(c.rect.y - 1.5)}
                          width={f(c.rect.w + 3.0)} height={f(c.rect.h + 3.0)} rx="8" />
                }) }
            if l.canvas {
                <rect class="canvas-hover" ref={outline} visibility="hidden" rx="5" />
            }
        </svg>
        // The pulses move every frame: painted on a canvas over the
        // diagram (the same box and scale), so a moving dot neither
        // restyles nor repaints the diagram's elements.
        <canvas class="pulse-canvas" ref={p.pulse_layer.clone()} aria-hidden="true" data-pulses="0"
                style={pulse_style} />
        <div class="diagram-tip" ref={tip} role="tooltip" hidden={true}></div>
        </div>
    }
}
