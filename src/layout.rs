//! Where each thing goes on the architecture diagram.
//!
//! Pure geometry from a [`Snapshot`]: no DOM, so it is unit-tested natively.
//! The picture is hub and spoke, as in Kubernetes: the control-plane nodes
//! across the top (each with its static pods and node agents, the etcd
//! members joined as Raft peers), the API load balancer in the middle with
//! the cluster add-ons beside it, and the worker nodes below, every one of
//! them reaching the API only through the load balancer.

use kubesim::{ComponentKind, ComponentView, NodeRole, NodeView, Snapshot};

pub const WIDTH: f64 = 1200.0;
const MARGIN: f64 = 24.0;
const GAP: f64 = 18.0;
const HEADER: f64 = 46.0;
const CHIP_H: f64 = 34.0;
const CHIP_GAP: f64 = 8.0;
const PAD: f64 = 12.0;
/// At most this many worker nodes side by side; more wrap into rows.
const WORKERS_PER_ROW: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
}

/// A component placed on the diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedComponent {
    pub view: ComponentView,
    pub rect: Rect,
}

/// A node placed on the diagram, with its components.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedNode {
    pub view: NodeView,
    pub rect: Rect,
    pub components: Vec<PlacedComponent>,
    /// The empty area where the node's pods will be drawn.
    pub pods_area: Option<Rect>,
}

/// What a link between two components stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// An API client's HTTPS connection to the API (through the load balancer
    /// or, on a control-plane node, to the local kube-apiserver).
    Api,
    /// kube-apiserver to its etcd (gRPC, client port 2379).
    EtcdClient,
    /// Raft between etcd members (peer port 2380).
    RaftPeer,
    /// containerd driving runc on the same node.
    Runtime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub kind: LinkKind,
    pub from: (f64, f64),
    pub to: (f64, f64),
}

/// A labelled region behind a group of things.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub title: &'static str,
    pub rect: Rect,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub bands: Vec<Band>,
    pub nodes: Vec<PlacedNode>,
    pub cluster_components: Vec<PlacedComponent>,
    pub links: Vec<Link>,
}

#[cfg(test)]
impl Layout {
    /// Every placed component, cluster-wide ones first.
    pub fn components(&self) -> impl Iterator<Item = &PlacedComponent> {
        self.cluster_components
            .iter()
            .chain(self.nodes.iter().flat_map(|n| n.components.iter()))
    }
}

/// Splits `row` into `n` equal columns separated by `gap`.
fn columns(row: Rect, n: usize, gap: f64) -> Vec<Rect> {
    let n = n.max(1);
    let w = (row.w - gap * (n as f64 - 1.0)) / n as f64;
    (0..n)
        .map(|i| Rect {
            x: row.x + i as f64 * (w + gap),
            y: row.y,
            w,
            h: row.h,
        })
        .collect()
}

/// Places a node's components inside its box; returns the box height used.
fn place_node(view: &NodeView, x: f64, y: f64, w: f64) -> PlacedNode {
    let inner_x = x + PAD;
    let inner_w = w - 2.0 * PAD;
    let mut cy = y + HEADER;
    let by_kind = |k: ComponentKind| view.components.iter().find(|c| c.kind == k).cloned();
    let mut placed = Vec::new();
    let row = |kinds: &[ComponentKind], cy: &mut f64, placed: &mut Vec<PlacedComponent>| {
        let present: Vec<ComponentView> = kinds.iter().filter_map(|k| by_kind(*k)).collect();
        if present.is_empty() {
            return;
        }
        let rect = Rect {
            x: inner_x,
            y: *cy,
            w: inner_w,
            h: CHIP_H,
        };
        for (view, rect) in present
            .into_iter()
            .zip(columns(rect, kinds.len(), CHIP_GAP))
        {
            placed.push(PlacedComponent { view, rect });
        }
        *cy += CHIP_H + CHIP_GAP;
    };
    if view.role == NodeRole::ControlPlane {
        row(
            &[ComponentKind::KubeApiserver, ComponentKind::Etcd],
            &mut cy,
            &mut placed,
        );
        row(
            &[
                ComponentKind::KubeScheduler,
                ComponentKind::KubeControllerManager,
            ],
            &mut cy,
            &mut placed,
        );
        cy += 20.0; // the "node agents" divider
    }
    row(
        &[ComponentKind::Kubelet, ComponentKind::KubeProxy],
        &mut cy,
        &mut placed,
    );
    row(
        &[ComponentKind::Containerd, ComponentKind::Runc],
        &mut cy,
        &mut placed,
    );
    if view.role == NodeRole::ControlPlane {
        cy += 16.0; // the taint footer
    }
    let pods_area = (view.role == NodeRole::Worker).then(|| {
        let r = Rect {
            x: inner_x,
            y: cy,
            w: inner_w,
            h: 44.0,
        };
        cy += r.h + CHIP_GAP;
        r
    });
    PlacedNode {
        view: view.clone(),
        rect: Rect {
            x,
            y,
            w,
            h: cy - y + PAD - CHIP_GAP,
        },
        components: placed,
        pods_area,
    }
}

