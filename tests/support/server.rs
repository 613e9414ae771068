//! A static file server for the built page, on a free loopback port.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct StaticServer {
    pub url: String,
    /// Set: the server hangs up on every request, as a lost network does.
    offline: Arc<AtomicBool>,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("yaml") | Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path_part = target.split(['?', '#']).next().unwrap_or("/");
    let mut file = PathBuf::from(root);
    for part in Path::new(path_part.trim_start_matches('/')).components() {
        if let Component::Normal(p) = part {
            file.push(p);
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    let mut stream = reader.into_inner();
    match std::fs::read(&file) {
        Ok(body) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                content_type(&file),
                body.len()
            )?;
            stream.write_all(&body)
        }
        Err(_) => stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}

impl StaticServer {
    /// Serves `root` until the test process ends.
    pub fn start(root: PathBuf) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let offline = Arc::new(AtomicBool::new(false));
        let hang_up = offline.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                if hang_up.load(Ordering::SeqCst) {
                    drop(stream);
                    continue;
                }
                let root = root.clone();
                std::thread::spawn(move || {
                    let _ = respond(stream, &root);
                });
            }
        });
        StaticServer {
            url: format!("http://127.0.0.1:{port}/"),
            offline,
        }
    }

    /// From now on, every request fails as if the network were gone.
    pub fn go_offline(&self) {
        self.offline.store(true, Ordering::SeqCst);
    }
}
