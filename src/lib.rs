//! Bulletin: a self-hosted newsletter and product-notice subscription platform.
//!
//! Requests flow `web` → `services` → {`domain`, `store`, `signing`, `mail`'s templates}, the
//! services reading a `Context`; mail leaves only through `delivery` (the outbox worker, with
//! its `Engine`) → `mail` (templates, headers, transport). `scheduler` calls services and
//! delivery; `startup` wires them. `domain` holds pure types and rules, `store` is the only
//! module that speaks SQL. `layering`'s tests hold the arrows to one direction.

pub mod clock;
pub mod config;
pub mod context;
pub mod delivery;
pub mod domain;
pub mod inbound;
#[cfg(test)]
mod layering;
pub mod mail;
pub mod scheduler;
pub mod services;
pub mod signing;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
