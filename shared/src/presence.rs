//! What every member's presence (awareness state) says about them, shared by
//! the client that shows it and the server that vouches for it.
//!
//! A state is `{"user":{"id","name","color"},"cursor":…}`. The server replaces
//! `user` with the signed-in user's own (see the server's `docs::presence`), so
//! the name and colour others see are never what a client chose to claim.

use serde_json::{json, Value};

/// Caret colours, picked by user id so a member keeps theirs across sessions.
pub const PALETTE: [&str; 8] = [
    "#d9480f", "#1971c2", "#2f9e44", "#9c36b5", "#e67700", "#0c8599", "#c2255c", "#5f3dc4",
];

/// The colour of a user's caret.
pub fn color_for(user_id: i64) -> &'static str {
    PALETTE[user_id.rem_euclid(PALETTE.len() as i64) as usize]
}

/// The `user` object of a presence state for this user.
pub fn user_json(user_id: i64, display_name: &str) -> Value {
    json!({ "id": user_id, "name": display_name, "color": color_for(user_id) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_wrap_by_user_id() {
        assert_eq!(color_for(-3), PALETTE[5]);
        assert_eq!(color_for(8), PALETTE[0]);
        assert_eq!(user_json(2, "李")["color"], PALETTE[2]);
    }
}
