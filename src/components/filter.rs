//! Checkboxes choosing which kinds of message are shown, each with its
//! colour, grouped by protocol (Raft, etcd, API, health checks).

use crate::messages::{KindFilter, KINDS};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FilterProps {
    pub filter: KindFilter,
    pub on_toggle: Callback<usize>,
    /// The id of the fieldset (two filters live on the page).
    pub id: AttrValue,
    pub label: AttrValue,
}

#[function_component(MessageFilter)]
pub fn message_filter(p: &FilterProps) -> Html {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, k) in KINDS.iter().enumerate() {
        match groups.last_mut() {
            Some((g, members)) if *g == k.group => members.push(i),
            _ => groups.push((k.group, vec![i])),
        }
    }
    html! {
        <fieldset class="msg-filter" id={p.id.clone()}>
            <legend>{p.label.clone()}</legend>
            { for groups.into_iter().map(|(group, members)| html! {
                <span class="kind-group" role="group" aria-label={format!("{group} messages")}>
                    <span class="group-name" aria-hidden="true">{group}</span>
                    { for members.into_iter().map(|i| {
                        let k = KINDS[i];
                        let on_toggle = p.on_toggle.clone();
                        let checked = p.filter.0[i];
                        html! {
                            <label class={classes!("kind-toggle", (!checked).then_some("off"))} title={k.help}>
                                <input type="checkbox" data-kind={k.id} checked={checked}
                                    aria-label={k.label}
                                    onchange={Callback::from(move |_: Event| on_toggle.emit(i))} />
                                <span class="kind-dot" style={format!("background:{}", k.color)} aria-hidden="true"></span>
                                <span aria-hidden="true">{k.short}</span>
                            </label>
                        }
                    }) }
                </span>
            }) }
        </fieldset>
    }
}
