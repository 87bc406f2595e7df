//! The deployment a test app stands for. By default one instance. With
//! `TASKFLOW_TEST_TOPOLOGY=balanced` (which needs `TASKFLOW_TEST_STORE=mongo`), every
//! `TestApp::spawn*` starts [`INSTANCES`] instances of one configuration, the adapters
//! alternating (axum, warp, axum; warp first under `TASKFLOW_TEST_ADAPTER=warp`), each with
//! its own connection pool on one shared MongoDB database and the same deployment secret,
//! behind nginx as an operator would run it: TLS ends at the balancer, round robin without
//! stickiness, `X-Forwarded-For` and `X-Forwarded-Proto` set, the instances trusting the
//! balancer's address. So every contract test also checks that the API holds whichever
//! instance answers each request. Session checks are not cached there
//! (`TASKFLOW_SESSION_CACHE_MS=0`) unless the test sets a bound: the suite's tests expect a
//! revocation to take effect at once; `instances.rs` checks the bounded case.
//!
//! A test that cannot hold behind a balancer by its nature declares it with a
//! [`SingleInstance`] reason and runs on one instance in every topology. When a balanced app is
//! dropped, nginx's access log must show that it rotated over all the instances (each passed
//! within one request of the others), so no test passes by talking to one instance only.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use taskflow::core::domain::TaskId;
use taskflow::http::App;
use tokio::time::{Instant, sleep};

use crate::helpers::{Adapter, serve_until};

/// How many instances a balanced deployment runs.
pub const INSTANCES: usize = 3;

/// The address nginx connects to the instances from (`proxy_bind`): a loopback address of
/// its own, so that the instances can trust the balancer without trusting the test client
/// (which connects from 127.0.0.1), exactly as a deployment trusts its balancer's private
/// address and nothing else.
pub const BALANCER_SOURCE: &str = "127.0.0.2";

/// How long nginx takes an instance out of rotation after a failed connection
/// (`fail_timeout`), before trying it again.
pub const FAIL_TIMEOUT_SECS: u64 = 2;

/// The layout of the servers behind a test app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// One instance, the client talking to it directly.
    Single,
    /// [`INSTANCES`] instances behind nginx.
    Balanced,
}

impl Topology {
    /// The topology named by `TASKFLOW_TEST_TOPOLOGY` (`single`, the default, or `balanced`).
    ///
    /// # Panics
    /// On any other value, and for `balanced` without `TASKFLOW_TEST_STORE=mongo` (instances
    /// of a deployment share a database; each embedded store would be a world of its own).
    pub fn from_env() -> Self {
        match std::env::var("TASKFLOW_TEST_TOPOLOGY").as_deref() {
            Err(std::env::VarError::NotPresent) | Ok("" | "single") => Self::Single,
            Ok("balanced") => {
                assert_eq!(
                    std::env::var("TASKFLOW_TEST_STORE").as_deref(),
                    Ok("mongo"),
                    "TASKFLOW_TEST_TOPOLOGY=balanced needs TASKFLOW_TEST_STORE=mongo: the \
                     instances of a deployment share one database"
                );
                Self::Balanced
            }
            other => panic!("TASKFLOW_TEST_TOPOLOGY must be `single` or `balanced`, not {other:?}"),
        }
    }
}

/// Why a test runs on one instance even in the balanced topology. Each is a property of what
/// the test checks, not a failure to work around: behind a balancer the test would check
/// something else (or nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleInstance {
    /// The test speaks to one server's own connections: raw sockets, header, body and
    /// keep-alive timeouts, connection caps, TLS, its listener and drain. Behind a balancer
    /// the client's connection ends at nginx, which has its own.
    Connection,
    /// The test client poses as a trusted proxy (sending `X-Forwarded-*` itself) or checks
    /// what an untrusted peer can do. Behind a balancer the instance's peer is the balancer.
    PeerAddress,
    /// A limit counted per instance by design (the per-user API limit, which contract v1.1
    /// allows per instance, and the concurrency limit): N instances admit N times as much.
    PerInstanceLimit,
    /// What one warm instance holds by design and the test counts: its session-check cache
    /// (hits, misses) and the storage commands it issues once warm. Behind a balancer each
    /// request may reach a cold instance.
    PerInstanceCache,
    /// nginx answers the request itself (a method it does not accept, such as a lower-case
    /// one), so no instance ever sees it.
    AnsweredByTheBalancer,
}

/// The adapters of a balanced deployment, in order: the suite's adapter, the other one, the
/// suite's again, ... (an operator's rolling change between adapters, frozen half-way).
pub fn adapters() -> Vec<Adapter> {
    let first = Adapter::from_env();
    let second = match first {
        Adapter::Axum => Adapter::Warp,
        Adapter::Warp => Adapter::Axum,
    };
    (0..INSTANCES)
        .map(|i| if i % 2 == 0 { first } else { second })
        .collect()
}

