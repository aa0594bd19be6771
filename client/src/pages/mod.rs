//! One component per page of the client.

mod doc;
mod login;
mod not_found;
mod topic;
mod topics;

pub use doc::DocPage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use topic::TopicPage;
pub use topics::TopicsPage;
