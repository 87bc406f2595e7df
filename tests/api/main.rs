//! The HTTP contract suite (`docs/api.md`): framework-neutral tests that talk HTTP to a
//! server spawned on a random local port, so the very same tests run against every adapter
//! and every store.

// Helpers are shared by many test modules; not every module uses every helper.
#![allow(unreachable_pub, dead_code)]

mod assertions;
mod auth;
mod compression;
mod cookies;
mod csrf;
mod helpers;
mod isolation;
mod jwt;
mod list;
mod logs;
mod mongo_outage;
mod ops;
mod outage;
mod pagination;
mod rate_limits;
mod secrets;
mod sessions;
mod smoke;
mod task_lifecycle;
mod tasks;
mod tokens;
mod transport;
