//! Signing keys: named [`JwtKey`]s of one algorithm each, checked when built, and the
//! rotating [`KeySet`] that signs with one key and verifies with all.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};

/// A JWT signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret.
    #[default]
    Hs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl JwtAlgorithm {
    pub(super) const fn to_jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

/// Why a key or key set cannot be used. Messages never include key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key id is empty, longer than 64 characters or not `[A-Za-z0-9._-]`.
    #[error("key ids must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'")]
    InvalidKid,
    /// An HMAC secret shorter than 32 bytes.
    #[error("HMAC secrets must be at least 32 bytes")]
    WeakSecret,
    /// The private key PEM is not a key of the algorithm.
    #[error("the private key is not a valid PKCS#8 PEM key for the algorithm")]
    InvalidPrivateKey,
    /// The public key PEM is not a key of the algorithm.
    #[error("the public key is not a valid PEM key for the algorithm")]
    InvalidPublicKey,
    /// The private and public keys are not one pair.
    #[error("the private and public keys do not belong together")]
    KeyPairMismatch,
    /// The signing key of a key set has no private key.
    #[error("the signing key has no private key")]
    NotASigningKey,
    /// Two keys of a key set share a key id.
    #[error("the key id {0:?} is used by two keys")]
    DuplicateKid(String),
}

/// A named key: verifies tokens, and signs them when it holds the private part.
///
/// `Debug` shows the id and algorithm only, never key material.
#[derive(Clone)]
pub struct JwtKey {
    pub(super) kid: String,
    pub(super) algorithm: JwtAlgorithm,
    pub(super) decoding: DecodingKey,
    pub(super) encoding: Option<EncodingKey>,
    /// Built once here: verification is on every request's path.
    pub(super) validation: Validation,
}

impl JwtKey {
    /// The shortest accepted HMAC secret, in bytes (the output size of SHA-256).
    pub const MIN_SECRET_BYTES: usize = 32;

    /// An HS256 key; the secret both signs and verifies.
    ///
    /// # Errors
    /// [`KeyError::InvalidKid`], or [`KeyError::WeakSecret`] under 32 bytes.
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, KeyError> {
        check_kid(kid)?;
        if secret.len() < Self::MIN_SECRET_BYTES {
            return Err(KeyError::WeakSecret);
        }
        let encoding = Some(EncodingKey::from_secret(secret));
        Self::checked(
            kid,
            JwtAlgorithm::Hs256,
            DecodingKey::from_secret(secret),
            encoding,
        )
    }

    /// An ES256 key from PEM: a PKCS#8 private key (`None` for a verify-only key) and the
    /// SubjectPublicKeyInfo public key.
    ///
    /// # Errors
    /// [`KeyError::InvalidKid`], [`KeyError::InvalidPrivateKey`],
    /// [`KeyError::InvalidPublicKey`] or [`KeyError::KeyPairMismatch`].
    pub fn es256_pem(
        kid: &str,
        private_pem: Option<&[u8]>,
        public_pem: &[u8],
    ) -> Result<Self, KeyError> {
        check_kid(kid)?;
        let decoding =
            DecodingKey::from_ec_pem(public_pem).map_err(|_| KeyError::InvalidPublicKey)?;
        let encoding = private_pem
            .map(EncodingKey::from_ec_pem)
            .transpose()
            .map_err(|_| KeyError::InvalidPrivateKey)?;
        Self::checked(kid, JwtAlgorithm::Es256, decoding, encoding)
    }

    /// An Ed25519 (EdDSA) key from PEM, as [`es256_pem`](Self::es256_pem).
    ///
    /// # Errors
    /// As [`es256_pem`](Self::es256_pem).
    pub fn ed25519_pem(
        kid: &str,
        private_pem: Option<&[u8]>,
        public_pem: &[u8],
    ) -> Result<Self, KeyError> {
        check_kid(kid)?;
        let decoding =
            DecodingKey::from_ed_pem(public_pem).map_err(|_| KeyError::InvalidPublicKey)?;
        // jsonwebtoken slices the first 32 bytes when verifying: shorter keys would panic.
        if decoding
            .try_get_as_bytes()
            .map_or(true, |bytes| bytes.len() != 32)
        {
            return Err(KeyError::InvalidPublicKey);
        }
        let encoding = private_pem
            .map(EncodingKey::from_ed_pem)
            .transpose()
            .map_err(|_| KeyError::InvalidPrivateKey)?;
        Self::checked(kid, JwtAlgorithm::EdDsa, decoding, encoding)
    }

    /// The key id, as tokens carry it in their `kid` header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs and accepts.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Whether the key holds a private part and can sign.
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// Signs and verifies a probe now, because jsonwebtoken only parses PEM contents at first
    /// use: a broken or mismatched key must fail at startup, not on the first login.
    fn checked(
        kid: &str,
        algorithm: JwtAlgorithm,
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
    ) -> Result<Self, KeyError> {
        const PROBE: &[u8] = b"taskflow key probe";
        let alg = algorithm.to_jwt();
        let signature = match &encoding {
            Some(key) => jsonwebtoken::crypto::sign(PROBE, key, alg)
                .map_err(|_| KeyError::InvalidPrivateKey)?,
            None => String::new(),
        };
        let verified = jsonwebtoken::crypto::verify(&signature, PROBE, &decoding, alg)
            .map_err(|_| KeyError::InvalidPublicKey)?;
        if encoding.is_some() && !verified {
            return Err(KeyError::KeyPairMismatch);
        }
        let mut validation = Validation::new(alg);
        // jsonwebtoken checks the algorithm and signature only: the claims are checked by
        // `AccessTokens::verify` against the caller's clock, with no leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.required_spec_claims.clear();
        Ok(Self {
            kid: kid.to_owned(),
            algorithm,
            decoding,
            encoding,
            validation,
        })
    }
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("can_sign", &self.can_sign())
            .finish_non_exhaustive()
    }
}

fn check_kid(kid: &str) -> Result<(), KeyError> {
    let allowed = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-');
    if kid.is_empty() || kid.len() > 64 || !kid.bytes().all(allowed) {
        return Err(KeyError::InvalidKid);
    }
    Ok(())
}

/// The keys in use: one signs new tokens, all verify. To rotate, install a new signing key and
/// keep the old one as verify-only until the last token it signed has expired.
#[derive(Debug, Clone)]
pub struct KeySet {
    /// The signing key first, then the verify-only keys.
    keys: Vec<JwtKey>,
}

impl KeySet {
    /// A key set signing with `signing` and also accepting tokens of `verify_only`.
    ///
    /// # Errors
    /// [`KeyError::NotASigningKey`] when `signing` has no private key,
    /// [`KeyError::DuplicateKid`] when two keys share an id.
    pub fn new(signing: JwtKey, verify_only: Vec<JwtKey>) -> Result<Self, KeyError> {
        if !signing.can_sign() {
            return Err(KeyError::NotASigningKey);
        }
        let mut keys = Vec::with_capacity(verify_only.len() + 1);
        keys.push(signing);
        for key in verify_only {
            if keys.iter().any(|known| known.kid == key.kid) {
                return Err(KeyError::DuplicateKid(key.kid));
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// The key new tokens are signed with.
    pub fn signing_key(&self) -> &JwtKey {
        &self.keys[0]
    }

    /// The key named `kid`. A linear scan: sets hold two or three keys.
    pub fn find(&self, kid: &str) -> Option<&JwtKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }
}
