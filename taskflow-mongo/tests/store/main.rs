//! MongoDB-specific behaviour beyond the shared conformance suite: query plans, command
//! scoping, indexes, configuration, outages, and the storage and commands of refresh families.

#[path = "../common/mod.rs"]
mod common;

mod explain;
mod fault;
mod indexes;
mod monitoring;
mod pool;
mod refresh;
