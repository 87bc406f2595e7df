//! Talking to one adapter: requests, cookies, raw chunked bodies, the transcript.

use std::collections::BTreeMap;
use std::io::Write as _;

use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;

#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub(crate) label: &'static str,
    pub(crate) request_id: Option<String>,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Exchange {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: body is not JSON: {e}", self.label))
    }

    pub(crate) fn text(&self, field: &str) -> String {
        self.json()[field]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no string `{field}`", self.label))
            .to_owned()
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
}

impl Req {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub(crate) fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn with(mut self, headers: Vec<(&'static str, String)>) -> Self {
        self.headers.extend(headers);
        self
    }

    pub(crate) fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self.header("content-type", content_type)
    }

    pub(crate) fn json(self, value: &Value) -> Self {
        let bytes = serde_json::to_vec(value).expect("serialisable");
        self.raw("application/json", bytes)
    }
}

/// The cookies a browser holds, from the `Set-Cookie` headers it saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct Jar(pub(crate) BTreeMap<String, String>);

impl Jar {
    pub(crate) fn absorb(&mut self, exchange: &Exchange) {
        for (name, value) in &exchange.headers {
            if name != "set-cookie" {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            let (cookie, content) = pair.split_once('=').expect("name=value");
            if value.contains("Max-Age=0") {
                self.0.remove(cookie);
            } else {
                self.0.insert(cookie.to_owned(), content.to_owned());
            }
        }
    }

    pub(crate) fn from(exchange: &Exchange) -> Self {
        let mut jar = Self::default();
        jar.absorb(exchange);
        jar
    }

    /// `Cookie` only.
    pub(crate) fn cookies(&self) -> Vec<(&'static str, String)> {
        let cookie = self
            .0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        vec![("cookie", cookie)]
    }

    /// `Cookie` and `X-CSRF-Token`, as the SPA sends them.
    pub(crate) fn browser(&self) -> Vec<(&'static str, String)> {
        let mut headers = self.cookies();
        let csrf = self
            .0
            .iter()
            .find(|(n, _)| n.ends_with("taskflow_csrf"))
            .map(|(_, v)| v.clone())
            .expect("a CSRF cookie");
        headers.push(("x-csrf-token", csrf));
        headers
    }
}

/// `req` on the wire with its body in `chunks` (`Transfer-Encoding: chunked`).
pub(crate) fn chunked_request(req: &Req, authority: &str, chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = Vec::new();
    let written: std::io::Result<()> = (|| {
        write!(
            wire,
            "{} {} HTTP/1.1\r\nhost: {authority}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n",
            req.method, req.path
        )?;
        for (name, value) in &req.headers {
            write!(wire, "{name}: {value}\r\n")?;
        }
        wire.extend_from_slice(b"\r\n");
        for chunk in chunks {
            write!(wire, "{:x}\r\n", chunk.len())?;
            wire.extend_from_slice(chunk);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        Ok(())
    })();
    written.expect("request in memory");
    wire
}

pub(crate) fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {token}"))]
}

/// One adapter's side of the session: a client and the transcript so far.
pub(crate) struct Session {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) transcript: Vec<Exchange>,
}

impl Session {
    pub(crate) async fn new(adapter: Adapter) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: spawn(adapter).await,
            client,
            transcript: Vec::new(),
        }
    }

    /// Sends `req`, checks the status the script expects and records the exchange.
    pub(crate) async fn send(&mut self, label: &'static str, expected: u16, req: Req) -> Exchange {
        let mut builder = self
            .client
            .request(req.method.clone(), format!("{}{}", self.base, req.path));
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = req.body.clone() {
            builder = builder.body(body);
        }
        let response = builder.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                let value = v.to_str().expect("visible ASCII header");
                (n.as_str().to_owned(), value.to_owned())
            })
            .collect();
        let body = response.bytes().await.expect("body").to_vec();
        self.record(label, expected, &req, status, headers, body)
    }

    /// Sends `POST path` with a chunked body (no `Content-Length`) over a plain socket, since
    /// the client always declares the length of the bodies it knows.
    pub(crate) async fn send_chunked(
        &mut self,
        label: &'static str,
        expected: u16,
        req: Req,
        chunks: &[Vec<u8>],
    ) -> Exchange {
        let authority = self.base.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&authority)
            .await
            .expect("connect");
        let wire = chunked_request(&req, &authority, chunks);
        stream.write_all(&wire).await.expect("request written");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("response read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of head");
        let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .expect("status line");
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("header line");
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        let body = raw[split + 4..].to_vec();
        self.record(label, expected, &req, status, headers, body)
    }

    pub(crate) fn record(
        &mut self,
        label: &'static str,
        expected: u16,
        req: &Req,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Exchange {
        let request_id = req
            .headers
            .iter()
            .find(|(n, _)| *n == "x-request-id")
            .map(|(_, v)| v.clone());
        let exchange = Exchange {
            label,
            request_id,
            status,
            headers,
            body,
        };
        assert_eq!(
            status,
            expected,
            "{label} on {}: {}",
            self.base,
            String::from_utf8_lossy(&exchange.body)
        );
        self.transcript.push(exchange.clone());
        exchange
    }
}
