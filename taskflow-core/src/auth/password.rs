//! Passwords: the validated secret [`Password`], and [`PasswordHasher`], which hashes and
//! verifies with argon2id on a bounded number of threads of its own, so that hashing never
//! stalls the async runtime and a flood of logins cannot take every core.
//!
//! Those threads run at the lowest scheduling priority (nice 19 on Linux): on a busy machine a
//! hash waits for the CPU the requests do not need, instead of taking turns with them. Logins
//! get slower when the CPU is contended, and every other request keeps its latency, database
//! included when it shares the machine. With 20 clients logging in on one core shared with
//! SecantusDB, the concurrent task lists took 9.0-9.8 ms at the median and 17 ms at the 99th
//! percentile with the hashes at normal priority, 4.5-4.8 ms and 7.5-8.4 ms (unloaded: 3.9 ms)
//! at the lowest (logins: 31-34 a second before, 37-39 after).
//!
//! Each hash needs its working memory (19 MiB at the default cost). It is kept in a pool of at
//! most one buffer per permit and reused, rather than allocated and freed per hash: glibc would
//! keep every freed block in one of its per-thread arenas, and a server went from 7 MB to over
//! 400 MB after a few dozen logins that way. The buffers are wiped after each use.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, PasswordHash as Phc, Version};
use secrecy::{ExposeSecret, SecretString};
use thread_priority::ThreadPriority;
use tokio::sync::{OnceCell, Semaphore};

use crate::domain::ids::random_bytes;
use crate::domain::user::PasswordHash;

/// A password as the user typed it: 8..=128 characters (Unicode scalar values), untrimmed.
///
/// Secret: its `Debug` is redacted, and it has neither `Display` nor `Serialize`, so it cannot
/// reach a log line or a response by accident.
#[derive(Clone)]
pub struct Password(SecretString);

/// Why a text is not an acceptable password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Fewer than [`Password::MIN_CHARS`] characters.
    #[error("must be at least 8 characters")]
    TooShort,
    /// More than [`Password::MAX_CHARS`] characters.
    #[error("must be at most 128 characters")]
    TooLong,
}

impl Password {
    /// The shortest password, in characters.
    pub const MIN_CHARS: usize = 8;
    /// The longest password, in characters: long enough for any passphrase, short enough that
    /// nobody can make the server hash megabytes.
    pub const MAX_CHARS: usize = 128;

