//! Who may see what. One place for the rules, so the REST API and the sync
//! endpoint can never disagree about them.
//!
//! - Staff, leaders and admins see every topic and every document.
//! - Members see the topics they participate in, and the documents of those topics.
//! - A document that belongs to no topic is visible to staff, leaders and admins only.
//!
//! Seeing a document is what lets a user open it for editing; finalized
//! documents refuse updates elsewhere (the document owner), not here.

use xieshang_shared::{DocId, TopicId, User};

use crate::db::queries::docs::{self, DocInfo};
use crate::db::queries::topics;
use crate::error::{AppError, Result};
use crate::state::AppState;

/// Whether `user` may see `topic` (and so its draft and records).
pub async fn can_see_topic(state: &AppState, user: &User, topic: TopicId) -> Result<bool> {
    if user.role.sees_all_topics() {
        return Ok(true);
    }
    topics::is_participant(&state.db, topic, user.id).await
}

/// Like [`can_see_topic`], but 404 `not_found` when the topic does not exist
/// and 403 `forbidden` when it is not visible to `user`.
pub async fn authorize_topic(state: &AppState, user: &User, topic: TopicId) -> Result<()> {
    if !topics::exists(&state.db, topic).await? {
        return Err(AppError::NotFound);
    }
    if can_see_topic(state, user, topic).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether `user` may add records to `topic`: a participant, or someone who
/// manages topics (staff, leaders, admins).
pub async fn can_record(state: &AppState, user: &User, topic: TopicId) -> Result<bool> {
    if user.role.manages_topics() {
        return Ok(true);
    }
    topics::is_participant(&state.db, topic, user.id).await
}

/// The document's facts if `user` may see it: 404 `not_found` if there is no
/// such document, 403 `forbidden` if its topic is not visible to the user.
pub async fn authorize_doc(state: &AppState, user: &User, doc: DocId) -> Result<DocInfo, AppError> {
    let info = docs::doc_info(&state.db, doc)
        .await?
        .ok_or(AppError::NotFound)?;
    let visible = match info.topic {
        Some(topic) => can_see_topic(state, user, topic).await?,
        None => user.role.sees_all_topics(),
    };
    if visible {
        Ok(info)
    } else {
        Err(AppError::Forbidden)
    }
}
