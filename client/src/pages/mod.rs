//! One component per page of the client.

mod login;
mod placeholder;
mod topics;

pub use login::LoginPage;
pub use placeholder::{DocPage, NotFoundPage, TopicPage};
pub use topics::TopicsPage;
