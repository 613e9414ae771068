//! Reading a file the page ships beside itself (`scenarios/*.yaml`,
//! `explain.json`) with the browser's `fetch`.

/// The text at `url` (relative to the page), or why it could not be read.
#[cfg(target_arch = "wasm32")]
pub async fn text(url: &str) -> Result<String, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("{url}: the page could not fetch it (offline?)"))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| format!("{url}: not an HTTP response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let body = response
        .text()
        .map_err(|_| format!("{url}: the body could not be read"))?;
    JsFuture::from(body)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| format!("{url}: the body is not text"))
}

/// Natively (clippy, unit tests) there is nothing to fetch from.
#[cfg(not(target_arch = "wasm32"))]
pub async fn text(url: &str) -> Result<String, String> {
    Err(format!("{url}: no browser"))
}

/// Fetches the API schema `kubectl explain` reads (`explain.json`, beside
/// the page: kept out of the wasm, which it would grow by a twentieth) and
/// hands it to the core, which parses it when `kubectl explain` first needs
/// it. Until it arrives `kubectl explain` says so.
pub fn load_api_schema() {
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_futures::spawn_local(async {
        match text("explain.json").await {
            // Parsed when `kubectl explain` first needs it.
            Ok(json) => kubesim::api::explain::install_later(json),
            Err(e) => gloo::console::warn!(e),
        }
    });
}
