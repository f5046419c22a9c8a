//! Tests of confirm.
