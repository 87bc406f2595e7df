//! Test support (feature `testkit`): the rule for what a MongoDB test needs from its
//! environment (skipped without it, a failure under `CI=true`), and a MongoDB-compatible server
//! process that a test owns, so it can kill the server mid-test and restart it on the same port
//! and storage. Outage tests use that; every other MongoDB test shares the server named by
//! `TASKFLOW_TEST_MONGODB_URI`.
//!
//! The process is SecantusDB's `secantusd-py` (or anything taking the same flags), named by
//! `TASKFLOW_TEST_SECANTUSD`; `scripts/test.sh` installs it and sets that variable.

use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use mongodb::bson::oid::ObjectId;

/// The environment variable naming the server binary.
pub const SERVER_BINARY_VAR: &str = "TASKFLOW_TEST_SECANTUSD";

/// Whether this run is CI's, where no MongoDB test may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The value of `var`, needed by `test`; `None` (the caller skips, with a note on stderr) when
/// it is unset or blank. `setup` says who sets it, for the failure message.
///
/// # Panics
/// Under `CI=true` when the variable is unset: CI must never pass by skipping a test.
pub fn required_env(var: &str, test: &str, setup: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ => {
            assert!(
                !in_ci(),
                "{var} is not set but CI=true: {test} must run in CI ({setup})"
            );
            eprintln!("skipping {test}: {var} is not set");
            None
        }
    }
}

/// The server binary from [`SERVER_BINARY_VAR`]; `None` (the caller skips) when it is unset.
///
/// # Panics
/// Under `CI=true` when the variable is unset: CI must never pass by skipping an outage test.
pub fn server_binary(test: &str) -> Option<PathBuf> {
    required_env(
        SERVER_BINARY_VAR,
        test,
        "scripts/test.sh sets it to the venv's secantusd-py",
    )
    .map(PathBuf::from)
}

/// A server process on loopback with file storage in its own scratch directory, so a restart
/// keeps the data. Dropping it kills the process (by its own pid, even on a panic) and removes
/// the directory.
#[derive(Debug)]
pub struct OwnedServer {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl OwnedServer {
    /// Starts `binary` on a free loopback port. The server may take a moment to answer: poll
    /// it (for instance with `MongoStore::connect`) before relying on it.
    ///
    /// # Errors
    /// When the scratch directory, the port or the process cannot be had.
    pub fn start(binary: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("taskflow_server_{}", ObjectId::new()));
        std::fs::create_dir_all(&dir)?;
        // An empty config file disables auto-discovery of the machine's own config.
        std::fs::write(dir.join("secantusd.toml"), "")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self {
            binary: binary.into(),
            dir,
            port,
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// A URI reaching this server directly (no replica-set discovery).
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    /// Kills the process with SIGKILL: an outage, not a maintenance window, so nothing beyond
    /// what the server acknowledged is flushed.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same port and storage (killing it first if it runs).
    ///
    /// # Errors
    /// When the log file or the process cannot be had.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))?;
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(self.dir.join("secantusd.toml"))
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(self.dir.join("data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for OwnedServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
