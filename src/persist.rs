//! Where a run lives outside the simulation: local storage (a reload
//! replays it) and share links (`#run=<log>`: another browser replays the
//! same run exactly), plus the page's URL parameters.
//!
//! Everything here fails soft: a browser without storage (a sandboxed
//! iframe, private mode) simply does not persist, and a damaged link opens a
//! fresh cluster with the reason shown.

// Natively (clippy, unit tests) the browser half is stubbed out, so what
// only it uses looks unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use kubesim::runlog::RunLog;

/// The local-storage key of the current run.
const STORAGE_KEY: &str = "kubesim.run.v1";
/// The fragment that carries a shared run.
const RUN_FRAGMENT: &str = "run=";

/// Where the run the page opened with came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A new cluster.
    Fresh,
    /// The run saved in this browser, replayed.
    Restored,
    /// A shared link, replayed.
    Shared,
    /// A shared link that could not be read (the reason), so a new cluster.
    BadLink(String),
}

/// The page's URL parameters (`?embed=1&speed=100&autoplay=1&seed=7`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    /// `embed=1`: the reduced, iframe-friendly view.
    pub embed: bool,
    /// `autoplay=1`: the clock starts running on load.
    pub autoplay: bool,
    /// `speed=N`: the initial speed.
    pub speed: Option<f64>,
    /// `seed=N`: a fresh run from this seed (ignored when a run is shared).
    pub seed: Option<u64>,
    /// `panels=diagram,console,log`: which panels an embed shows.
    pub panels: Option<Vec<String>>,
    /// `theme=dark|light`.
    pub theme: Option<String>,
    /// `host=<origin>`: the embedding page's origin; turns the postMessage
    /// API on, for that origin only (see `embed.rs`).
    pub host: Option<String>,
    /// `scenario=<name>`: open the lesson `scenarios/<name>.yaml` (a name
    /// of letters, digits and dashes only).
    pub scenario: Option<String>,
    /// `workers=N`: a fresh run on a cluster of N workers (the control plane
    /// stays kubeadm's three; ignored when a run is shared or restored).
    pub workers: Option<usize>,
    /// `konnectivity=1`: a fresh run whose API servers reach the kubelets
    /// through Konnectivity (a server beside each API server, an agent on
    /// every node).
    pub konnectivity: bool,
    /// `perf=1`: record how long each animation frame's work takes (update
    /// and render) in `window.__kubesimFrameWork`, for `cargo xtask bench
    /// page`.
    pub perf: bool,
}

/// Decodes `%XX` escapes and `+` in a query value.
fn unescape(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Params {
    /// Parses a query string (with or without its `?`).
    pub fn parse(query: &str) -> Params {
        let mut p = Params::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = unescape(v);
            let v = v.as_str();
            let truthy = matches!(v, "" | "1" | "true" | "yes");
            match k {
                "embed" => p.embed = truthy,
                "autoplay" => p.autoplay = truthy,
                "speed" => p.speed = v.parse().ok().filter(|s: &f64| s.is_finite() && *s > 0.0),
                "seed" => p.seed = v.parse().ok(),
                "workers" => p.workers = v.parse().ok(),
                "konnectivity" => p.konnectivity = truthy,
                "perf" => p.perf = truthy,
                "panels" => {
                    p.panels = Some(
                        v.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect(),
                    )
                }
                "theme" if v == "dark" || v == "light" => p.theme = Some(v.to_string()),
                "host" if !v.is_empty() => p.host = Some(v.to_string()),
                "scenario"
                    if !v.is_empty()
                        && v.len() <= 64
                        && v.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
                {
                    p.scenario = Some(v.to_string())
                }
                _ => {}
            }
        }
        p
    }

    /// Whether a panel is shown (every panel is, unless `panels=` lists them).
    pub fn shows(&self, panel: &str) -> bool {
        match &self.panels {
            Some(list) => list.iter().any(|p| p == panel),
            None => !self.embed || panel == "diagram",
        }
    }
}

/// The run carried by a URL fragment (`#run=...`), if any.
pub fn run_from_fragment(hash: &str) -> Option<Result<RunLog, String>> {
    let hash = hash.trim_start_matches('#');
    let encoded = hash
        .split('&')
        .find_map(|part| part.strip_prefix(RUN_FRAGMENT))?;
    Some(RunLog::decode(encoded).map_err(|e| e.to_string()))
}

