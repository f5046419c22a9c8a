//! Bulletin's schema migrations.
