//! The legend: what each kind of component is, what the lines, borders and
//! badges mean, and the colour of each kind of message.

use crate::messages::KINDS;
use crate::palette;
use kubesim::ComponentKind;
use yew::prelude::*;

#[function_component(Legend)]
pub fn legend() -> Html {
    html! {
        <section class="legend panel" aria-labelledby="legend-title">
            <h2 id="legend-title">{"Legend"}</h2>
            <div class="legend-grid">
                <div>
                    <h3>{"Components"}</h3>
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
                        <li>
                            <svg class="swatch" width="46" height="26" aria-hidden="true">
                                <rect x="1" y="1" width="44" height="24" rx="5" class="term" />
                                <text x="23" y="17" class="prompt-sample">{"❯_"}</text>
                            </svg>
                            <div>
                                <strong>{"kubectl"}</strong>
                                <p>{"Your terminal, outside the cluster: the console's commands start here and reach the API through the load balancer."}</p>
                            </div>
                        </li>
                    </ul>
                </div>
                <div>
                    <h3>{"States"}</h3>
                    <ul class="legend-lines">
                        <li><svg width="46" height="22" aria-hidden="true"><rect class="sample up" x="2" y="2" width="42" height="18" rx="4" /></svg>
                            {"solid border: simulated; the line under its name is its live state (Raft role and term, readiness, rotation)"}</li>
                        <li><svg width="46" height="22" aria-hidden="true"><rect class="sample leader" x="2" y="3" width="40" height="16" rx="4" /><text x="41" y="9" class="crown-sample">{"♛"}</text></svg>
                            {"★ leader: the etcd member that leads Raft (crown, heavy border)"}</li>
                        <li><svg width="46" height="22" aria-hidden="true"><rect class="sample degraded" x="2" y="2" width="42" height="18" rx="4" /><text x="23" y="15" class="sample-text">{"⚠"}</text></svg>
                            {"⚠ amber: running but not fully working (no leader, not ready, out of rotation)"}</li>
                        <li><svg width="46" height="22" aria-hidden="true"><rect class="sample down" x="2" y="2" width="42" height="18" rx="4" /><text x="23" y="15" class="sample-text light">{"✕"}</text></svg>
                            {"✕ dark, name struck through: crashed"}</li>
                        <li><svg width="46" height="22" aria-hidden="true"><rect class="chip dashed-sample" x="2" y="2" width="42" height="18" rx="4" /></svg>
                            {"dashed border: placed as kubeadm places it; its behaviour is not simulated yet"}</li>
                        <li><span class="badge-sample partitioned">{"✂ partitioned"}</span>
                            {"node cut off from the network"}</li>
                        <li><span class="badge-sample off">{"⏼ powered off"}</span>
                            {"node greyed out: the machine is off"}</li>
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
                </div>
                <div>
                    <h3>{"Messages"}</h3>
                    <p class="legend-note">{"A dot travels along the line for each message (a few milliseconds of virtual time, slowed to about half a second). A dropped message stops halfway, fades and shows ✕."}</p>
                    <ul class="legend-lines">
                        { for KINDS.iter().map(|k| html! {
                            <li><svg width="46" height="12" aria-hidden="true">
                                    <line x1="2" y1="6" x2="44" y2="6" class="msg-track" />
                                    <circle cx="23" cy="6" r={format!("{:.1}", k.radius)} style={format!("fill:{}", k.color)} class="msg-dot" />
                                </svg>
                                <span><strong>{k.label}</strong>{": "}{k.help}</span></li>
                        }) }
                    </ul>
                </div>
            </div>
        </section>
    }
}