/// Lays out the whole diagram at the fixed width [`WIDTH`].
pub fn layout(snapshot: &Snapshot) -> Layout {
    let inner = WIDTH - 2.0 * MARGIN;
    let mut bands = Vec::new();
    let mut nodes = Vec::new();
    let mut links = Vec::new();

    // Control plane across the top.
    let cp: Vec<&NodeView> = snapshot
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::ControlPlane)
        .collect();
    // Room above the nodes for the band title and the Raft arcs.
    let cp_top = MARGIN + 64.0;
    let cp_cols = columns(
        Rect {
            x: MARGIN + PAD,
            y: cp_top,
            w: inner - 2.0 * PAD,
            h: 0.0,
        },
        cp.len(),
        GAP,
    );
    let mut cp_bottom = cp_top;
    for (view, col) in cp.iter().zip(&cp_cols) {
        let placed = place_node(view, col.x, col.y, col.w);
        cp_bottom = cp_bottom.max(placed.rect.bottom());
        nodes.push(placed);
    }
    bands.push(Band {
        title: "Control plane",
        rect: Rect {
            x: MARGIN,
            y: MARGIN,
            w: inner,
            h: cp_bottom - MARGIN + PAD,
        },
    });

    // The API load balancer in the middle, add-ons beside it.
    let mid_top = cp_bottom + PAD + 56.0;
    let lb_w = 280.0;
    let mut cluster_components = Vec::new();
    for view in &snapshot.cluster_components {
        let rect = match view.kind {
            ComponentKind::ApiLoadBalancer => Rect {
                x: (WIDTH - lb_w) / 2.0,
                y: mid_top,
                w: lb_w,
                h: 56.0,
            },
            ComponentKind::CloudControllerManager => Rect {
                x: MARGIN + PAD,
                y: mid_top,
                w: 300.0,
                h: 56.0,
            },
            _ => Rect {
                x: WIDTH - MARGIN - PAD - 300.0,
                y: mid_top,
                w: 300.0,
                h: 56.0,
            },
        };
        cluster_components.push(PlacedComponent {
            view: view.clone(),
            rect,
        });
    }
    let mid_bottom = mid_top + 56.0;

    // Workers below, wrapping into rows.
    let workers: Vec<&NodeView> = snapshot
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::Worker)
        .collect();
    let workers_top = mid_bottom + 64.0;
    let mut y = workers_top + 28.0;
    let mut workers_bottom = y;
    for chunk in workers.chunks(WORKERS_PER_ROW) {
        let cols = columns(
            Rect {
                x: MARGIN + PAD,
                y,
                w: inner - 2.0 * PAD,
                h: 0.0,
            },
            WORKERS_PER_ROW.min(workers.len()),
            GAP,
        );
        let mut row_bottom = y;
        for (view, col) in chunk.iter().zip(&cols) {
            let placed = place_node(view, col.x, y, col.w);
            row_bottom = row_bottom.max(placed.rect.bottom());
            nodes.push(placed);
        }
        workers_bottom = row_bottom;
        y = row_bottom + GAP;
    }
    if !workers.is_empty() {
        bands.push(Band {
            title: "Worker nodes",
            rect: Rect {
                x: MARGIN,
                y: workers_top,
                w: inner,
                h: workers_bottom - workers_top + PAD,
            },
        });
    }

    let mut layout = Layout {
        width: WIDTH,
        height: workers_bottom.max(mid_bottom) + PAD + MARGIN,
        bands,
        nodes,
        cluster_components,
        links: Vec::new(),
    };

    // Links: hub and spoke through the load balancer.
    if let Some(lb) = layout
        .cluster_components
        .iter()
        .find(|c| c.view.kind == ComponentKind::ApiLoadBalancer)
        .map(|c| c.rect)
    {
        for node in &layout.nodes {
            let api = node
                .components
                .iter()
                .find(|c| c.view.kind == ComponentKind::KubeApiserver);
            match (node.view.role, api) {
                (NodeRole::ControlPlane, Some(api)) => links.push(Link {
                    kind: LinkKind::Api,
                    from: (lb.cx(), lb.y),
                    to: (api.rect.cx(), node.rect.bottom()),
                }),
                _ => links.push(Link {
                    kind: LinkKind::Api,
                    from: (node.rect.cx(), node.rect.y),
                    to: (lb.cx(), lb.bottom()),
                }),
            }
        }
        for c in &layout.cluster_components {
            match c.view.kind {
                ComponentKind::CloudControllerManager => links.push(Link {
                    kind: LinkKind::Api,
                    from: (c.rect.right(), c.rect.cy()),
                    to: (lb.x, lb.cy()),
                }),
                ComponentKind::CoreDns => links.push(Link {
                    kind: LinkKind::Api,
                    from: (c.rect.x, c.rect.cy()),
                    to: (lb.right(), lb.cy()),
                }),
                _ => {}
            }
        }
    }
    // On each control-plane node: the apiserver talks to its local etcd.
    let mut etcd_chips = Vec::new();
    for node in &layout.nodes {
        let rect_of = |k| {
            node.components
                .iter()
                .find(|c| c.view.kind == k)
                .map(|c| c.rect)
        };
        if let (Some(api), Some(etcd)) = (
            rect_of(ComponentKind::KubeApiserver),
            rect_of(ComponentKind::Etcd),
        ) {
            links.push(Link {
                kind: LinkKind::EtcdClient,
                from: (api.right(), api.cy()),
                to: (etcd.x, etcd.cy()),
            });
            etcd_chips.push((etcd.cx(), node.rect.y));
        }
        if let (Some(ctr), Some(runc)) = (
            rect_of(ComponentKind::Containerd),
            rect_of(ComponentKind::Runc),
        ) {
            links.push(Link {
                kind: LinkKind::Runtime,
                from: (ctr.right(), ctr.cy()),
                to: (runc.x, runc.cy()),
            });
        }
    }
    // Raft peers: every pair of etcd members, joined above their nodes.
    for (i, a) in etcd_chips.iter().enumerate() {
        for b in &etcd_chips[i + 1..] {
            links.push(Link {
                kind: LinkKind::RaftPeer,
                from: *a,
                to: *b,
            });
        }
    }
    layout.links = links;
    layout
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim::{Cluster, Topology};

    fn default_layout() -> Layout {
        layout(&Cluster::new(Topology::default(), 1).snapshot())
    }

    fn overlaps(a: &Rect, b: &Rect) -> bool {
        a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom()
    }

    #[test]
    fn every_component_of_the_snapshot_is_placed_once() {
        let snap = Cluster::new(Topology::default(), 1).snapshot();
        let l = layout(&snap);
        let placed: Vec<_> = l.components().map(|c| c.view.id.clone()).collect();
        let expected: Vec<_> = snap.components().map(|c| c.id.clone()).collect();
        assert_eq!(placed.len(), expected.len());
        for id in expected {
            assert!(placed.contains(&id), "{id} is not placed");
        }
    }

    #[test]
    fn components_sit_inside_their_node_and_never_overlap() {
        let l = default_layout();
        for node in &l.nodes {
            for (i, c) in node.components.iter().enumerate() {
                let r = c.rect;
                assert!(
                    r.x >= node.rect.x && r.right() <= node.rect.right(),
                    "{}",
                    c.view.id
                );
                assert!(
                    r.y >= node.rect.y && r.bottom() <= node.rect.bottom(),
                    "{}",
                    c.view.id
                );
                for other in &node.components[i + 1..] {
                    assert!(
                        !overlaps(&r, &other.rect),
                        "{} / {}",
                        c.view.id,
                        other.view.id
                    );
                }
            }
        }
    }

    #[test]
    fn nodes_never_overlap_each_other_or_the_load_balancer() {
        let l = default_layout();
        for (i, a) in l.nodes.iter().enumerate() {
            for b in &l.nodes[i + 1..] {
                assert!(
                    !overlaps(&a.rect, &b.rect),
                    "{} / {}",
                    a.view.name,
                    b.view.name
                );
            }
            for c in &l.cluster_components {
                assert!(
                    !overlaps(&a.rect, &c.rect),
                    "{} / {}",
                    a.view.name,
                    c.view.id
                );
            }
        }
    }

    #[test]
    fn three_etcd_members_are_joined_pairwise_as_raft_peers() {
        let l = default_layout();
        let raft = l
            .links
            .iter()
            .filter(|k| k.kind == LinkKind::RaftPeer)
            .count();
        assert_eq!(raft, 3);
    }

    #[test]
    fn every_node_reaches_the_api_through_the_load_balancer() {
        let l = default_layout();
        let api = l.links.iter().filter(|k| k.kind == LinkKind::Api).count();
        // 6 nodes plus the cloud-controller-manager and CoreDNS.
        assert_eq!(api, 8);
    }

    #[test]
    fn many_workers_wrap_into_rows_that_stay_inside_the_width() {
        let snap = Cluster::new(Topology::builder().workers(10).build().unwrap(), 1).snapshot();
        let l = layout(&snap);
        for n in &l.nodes {
            assert!(n.rect.right() <= WIDTH - MARGIN, "{}", n.view.name);
        }
        assert!(l.height > default_layout().height);
    }
}
