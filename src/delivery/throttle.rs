//! The global send rate limit: a token bucket for messages per second and a sliding
//! one-hour window (by minute) for messages per hour. Zero means unlimited. Its time comes
//! from the `Clock`; the decision (`Window::try_take`) is pure and apart from the waiting.

use std::{collections::VecDeque, sync::Mutex, time::Duration};

use chrono::{DateTime, Utc};

use crate::clock::Clock;

/// Limits how fast messages leave this process.
#[derive(Debug)]
pub struct Throttle {
    timeline: Timeline,
    window: Mutex<Window>,
}

/// The throttle's time: how far it has come since the throttle was made.
///
/// On the system clock that is monotonic time, so a wall-clock step (NTP) neither stalls nor
/// bursts sending. On a manual clock it is the clock's advance plus the real time elapsed:
/// advancing the clock frees slots at once, and a test that does not advance it still sees
/// the configured rate in real time, so a worker under test never waits forever.
#[derive(Debug)]
struct Timeline {
    clock: Clock,
    started: std::time::Instant,
    clock_started: DateTime<Utc>,
}

/// How often a wait on a manual clock looks again, so that advancing the clock is noticed.
const MANUAL_POLL: Duration = Duration::from_millis(10);

impl Timeline {
    fn new(clock: Clock) -> Self {
        Self {
            clock_started: clock.now(),
            started: std::time::Instant::now(),
            clock,
        }
    }

    fn now(&self) -> Duration {
        let real = self.started.elapsed();
        match &self.clock {
            Clock::System => real,
            Clock::Manual(_) => {
                let advanced = (self.clock.now() - self.clock_started).to_std();
                real + advanced.unwrap_or_default()
            }
        }
    }

    /// How long to sleep before looking again for a slot that is `wait` away.
    fn nap(&self, wait: Duration) -> Duration {
        match &self.clock {
            Clock::System => wait,
            Clock::Manual(_) => wait.min(MANUAL_POLL),
        }
    }
}

