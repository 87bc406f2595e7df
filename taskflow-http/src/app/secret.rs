//! The strength rules of a deployment secret (and of any other secret that guards something,
//! such as the metrics token): whatever accepts a secret, the configuration or
//! [`AppBuilder::secret`](super::AppBuilder::secret), refuses one that can be guessed from
//! its shape.

/// Secrets that are public by being in examples and tutorials.
const PLACEHOLDERS: [&str; 4] = ["changeme", "change-me", "secret", "your-secret"];

/// Fewer distinct bytes than this in a secret of 32 or more is not random: 32 random hex
/// digits show fewer than 8 distinct ones about once in 30 million draws.
const MIN_DISTINCT_BYTES: usize = 8;

/// The shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Why a secret is refused. The message never echoes the secret; it reads after the secret's
/// name ("TASKFLOW_JWT_SECRET must be at least 32 bytes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WeakSecret {
    /// Shorter than [`MIN_SECRET_BYTES`].
    #[error("must be at least 32 bytes")]
    TooShort,
    /// Contains a placeholder (`changeme`, `secret`, ...).
    #[error("looks like a placeholder; generate a random one")]
    Placeholder,
    /// One short pattern repeated (one character over and over included).
    #[error("is a short pattern repeated; generate a random one")]
    Repeated,
    /// Too few distinct bytes to be random.
    #[error("has too few distinct characters to be random; generate a random one")]
    TooFewDistinct,
}

/// Checks that `secret` cannot be guessed from its shape: at least 32 bytes, no placeholder,
/// no short pattern repeated, enough distinct bytes.
///
/// # Errors
/// [`WeakSecret`] naming the first rule it breaks.
pub fn check_secret(secret: &[u8]) -> Result<(), WeakSecret> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(WeakSecret::TooShort);
    }
    let lower = String::from_utf8_lossy(secret).to_lowercase();
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return Err(WeakSecret::Placeholder);
    }
    // A period of at most half the length: the secret is one short pattern, repeated.
    if (1..=secret.len() / 2).any(|period| secret[period..] == secret[..secret.len() - period]) {
        return Err(WeakSecret::Repeated);
    }
    let mut seen = [false; 256];
    for &b in secret {
        seen[usize::from(b)] = true;
    }
    if seen.iter().filter(|&&s| s).count() < MIN_DISTINCT_BYTES {
        return Err(WeakSecret::TooFewDistinct);
    }
    Ok(())
}
