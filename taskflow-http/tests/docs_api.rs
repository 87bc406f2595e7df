//! `docs/api.md`, the user-facing API reference the repository carries, stays in step with the
//! OpenAPI document the server serves: every operation and every error code is in it.

use std::path::Path;

use serde_json::Value;
use taskflow_core::error::ErrorCode;

fn reference() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_operation_of_the_openapi_document_is_in_the_reference() {
    let reference = reference();
    let app = taskflow_http::App::builder(taskflow_core::ports::Stores::memory())
        .ephemeral_secret()
        .build()
        .expect("an app with the defaults");
    let doc: Value = serde_json::from_slice(taskflow_http::openapi::json(&app)).expect("JSON");
    let paths = doc["paths"].as_object().expect("paths");
    let mut missing = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                let entry = format!("`{} {path}", method.to_uppercase());
                if !reference.contains(&entry) {
                    missing.push(entry);
                }
            }
        }
    }
    assert!(missing.len() < paths.len(), "the document lists operations");
    assert!(missing.is_empty(), "docs/api.md lacks {missing:?}");
}

#[test]
fn every_error_code_is_in_the_reference_with_its_status() {
    let reference = reference();
    for code in ErrorCode::ALL {
        let status = taskflow_http::problem::status_of(code).as_u16();
        let row = format!("| `{code}` | {status} |");
        assert!(reference.contains(&row), "docs/api.md lacks the row {row}");
    }
}
