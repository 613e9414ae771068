//! The postMessage API of an embedded page (`?embed=1&host=<origin>`).
//!
//! A documentation site embeds the page in an iframe and names its own
//! origin in `host`. Only then does the page listen, and only to messages
//! whose `origin` is exactly that host and whose source is the parent
//! window; everything it says goes to that origin alone (never `*`).
//!
//! Messages from the host (plain objects):
//! - `{ "type": "kubesim:run", "command": "kubectl get pods" }`
//! - `{ "type": "kubesim:play" }`, `{ "type": "kubesim:pause" }`
//! - `{ "type": "kubesim:speed", "speed": 100 }`
//!
//! Messages to the host:
//! - `{ "type": "kubesim:ready", "seed": 1 }` once the cluster exists
//! - `{ "type": "kubesim:output", "input": "...", "output": "...", "ok": true }`
//!   for every command run (typed in the page's console or sent by the host)
//! - `{ "type": "kubesim:time", "now": "1m30s", "ms": 90000 }` about once a
//!   second while the clock runs.

// Natively (clippy, unit tests) the browser half is stubbed out, so what
// only it uses looks unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use serde::{Deserialize, Serialize};

/// A message from the host page.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum Inbound {
    #[serde(rename = "kubesim:run")]
    Run { command: String },
    #[serde(rename = "kubesim:play")]
    Play,
    #[serde(rename = "kubesim:pause")]
    Pause,
    #[serde(rename = "kubesim:speed")]
    Speed { speed: f64 },
}

/// A message to the host page.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Outbound {
    #[serde(rename = "kubesim:ready")]
    Ready { seed: u64 },
    #[serde(rename = "kubesim:output")]
    Output {
        input: String,
        output: String,
        ok: bool,
    },
    #[serde(rename = "kubesim:time")]
    Time { now: String, ms: u64 },
}

/// Whether a message's origin is the host the page was told to trust.
/// Origins compare exactly (scheme, host and port), as browsers send them.
pub fn trusted(origin: &str, host: &str) -> bool {
    !host.is_empty() && host != "*" && host != "null" && origin == host.trim_end_matches('/')
}

/// Reads a host message from its JSON form.
pub fn parse(json: &str) -> Option<Inbound> {
    serde_json::from_str(json).ok()
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::*;
    use gloo::events::EventListener;
    use wasm_bindgen::JsCast;

    pub type Listener = EventListener;

    /// Listens for the host's messages; `on` receives each trusted one.
    pub fn listen(host: String, on: impl Fn(Inbound) + 'static) -> Option<EventListener> {
        let window = web_sys::window()?;
        let parent = window.parent().ok().flatten()?;
        Some(EventListener::new(&window, "message", move |event| {
            let Some(event) = event.dyn_ref::<web_sys::MessageEvent>() else {
                return;
            };
            if !trusted(&event.origin(), &host) {
                return;
            }
            // The sender must be the window that embeds us.
            let from_parent = event
                .source()
                .and_then(|s| s.dyn_into::<web_sys::Window>().ok())
                .map(|w| js_sys::Object::is(&w, &parent))
                .unwrap_or(false);
            if !from_parent {
                return;
            }
            let data = event.data();
            let json = if let Some(text) = data.as_string() {
                text
            } else {
                match js_sys::JSON::stringify(&data) {
                    Ok(s) => s.as_string().unwrap_or_default(),
                    Err(_) => return,
                }
            };
            if let Some(msg) = parse(&json) {
                on(msg);
            }
        }))
    }

    /// Tells the host something.
    pub fn send(host: &str, msg: &Outbound) {
        let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) else {
            return;
        };
        let Ok(json) = serde_json::to_string(msg) else {
            return;
        };
        if let Ok(value) = js_sys::JSON::parse(&json) {
            let _ = parent.post_message(&value, host.trim_end_matches('/'));
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod browser {
    //! Natively there is no host page.
    use super::*;

    pub struct Listener;

    pub fn listen(_host: String, _on: impl Fn(Inbound) + 'static) -> Option<Listener> {
        None
    }

    pub fn send(_host: &str, _msg: &Outbound) {}
}

pub use browser::{listen, send, Listener};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_host_origin_is_trusted() {
        assert!(trusted("https://kubernetes.io", "https://kubernetes.io/"));
        assert!(!trusted("https://evil.example", "https://kubernetes.io"));
        assert!(!trusted(
            "https://kubernetes.io:8443",
            "https://kubernetes.io"
        ));
        assert!(!trusted("https://anything", "*"));
        assert!(!trusted("null", "null"));
        assert!(!trusted("https://kubernetes.io", ""));
    }

    #[test]
    fn host_messages_are_read_and_unknown_ones_ignored() {
        assert_eq!(
            parse(r#"{"type":"kubesim:run","command":"kubectl get pods"}"#),
            Some(Inbound::Run {
                command: "kubectl get pods".into()
            })
        );
        assert_eq!(
            parse(r#"{"type":"kubesim:speed","speed":100}"#),
            Some(Inbound::Speed { speed: 100.0 })
        );
        assert_eq!(parse(r#"{"type":"kubesim:format-disk"}"#), None);
        assert_eq!(parse("not json"), None);
    }

    #[test]
    fn messages_to_the_host_carry_their_type() {
        let json = serde_json::to_string(&Outbound::Ready { seed: 3 }).unwrap();
        assert_eq!(json, r#"{"type":"kubesim:ready","seed":3}"#);
    }
}
