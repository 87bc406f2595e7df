//! The log writer: lines gathered in memory and written out in batches by a thread of their
//! own, so that a request does not wait on standard output, and only the first line of a
//! batch wakes that thread.
//!
//! Why not `tracing-appender`'s non-blocking writer: it hands each line to its thread through a
//! channel, so under load every line wakes the thread (a futex call on the request's path, and
//! a context switch on a busy core) and every batch is flushed as soon as the channel is empty,
//! which is one `write` per line at a steady rate. Here a line is appended to a shared buffer
//! under a lock held for a copy, and the thread takes the whole buffer at most every
//! [`FLUSH_INTERVAL`]: at most one wake-up and one `write` per interval, none when idle.
//!
//! No line is dropped while the guard lives: past [`ROOM`] bytes waiting (the output is slow or
//! blocked), a line waits for the thread to take the buffer, as it would for a direct write.
//! Memory is bounded by about twice that (the batch being written and the one gathering).
//! Once the thread has ended (the guard dropped), lines are written directly, as they come.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// How long the first line of a batch waits for others before the batch is written (plus the
/// time the output takes the previous batch): what a crash can lose.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);

/// Bytes waiting past which a line waits for the writer thread to take them.
pub const ROOM: usize = 8 << 20;

/// How long dropping the guard waits for the output to take the last lines: a log collector
/// that stopped reading must not keep the process from exiting.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The buffer capacity kept between batches; a larger one (after a burst) is given back.
const KEPT: usize = 1 << 20;

/// A [`MakeWriter`] whose lines the thread of its [`BatchGuard`] writes out in batches.
#[derive(Clone, Debug)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Keeps the writer thread running; dropping it writes out what is waiting (for at most
/// [`DRAIN_TIMEOUT`]) and stops the thread.
#[derive(Debug)]
pub struct BatchGuard {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// The writer thread waits here for a first line, or for the end.
    lines: Condvar,
    /// Lines wait here for room; the guard waits here for the thread's end.
    room: Condvar,
    /// Where the lines go: the thread writes batches to it, lines write to it directly once
    /// the thread has ended.
    output: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<u8>,
    /// The guard was dropped: write what is left and end.
    closing: bool,
    /// The thread has ended (or died): nothing reads `waiting` any more.
    done: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing that can panic runs under these locks but a write to the output; after one,
        // carry on logging.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn output(&self) -> MutexGuard<'_, Box<dyn Write + Send>> {
        self.output.lock().unwrap_or_else(PoisonError::into_inner)
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
    let shared = Arc::new(Shared {
        state: Mutex::default(),
        lines: Condvar::new(),
        room: Condvar::new(),
        output: Mutex::new(Box::new(output)),
    });
    std::thread::Builder::new()
        .name(thread_name.to_owned())
        .spawn({
            let shared = Arc::clone(&shared);
            move || {
                let _done = Done(&shared);
                write_out(&shared);
            }
        })
        .expect("the log writer thread starts");
    let writer = BatchWriter {
        shared: Arc::clone(&shared),
    };
    (writer, BatchGuard { shared })
}

/// Marks the thread's end, however it ends (a panicking output included): lines then go to the
/// output directly instead of into a buffer nobody reads, and none waits for room.
struct Done<'a>(&'a Shared);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.lock().done = true;
        self.0.room.notify_all();
    }
}

