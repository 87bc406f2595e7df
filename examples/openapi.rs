//! Prints the API's OpenAPI document (what `GET /api/v1/openapi.json` serves) without starting
//! a server, pretty-printed with sorted keys so that a change to the API reads as a small diff.
//! The reference web client generates its TypeScript types from it (`examples/web`,
//! `npm run gen:api`).
//!
//! `cargo run --quiet --example openapi > examples/web/openapi.json`

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The example servers' document: the default base path, every route.
    let app = taskflow::http::App::builder(taskflow::http::Stores::memory())
        .ephemeral_secret()
        .build();
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("openapi: {error}");
            return ExitCode::FAILURE;
        }
    };
    let document: serde_json::Value =
        match serde_json::from_slice(taskflow::http::openapi::json(&app)) {
            Ok(document) => document,
            Err(error) => {
                eprintln!("openapi: the document is not JSON: {error}");
                return ExitCode::FAILURE;
            }
        };
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, &document)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("openapi: cannot write the document: {error}");
            ExitCode::FAILURE
        }
    }
}
