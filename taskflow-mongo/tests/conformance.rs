//! The core's repository conformance suite and property tests against MongoDB, each test on
//! its own database (dropped afterwards), in parallel.

mod common;

taskflow_core::repository_conformance_tests!(common::mongo_repositories());

taskflow_core::repository_property_tests!(common::mongo_repositories(), cases = 32);