    /// Checks the length of a password, in characters. No trimming: spaces are part of
    /// passphrases, and silently changing a secret would lock its owner out.
    ///
    /// # Errors
    /// [`PasswordError`] naming the broken rule.
    pub fn parse(text: String) -> Result<Self, PasswordError> {
        let chars = text.chars().count();
        // Wrapped before the checks so a rejected password is wiped from memory too.
        let secret = SecretString::from(text);
        if chars < Self::MIN_CHARS {
            Err(PasswordError::TooShort)
        } else if chars > Self::MAX_CHARS {
            Err(PasswordError::TooLong)
        } else {
            Ok(Self(secret))
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Argon2Params {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Params {
    /// OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane), and the floor of what
    /// [`validate`](Self::validate) accepts.
    pub const OWASP_MINIMUM: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// Checks that these parameters are at least [`OWASP_MINIMUM`](Self::OWASP_MINIMUM) on
    /// every axis (costs can only be raised) and that argon2 accepts them.
    ///
    /// # Errors
    /// [`PasswordConfigError`] naming the parameter that is too weak or unsupported.
    pub fn validate(&self) -> Result<(), PasswordConfigError> {
        self.to_argon2().map(drop)
    }

    fn to_argon2(self) -> Result<argon2::Params, PasswordConfigError> {
        let min = Self::OWASP_MINIMUM;
        if self.memory_kib < min.memory_kib {
            return Err(PasswordConfigError::MemoryTooLow);
        }
        if self.iterations < min.iterations {
            return Err(PasswordConfigError::TooFewIterations);
        }
        if self.parallelism < min.parallelism {
            return Err(PasswordConfigError::NoParallelism);
        }
        argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|_| PasswordConfigError::Unsupported)
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

/// Why a password hasher cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordConfigError {
    /// `memory_kib` below the OWASP minimum.
    #[error("argon2 memory must be at least 19456 KiB")]
    MemoryTooLow,
    /// `iterations` below the OWASP minimum.
    #[error("argon2 iterations must be at least 2")]
    TooFewIterations,
    /// `parallelism` of zero.
    #[error("argon2 parallelism must be at least 1")]
    NoParallelism,
    /// Values argon2 itself refuses (such as more lanes than it supports).
    #[error("argon2 does not support these parameters")]
    Unsupported,
    /// `max_concurrent` of zero: no hash could ever run.
    #[error("at least one concurrent hash must be allowed")]
    NoConcurrency,
}

/// Why hashing or verifying failed (as opposed to a wrong password, which is
/// [`Verification::Invalid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordHashError {
    /// The stored hash is not a PHC string of a supported argon2 variant.
    #[error("the stored password hash is malformed or unsupported")]
    Malformed,
    /// Argon2 failed (out of memory, no randomness for the salt).
    #[error("password hashing failed")]
    Hashing,
    /// The hashing thread could not be started, or it panicked.
    #[error("the password hashing worker failed")]
    Worker,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Verification {
    /// Wrong password, or no account (the caller cannot and must not tell which).
    Invalid,
    /// The password matches.
    Valid {
        /// The stored hash uses other parameters than the current ones: hash the password
        /// again and store the new hash, now that it is known.
        needs_rehash: bool,
    },
}

/// Hashes and verifies passwords with argon2id. Cheap to clone: clones share the same permits.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Argon2Params,
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    max_concurrent: usize,
    /// Working memory for the hashes, one buffer per permit at most (see the module docs).
    memory: std::sync::Mutex<Vec<Vec<Block>>>,
    /// The hash checked when the account does not exist, computed on first need.
    dummy: OnceCell<Phc>,
    #[cfg(test)]
    gauge: tests::Gauge,
}

impl PasswordHasher {
    /// A hasher with `params` that runs at most `max_concurrent` hashes at a time; more wait.
    ///
    /// # Errors
    /// [`PasswordConfigError`] when the parameters are weaker than the OWASP minimum or
    /// `max_concurrent` is zero.
    pub fn new(params: Argon2Params, max_concurrent: usize) -> Result<Self, PasswordConfigError> {
        let argon2_params = params.to_argon2()?;
        if max_concurrent == 0 {
            return Err(PasswordConfigError::NoConcurrency);
        }
        let max_concurrent = max_concurrent.min(Semaphore::MAX_PERMITS);
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params),
                permits: Arc::new(Semaphore::new(max_concurrent)),
                max_concurrent,
                memory: std::sync::Mutex::new(Vec::new()),
                dummy: OnceCell::new(),
                #[cfg(test)]
                gauge: tests::Gauge::default(),
            }),
        })
    }

    /// One less than the number of cores, and at least one: hashing is pure CPU, and a login
    /// flood must leave a core free to serve every other request.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism()
            .map_or(1, NonZeroUsize::get)
            .saturating_sub(1)
            .max(1)
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> Argon2Params {
        self.inner.params
    }

    /// Hashes `password` with argon2id, a fresh random salt and the current parameters.
    ///
    /// # Errors
    /// [`PasswordHashError::Hashing`] or [`PasswordHashError::Worker`]; both are internal.
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordHashError> {
        let secret = password.0.clone();
        let salt = random_bytes::<16>();
        let phc = self
            .run(move |argon2, memory| {
                hash_with(argon2, secret.expose_secret().as_bytes(), &salt, memory)
            })
            .await?
            .ok_or(PasswordHashError::Hashing)?;
        Ok(PasswordHash::from_phc(phc.to_string()))
    }

    /// Checks `password` against `stored`, the account's hash, or `None` when no account has
    /// the email: then a dummy hash is checked, so both cases cost the same time, and the
    /// answer is always [`Verification::Invalid`].
    ///
    /// # Errors
    /// [`PasswordHashError::Malformed`] when `stored` is not a valid argon2 PHC string;
    /// [`PasswordHashError::Hashing`] or [`PasswordHashError::Worker`] on internal failures.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<Verification, PasswordHashError> {
        let secret = password.0.clone();
        let Some(stored) = stored else {
            let dummy = self.dummy().await?.clone();
            // Only the time spent matters here; the outcome is ignored on purpose.
            self.run(move |_, memory| {
                let _ = verify_with(secret.expose_secret().as_bytes(), &dummy, memory);
            })
            .await?;
            return Ok(Verification::Invalid);
        };
        // Parsed before taking a permit: a broken record must not occupy a hashing thread.
        let phc = Phc::new(stored.expose_phc()).map_err(|_| PasswordHashError::Malformed)?;
        let needs_rehash = self.needs_rehash(&phc)?;
        let outcome = self
            .run(move |_, memory| verify_with(secret.expose_secret().as_bytes(), &phc, memory))
            .await?;
        match outcome {
            Some(true) => Ok(Verification::Valid { needs_rehash }),
            Some(false) => Ok(Verification::Invalid),
            // argon2 refused the stored parameters or encoding.
            None => Err(PasswordHashError::Malformed),
        }
    }

    /// Whether `phc`, a parsed stored hash, differs from what [`hash`](Self::hash) makes now.
    fn needs_rehash(&self, phc: &Phc) -> Result<bool, PasswordHashError> {
        // Without both, argon2 would report a mismatch and a broken record would pass unnoticed.
        if phc.salt.is_none() || phc.hash.is_none() {
            return Err(PasswordHashError::Malformed);
        }
        Algorithm::try_from(phc.algorithm.as_str()).map_err(|_| PasswordHashError::Malformed)?;
        let stored = argon2::Params::try_from(phc).map_err(|_| PasswordHashError::Malformed)?;
        let current = self.inner.params;
        Ok(phc.algorithm != ARGON2ID_IDENT
            || phc.version != Some(u32::from(Version::V0x13))
            || stored.m_cost() != current.memory_kib
            || stored.t_cost() != current.iterations
            || stored.p_cost() != current.parallelism
            || stored.output_len() != Some(argon2::Params::DEFAULT_OUTPUT_LEN)
            || !stored.keyid().is_empty()
            || !stored.data().is_empty())
    }

    async fn dummy(&self) -> Result<&Phc, PasswordHashError> {
        self.inner
            .dummy
            .get_or_try_init(|| async {
                let (secret, salt) = (random_bytes::<16>(), random_bytes::<16>());
                self.run(move |argon2, memory| hash_with(argon2, &secret, &salt, memory))
                    .await?
                    .ok_or(PasswordHashError::Hashing)
            })
            .await
    }

    /// Runs `work` on a thread of its own at the lowest priority once one of the permits is
    /// free, with a working memory buffer from the pool.
    async fn run<T, F>(&self, work: F) -> Result<T, PasswordHashError>
    where
        F: FnOnce(&Argon2<'static>, &mut Vec<Block>) -> T + Send + 'static,
        T: Send + 'static,
    {
        // Waiting happens here, in async code: a cancelled request just stops waiting, holding
        // nothing, and waiting requests never occupy a thread.
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| PasswordHashError::Worker)?;
        let inner = Arc::clone(&self.inner);
        let (done, outcome) = tokio::sync::oneshot::channel();
        // A thread per hash rather than the runtime's blocking pool: its priority is lowered for
        // good (an unprivileged thread cannot raise it back), which must not leak into other
        // blocking work. Starting a thread costs tens of microseconds; a hash, tens of
        // milliseconds.
        std::thread::Builder::new()
            .name("taskflow-argon2".into())
            .spawn(move || {
                // Best effort: where the platform refuses, hashing runs at normal priority.
                let _ = thread_priority::set_current_thread_priority(ThreadPriority::Min);
                let result = {
                    // The permit counts busy threads, not waiting callers: it is released when
                    // the work ends (or panics), even if the caller was cancelled meanwhile, and
                    // before the caller hears of the result.
                    let _permit = permit;
                    #[cfg(test)]
                    let _busy = inner.gauge.enter();
                    // A poisoned pool only loses its buffers: a new one is allocated.
                    let mut memory = inner
                        .memory
                        .lock()
                        .ok()
                        .and_then(|mut pool| pool.pop())
                        .unwrap_or_default();
                    let result = work(&inner.argon2, &mut memory);
                    // What is left in the buffer derives from the password.
                    memory.fill(Block::default());
                    if let Ok(mut pool) = inner.memory.lock() {
                        pool.push(memory);
                    }
                    result
                };
                // The caller may have gone (a cancelled request): the result is not needed.
                let _ = done.send(result);
            })
            .map_err(|_| PasswordHashError::Worker)?;
        // Dropped without a result: the work panicked.
        outcome.await.map_err(|_| PasswordHashError::Worker)
    }
}

