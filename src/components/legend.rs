//! The legend: what each kind of component is, and what the lines mean.

use crate::palette;
use kubesim::ComponentKind;
use yew::prelude::*;

#[function_component(Legend)]
pub fn legend() -> Html {
    html! {
        <div class="legend">
            <h2>{"Legend"}</h2>
            <ul class="legend-kinds">
                { for ComponentKind::ALL.iter().map(|k| {
                    let (fill, stroke) = palette::colors(*k);
                    html! {
                        <li>
                            <svg class="swatch" width="46" height="26" aria-hidden="true">
                                <rect x="1" y="1" width="44" height="24" rx="5" style={format!("fill:{fill};stroke:{stroke}")} />
                                <rect x="6" y="5" width="34" height="16" rx="3" style={format!("fill:{stroke}")} />
                                <text x="23" y="16.5" class="glyph">{palette::glyph(*k)}</text>
                            </svg>
                            <div>
                                <strong>{k.label()}</strong>
                                <p>{k.summary()}</p>
                            </div>
                        </li>
                    }
                }) }
            </ul>
            <h3>{"Lines"}</h3>
            <ul class="legend-lines">
                <li><svg width="46" height="12" aria-hidden="true"><line class="link api" x1="2" y1="6" x2="44" y2="6" /></svg>
                    {"HTTPS to the API (:6443): every component talks only to the API server"}</li>
                <li><svg width="46" height="12" aria-hidden="true"><line class="link etcd-client" x1="2" y1="6" x2="44" y2="6" /></svg>
                    {"kube-apiserver to its etcd (:2379): only API servers reach etcd"}</li>
                <li><svg width="46" height="12" aria-hidden="true"><line class="link raft" x1="2" y1="6" x2="44" y2="6" /></svg>
                    {"Raft between etcd members (:2380)"}</li>
                <li><svg width="46" height="12" aria-hidden="true"><line class="link runtime" x1="2" y1="6" x2="44" y2="6" /></svg>
                    {"containerd drives runc (OCI runtime)"}</li>
            </ul>
            <h3>{"Borders"}</h3>
            <ul class="legend-lines">
                <li><svg width="46" height="20" aria-hidden="true"><rect class="chip dashed-sample" x="2" y="2" width="42" height="16" rx="4" /></svg>
                    {"dashed: placed as kubeadm places it; its behaviour is not simulated yet"}</li>
            </ul>
        </div>
    }
}
