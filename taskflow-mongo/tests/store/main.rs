//! MongoDB-specific behaviour beyond the shared conformance suite: query plans, command
//! scoping, indexes, configuration and outages.

#[path = "../common/mod.rs"]
mod common;

mod explain;
mod fault;
mod indexes;
mod monitoring;
mod pool;
