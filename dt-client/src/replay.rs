//! [`ReplayGuard`]: a bounded memory of the pushes a receiver has processed.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::verify::Claims;

type ClockFn = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// What a replay was recognised by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplayKey {
    /// The token's `jti`: the same signed request again.
    JwtId(String),
    /// The event id: the same event again, under a new signature (DT's retry).
    EventId(String),
}

impl fmt::Display for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayKey::JwtId(id) => write!(f, "jti `{id}`"),
            ReplayKey::EventId(id) => write!(f, "event `{id}`"),
        }
    }
}

/// Why a push was not admitted: it is a replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Replayed {
    /// Processed before (committed): answer 200 without processing it again.
    #[error("a replay of a push already processed ({0})")]
    Seen(ReplayKey),
    /// Admitted but not committed yet: another request is processing the same push.
    /// Answer a non-200 status (409) so that DT tries again; if the other request
    /// fails, the retry is processed.
    #[error("a replay of a push being processed ({0})")]
    InFlight(ReplayKey),
}

impl Replayed {
    /// What the replay was recognised by.
    pub fn key(&self) -> &ReplayKey {
        match self {
            Replayed::Seen(key) | Replayed::InFlight(key) => key,
        }
    }
}

#[derive(Debug)]
struct Entry {
    expires_at: Timestamp,
    committed: bool,
    // Tells this entry from an older one under the same key (in `order`).
    serial: u64,
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<ReplayKey, Entry>,
    // Insertion order, oldest first; an item whose serial differs from its entry's is
    // stale (forgotten or expired and admitted again) and is skipped.
    order: VecDeque<(ReplayKey, u64)>,
    next_serial: u64,
}

impl Cache {
    fn live(&self, key: &ReplayKey, now: Timestamp) -> Option<&Entry> {
        self.entries.get(key).filter(|entry| entry.expires_at > now)
    }

    /// Forgets expired entries at the front, and the oldest while `room` more would not
    /// fit in `capacity`.
    fn make_room(&mut self, now: Timestamp, capacity: usize, room: usize) {
        while let Some((key, serial)) = self.order.front() {
            let current = self.entries.get(key).filter(|entry| entry.serial == *serial);
            let full = self.entries.len() + room > capacity;
            match current {
                Some(entry) if entry.expires_at > now && !full => break,
                Some(_) => {
                    self.entries.remove(key);
                }
                None => {}
            }
            self.order.pop_front();
        }
        // Stale items behind a live front: compact so that `order` stays bounded too.
        if self.order.len() > capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order
                .retain(|(key, serial)| entries.get(key).is_some_and(|entry| entry.serial == *serial));
        }
    }
}

/// A guard against replayed data-connector pushes: a bounded memory of the `jti`s and
/// event ids a receiver has already processed.
///
/// A verified signature proves that DT sent a push, not that it is the first time it
/// arrives: anyone who saw one request can send it again until its token expires, and
/// DT itself sends an event again when a push was not answered 200 in time. DT signs
/// each attempt anew (a new `jti`, `iat` and `exp`; the sandbox does the same), so a
/// retry is recognised by its event id, and a copied request by its `jti` as well.
///
/// Each entry lives until its token's `exp` plus the leeway (after that, verification
/// refuses the token anyway), and the guard holds at most
/// [`capacity`](ReplayGuard::new) entries (default [`ReplayGuard::DEFAULT_CAPACITY`]):
/// when full, the oldest entry is forgotten first. A receiver that must never write an
/// event twice beyond that window deduplicates by event id where it stores them.
///
/// ```
/// use dt_client::{Claims, ReplayGuard, Replayed};
/// # fn store(_: &[u8]) -> std::io::Result<()> { Ok(()) }
/// # fn answer(claims: &Claims, event_id: &str, body: &[u8], guard: &ReplayGuard) -> u16 {
/// match guard.admit(claims, Some(event_id)) {
///     // First time: process, then commit (a push that fails is forgotten, so that
///     // DT's retry is processed).
///     Ok(admitted) => match store(body) {
///         Ok(()) => {
///             admitted.commit();
///             200
///         }
///         Err(_) => 500,
///     },
///     // Processed before: answer 200, so that DT stops retrying, and write nothing.
///     Err(Replayed::Seen(_)) => 200,
///     // Being processed right now: not yet done, let DT try again later.
///     Err(_) => 409,
/// }
/// # }
/// ```
///
/// Cheap to clone (clones share the memory), `Send + Sync`.
#[derive(Clone)]
pub struct ReplayGuard {
    cache: Arc<Mutex<Cache>>,
    capacity: usize,
    leeway: Duration,
    clock: ClockFn,
}

impl fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("capacity", &self.capacity)
            .field("leeway", &self.leeway)
            .field("entries", &lock(&self.cache).entries.len())
            .finish()
    }
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(ReplayGuard::DEFAULT_CAPACITY)
    }
}

