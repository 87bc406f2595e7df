//! The TaskFlow HTTP API on axum: translates HTTP to `taskflow-core` service calls and back.
//! Not implemented yet; it compiles so the workspace has its final shape.

pub use taskflow_core as core;
