//! TLS: the server terminates HTTPS with a configured PEM identity; plain HTTP to the TLS
//! port fails; unusable TLS files are configuration errors that name the variables.

use std::collections::HashMap;
use std::path::PathBuf;

use taskflow::core::domain::TaskId;
use taskflow::http::Stores;
use taskflow::server::Config;

use super::gate::closed_by_server;
use crate::helpers::*;

/// A self-signed identity for `localhost`, written as PEM files: (cert PEM, cert path, key path).
fn identity() -> (String, PathBuf, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!("taskflow-tls-{}", TaskId::generate()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let pem = certified.cert.pem();
    std::fs::write(&cert, &pem).expect("cert file");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key file");
    (pem, cert, key)
}

fn tls_vars<'a>(cert: &'a str, key: &'a str) -> [(&'static str, &'a str); 2] {
    [("TASKFLOW_TLS_CERT", cert), ("TASKFLOW_TLS_KEY", key)]
}

#[tokio::test]
async fn https_is_served_with_the_configured_identity_and_plain_http_fails() {
    let (pem, cert, key) = identity();
    let (cert, key) = (cert.to_str().expect("path"), key.to_str().expect("path"));
    let mut vars = tls_vars(cert, key).to_vec();
    vars.push(("TASKFLOW_TLS_HANDSHAKE_TIMEOUT_SECS", "1"));
    let config = TestApp::config(&vars);
    let app = config.app(Stores::memory()).expect("app");
    let (address, _server) = serve_until(Adapter::from_env(), app, std::future::pending()).await;
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem"))
        .resolve("localhost", address)
        .build()
        .expect("client");
    let url = format!("https://localhost:{}/health/live", address.port());
    let response = client.get(&url).send().await.expect("an HTTPS answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    let plain = reqwest::Client::new()
        .get(format!("http://{address}/health/live"))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    let mut silent = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    closed_by_server(&mut silent).await;
}

fn config_error(vars: &[(&str, &str)]) -> String {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_map(&map).expect_err("refused").to_string()
}

#[test]
fn unusable_tls_files_are_configuration_errors() {
    let (_, cert, key) = identity();
    let (cert, key) = (cert.to_str().expect("path"), key.to_str().expect("path"));
    let missing = config_error(&tls_vars("/nonexistent/cert.pem", key));
    assert!(
        missing.contains("TASKFLOW_TLS_CERT") && missing.contains("/nonexistent/cert.pem"),
        "{missing}"
    );
    let swapped = config_error(&tls_vars(key, cert));
    assert!(swapped.contains("no valid PEM certificate"), "{swapped}");
    let not_a_key = config_error(&tls_vars(cert, cert));
    assert!(
        not_a_key.contains("no valid PEM private key"),
        "{not_a_key}"
    );
    let other = identity();
    let mismatched = config_error(&tls_vars(cert, other.2.to_str().expect("path")));
    assert!(
        mismatched.contains("cannot be used together"),
        "{mismatched}"
    );
    let alone = config_error(&[("TASKFLOW_TLS_CERT", cert)]);
    assert!(alone.contains("set together"), "{alone}");
}

#[test]
fn production_without_tls_or_a_proxy_is_refused() {
    let refused = config_error(&[
        ("TASKFLOW_PROFILE", "production"),
        ("TASKFLOW_JWT_SECRET", JWT_SECRET),
    ]);
    assert!(
        refused.contains("TASKFLOW_TLS_CERT") && refused.contains("TASKFLOW_TRUSTED_PROXIES"),
        "{refused}"
    );
    let (_, cert, key) = identity();
    let mut vars = vec![
        ("TASKFLOW_PROFILE", "production"),
        ("TASKFLOW_JWT_SECRET", JWT_SECRET),
    ];
    vars.extend(tls_vars(
        cert.to_str().expect("path"),
        key.to_str().expect("path"),
    ));
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert!(Config::from_map(&map).is_ok(), "TLS alone suffices");
}
