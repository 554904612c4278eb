//! A headless Chromium driven over the DevTools protocol, for what only a real browser
//! shows (the GraphQL playground fetching the schema with its own JavaScript).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Debian's `chromium`, when installed.
pub fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// A browser showing one page; killed when dropped.
pub struct Browser {
    child: Child,
    page: Socket,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts `chromium` on `url` with a fresh profile and connects to that page.
    pub async fn launch(chromium: &Path, url: &str) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        // Chromium names its DevTools endpoint on stderr; the rest is drained.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(ws) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(ws.to_owned());
                }
            }
        });
        let Ok(endpoint) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("chromium did not open its DevTools endpoint");
        };
        let host = endpoint
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let page = page_socket(&host, url).await;
        let mut browser = Self {
            child,
            page,
            next_id: 0,
            _profile: profile,
        };
        // The page's own document, not the blank one before navigation.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Before the page has a document, DevTools answers an error: not yet.
            let state = browser
                .try_evaluate("JSON.stringify([location.href, document.readyState])")
                .await;
            if state == Ok(json!(format!("[\"{url}\",\"complete\"]"))) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the page did not load: {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        browser
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    pub async fn evaluate(&mut self, expression: &str) -> Value {
        match self.try_evaluate(expression).await {
            Ok(value) => value,
            Err(reply) => panic!("{reply}"),
        }
    }

    /// As [`Browser::evaluate`]; `Err` is DevTools' reply when it did not evaluate.
    async fn try_evaluate(&mut self, expression: &str) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({
            "id": id,
            "method": "Runtime.evaluate",
            "params": { "expression": expression, "awaitPromise": true, "returnByValue": true },
        });
        self.page
            .send(Message::Text(command.to_string().into()))
            .await
            .unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_mins(1), self.page.next())
                .await
                .expect("chromium answers within 60 s");
            let Some(Ok(Message::Text(text))) = message else {
                assert!(
                    matches!(message, Some(Ok(_))),
                    "devtools closed: {message:?}"
                );
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] != id {
                continue; // an event
            }
            let result = &reply["result"];
            if !(result["exceptionDetails"].is_null() && reply["error"].is_null()) {
                return Err(reply);
            }
            return Ok(result["result"]["value"].clone());
        }
    }
}

/// The DevTools socket of the page showing `url`.
async fn page_socket(host: &str, url: &str) -> Socket {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let targets: Value = reqwest::get(format!("http://{host}/json/list"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = targets
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["type"] == "page" && t["url"] == url);
        if let Some(ws) = page.and_then(|t| t["webSocketDebuggerUrl"].as_str()) {
            let (socket, _) = tokio_tungstenite::connect_async(ws).await.unwrap();
            return socket;
        }
        assert!(Instant::now() < deadline, "no page for {url}: {targets}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
