//! The real `weft` binary as a child process, for tests about processes: the gateway in
//! front of a service, and recovery after SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `weft serve` child with its JSON log lines captured.
pub struct WeftProcess {
    child: Child,
    pub port: u16,
    logs: Arc<Mutex<Vec<String>>>,
    /// How it was started, for [`WeftProcess::restart`].
    command: (std::path::PathBuf, Vec<String>, Vec<(String, String)>),
}

impl std::fmt::Debug for WeftProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeftProcess")
            .field("pid", &self.child.id())
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl WeftProcess {
    /// Runs `bin serve --port 0 <args>` with `envs` and waits until it reports its port.
    pub fn serve(bin: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::serve_on(bin, 0, args, envs)
    }

    /// [`WeftProcess::serve`] on a given `port` (0: any free one), for a process whose
    /// address others are told before it starts.
    pub fn serve_on(bin: &Path, port: u16, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::spawn(bin, port, args, envs)
    }

    /// Kills the process if it still runs (SIGKILL) and starts it again as before, on the
    /// same port: what a supervisor does after a crash, so its peers find it where it was.
    pub fn restart(&mut self) {
        self.kill();
        let (bin, args, envs) = self.command.clone();
        let logs = Arc::clone(&self.logs);
        let fresh = Self::spawn(&bin, self.port, args, envs);
        // The earlier life's lines first, so `wait_for_log` sees the whole story.
        let mut all = logs.lock().map(|l| l.clone()).unwrap_or_default();
        {
            let mut lines = fresh.logs.lock().expect("log lock");
            all.append(&mut lines);
            *lines = all;
        }
        let old = std::mem::replace(self, fresh);
        drop(old);
    }

    fn spawn(bin: &Path, port: u16, args: Vec<String>, envs: Vec<(String, String)>) -> Self {
        // Tests talk to it with reqwest, which needs the process's TLS provider.
        crate::init_process();
        let mut child = Command::new(bin)
            .arg("serve")
            .args(["--port", &port.to_string()])
            .args(&args)
            .env("WEFT_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            // After the defaults, so a test can ask for more logs (`RUST_LOG`).
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn weft");
        let stdout = child.stdout.take().expect("piped stdout");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && v["message"] == "weft is serving"
                    && let Some(port) = v["port"].as_u64()
                {
                    let _ = port_tx.send(u16::try_from(port).unwrap_or_default());
                }
                sink.lock().expect("log lock").push(line);
            }
        });
        let Ok(port) = port_rx.recv_timeout(Duration::from_mins(1)) else {
            let _ = child.kill();
            panic!("weft did not start: {:?}", logs.lock().map(|l| l.clone()));
        };
        Self {
            child,
            port,
            logs,
            command: (bin.to_path_buf(), args, envs),
        }
    }

    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Log lines so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits up to `timeout` for a log line containing `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(line) = self.logs().into_iter().find(|l| l.contains(needle)) {
                return Some(line);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` and waits up to `timeout` for the exit status; `None` if the
    /// process is still running then (it is killed when dropped).
    pub fn signal_and_wait_up_to(
        &mut self,
        signal: i32,
        timeout: Duration,
    ) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends `signal` and waits for the exit status.
    pub fn signal_and_wait(&mut self, signal: i32) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("wait for weft")
    }
}

impl Drop for WeftProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