/// The share link for a run: the page's address with the run in its
/// fragment (a fragment never reaches a server, so the run stays private to
/// whoever holds the link).
pub fn share_url(base: &str, log: &RunLog) -> Result<String, String> {
    let base = base.split('#').next().unwrap_or(base);
    log.encode()
        .map(|enc| format!("{base}#{RUN_FRAGMENT}{enc}"))
        .map_err(|e| e.to_string())
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::*;

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    pub fn location() -> Option<web_sys::Location> {
        web_sys::window().map(|w| w.location())
    }

    /// The page's query parameters.
    pub fn params() -> Params {
        location()
            .and_then(|l| l.search().ok())
            .map(|q| Params::parse(&q))
            .unwrap_or_default()
    }

    /// The run to open: a shared link first, then this browser's saved run.
    pub fn initial_run() -> (Option<RunLog>, Origin) {
        let hash = location().and_then(|l| l.hash().ok()).unwrap_or_default();
        match run_from_fragment(&hash) {
            Some(Ok(log)) => return (Some(log), Origin::Shared),
            Some(Err(e)) => return (None, Origin::BadLink(e)),
            None => {}
        }
        if params().embed || params().scenario.is_some() {
            // An embedded page starts clean: two iframes of the same site
            // would otherwise fight over one saved run. A lesson starts
            // from its own seed and leaves the saved sandbox run alone.
            return (None, Origin::Fresh);
        }
        let saved = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        match saved.map(|text| RunLog::decode(&text)) {
            Some(Ok(log)) => (Some(log), Origin::Restored),
            _ => (None, Origin::Fresh),
        }
    }

    /// Saves the run (not for embeds, see [`initial_run`]).
    pub fn save(log: &RunLog) {
        let p = params();
        if p.embed || p.scenario.is_some() {
            return;
        }
        if let (Some(s), Ok(text)) = (storage(), log.encode()) {
            let _ = s.set_item(STORAGE_KEY, &text);
        }
    }

    /// Forgets the saved run and drops a shared run from the address bar.
    pub fn clear() {
        if let Some(s) = storage() {
            let _ = s.remove_item(STORAGE_KEY);
        }
        if let Some(l) = location() {
            if l.hash().map(|h| h.contains(RUN_FRAGMENT)).unwrap_or(false) {
                let _ = l.set_hash("");
            }
        }
    }

    /// The page's address without its fragment.
    pub fn page_url() -> String {
        location().and_then(|l| l.href().ok()).unwrap_or_default()
    }

    const THEME_KEY: &str = "kubesim.theme";

    /// The theme to open with: `?theme=`, then the last choice, then the
    /// system's preference.
    pub fn initial_theme(param: Option<&str>) -> String {
        if let Some(t) = param {
            return t.to_string();
        }
        if let Some(t) = storage().and_then(|s| s.get_item(THEME_KEY).ok().flatten()) {
            if t == "dark" || t == "light" {
                return t;
            }
        }
        let dark = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .map(|m| m.matches())
            .unwrap_or(false);
        if dark { "dark" } else { "light" }.to_string()
    }

    /// Applies a theme to the page (and remembers the choice if `remember`).
    pub fn apply_theme(theme: &str, remember: bool) {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-theme", theme);
        }
        if remember {
            if let Some(s) = storage() {
                let _ = s.set_item(THEME_KEY, theme);
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod browser {
    //! Natively (clippy, unit tests) there is no browser: nothing persists.
    use super::*;

    pub fn params() -> Params {
        Params::default()
    }
    pub fn initial_run() -> (Option<RunLog>, Origin) {
        (None, Origin::Fresh)
    }
    pub fn save(_: &RunLog) {}
    pub fn clear() {}
    pub fn page_url() -> String {
        "http://127.0.0.1:8080/".into()
    }
    pub fn initial_theme(param: Option<&str>) -> String {
        param.unwrap_or("light").to_string()
    }
    pub fn apply_theme(_: &str, _: bool) {}
}

pub use browser::{apply_theme, clear, initial_run, initial_theme, page_url, params, save};

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim::{SimTime, Topology};

    #[test]
    fn the_query_string_names_the_embed_view_and_its_panels() {
        let p = Params::parse("?embed=1&speed=100&autoplay&panels=diagram,console&seed=9");
        assert!(p.embed && p.autoplay);
        assert_eq!(p.speed, Some(100.0));
        assert_eq!(p.seed, Some(9));
        assert!(p.shows("console") && !p.shows("log"));
        assert!(Params::parse("?embed=1").shows("diagram"));
        assert!(!Params::parse("?embed=1").shows("console"));
        assert!(Params::parse("").shows("log"));
        assert_eq!(Params::parse("?speed=-3&theme=pink"), Params::default());
        assert_eq!(Params::parse("?workers=97").workers, Some(97));
        assert_eq!(Params::parse("?workers=many").workers, None);
        assert!(Params::parse("?konnectivity=1").konnectivity);
        assert!(!Params::parse("?workers=5").konnectivity);
        let p = Params::parse("?embed=1&host=https%3A%2F%2Fkubernetes.io&bad=%zz%");
        assert_eq!(p.host.as_deref(), Some("https://kubernetes.io"));
    }

    #[test]
    fn a_scenario_is_named_by_letters_digits_and_dashes_only() {
        assert_eq!(
            Params::parse("?scenario=pod-life&embed=1")
                .scenario
                .as_deref(),
            Some("pod-life")
        );
        assert_eq!(Params::parse("?scenario=../secrets").scenario, None);
        assert_eq!(Params::parse("?scenario=Pod%20Life").scenario, None);
        assert_eq!(Params::parse("?scenario=").scenario, None);
    }

    #[test]
    fn a_share_link_carries_the_run_in_its_fragment() {
        let mut log = RunLog::new(&Topology::default(), 5);
        log.record(SimTime::from_millis(2000), "kubectl get nodes");
        let url = share_url("http://x/?embed=1#old", &log).unwrap();
        assert!(url.starts_with("http://x/?embed=1#run="));
        let hash = url.split_once('#').unwrap().1;
        assert_eq!(run_from_fragment(hash), Some(Ok(log)));
        assert!(matches!(run_from_fragment("#run=%%%"), Some(Err(_))));
        assert_eq!(run_from_fragment("#other"), None);
    }
}
