//! The embedded in-memory store runs the full repository conformance suite and the property
//! tests, exactly as every other store must.

taskflow_core::repository_conformance_tests!(taskflow_core::testkit::memory_repositories());

taskflow_core::repository_property_tests!(
    taskflow_core::testkit::memory_repositories(),
    cases = 256
);