fn lock(cache: &Mutex<Cache>) -> MutexGuard<'_, Cache> {
    // The cache is consistent after every statement: a panic elsewhere leaves it usable.
    cache.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReplayGuard {
    /// The default bound: 20,000 entries (a push takes up to two, its `jti` and its event
    /// id), a few MiB at most.
    pub const DEFAULT_CAPACITY: usize = 20_000;

    /// A guard of at most `capacity` entries (at least 2: one push's `jti` and event id),
    /// with the system clock and the verifier's default leeway (30 s).
    pub fn new(capacity: usize) -> ReplayGuard {
        ReplayGuard {
            cache: Arc::default(),
            capacity: capacity.max(2),
            leeway: Duration::from_secs(30),
            clock: Arc::new(Timestamp::now),
        }
    }

    /// How long after `exp` an entry is kept: the [`Verifier`](crate::Verifier)'s
    /// leeway, since it accepts a token that long after `exp` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The clock entries expire by (default the system clock).
    pub fn clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The entries held now (expired ones included until they are forgotten).
    pub fn len(&self) -> usize {
        lock(&self.cache).entries.len()
    }

    /// Whether the guard holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Admits a verified push (its `claims`, and its event id when the body has one)
    /// unless its `jti` or event id was admitted before, within its token's lifetime.
    /// [`Admitted::commit`] it once processed; dropped without a commit (the processing
    /// failed), the push is forgotten, so that DT's retry is admitted.
    pub fn admit(&self, claims: &Claims, event_id: Option<&str>) -> Result<Admitted, Replayed> {
        let keys: Vec<ReplayKey> = claims
            .jwt_id
            .as_deref()
            .map(|id| ReplayKey::JwtId(id.to_owned()))
            .into_iter()
            .chain(event_id.map(|id| ReplayKey::EventId(id.to_owned())))
            .collect();
        let now = (self.clock)();
        let leeway = SignedDuration::try_from(self.leeway).unwrap_or(SignedDuration::MAX);
        let expires_at = claims.expires_at.checked_add(leeway).unwrap_or(Timestamp::MAX);
        let mut cache = lock(&self.cache);
        for key in &keys {
            if let Some(entry) = cache.live(key, now) {
                return Err(if entry.committed {
                    Replayed::Seen(key.clone())
                } else {
                    Replayed::InFlight(key.clone())
                });
            }
        }
        cache.make_room(now, self.capacity, keys.len());
        let mut held = Vec::with_capacity(keys.len());
        for key in keys {
            let serial = cache.next_serial;
            cache.next_serial += 1;
            cache.entries.insert(
                key.clone(),
                Entry {
                    expires_at,
                    committed: false,
                    serial,
                },
            );
            cache.order.push_back((key.clone(), serial));
            held.push((key, serial));
        }
        Ok(Admitted {
            cache: self.cache.clone(),
            held,
        })
    }
}

/// A push admitted by [`ReplayGuard::admit`], not yet processed. [`commit`](Self::commit)
/// it once processed; dropped without a commit, it is forgotten.
#[must_use = "an admitted push is forgotten unless committed"]
pub struct Admitted {
    cache: Arc<Mutex<Cache>>,
    held: Vec<(ReplayKey, u64)>,
}

impl fmt::Debug for Admitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admitted").field("keys", &self.held).finish()
    }
}