/// The first `params.block_count()` blocks of `memory`, grown to that size if needed.
fn blocks<'m>(memory: &'m mut Vec<Block>, params: &argon2::Params) -> &'m mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    &mut memory[..needed]
}

/// The PHC string of `password` hashed by `argon2` with `salt`, in `memory`; what
/// `argon2::PasswordHasher::hash_password` makes, without allocating the working memory.
fn hash_with(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    memory: &mut Vec<Block>,
) -> Option<Phc> {
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password, salt, &mut out, blocks(memory, argon2.params()))
        .ok()?;
    Some(Phc {
        algorithm: ARGON2ID_IDENT,
        version: Some(u32::from(Version::V0x13)),
        params: ParamsString::try_from(argon2.params()).ok()?,
        salt: Some(Salt::new(salt).ok()?),
        hash: Some(Output::new(&out).ok()?),
    })
}

/// Whether `password` matches `phc` (its algorithm, version and parameters), hashed in
/// `memory`; `None` when argon2 refuses the stored hash. The comparison is constant-time
/// (`Output`'s equality).
fn verify_with(password: &[u8], phc: &Phc, memory: &mut Vec<Block>) -> Option<bool> {
    let (salt, expected) = (phc.salt.as_ref()?, phc.hash.as_ref()?);
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).ok()?;
    let version = match phc.version {
        Some(number) => Version::try_from(number).ok()?,
        None => Version::default(),
    };
    let params = argon2::Params::try_from(phc).ok()?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let out = buffer.get_mut(..expected.as_ref().len())?;
    argon2
        .hash_password_into_with_memory(
            password,
            salt.as_ref(),
            out,
            blocks(memory, argon2.params()),
        )
        .ok()?;
    Some(Output::new(out).ok()? == *expected)
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .field("max_concurrent", &self.inner.max_concurrent)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
