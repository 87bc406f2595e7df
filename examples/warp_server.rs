//! The TaskFlow API on warp: configuration from the environment (see README), the embedded
//! in-memory store unless `TASKFLOW_MONGODB_URI` is set, graceful shutdown on SIGINT/SIGTERM.
//!
//! `cargo run --release --example warp_server`

use std::process::ExitCode;

use taskflow::server::run;

/// mimalloc rather than glibc's malloc: the same speed, and far less memory held once the
/// in-memory store is large (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    run("warp", taskflow::warp::service).await
}
