//! Application services: the use cases the inbound adapters call, one module per family.

pub mod tasks;

pub use tasks::{TaskError, TaskService};