/// The writer thread: sleeps until a first line, lets the interval's lines gather, writes them
/// with one call, and again; once closing, writes what is left and ends.
fn write_out(shared: &Shared) {
    let mut batch = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.waiting.is_empty() && !state.closing {
            state = shared
                .lines
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.waiting.is_empty() {
            // Closing, with everything written. `done` is set under this same lock (by `Done`,
            // right after), so a line appended after this check is written directly.
            state.done = true;
            return;
        }
        if !state.closing {
            // The first line woke us: give the others of the interval time to join it.
            drop(state);
            std::thread::sleep(FLUSH_INTERVAL);
            state = shared.lock();
        }
        std::mem::swap(&mut batch, &mut state.waiting);
        drop(state);
        shared.room.notify_all();
        // A failing output (a closed pipe, a full disk) cannot be reported anywhere: the batch is
        // gone, as lines written directly would be; a batch cut off mid-line leaves a partial line.
        let mut output = shared.output();
        let _ = output.write_all(&batch).and_then(|()| output.flush());
        drop(output);
        batch.clear();
        if batch.capacity() > KEPT {
            // A burst's buffer is not kept for the quiet that follows.
            batch = Vec::new();
        }
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closing = true;
        self.shared.lines.notify_one();
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while !state.done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // The output does not take the lines: exit without them rather than hang.
                return;
            }
            state = self
                .shared
                .room
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
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
        while state.waiting.len() >= ROOM && !state.done {
            state = self
                .shared
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.done {
            drop(state);
            // Taken while holding the output: after the thread's last batch, in order.
            let mut output = self.shared.output();
            output.write_all(line)?;
            output.flush()?;
            return Ok(line.len());
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

    /// An output the test can read while the writer owns it, and hold closed.
    #[derive(Clone, Default)]
    struct Output {
        bytes: Arc<Mutex<Vec<u8>>>,
        /// While set, writes wait (a log collector that stopped reading).
        held: Arc<(Mutex<bool>, Condvar)>,
        /// A write has begun.
        entered: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Write for Output {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.entered
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let (held, released) = &*self.held;
            let mut held = held.lock().unwrap();
            while *held {
                held = released.wait(held).unwrap();
            }
            self.bytes.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Output {
        fn text(&self) -> String {
            String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
        }

        fn hold(&self, held: bool) {
            *self.held.0.lock().unwrap() = held;
            self.held.1.notify_all();
        }
    }

    fn line(writer: &BatchWriter, text: &str) {
        writer.make_writer().write_all(text.as_bytes()).unwrap();
    }

    /// Waits for `done` to hold; the bound only stops a broken writer from hanging the test.
    fn until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not after 10 s");
            std::thread::yield_now();
        }
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
        until("the first batch written", || !output.text().is_empty());
        assert_eq!(output.text(), "one\n");
        line(&writer, "two\n");
        until("the second batch written", || output.text() != "one\n");
        assert_eq!(output.text(), "one\ntwo\n");
    }

    #[test]
    fn past_the_room_a_line_waits_for_the_output_and_none_is_lost() {
        let output = Output::default();
        let (writer, guard) = batched(output.clone(), "test-log");
        output.hold(true);
        line(&writer, "first\n");
        // The thread is stuck writing the first batch: from now on nothing takes the lines.
        until("the first batch being written", || {
            output.entered.load(std::sync::atomic::Ordering::SeqCst)
        });
        let big = "x".repeat(ROOM / 4 - 1) + "\n";
        let producer = std::thread::spawn({
            let (writer, big) = (writer.clone(), big.clone());
            move || {
                for _ in 0..12 {
                    line(&writer, &big);
                }
            }
        });
        // The producer fills the room and waits; without the wait it would run through its 12
        // lines (3 times the room) into the buffer.
        let waiting = || writer.shared.lock().waiting.len();
        until("the room filled, or the producer done", || {
            waiting() >= ROOM || producer.is_finished()
        });
        assert!(
            waiting() < ROOM + big.len(),
            "{} bytes waiting: lines did not wait for room",
            waiting()
        );
        output.hold(false);
        producer.join().unwrap();
        drop(guard);
        assert_eq!(output.text(), "first\n".to_owned() + &big.repeat(12));
    }

    #[test]
    fn lines_after_the_guard_are_written_directly_in_order() {
        let output = Output::default();
        let (writer, guard) = batched(output.clone(), "test-log");
        line(&writer, "before\n");
        drop(guard);
        line(&writer, "after\n");
        assert_eq!(output.text(), "before\nafter\n");
        assert!(
            writer.shared.lock().waiting.is_empty(),
            "nothing left unread"
        );
    }

    #[test]
    fn the_guard_gives_up_on_an_output_that_takes_nothing() {
        let output = Output::default();
        let (writer, guard) = batched(output.clone(), "test-log");
        output.hold(true);
        line(&writer, "stuck\n");
        let started = Instant::now();
        drop(guard);
        assert!(
            started.elapsed() >= DRAIN_TIMEOUT,
            "it waited for the output"
        );
        output.hold(false);
        until("the line written once released", || {
            output.text() == "stuck\n"
        });
    }
}
