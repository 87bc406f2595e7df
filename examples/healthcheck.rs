//! The container health check: `GET /health/live` on the local server, exit code 0 on a 200
//! and 1 otherwise. Distroless images have no shell and no curl, so the Dockerfile copies this
//! std-only binary next to the server for its `HEALTHCHECK`.
//!
//! The address is the first argument (`127.0.0.1:8080`), else the port of `TASKFLOW_BIND`
//! on loopback (an unspecified bind address such as `0.0.0.0` is reached through loopback),
//! else `127.0.0.1:8080`. Plain http only: TLS is expected to end at the platform's proxy.

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// Connect, write and read each get this long; Docker's own `--timeout` bounds the whole.
const TIMEOUT: Duration = Duration::from_secs(2);

fn target(argument: Option<&str>, bind: Option<&str>) -> Result<SocketAddr, String> {
    if let Some(address) = argument {
        return address
            .parse()
            .map_err(|_| format!("{address:?} is not an address such as 127.0.0.1:8080"));
    }
    let Some(bind) = bind.filter(|b| !b.trim().is_empty()) else {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)));
    };
    let mut address: SocketAddr = bind
        .trim()
        .parse()
        .map_err(|_| format!("TASKFLOW_BIND={bind:?} is not an address"))?;
    if address.ip().is_unspecified() {
        address.set_ip(match address.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Ok(address)
}

/// The status code of `GET /health/live` at `address`.
fn live_status(address: SocketAddr) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    // "HTTP/1.1 200" is all that is needed; the rest of the answer is not read.
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    std::str::from_utf8(&head[9..])
        .ok()
        .and_then(|code| code.parse().ok())
        .filter(|_| head.starts_with(b"HTTP/1."))
        .ok_or_else(|| std::io::Error::other("not an HTTP/1 answer"))
}

fn main() -> ExitCode {
    let argument = std::env::args().nth(1);
    let bind = std::env::var("TASKFLOW_BIND").ok();
    let address = match target(argument.as_deref(), bind.as_deref()) {
        Ok(address) => address,
        Err(e) => {
            eprintln!("healthcheck: {e}");
            return ExitCode::from(2);
        }
    };
    match live_status(address) {
        Ok(200) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("healthcheck: http://{address}/health/live answered {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("healthcheck: http://{address}/health/live: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn the_address_comes_from_the_argument_or_the_bind_port() {
        let at = |arg, bind| target(arg, bind).unwrap().to_string();
        assert_eq!(at(None, None), "127.0.0.1:8080");
        assert_eq!(at(None, Some("0.0.0.0:9000")), "127.0.0.1:9000");
        assert_eq!(at(None, Some("[::]:9000")), "[::1]:9000");
        assert_eq!(at(None, Some("10.1.2.3:80")), "10.1.2.3:80");
        assert_eq!(at(Some("127.0.0.1:1"), Some("0.0.0.0:9000")), "127.0.0.1:1");
        assert!(target(Some("localhost"), None).is_err());
        assert!(target(None, Some("nonsense")).is_err());
    }

    /// A one-shot server answering `status_line` to the first request.
    fn serve_once(status_line: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 256];
            let _ = stream.read(&mut request).unwrap();
            stream.write_all(status_line.as_bytes()).unwrap();
        });
        address
    }

    #[test]
    fn reads_the_status_code() {
        let ok = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(live_status(ok).unwrap(), 200);
        let down = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(live_status(down).unwrap(), 503);
        let garbage = serve_once("SSH-2.0-OpenSSH_9.6\r\n");
        assert!(live_status(garbage).is_err());
    }
}
