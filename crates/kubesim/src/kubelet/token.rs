//! The kubelet's service-account token manager.
//!
//! Ported from `pkg/kubelet/token/token_manager.go`: the kubelet asks the
//! API server for each projected token through TokenRequest (as its node,
//! which the Node authorizer allows only for service accounts of pods bound
//! to it, and NodeRestriction only for tokens bound to such a pod), keeps
//! the answer in a cache keyed by service account, namespace, audiences,
//! expiry and bound object, and hands out the cached token until it
//! `requiresRefresh`: past 80 % of its lifetime (`expirationTimestamp` minus
//! 20 % of `expirationSeconds`) or older than 24 h, each less a jitter of up
//! to 10 s. A refreshed token is written into the pod's volume, so the
//! container sees the new file. Tokens of pods that are gone are dropped
//! (`DeleteServiceAccountToken`).
//!
//! Left out: the periodic cleanup of expired entries (entries go with
//! their pod here), and the `Get` failures that keep serving a cached token
//! while it is still valid (the kubelet retries instead).

use crate::world::{SimDuration, SimRng, SimTime};
use std::collections::BTreeMap;

/// `maxTTL`: a token older than this is refreshed whatever its expiry.
pub const MAX_TTL: SimDuration = SimDuration::from_secs(24 * 3600);
/// `maxJitter`.
pub const MAX_JITTER_SECS: u64 = 10;

/// `t - d`, not before time zero.
fn minus(t: SimTime, d: SimDuration) -> SimTime {
    SimTime(t.0.saturating_sub(d.as_millis()))
}

/// A token the manager holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedToken {
    pub token: String,
    /// `status.expirationTimestamp`.
    pub expires_at: SimTime,
    /// When `requiresRefresh` turns true.
    pub refresh_at: SimTime,
}

/// The cache key (`keyFunc`): service account, namespace, audiences,
/// expiration seconds and the bound pod's uid.
pub fn key(
    namespace: &str,
    service_account: &str,
    audience: &str,
    seconds: i64,
    pod_uid: &str,
) -> String {
    format!("{service_account}/{namespace}/{audience}/{seconds}/{pod_uid}")
}

/// The token manager's cache.
#[derive(Clone, Debug, Default)]
pub struct TokenManager {
    tokens: BTreeMap<String, CachedToken>,
}

impl TokenManager {
    pub fn new() -> Self {
        TokenManager::default()
    }

    /// The cached token, if it does not need refreshing at `now`.
    pub fn get(&self, key: &str, now: SimTime) -> Option<&CachedToken> {
        self.tokens.get(key).filter(|t| t.refresh_at > now)
    }

    /// The cached token, stale or not.
    pub fn cached(&self, key: &str) -> Option<&CachedToken> {
        self.tokens.get(key)
    }

    /// Stores a TokenRequest's answer: issued at `now` for `seconds`,
    /// expiring at `expires_at`. The refresh time is `requiresRefresh`'s
    /// turning point with one draw of the jitter.
    pub fn set(
        &mut self,
        key: String,
        token: String,
        now: SimTime,
        seconds: i64,
        expires_at: SimTime,
        rng: &mut SimRng,
    ) -> SimTime {
        let seconds = u64::try_from(seconds).unwrap_or(0);
        let jitter = SimDuration::from_secs(rng.between(0, MAX_JITTER_SECS - 1));
        let ttl = SimDuration::from_secs(seconds);
        let issued = minus(expires_at, ttl);
        let by_age = issued + MAX_TTL;
        let by_expiry = minus(expires_at, SimDuration::from_secs(seconds * 20 / 100));
        let refresh_at = minus(by_age.min(by_expiry), jitter).max(now);
        self.tokens.insert(
            key,
            CachedToken {
                token,
                expires_at,
                refresh_at,
            },
        );
        refresh_at
    }

    /// Drops the tokens bound to a pod (`DeleteServiceAccountToken`).
    pub fn delete_pod_tokens(&mut self, pod_uid: &str) {
        let suffix = format!("/{pod_uid}");
        self.tokens.retain(|k, _| !k.ends_with(&suffix));
    }

    /// The earliest refresh time of the tokens held.
    pub fn next_refresh(&self) -> Option<SimTime> {
        self.tokens.values().map(|t| t.refresh_at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refreshed_at_eighty_percent_of_its_lifetime_less_the_jitter() {
        let mut m = TokenManager::new();
        let mut rng = SimRng::new(1);
        let now = SimTime(0) + SimDuration::from_secs(100);
        let expires = now + SimDuration::from_secs(3607);
        let k = key("default", "default", "", 3607, "uid-1");
        let at = m.set(k.clone(), "t".into(), now, 3607, expires, &mut rng);
        // 3607 s * 20 % = 721 s before the expiry, i.e. 2886 s after issue.
        let latest = now + SimDuration::from_secs(2886);
        assert!(at <= latest && at > minus(latest, SimDuration::from_secs(10)));
        assert_eq!(
            m.get(&k, minus(at, SimDuration::from_millis(1)))
                .map(|t| t.token.as_str()),
            Some("t")
        );
        assert_eq!(m.get(&k, at), None, "due for a refresh");
        assert!(m.cached(&k).is_some());
        m.delete_pod_tokens("uid-1");
        assert_eq!(m.cached(&k), None);
    }

    #[test]
    fn a_long_lived_token_is_refreshed_after_a_day() {
        let mut m = TokenManager::new();
        let now = SimTime(0);
        let week = 7 * 24 * 3600;
        let at = m.set(
            "k".into(),
            "t".into(),
            now,
            week,
            now + SimDuration::from_secs(week as u64),
            &mut SimRng::new(2),
        );
        assert!(at <= now + MAX_TTL && at > minus(now + MAX_TTL, SimDuration::from_secs(10)));
    }
}
