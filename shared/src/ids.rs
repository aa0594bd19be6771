//! Typed ids for the relational facts, made by one macro.
//!
//! A `UserId` and a `DocId` are both `i64` in SQL, but mixing them up is a bug
//! the compiler should catch. Each id serializes as the bare number
//! (`serde(transparent)`), so JSON and URLs stay `{"id": 5}` and `/docs/5`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Defines an `i64` id newtype with the traits every id needs.
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            /// The bare number, as it appears in routes and logs.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            /// Parses the bare number, e.g. a `{doc_id}` path segment.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<i64> for $name {
            /// Wraps a raw database id.
            fn from(raw: i64) -> Self {
                $name(raw)
            }
        }

        impl From<$name> for i64 {
            /// Unwraps for binding into SQL.
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_newtype!(
    /// A user account (member, staff, leader or admin).
    UserId
);
id_newtype!(
    /// A consultation topic (协商议题).
    TopicId
);
id_newtype!(
    /// A collaborative document; the `{doc_id}` of `/sync/{doc_id}`.
    DocId
);
id_newtype!(
    /// A grassroots liaison office (委员联络室).
    SiteId
);
id_newtype!(
    /// A sector (界别) a member is recommended by.
    SectorId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_are_the_bare_number() {
        let id = DocId(42);
        assert_eq!(id.to_string(), "42");
        assert_eq!("42".parse::<DocId>(), Ok(id));
        assert!("x".parse::<UserId>().is_err());
        assert_eq!("-3".parse::<TopicId>(), Ok(TopicId(-3)));
    }

    #[test]
    fn serde_is_transparent() {
        assert_eq!(serde_json::to_string(&UserId(7)).ok().as_deref(), Some("7"));
        let back: SiteId = serde_json::from_str("9").unwrap_or(SiteId(0));
        assert_eq!(back, SiteId(9));
        let ids: Vec<SectorId> = serde_json::from_str("[1,2]").unwrap_or_default();
        assert_eq!(ids, vec![SectorId(1), SectorId(2)]);
    }

    #[test]
    fn ids_order_by_number() {
        let mut ids = vec![TopicId(3), TopicId(1), TopicId(2)];
        ids.sort();
        assert_eq!(ids, vec![TopicId(1), TopicId(2), TopicId(3)]);
        assert_eq!(i64::from(DocId::from(5)), 5);
    }
}