/// The recorded sends and the limits; times are offsets on the throttle's timeline.
#[derive(Debug)]
struct Window {
    per_second: u32,
    per_hour: u32,
    tokens: f64,
    refilled: Duration,
    /// (minute start, messages in that minute) for the last hour, oldest first.
    minutes: VecDeque<(Duration, u32)>,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Window {
    /// A window with a full bucket at time zero and nothing sent yet.
    fn new(per_second: u32, per_hour: u32) -> Self {
        Self {
            per_second,
            per_hour,
            tokens: f64::from(per_second),
            refilled: Duration::ZERO,
            minutes: VecDeque::new(),
        }
    }

    /// Takes one message slot at `now`, or says how long to wait for one (never zero).
    fn try_take(&mut self, now: Duration) -> Result<(), Duration> {
        if self.per_second > 0 {
            let elapsed = now.saturating_sub(self.refilled).as_secs_f64();
            let rate = f64::from(self.per_second);
            self.tokens = (self.tokens + elapsed * rate).min(rate);
            self.refilled = now;
            if self.tokens < 1.0 {
                let wait = Duration::from_secs_f64((1.0 - self.tokens) / rate);
                return Err(wait.max(Duration::from_nanos(1)));
            }
        }
        if self.per_hour > 0 {
            // A minute's messages may have gone out until its end: it leaves the rolling hour
            // only an hour after that, so no hour ever sees more than the limit.
            while self
                .minutes
                .front()
                .is_some_and(|(start, _)| now.saturating_sub(*start) >= HOUR + MINUTE)
            {
                self.minutes.pop_front();
            }
            let in_window: u32 = self.minutes.iter().map(|(_, n)| n).sum();
            if in_window >= self.per_hour {
                let oldest = self.minutes.front().map_or(now, |(start, _)| *start);
                return Err((oldest + HOUR + MINUTE)
                    .saturating_sub(now)
                    .max(Duration::from_millis(10)));
            }
            match self.minutes.back_mut() {
                Some((start, n)) if now.saturating_sub(*start) < MINUTE => *n += 1,
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
    /// A throttle of at most `per_second` and `per_hour` messages (0: no limit), timed by
    /// `clock`.
    pub fn new(per_second: u32, per_hour: u32, clock: Clock) -> Self {
        Self {
            timeline: Timeline::new(clock),
            window: Mutex::new(Window::new(per_second, per_hour)),
        }
    }

    /// Takes a message slot now, or says how long until one may be free.
    ///
    /// # Errors
    /// The wait, when the limits allow no message now.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        window.try_take(self.timeline.now())
    }

    /// Waits until one more message may go out, and takes its slot.
    pub async fn acquire(&self) {
        while let Err(wait) = self.try_acquire() {
            tokio::time::sleep(self.timeline.nap(wait)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn manual() -> Clock {
        Clock::manual(Utc::now())
    }

    #[test]
    fn no_rolling_hour_sees_more_than_the_hourly_limit() {
        let mut w = Window::new(0, 2);
        assert!(w.try_take(secs(0)).is_ok());
        assert!(w.try_take(secs(59)).is_ok());
        // An hour after the first message, the second was sent 59 s less than an hour ago.
        assert!(w.try_take(HOUR).is_err());
        assert!(w.try_take(HOUR + secs(58)).is_err());
        assert!(w.try_take(HOUR + MINUTE).is_ok());
    }

    #[test]
    fn no_limit_never_waits() {
        let mut w = Window::new(0, 0);
        for _ in 0..10_000 {
            assert!(w.try_take(secs(0)).is_ok());
        }
    }

    #[test]
    fn the_per_second_bucket_allows_a_burst_then_the_rate() {
        let mut w = Window::new(10, 0);
        for _ in 0..10 {
            assert!(w.try_take(secs(0)).is_ok());
        }
        let wait = w.try_take(secs(0)).unwrap_err();
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(w.try_take(Duration::from_millis(100)).is_ok());
        assert!(w.try_take(Duration::from_millis(100)).is_err());
    }

    #[test]
    fn the_hourly_window_slides() {
        let mut w = Window::new(0, 100);
        for i in 0..100 {
            assert!(w.try_take(secs(i * 30)).is_ok());
        }
        let wait = w.try_take(secs(3000)).unwrap_err();
        assert!(wait <= secs(660), "{wait:?}");
        // Once the first minute has left the window, its messages may be sent again.
        assert!(w.try_take(HOUR + MINUTE).is_ok());
    }

    #[test]
    fn the_hourly_limit_waits_for_the_oldest_minute_to_leave_the_window() {
        let mut w = Window::new(0, 3);
        for at in [secs(0), secs(10), secs(20 * 60)] {
            assert!(w.try_take(at).is_ok());
        }
        // The first two share the minute starting at 0 s; it leaves the window at 61 min.
        assert_eq!(w.try_take(secs(30 * 60)), Err(secs(31 * 60)));
        assert!(w.try_take(HOUR + MINUTE).is_ok());
        assert!(w.try_take(HOUR + MINUTE).is_ok());
        assert!(
            w.try_take(HOUR + MINUTE).is_err(),
            "the 20-minute send is in the window"
        );
    }

    #[test]
    fn both_limits_apply_together() {
        let mut w = Window::new(2, 3);
        assert!(w.try_take(secs(0)).is_ok());
        assert!(w.try_take(secs(0)).is_ok());
        assert!(w.try_take(secs(0)).is_err(), "the bucket is empty");
        assert!(w.try_take(secs(1)).is_ok());
        let wait = w.try_take(secs(5)).unwrap_err();
        assert!(wait > secs(3600), "the hour is full: {wait:?}");
    }

    #[test]
    fn advancing_a_manual_clock_frees_the_next_slot() {
        let clock = manual();
        let throttle = Throttle::new(1, 0, clock.clone());
        assert!(throttle.try_acquire().is_ok());
        let wait = throttle.try_acquire().unwrap_err();
        assert!(wait > Duration::from_millis(900), "{wait:?}");
        clock.advance(chrono::Duration::seconds(1));
        assert!(throttle.try_acquire().is_ok());
    }

    #[test]
    fn the_hourly_limit_follows_a_manual_clock() {
        let clock = manual();
        let throttle = Throttle::new(0, 2, clock.clone());
        assert!(throttle.try_acquire().is_ok());
        assert!(throttle.try_acquire().is_ok());
        let wait = throttle.try_acquire().unwrap_err();
        assert!(wait > secs(3600) && wait <= HOUR + MINUTE, "{wait:?}");
        clock.advance(chrono::Duration::minutes(30));
        assert!(throttle.try_acquire().is_err());
        clock.advance(chrono::Duration::minutes(31));
        assert!(throttle.try_acquire().is_ok());
    }

    #[tokio::test]
    async fn a_waiting_acquire_returns_once_a_manual_clock_is_advanced() {
        let clock = manual();
        let throttle = std::sync::Arc::new(Throttle::new(0, 1, clock.clone()));
        throttle.acquire().await;
        let waiting = tokio::spawn({
            let throttle = throttle.clone();
            async move { throttle.acquire().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the hour is used up");
        clock.advance(chrono::Duration::minutes(61));
        // Without the advance this would wait an hour; the poll notices it within ~10 ms.
        tokio::time::timeout(secs(5), waiting)
            .await
            .expect("acquire returned")
            .unwrap();
    }

    /// Sends `arrivals` (offsets) as fast as the window allows; the send times.
    fn send_greedily(w: &mut Window, arrivals: &[Duration]) -> Vec<Duration> {
        let mut now = Duration::ZERO;
        let mut sent = Vec::new();
        for &arrival in arrivals {
            now = now.max(arrival);
            loop {
                match w.try_take(now) {
                    Ok(()) => break,
                    Err(wait) => {
                        assert!(wait > Duration::ZERO, "a wait of zero would spin");
                        now += wait;
                    }
                }
            }
            sent.push(now);
        }
        sent
    }

    proptest! {
        #[test]
        fn no_rolling_hour_ever_exceeds_max_per_hour(
            per_second in 0u32..4,
            per_hour in 1u32..40,
            gaps_secs in prop::collection::vec(0u64..900, 1..150),
        ) {
            let arrivals: Vec<Duration> = gaps_secs
                .iter()
                .scan(Duration::ZERO, |at, gap| {
                    *at += secs(*gap);
                    Some(*at)
                })
                .collect();
            let mut w = Window::new(per_second, per_hour);
            let sent = send_greedily(&mut w, &arrivals);
            prop_assert_eq!(sent.len(), arrivals.len());
            for (i, start) in sent.iter().enumerate() {
                let in_hour = sent[i..].iter().take_while(|t| **t < *start + HOUR).count();
                prop_assert!(
                    in_hour <= per_hour as usize,
                    "{} sends in the hour from {:?}", in_hour, start
                );
            }
        }

        #[test]
        fn the_per_second_rate_holds_after_the_first_burst(
            per_second in 1u32..50,
            count in 1usize..400,
        ) {
            let mut w = Window::new(per_second, 0);
            let sent = send_greedily(&mut w, &vec![Duration::ZERO; count]);
            // A full bucket of `per_second` goes at once, then one every 1/per_second s.
            let extra = count.saturating_sub(per_second as usize);
            let least = extra as f64 / f64::from(per_second);
            let last = sent.last().copied().unwrap_or_default().as_secs_f64();
            prop_assert!(last >= least - 1e-6, "{} < {}", last, least);
            prop_assert!(last <= least + 1e-3, "{} > {}", last, least);
        }
    }
}
