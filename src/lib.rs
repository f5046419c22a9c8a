//! Bulletin: a self-hosted newsletter and product-notice subscription platform.
//!
//! Requests flow `web` → `services` → {`domain`, `store`, `signing`}; mail leaves only
//! through `delivery` (outbox worker) → `mail` (templates, headers, transport). `domain`
//! holds pure types and rules, `store` is the only module that speaks SQL.

pub mod clock;
pub mod config;
pub mod context;
pub mod delivery;
pub mod domain;
pub mod mail;
pub mod scheduler;
pub mod services;
pub mod signing;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
