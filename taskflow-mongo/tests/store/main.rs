//! MongoDB-specific behaviour beyond the shared conformance suite: query plans, command
//! scoping, indexes, configuration, outages, the storage and commands of refresh families, and
//! the commands and expiry of the shared rate limits.

#[path = "../common/mod.rs"]
mod common;

mod explain;
mod fault;
mod indexes;
mod monitoring;
mod pool;
mod rate_limits;
mod refresh;
