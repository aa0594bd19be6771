//! SQL by area. Every function takes `&Db` and runs the same SQL on both backends.

pub mod audit;
pub mod docs;
pub mod finalized;
pub mod followup;
pub mod settings;
pub mod signoffs;
pub mod topics;
pub mod users;
pub mod versions;
