//! A store whose task statistics wait at a gate (or panic), to park requests in a handler;
//! and raw HTTP/1.1 over a socket, for what a client library hides (connection reuse,
//! half-sent requests).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use taskflow::core::domain::{Task, TaskId, UserId};
use taskflow::core::ports::{StorageHealth, TaskRepository};
use taskflow::core::query::{ListRequest, TaskStats};
use taskflow::core::{MemoryStore, StorageError, Timestamp};
use taskflow::http::Stores;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// What `task_stats` does at the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Wait until released.
    Wait,
    /// Panic.
    Panic,
}

/// The gate every `task_stats` call passes.
pub(super) struct Gate {
    mode: Mode,
    open: watch::Sender<bool>,
    parked: AtomicUsize,
    passed: AtomicUsize,
}

impl Gate {
    pub(super) fn new(mode: Mode) -> Arc<Self> {
        Arc::new(Self {
            mode,
            open: watch::Sender::new(false),
            parked: AtomicUsize::new(0),
            passed: AtomicUsize::new(0),
        })
    }

    /// Memory stores whose task statistics go through this gate.
    pub(super) fn stores(self: &Arc<Self>) -> Stores {
        let memory = MemoryStore::new();
        let mut stores = Stores::single(memory.clone());
        stores.tasks = Arc::new(GatedTasks {
            inner: memory,
            gate: self.clone(),
        });
        stores
    }

    async fn pass(&self) {
        assert!(self.mode != Mode::Panic, "the store blew up");
        self.parked.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open).await;
        self.passed.fetch_add(1, Ordering::SeqCst);
    }

    /// Lets every parked and future call through.
    pub(super) fn release(&self) {
        self.open.send_replace(true);
    }

    /// Waits until `n` calls went through the open gate (at most 10 s).
    pub(super) async fn passed(&self, n: usize) {
        eventually("calls to pass the gate", || {
            self.passed.load(Ordering::SeqCst) >= n
        })
        .await;
    }

    /// Waits until `n` calls reached the gate (at most 10 s).
    pub(super) async fn parked(&self, n: usize) {
        eventually("requests to park at the gate", || {
            self.parked.load(Ordering::SeqCst) >= n
        })
        .await;
    }
}

/// Polls `condition` until it holds, failing the test after 10 s.
pub(super) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[derive(Clone)]
struct GatedTasks {
    inner: MemoryStore,
    gate: Arc<Gate>,
}

#[async_trait]
impl TaskRepository for GatedTasks {
    async fn insert_task(&self, task: &Task) -> Result<(), StorageError> {
        self.inner.insert_task(task).await
    }
    async fn get_task(&self, user: &UserId, id: &TaskId) -> Result<Option<Task>, StorageError> {
        self.inner.get_task(user, id).await
    }
    async fn replace_task(&self, task: &Task, expected: u64) -> Result<bool, StorageError> {
        self.inner.replace_task(task, expected).await
    }
    async fn delete_task(&self, user: &UserId, id: &TaskId) -> Result<bool, StorageError> {
        self.inner.delete_task(user, id).await
    }
    async fn list_tasks(
        &self,
        user: &UserId,
        request: &ListRequest,
    ) -> Result<Vec<Task>, StorageError> {
        self.inner.list_tasks(user, request).await
    }
    async fn task_stats(&self, user: &UserId, now: Timestamp) -> Result<TaskStats, StorageError> {
        self.gate.pass().await;
        self.inner.task_stats(user, now).await
    }
}

/// A memory store that records being closed.
#[derive(Clone, Default)]
pub(super) struct Closing {
    pub(super) closed: Arc<AtomicBool>,
}

#[async_trait]
impl StorageHealth for Closing {
    async fn ping(&self) -> Result<(), StorageError> {
        Ok(())
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

/// `GET path` on a kept-alive connection, as raw HTTP/1.1.
pub(super) async fn raw_get(stream: &mut TcpStream, path: &str) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
}

/// Reads one response: its head (lower-cased) and body (by `Content-Length`).
pub(super) async fn raw_response(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("a response head");
        head.push(byte);
    }
    let head = String::from_utf8(head)
        .expect("ascii head")
        .to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |n| n.trim().parse().expect("content-length"));
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.expect("body");
    (head, body)
}

/// Whether the server closed `stream` (end of file or reset) within 10 s; panics otherwise.
pub(super) async fn closed_by_server(stream: &mut TcpStream) {
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                // A response (a 408, say) before the close is fine.
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
}
