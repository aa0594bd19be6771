//! Who a user is to the committee, and what that lets them do.

use serde::{Deserialize, Serialize};

use super::labelled_enum;
use crate::ids::UserId;

labelled_enum! {
    /// A user's role; decides which topics they see and what they may change.
    Role as "role" {
        /// 委员: drafts, proposes, reviews; sees the topics they take part in.
        Member = "member", zh "委员", en "Member";
        /// 机关工作人员: organises consultations and finalizes texts.
        Staff = "staff", zh "机关工作人员", en "Staff";
        /// 主席 / 副主席 / 秘书长: approves plans and presides.
        Leader = "leader", zh "领导", en "Leader";
        /// Runs the installation: accounts and settings.
        Admin = "admin", zh "管理员", en "Administrator";
    }
}

impl Role {
    /// Whether the user sees every topic, not only those they participate in.
    pub fn sees_all_topics(self) -> bool {
        !matches!(self, Role::Member)
    }

    /// Whether the user may create topics and change their participants.
    pub fn manages_topics(self) -> bool {
        !matches!(self, Role::Member)
    }
}

/// A signed-in user as the API shows it (never with credentials).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Stable id; what participants lists and audit entries refer to.
    pub id: UserId,
    /// Login name, unique.
    pub username: String,
    /// Name shown to other members, e.g. "张伟委员".
    pub display_name: String,
    /// What the user may see and do.
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Lang;

    #[test]
    fn role_names_agree_everywhere() {
        for role in Role::ALL {
            let json = serde_json::to_string(role).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
            assert_eq!(role.to_string(), role.as_str());
        }
        let err = "boss".parse::<Role>().unwrap_err();
        assert_eq!(err.kind, "role");
        assert_eq!(err.value, "boss");
    }

    #[test]
    fn role_rights() {
        assert!(!Role::Member.sees_all_topics());
        assert!(!Role::Member.manages_topics());
        for role in [Role::Staff, Role::Leader, Role::Admin] {
            assert!(role.sees_all_topics());
            assert!(role.manages_topics());
        }
    }

    #[test]
    fn role_labels() {
        assert_eq!(Role::Member.label(Lang::ZhCn), "委员");
        assert_eq!(Role::Staff.label(Lang::ZhCn), "机关工作人员");
        assert_eq!(Role::Leader.label(Lang::ZhCn), "领导");
        assert_eq!(Role::Admin.label(Lang::ZhCn), "管理员");
        assert_eq!(Role::Admin.label(Lang::En), "Administrator");
    }

    #[test]
    fn user_json_shape() {
        let user = User {
            id: UserId(3),
            username: "zhang".into(),
            display_name: "张伟".into(),
            role: Role::Staff,
        };
        let value = serde_json::to_value(&user).unwrap_or_default();
        assert_eq!(
            value,
            serde_json::json!({"id": 3, "username": "zhang", "display_name": "张伟", "role": "staff"})
        );
        let back: Option<User> = serde_json::from_value(value).ok();
        assert_eq!(back, Some(user));
    }
}
