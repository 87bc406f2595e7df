//! The log writer: lines gathered in memory and written out in batches by a thread of their
//! own, so that a request neither waits on standard output nor wakes another thread.
//!
//! Why not `tracing-appender`'s non-blocking writer: it hands each line to its thread through a
//! channel, so under load every line wakes the thread (a futex call on the request's path, and
//! a context switch on a busy core) and every batch is flushed as soon as the channel is empty,
//! which is one `write` per line at a steady rate. Here a line is appended to a shared buffer
//! under a lock held for a copy, and the thread takes the whole buffer at most every
//! [`FLUSH_INTERVAL`]: at most one wake-up and one `write` per interval, none when idle.
//!
//! No line is dropped: past [`ROOM`] bytes waiting (the output is slow or blocked), a line
//! waits for the thread to take the buffer, as it would for a direct write.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in memory before it is written (lines of a crash within this
/// interval are lost, as they would be in any writer's queue).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);

/// Bytes waiting past which a line waits for the writer thread to take them.
pub const ROOM: usize = 8 << 20;

/// The buffer capacity kept between batches; a larger one (after a burst) is given back.
const KEPT: usize = 1 << 20;

/// A [`MakeWriter`] whose lines the thread of its [`BatchGuard`] writes out in batches.
#[derive(Clone, Debug)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Keeps the writer thread running; dropping it writes out what is waiting and stops it.
#[derive(Debug)]
pub struct BatchGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// The writer thread waits here for a first line, or for the end.
    lines: Condvar,
    /// Lines wait here for room.
    room: Condvar,
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<u8>,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves at worst a partial line: keep logging.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A writer whose lines `output` receives in batches from a thread named `thread_name`.
///
/// # Panics
/// If the thread cannot be started (the process is out of threads at start-up).
pub fn batched<W: Write + Send + 'static>(
    output: W,
    thread_name: &str,
) -> (BatchWriter, BatchGuard) {
    let shared = Arc::new(Shared::default());
    let thread = std::thread::Builder::new()
        .name(thread_name.to_owned())
        .spawn({
            let shared = Arc::clone(&shared);
            move || write_out(&shared, output)
        })
        .expect("the log writer thread starts");
    let writer = BatchWriter {
        shared: Arc::clone(&shared),
    };
    let guard = BatchGuard {
        shared,
        thread: Some(thread),
    };
    (writer, guard)
}

/// The writer thread: sleeps until a first line, lets the interval's lines gather, writes them
/// with one call, and again; on closing, writes what is left and ends.
fn write_out<W: Write>(shared: &Shared, mut output: W) {
    let mut batch = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.waiting.is_empty() && !state.closing {
            state = shared
                .lines
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if !state.closing {
            // The first line woke us: give the others of the interval time to join it.
            drop(state);
            std::thread::sleep(FLUSH_INTERVAL);
            state = shared.lock();
        }
        std::mem::swap(&mut batch, &mut state.waiting);
        let closing = state.closing;
        drop(state);
        shared.room.notify_all();
        // A failing output (closed pipe) cannot be logged anywhere: the lines are gone, as
        // with a direct write.
        let _ = output.write_all(&batch).and_then(|()| output.flush());
        batch.clear();
        if batch.capacity() > KEPT {
            // A burst's buffer is not kept for the quiet that follows.
            batch = Vec::new();
        }
        if closing && shared.lock().waiting.is_empty() {
            return;
        }
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.lines.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One line's writer (tracing's formatter writes a whole line with one `write_all`).
#[derive(Debug)]
pub struct BatchLine<'a> {
    shared: &'a Shared,
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        BatchLine {
            shared: &self.shared,
        }
    }
}

impl Write for BatchLine<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut state = self.shared.lock();
        while state.waiting.len() >= ROOM && !state.closing {
            state = self
                .shared
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let first = state.waiting.is_empty();
        state.waiting.extend_from_slice(line);
        drop(state);
        if first {
            // Only the first line of a batch wakes the thread: it then sleeps an interval.
            self.shared.lines.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output the test can read while the writer owns it.
    #[derive(Clone, Default)]
    struct Output(Arc<Mutex<Vec<u8>>>);

    impl Write for Output {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Output {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn line(writer: &BatchWriter, text: &str) {
        writer.make_writer().write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn dropping_the_guard_writes_every_line_in_order() {
        let output = Output::default();
        let (writer, guard) = batched(output.clone(), "test-log");
        let lines: Vec<String> = (0..10_000).map(|i| format!("line {i}\n")).collect();
        for text in &lines {
            line(&writer, text);
        }
        drop(guard);
        assert_eq!(output.text(), lines.concat());
    }

    #[test]
    fn lines_are_written_without_the_guard_being_dropped() {
        let output = Output::default();
        let (writer, _guard) = batched(output.clone(), "test-log");
        line(&writer, "one\n");
        // Polls for the thread's write: it comes after FLUSH_INTERVAL; the bound only stops a
        // broken writer from hanging the test.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while output.text().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::yield_now();
        }
        assert_eq!(output.text(), "one\n");
        line(&writer, "two\n");
        while output.text() == "one\n" {
            assert!(
                std::time::Instant::now() < deadline,
                "the second batch never written"
            );
            std::thread::yield_now();
        }
        assert_eq!(output.text(), "one\ntwo\n");
    }

    #[test]
    fn lines_past_the_room_wait_and_none_is_lost() {
        let output = Output::default();
        let (writer, guard) = batched(output.clone(), "test-log");
        let big = "x".repeat(ROOM / 4 - 1) + "\n";
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let writer = writer.clone();
                let big = big.clone();
                std::thread::spawn(move || {
                    for _ in 0..4 {
                        line(&writer, &big);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = output.text();
        assert_eq!(text.len(), 12 * big.len());
        assert!(text.lines().all(|l| l.len() == big.len() - 1));
    }
}
