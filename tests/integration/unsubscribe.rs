//! Tests of unsubscribe.
