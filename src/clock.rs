//! `Clock`: the only reader of the system time; tests use a manual clock they can advance.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, Utc};

/// Where "now" comes from.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that only moves when told to.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A manual clock starting at `start`.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::Manual(Arc::new(Mutex::new(truncate(start))))
    }

    /// The current time, to the microsecond (what every database keeps).
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => truncate(Utc::now()),
            Self::Manual(t) => *t.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Moves a manual clock forward; the system clock ignores this.
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(t) = self {
            let mut guard = t.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *guard = truncate(*guard + by);
        }
    }
}

fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}
