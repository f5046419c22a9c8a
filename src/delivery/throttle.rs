//! The global send rate limit: a token bucket for messages per second and a sliding
//! one-hour window (by minute) for messages per hour. Zero means unlimited.

use std::{
    collections::VecDeque,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Limits how fast messages leave this process.
#[derive(Debug)]
pub struct Throttle {
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    per_second: u32,
    per_hour: u32,
    tokens: f64,
    refilled: Instant,
    /// (minute start, messages in that minute) for the last hour, oldest first.
    minutes: VecDeque<(Instant, u32)>,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Window {
    fn new(per_second: u32, per_hour: u32, now: Instant) -> Self {
        Self {
            per_second,
            per_hour,
            tokens: f64::from(per_second),
            refilled: now,
            minutes: VecDeque::new(),
        }
    }

    /// Takes one message slot now, or says how long to wait for one.
    fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        if self.per_second > 0 {
            let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
            let rate = f64::from(self.per_second);
            self.tokens = (self.tokens + elapsed * rate).min(rate);
            self.refilled = now;
            if self.tokens < 1.0 {
                return Err(Duration::from_secs_f64((1.0 - self.tokens) / rate));
            }
        }
        if self.per_hour > 0 {
            // A minute's messages may have gone out until its end: it leaves the rolling hour
            // only an hour after that, so no hour ever sees more than the limit.
            while self
                .minutes
                .front()
                .is_some_and(|(start, _)| now.saturating_duration_since(*start) >= HOUR + MINUTE)
            {
                self.minutes.pop_front();
            }
            let in_window: u32 = self.minutes.iter().map(|(_, n)| n).sum();
            if in_window >= self.per_hour {
                let oldest = self.minutes.front().map_or(now, |(start, _)| *start);
                return Err((oldest + HOUR + MINUTE)
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(10)));
            }
            match self.minutes.back_mut() {
                Some((start, n)) if now.saturating_duration_since(*start) < MINUTE => *n += 1,
                _ => self.minutes.push_back((now, 1)),
            }
        }
        if self.per_second > 0 {
            self.tokens -= 1.0;
        }
        Ok(())
    }
}

impl Throttle {
    /// A throttle of at most `per_second` and `per_hour` messages (0: no limit).
    pub fn new(per_second: u32, per_hour: u32) -> Self {
        Self {
            window: Mutex::new(Window::new(per_second, per_hour, Instant::now())),
        }
    }

    /// Waits until one more message may go out, and takes its slot.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut window = self
                    .window
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match window.try_take(Instant::now()) {
                    Ok(()) => return,
                    Err(wait) => wait,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rolling_hour_sees_more_than_the_hourly_limit() {
        let start = Instant::now();
        let mut w = Window::new(0, 2, start);
        assert!(w.try_take(start).is_ok());
        assert!(w.try_take(start + Duration::from_secs(59)).is_ok());
        // An hour after the first message, the second was sent 59 s less than an hour ago.
        assert!(w.try_take(start + HOUR).is_err());
        assert!(w.try_take(start + HOUR + Duration::from_secs(58)).is_err());
        assert!(w.try_take(start + HOUR + MINUTE).is_ok());
    }

    #[test]
    fn no_limit_never_waits() {
        let now = Instant::now();
        let mut w = Window::new(0, 0, now);
        for _ in 0..10_000 {
            assert!(w.try_take(now).is_ok());
        }
    }

    #[test]
    fn the_per_second_bucket_allows_a_burst_then_the_rate() {
        let now = Instant::now();
        let mut w = Window::new(10, 0, now);
        for _ in 0..10 {
            assert!(w.try_take(now).is_ok());
        }
        let wait = w.try_take(now).unwrap_err();
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(w.try_take(now + Duration::from_millis(100)).is_ok());
        assert!(w.try_take(now + Duration::from_millis(100)).is_err());
    }

    #[test]
    fn the_hourly_window_slides() {
        let start = Instant::now();
        let mut w = Window::new(0, 100, start);
        for i in 0..100 {
            assert!(w.try_take(start + Duration::from_secs(i * 30)).is_ok());
        }
        let at = start + Duration::from_secs(3000);
        let wait = w.try_take(at).unwrap_err();
        assert!(wait <= Duration::from_secs(660), "{wait:?}");
        // Once the first minute has left the window, its messages may be sent again.
        assert!(w.try_take(start + HOUR + MINUTE).is_ok());
    }
}
