//! A fixed-window limit of requests per key and window: per client network (IPv4 /24, IPv6
//! /48) and hour for public forms that make Bulletin send e-mail (`POST /privacy`), per
//! account and per client address for admin logins. Per process, in memory, and bounded
//! whatever the input: a key is kept as a 64-bit keyed hash, never as the text a client sent,
//! and at most `MAX_KEYS` windows are kept.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::Mutex,
};

use chrono::{DateTime, Duration, Utc};

/// Windows kept at most (about 40 bytes each); beyond, the oldest goes.
const MAX_KEYS: usize = 10_000;

/// Counts requests per key in fixed windows.
#[derive(Debug)]
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    /// Keys the hashes of the map with a secret of this process, so that nobody can make
    /// many keys collide on purpose.
    hasher: RandomState,
    windows: Mutex<HashMap<u64, (DateTime<Utc>, u32)>>,
}

impl RateLimiter {
    /// A limiter that allows `per_hour` requests per key and hour (0: no limit).
    pub fn new(per_hour: u32) -> Self {
        Self::per_window(per_hour, Duration::hours(1))
    }

    /// A limiter that allows `limit` requests per key in each `window` (0: no limit).
    pub fn per_window(limit: u32, window: Duration) -> Self {
        Self {
            per_window: limit,
            window,
            hasher: RandomState::new(),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `key` at `now`; `false` when the key has used up its window.
    pub fn allow(&self, key: &str, now: DateTime<Utc>) -> bool {
        if self.per_window == 0 {
            return true;
        }
        let key = self.hasher.hash_one(key);
        let window_len = self.window;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_KEYS && !windows.contains_key(&key) {
            windows.retain(|_, (start, _)| now - *start < window_len);
            if windows.len() >= MAX_KEYS {
                evict_oldest(&mut windows);
            }
        }
        let window = windows.entry(key).or_insert((now, 0));
        if now - window.0 >= window_len {
            *window = (now, 0);
        }
        if window.1 >= self.per_window {
            return false;
        }
        window.1 += 1;
        true
    }

    /// Whole seconds until `key`'s window ends at `now` (at least 1): what a 429 answer's
    /// `Retry-After` says.
    pub fn retry_after_secs(&self, key: &str, now: DateTime<Utc>) -> u64 {
        let key = self.hasher.hash_one(key);
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = match windows.get(&key) {
            Some((start, _)) => *start + self.window - now,
            None => self.window,
        };
        u64::try_from(left.num_seconds()).unwrap_or(0).max(1)
    }

    /// How many windows are kept now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// Drops the window that started first (every window is live when this runs).
fn evict_oldest(windows: &mut HashMap<u64, (DateTime<Utc>, u32)>) {
    if let Some(oldest) = windows
        .iter()
        .min_by_key(|(_, (start, _))| *start)
        .map(|(key, _)| *key)
    {
        windows.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_gets_its_hourly_share_and_then_waits_for_the_next_hour() {
        let limiter = RateLimiter::new(2);
        let now = Utc::now();
        assert!(limiter.allow("203.0.113.0", now));
        assert!(limiter.allow("203.0.113.0", now));
        assert!(!limiter.allow("203.0.113.0", now + Duration::minutes(59)));
        assert!(
            limiter.allow("198.51.100.0", now),
            "other networks are not affected"
        );
        assert!(limiter.allow("203.0.113.0", now + Duration::minutes(61)));
    }

    #[test]
    fn memory_stays_bounded_however_many_and_long_the_keys() {
        let limiter = RateLimiter::new(5);
        let now = Utc::now();
        let long = "x".repeat(4 * 1024);
        for n in 0..(MAX_KEYS + 100) {
            limiter.allow(&format!("{long}{n}"), now);
        }
        assert_eq!(limiter.tracked(), MAX_KEYS);
    }

    #[test]
    fn a_full_table_first_drops_the_lapsed_windows() {
        let limiter = RateLimiter::new(1);
        let start = Utc::now();
        for n in 0..MAX_KEYS {
            limiter.allow(&n.to_string(), start);
        }
        let later = start + Duration::hours(2);
        assert!(limiter.allow("new", later));
        assert_eq!(limiter.tracked(), 1, "every old window had lapsed");
    }

    #[test]
    fn a_refused_key_learns_when_its_window_ends() {
        let limiter = RateLimiter::new(1);
        let now = Utc::now();
        assert!(limiter.allow("a", now));
        assert!(!limiter.allow("a", now + Duration::minutes(20)));
        assert_eq!(
            limiter.retry_after_secs("a", now + Duration::minutes(20)),
            40 * 60
        );
        assert_eq!(
            limiter.retry_after_secs("a", now + Duration::minutes(60)),
            1
        );
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        assert!((0..1000).all(|_| limiter.allow("x", Utc::now())));
    }
}
