//! A real OpenID Connect provider for social sign-in tests: the `oidc-provider` package
//! from the npm registry, run by Node from `platform/testkit/oidc/` (installed with
//! `npm ci` on first use). Its sign-in and consent complete by themselves for the account
//! named by `login_hint`, so a client that follows redirects with cookies goes through the
//! whole authorization-code flow with no browser.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// A client registered with the provider.
#[derive(Debug, Clone)]
pub struct OidcClient {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    /// `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth_method: String,
}

/// A running provider; stopped on drop.
#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    pub issuer: String,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// Installs the provider's packages once per test process.
fn install() -> Result<(), String> {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().map_err(|e| e.to_string())?;
    if *done || dir().join("node_modules/oidc-provider").exists() {
        *done = true;
        return Ok(());
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir())
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "npm ci failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    *done = true;
    Ok(())
}

impl OidcProvider {
    /// Starts a provider with `clients`; `Err` says why it could not (no Node, no npm
    /// registry), for the caller to fail under CI or skip with a message.
    pub fn start(clients: &[OidcClient]) -> Result<Self, String> {
        install()?;
        let clients: Vec<serde_json::Value> = clients
            .iter()
            .map(|c| {
                serde_json::json!({
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "redirect_uris": c.redirect_uris,
                    "token_endpoint_auth_method": c.token_endpoint_auth_method,
                })
            })
            .collect();
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(dir())
            .env(
                "OIDC_CLIENTS",
                serde_json::Value::Array(clients).to_string(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run node: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the provider never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "the OIDC provider did not start within 30 s".to_owned());
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                return Err(e);
            }
        };
        let ready: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("bad ready line {line:?}: {e}"))?;
        let issuer = ready["issuer"]
            .as_str()
            .ok_or_else(|| format!("no issuer in {line:?}"))?
            .to_owned();
        Ok(Self { child, issuer })
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
