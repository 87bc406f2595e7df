//! Secrets against what the server shows: task, user and session ids are in the ObjectId
//! layout (start second, five process bytes, a counter) and so guessable by design; no secret
//! may be derived from that generator. The attack of issue 14 is replayed here: from a
//! development server without `TASKFLOW_JWT_SECRET`, read the ids it shows, rebuild every
//! secret that ids of that generator could have made at start, and try each on a token the
//! server issued.

use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;
use taskflow::core::auth::AccessTokenConfig;
use taskflow::core::{Clock as _, SystemClock};

use crate::helpers::*;
use crate::tokens;

/// How far back from an id the counter is searched: far beyond the ids the whole suite makes
/// in parallel between a server's start and its first answers (the old scheme's secret was
/// found a few steps back), yet cheap enough not to slow the tests running beside it.
const COUNTER_WINDOW: u32 = 1 << 11;
/// How many seconds before an id the start is searched.
const SECONDS_WINDOW: u32 = 2;

/// An id in the ObjectId layout, as its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ObjectId {
    seconds: u32,
    process: [u8; 5],
    counter: u32,
}

impl ObjectId {
    /// `text` read as 24 lowercase hex digits of an ObjectId, if it is one.
    fn parse(text: &str) -> Option<Self> {
        if text.len() != 24 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let raw: Vec<u8> = (0..12)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
            .collect();
        Some(Self {
            seconds: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            process: [raw[4], raw[5], raw[6], raw[7], raw[8]],
            counter: u32::from_be_bytes([0, raw[9], raw[10], raw[11]]),
        })
    }

    fn bytes(seconds: u32, process: [u8; 5], counter: u32) -> [u8; 12] {
        let mut raw = [0u8; 12];
        raw[..4].copy_from_slice(&seconds.to_be_bytes());
        raw[4..9].copy_from_slice(&process);
        raw[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
        raw
    }
}

/// The 32-byte secret the old development default made of three consecutive ids
/// (12 + 12 + 8 bytes) generated in second `seconds` from counter `counter`.
fn old_scheme_secret(seconds: u32, process: [u8; 5], counter: u32) -> [u8; 32] {
    let mut secret = [0u8; 32];
    for (i, chunk) in secret.chunks_mut(12).enumerate() {
        let step = u32::try_from(i).expect("three chunks");
        let id = ObjectId::bytes(seconds, process, counter.wrapping_add(step) & 0x00ff_ffff);
        chunk.copy_from_slice(&id[..chunk.len()]);
    }
    secret
}

/// The candidate secret among those of the old scheme, searched back from every id in
/// `shown`, that verifies the HS256 signature of `token`, if one does.
fn search_old_scheme(shown: &[ObjectId], token: &str) -> Option<[u8; 32]> {
    let [header, claims, signature] = tokens::parts(token);
    let signing_input = format!("{header}.{claims}");
    let signature = tokens::b64url_decode(&signature);
    for anchor in shown {
        for back in 1..=COUNTER_WINDOW {
            let counter = anchor.counter.wrapping_sub(back) & 0x00ff_ffff;
            for earlier in 0..=SECONDS_WINDOW {
                let seconds = anchor.seconds.wrapping_sub(earlier);
                let secret = old_scheme_secret(seconds, anchor.process, counter);
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(&secret).expect("any key length");
                mac.update(signing_input.as_bytes());
                if mac.verify_slice(&signature).is_ok() {
                    return Some(secret);
                }
            }
        }
    }
    None
}

#[tokio::test]
async fn the_development_secret_cannot_be_rebuilt_from_the_ids_the_server_shows() {
    // No TASKFLOW_JWT_SECRET: the development profile makes one at start.
    let app = TestApp::spawn().await;
    let live = app.get("/health/live", HeaderMap::new()).await;
    let request_id = header(&live, "x-request-id")
        .expect("a generated request id")
        .to_owned();
    let user = app.register("attacker@example.com").await;
    let me = json_body(app.get("/api/v1/auth/me", user.browser_headers()).await).await;
    let user_id = me["user"]["id"].as_str().expect("user id").to_owned();
    let (_, claims) = tokens::decode(user.access());
    let session_id = claims["sid"].as_str().expect("sid").to_owned();
    let shown: Vec<ObjectId> = [&request_id, &user_id, &session_id]
        .into_iter()
        .filter_map(|id| ObjectId::parse(id))
        .collect();
    // User and session ids are ObjectIds by design: the search always has an anchor.
    assert!(shown.len() >= 2, "{request_id} {user_id} {session_id}");

    if let Some(secret) = search_old_scheme(&shown, user.access()) {
        let forged = tokens::resign(
            user.access(),
            &secret,
            AccessTokenConfig::default(),
            SystemClock.now(),
        );
        let accepted = app.get("/api/v1/auth/me", bearer(&forged)).await.status();
        panic!(
            "the development JWT secret was rebuilt from the ids the server shows \
             (request id {request_id}, user id {user_id}); a token forged with it got {accepted}"
        );
    }
}

#[tokio::test]
async fn a_generated_request_id_reveals_nothing_of_the_id_generator() {
    let app = TestApp::spawn().await;
    let user = app.register("request-ids@example.com").await;
    let me = json_body(app.get("/api/v1/auth/me", user.browser_headers()).await).await;
    let user_id = me["user"]["id"].as_str().expect("id");
    assert!(ObjectId::parse(user_id).is_some(), "{user_id}");
    // The hex digits of the five process bytes.
    let process = &user_id[8..18];
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let live = app.get("/health/live", HeaderMap::new()).await;
        let id = header(&live, "x-request-id").expect("id").to_owned();
        assert!(
            ObjectId::parse(&id).is_none() && !id.contains(process),
            "generated request id {id} is an id of the generator (process bytes {process})"
        );
        // 128 random bits: within the sane pattern, never repeated.
        assert!((16..=64).contains(&id.len()), "{id}");
        assert!(seen.insert(id), "a generated request id repeated");
    }
}