/// `vars` with the balancer added to `TASKFLOW_TRUSTED_PROXIES` (after whatever the test
/// trusts already), as every instance behind it is configured.
pub fn trusting_the_balancer(vars: &mut HashMap<String, String>) {
    let trusted = match vars.get("TASKFLOW_TRUSTED_PROXIES") {
        Some(list) if !list.trim().is_empty() => format!("{list},{BALANCER_SOURCE}"),
        _ => BALANCER_SOURCE.to_owned(),
    };
    vars.insert("TASKFLOW_TRUSTED_PROXIES".to_owned(), trusted);
}

/// One in-process instance of a balanced deployment.
pub struct Instance {
    /// Its adapter.
    pub adapter: Adapter,
    /// Where it listens (the balancer's upstream).
    pub address: SocketAddr,
}

/// In-process instances behind nginx.
pub struct Deployment {
    instances: Vec<Instance>,
    balancer: Balancer,
}

impl Deployment {
    /// Serves each of `apps` with the adapter of its place in [`adapters`], then puts nginx in
    /// front of them.
    pub async fn start(apps: Vec<App>) -> Self {
        let mut instances = Vec::new();
        for (adapter, app) in adapters().into_iter().zip(apps) {
            let (address, _) = serve_until(adapter, app, std::future::pending()).await;
            instances.push(Instance { adapter, address });
        }
        let upstreams: Vec<SocketAddr> = instances.iter().map(|i| i.address).collect();
        let balancer = Balancer::start(&upstreams).await;
        Self {
            instances,
            balancer,
        }
    }

    /// The instances, in the balancer's order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The balancer.
    pub fn balancer(&self) -> &Balancer {
        &self.balancer
    }
}

impl Drop for Deployment {
    /// Checks that nginx rotated over the instances: by its access log, each was passed
    /// within one request of the others (round robin). nginx logs a request just after
    /// answering it, so the last line may lag the test's last answer by a moment: a lopsided
    /// count is read again for up to 5 s before it fails the test.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let passed = self.balancer.passed_to(&self.instances);
            let most = passed.iter().copied().max().unwrap_or_default();
            let least = passed.iter().copied().min().unwrap_or_default();
            if most - least <= 1 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the balancer did not rotate over the instances: it passed them {passed:?} \
                 requests (nginx logs in {})",
                self.balancer.dir.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Several Prometheus expositions summed series by series, as an operator's
/// `sum without (instance) (...)` reads a deployment: every series in the order first seen,
/// each `# HELP`/`# TYPE` line once.
pub fn sum_expositions(texts: &[String]) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut sums: HashMap<String, f64> = HashMap::new();
    for text in texts {
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                if !order.iter().any(|seen| seen == line) {
                    order.push(line.to_owned());
                }
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let value: f64 = value.parse().expect("a sample value");
            if let Some(sum) = sums.get_mut(series) {
                *sum += value;
            } else {
                order.push(series.to_owned());
                sums.insert(series.to_owned(), value);
            }
        }
    }
    let mut out = String::new();
    for line in order {
        match sums.get(&line) {
            // Counts print as integers, as the instances print them.
            Some(sum) if sum.fract() == 0.0 && sum.abs() < 1e15 => {
                let _ = writeln!(out, "{line} {sum:.0}");
            }
            Some(sum) => {
                let _ = writeln!(out, "{line} {sum}");
            }
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// The nginx binary: `TASKFLOW_TEST_NGINX`, else `nginx` on the `PATH`, else Debian's
/// `/usr/sbin/nginx` (not on a non-root `PATH`).
///
/// # Panics
/// When there is none: the balanced topology was asked for and cannot run without it.
fn nginx_binary() -> PathBuf {
    if let Ok(path) = std::env::var("TASKFLOW_TEST_NGINX")
        && !path.trim().is_empty()
    {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("nginx"))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|candidate| candidate.is_file());
    on_path.expect(
        "the balanced topology needs nginx (`apt-get install -y nginx`, as scripts/test.sh \
         does) or TASKFLOW_TEST_NGINX naming its binary",
    )
}

/// A free loopback port (free when asked: the caller retries if someone takes it first).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// nginx in front of a set of instances: one process (`master_process off`, so its pid is
/// all there is to kill), its configuration, certificate, pid file and logs in a directory of
/// its own. Dropping it kills the process and removes the directory (kept, and named on
/// stderr, when the test failed).
pub struct Balancer {
    child: Child,
    dir: PathBuf,
    port: u16,
    certificate: reqwest::Certificate,
}

impl Balancer {
    /// Starts nginx on a free loopback port, balancing over `upstreams`, and waits until it
    /// accepts connections.
    ///
    /// # Panics
    /// When nginx is missing or does not start (its error log is in the message).
    pub async fn start(upstreams: &[SocketAddr]) -> Self {
        let nginx = nginx_binary();
        let dir = std::env::temp_dir().join(format!("taskflow-nginx-{}", TaskId::generate()));
        std::fs::create_dir_all(&dir).expect("nginx directory");
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .expect("a certificate for the balancer");
        std::fs::write(dir.join("cert.pem"), certified.cert.pem()).expect("cert.pem");
        std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem())
            .expect("key.pem");
        let certificate =
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).expect("pem");
        // The port is free when picked but nginx binds it later: on a clash, pick another.
        for _ in 0..5 {
            let port = free_port();
            let config = nginx_config(&dir, port, upstreams);
            std::fs::write(dir.join("nginx.conf"), config).expect("nginx.conf");
            let mut child = Command::new(&nginx)
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .arg("-e")
                .arg(dir.join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", nginx.display()));
            if accepting(&mut child, port).await {
                return Self {
                    child,
                    dir,
                    port,
                    certificate,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            assert!(
                log.contains("Address already in use"),
                "nginx did not start:\n{log}"
            );
        }
        panic!("nginx found no free port in 5 attempts");
    }

    /// The balancer's base URL (`https://localhost:PORT`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// A client that trusts the balancer's certificate and finds `localhost` on loopback.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_built_in_root_certs(false)
            .add_root_certificate(self.certificate.clone())
            .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], self.port)))
            .build()
            .expect("client")
    }

    /// The upstream address of every request nginx has logged so far (several, comma
    /// separated, when it passed a request on to another instance; `-` when it answered
    /// itself).
    pub fn upstreams_logged(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(" upstream=").map(|(_, u)| u.to_owned()))
            .collect()
    }

    /// How many requests nginx passed to each of `instances` (every attempt counts), by its
    /// access log.
    fn passed_to(&self, instances: &[Instance]) -> Vec<usize> {
        let logged = self.upstreams_logged();
        instances
            .iter()
            .map(|instance| {
                let address = instance.address.to_string();
                logged
                    .iter()
                    .flat_map(|line| line.split(", "))
                    .filter(|upstream| *upstream == address)
                    .count()
            })
            .collect()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "nginx configuration and logs kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether nginx accepts connections on `port` within 10 s (false as soon as it exits).
async fn accepting(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().expect("nginx status").is_some() {
            return false;
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return true;
        }
        sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The configuration the README's "Running several instances" describes, on loopback.
fn nginx_config(dir: &Path, port: u16, upstreams: &[SocketAddr]) -> String {
    let dir = dir.display();
    let servers = upstreams.iter().fold(String::new(), |mut out, u| {
        let _ = writeln!(
            out,
            "        server {u} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECS}s;"
        );
        out
    });
    format!(
        r"# One process, in the foreground: the test owns it by its pid.
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    server_tokens off;
    log_format upstreams '$msec $request_method $status upstream=$upstream_addr';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # Bodies up to 1 MiB (above TASKFLOW_BODY_LIMIT_BYTES, which the instances enforce with
    # their own 413), held in memory.
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    upstream taskflow {{
        # Round robin (the default): no ip_hash, no sticky cookie. A server that refuses a
        # connection is left out for fail_timeout, then tried again.
{servers}    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        location / {{
            proxy_pass http://taskflow;
            proxy_http_version 1.1;
            proxy_bind {BALANCER_SOURCE};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_redirect off;
            proxy_max_temp_file_size 0;
            proxy_connect_timeout 2s;
            # Another instance gets the request when this one refused the connection (any
            # method: nothing was sent) or failed before answering an idempotent request.
            # nginx never passes a POST or PATCH it has sent on to another instance (no
            # `non_idempotent`): the first may have written it, and a task would be created
            # twice.
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
            proxy_next_upstream_timeout 10s;
        }}
    }}
}}
"
    )
}

