//! SQL by area. Every function takes `&Db` and runs the same SQL on both backends.

pub mod docs;
pub mod settings;
pub mod topics;
pub mod users;