impl Admitted {
    /// The push was processed: its replays are [`Replayed::Seen`] from now on.
    pub fn commit(mut self) {
        let mut cache = lock(&self.cache);
        for (key, serial) in self.held.drain(..) {
            if let Some(entry) = cache.entries.get_mut(&key).filter(|e| e.serial == serial) {
                entry.committed = true;
            }
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let mut cache = lock(&self.cache);
        for (key, serial) in self.held.drain(..) {
            if cache.entries.get(&key).is_some_and(|e| e.serial == serial) {
                cache.entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    const T0: i64 = 1_700_000_000;

    fn claims(jti: Option<&str>, iat: i64) -> Claims {
        Claims {
            issued_at: Timestamp::from_second(iat).unwrap(),
            expires_at: Timestamp::from_second(iat + 3600).unwrap(),
            jwt_id: jti.map(str::to_owned),
        }
    }

    /// A guard on a clock the test moves, with no leeway.
    fn guard(capacity: usize) -> (ReplayGuard, Arc<AtomicI64>) {
        let now = Arc::new(AtomicI64::new(T0));
        let clock = now.clone();
        let guard = ReplayGuard::new(capacity)
            .leeway(Duration::ZERO)
            .clock(move || Timestamp::from_second(clock.load(Ordering::SeqCst)).unwrap());
        (guard, now)
    }

    #[test]
    fn the_same_jti_again_is_a_replay() {
        let (guard, _) = guard(100);
        guard.admit(&claims(Some("j1"), T0), Some("e1")).unwrap().commit();
        assert_eq!(
            guard.admit(&claims(Some("j1"), T0), Some("e1")).unwrap_err(),
            Replayed::Seen(ReplayKey::JwtId("j1".into()))
        );
        // A copy of the token with another body (it would fail its checksum, but the
        // guard alone still knows the token).
        assert!(guard.admit(&claims(Some("j1"), T0), Some("e2")).is_err());
        guard.admit(&claims(Some("j2"), T0), Some("e2")).unwrap().commit();
    }

    #[test]
    fn the_same_event_under_a_new_signature_is_a_replay() {
        // DT re-signs a retry: new jti, iat and exp; the event id is what repeats.
        let (guard, now) = guard(100);
        guard.admit(&claims(Some("j1"), T0), Some("e1")).unwrap().commit();
        now.store(T0 + 60, Ordering::SeqCst);
        let err = guard.admit(&claims(Some("j2"), T0 + 60), Some("e1")).unwrap_err();
        assert_eq!(err, Replayed::Seen(ReplayKey::EventId("e1".into())));
        assert_eq!(err.key(), &ReplayKey::EventId("e1".into()));
        // Without a jti, the event id alone.
        assert!(guard.admit(&claims(None, T0 + 60), Some("e1")).is_err());
        guard.admit(&claims(None, T0 + 60), Some("e3")).unwrap().commit();
    }

    #[test]
    fn a_push_not_committed_is_in_flight_then_forgotten() {
        let (guard, _) = guard(100);
        let first = guard.admit(&claims(Some("j1"), T0), Some("e1")).unwrap();
        assert_eq!(
            guard.admit(&claims(Some("j2"), T0), Some("e1")).unwrap_err(),
            Replayed::InFlight(ReplayKey::EventId("e1".into()))
        );
        // Processing failed: DT's retry is admitted.
        drop(first);
        assert!(guard.is_empty());
        guard.admit(&claims(Some("j2"), T0), Some("e1")).unwrap().commit();
        assert_eq!(guard.len(), 2);
    }

    #[test]
    fn entries_expire_with_their_token() {
        let (guard, now) = guard(100);
        guard.admit(&claims(Some("j1"), T0), Some("e1")).unwrap().commit();
        now.store(T0 + 3599, Ordering::SeqCst);
        assert!(guard.admit(&claims(Some("j1"), T0), Some("e1")).is_err());
        // At exp the token is refused by verification; the guard no longer needs it.
        now.store(T0 + 3600, Ordering::SeqCst);
        guard
            .admit(&claims(Some("j9"), T0 + 3600), Some("e9"))
            .unwrap()
            .commit();
        assert_eq!(guard.len(), 2, "the expired entries were forgotten");
        guard
            .admit(&claims(Some("j2"), T0 + 3600), Some("e1"))
            .unwrap()
            .commit();
    }

    #[test]
    fn entries_are_kept_for_the_leeway_after_exp() {
        let (guard, now) = guard(100);
        let guard = guard.leeway(Duration::from_secs(30));
        guard.admit(&claims(Some("j1"), T0), Some("e1")).unwrap().commit();
        now.store(T0 + 3600 + 29, Ordering::SeqCst);
        assert!(guard.admit(&claims(Some("j1"), T0), None).is_err());
        now.store(T0 + 3600 + 30, Ordering::SeqCst);
        assert!(guard.admit(&claims(Some("j1"), T0), None).is_ok());
    }

    #[test]
    fn the_guard_never_holds_more_than_its_capacity_and_forgets_the_oldest() {
        let (guard, _) = guard(10);
        for n in 0..1000 {
            guard
                .admit(&claims(Some(&format!("j{n}")), T0), Some(&format!("e{n}")))
                .unwrap()
                .commit();
            assert!(guard.len() <= 10);
            assert!(lock(&guard.cache).order.len() <= 20);
        }
        // The newest 5 pushes are remembered, the oldest forgotten.
        assert!(guard.admit(&claims(Some("j999"), T0), None).is_err());
        assert!(guard.admit(&claims(Some("j995"), T0), None).is_err());
        assert!(guard.admit(&claims(None, T0), Some("e994")).is_ok());
        assert!(ReplayGuard::new(0).capacity >= 2);
    }

    #[test]
    fn forgotten_pushes_leave_the_order_bounded() {
        // Admitted and dropped again and again: the order queue is compacted.
        let (guard, _) = guard(4);
        let _kept = guard.admit(&claims(Some("kept"), T0), None).unwrap();
        for n in 0..1000 {
            drop(guard.admit(&claims(Some(&format!("j{n}")), T0), None).unwrap());
        }
        // Twice the capacity, plus the keys of the last push.
        assert!(lock(&guard.cache).order.len() <= 2 * 4 + 2);
    }
}
