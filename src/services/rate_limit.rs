//! A fixed-window limit of requests per key and window: per client network (IPv4 /24, IPv6
//! /48) and hour for public forms that make Bulletin send e-mail (`POST /privacy`), per
//! account and per client address for admin logins. Per process, in memory.

use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, Duration, Utc};

/// Networks remembered at most; older windows are dropped beyond this.
const MAX_KEYS: usize = 10_000;

/// Counts requests per key in fixed windows.
#[derive(Debug)]
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
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
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `key` at `now`; `false` when the key has used up its window.
    pub fn allow(&self, key: &str, now: DateTime<Utc>) -> bool {
        if self.per_window == 0 {
            return true;
        }
        let window_len = self.window;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_KEYS {
            windows.retain(|_, (start, _)| now - *start < window_len);
        }
        let window = windows.entry(key.to_owned()).or_insert((now, 0));
        if now - window.0 >= window_len {
            *window = (now, 0);
        }
        if window.1 >= self.per_window {
            return false;
        }
        window.1 += 1;
        true
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
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        assert!((0..1000).all(|_| limiter.allow("x", Utc::now())));
    }
}