/// An example server process (`target/debug/examples/axum_server` or `warp_server`), for
/// tests that kill an instance as an operator's platform would. Its log is a file in the
/// caller's directory; dropping it kills the process.
pub struct ServerProcess {
    child: Option<Child>,
    /// Where it listens.
    pub address: SocketAddr,
}

impl ServerProcess {
    /// Starts the example server of `adapter` with exactly `env` (nothing inherited, in `dir`
    /// so no `.env` file is read), logging to `log`, and waits until it says where it listens.
    ///
    /// # Panics
    /// When the binary is missing (`cargo build --examples`), or the server does not start
    /// within 30 s.
    pub async fn start(adapter: Adapter, env: &[(String, String)], dir: &Path, log: &Path) -> Self {
        let binary = example_binary(adapter);
        let file = std::fs::File::create(log).expect("server log");
        let child = Command::new(&binary)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let mut server = Self {
            child: Some(child),
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if let Some(address) = text
                .split("listening on http://")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
            {
                server.address = address.parse().expect("a listening address");
                return server;
            }
            let exited = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("server status"));
            assert!(
                exited.is_none(),
                "{adapter:?} server exited ({exited:?}):\n{text}"
            );
            assert!(
                Instant::now() < deadline,
                "{adapter:?} server not listening after 30 s:\n{text}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the process (SIGKILL: no drain, no goodbye) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The example server binary of `adapter`, beside this test binary's (`target/debug/deps`).
///
/// # Panics
/// When it is not built.
fn example_binary(adapter: Adapter) -> PathBuf {
    let name = match adapter {
        Adapter::Axum => "axum_server",
        Adapter::Warp => "warp_server",
    };
    let exe = std::env::current_exe().expect("test binary path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let binary = profile.join("examples").join(name);
    assert!(
        binary.is_file(),
        "{} is missing: build it with `cargo build --examples --all-features`",
        binary.display()
    );
    binary
}
