//! MongoDB storage for TaskFlow: implements the repository ports of `taskflow-core` on the
//! official `mongodb` driver. Not implemented yet; it compiles so the workspace has its final shape.

pub use taskflow_core as core;
