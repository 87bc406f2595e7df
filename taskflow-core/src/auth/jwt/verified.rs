//! The tokens that already passed verification, so that a client sending the same access token
//! on every request pays for decoding and checking its signature once, not per request.
//!
//! Decoding an HS256 token is two base64 and two JSON parses plus an HMAC, about 3 µs, the
//! largest single cost of an authenticated list after the body itself (and an ES256 signature
//! costs far more). What makes a hit safe:
//! - the key is the whole token, compared byte for byte: only the exact text that verified
//!   before can hit, so a changed byte always goes through the full check;
//! - the keys of an [`AccessTokens`](super::AccessTokens) never change, so what verified once
//!   stays signed by a known key for the cache's life (rotation builds a new one);
//! - the times are checked again on every hit against the caller's clock, so a cached token
//!   still expires exactly at `exp`;
//! - only successes are kept, at most [`CAPACITY`] of them (a full cache is emptied, so memory
//!   stays bounded whatever tokens arrive); revocation is the session check's job, after this.

use std::collections::HashMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};

use super::AccessClaims;

/// Tokens kept at most: a few MB (a token is about 300 bytes) for as many active clients.
pub(super) const CAPACITY: usize = 8192;

/// Verified tokens and their claims.
#[derive(Default)]
pub(super) struct VerifiedTokens {
    entries: RwLock<HashMap<Box<str>, AccessClaims>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it verified before.
    pub(super) fn get(&self, token: &str) -> Option<AccessClaims> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(token).cloned()
    }

    /// Remembers that `token` verified with `claims`.
    pub(super) fn insert(&self, token: &str, claims: &AccessClaims) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            // Emptying beats tracking recency here: it is O(1) amortised per insert, and
            // the active clients' tokens are back after one request each.
            entries.clear();
        }
        entries.insert(token.into(), claims.clone());
    }

    /// How many tokens are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl fmt::Debug for VerifiedTokens {
    /// The count only: the keys are bearer tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("VerifiedTokens")
            .field("len", &entries.len())
            .finish()
    }
}
