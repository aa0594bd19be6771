//! Typed ids: integers for what only staff create online, UUIDv7 for what a
//! member may create anywhere.
//!
//! A `UserId` and a `TopicId` are both `i64` in SQL, but mixing them up is a bug
//! the compiler should catch. Each integer id serializes as the bare number
//! (`serde(transparent)`), so JSON and URLs stay `{"id": 5}` and `/topics/5`.
//!
//! A [`DocId`] is minted by whoever creates the document, the browser offline
//! included, so it is a UUIDv7 (time-ordered, 74 random bits): see
//! [`DocId::mint`] and the "Ids minted anywhere" section of the README.

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
    /// A grassroots liaison office (委员联络室).
    SiteId
);
id_newtype!(
    /// A sector (界别) a member is recommended by.
    SectorId
);

/// A collaborative document; the `{doc_id}` of `/sync/{doc_id}`.
///
/// A UUIDv7, written in its lowercase hyphenated form in JSON, URLs and SQL
/// (a `TEXT` column on both backends). Documents created before ids were minted
/// by their creators had integer ids; the migration gave each of them
/// [`DocId::legacy`] of its old number, and parsing a bare number (an old link,
/// an old browser cache) gives the same id, so nothing that named a document
/// before the upgrade loses it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocId(uuid::Uuid);

/// `xxxxxxxx-xxxx-7xxx-8xxx-` with a zero timestamp: the prefix of every id the
/// migration gave to a document that had an integer id.
const LEGACY_BITS: u128 = 0x0000_0000_0000_7000_8000_0000_0000_0000;
/// Legacy numbers live in the last 48 bits.
const LEGACY_MAX: u64 = (1 << 48) - 1;

impl DocId {
    /// A fresh UUIDv7 from the clock and the system's random source (the
    /// browser's `crypto.getRandomValues` in the client).
    pub fn mint() -> DocId {
        DocId(uuid::Uuid::now_v7())
    }

    /// The id the migration gave to the document whose integer id was `n`:
    /// `00000000-0000-7000-8000-` and `n` in 12 hex digits. Its timestamp is 0,
    /// so migrated documents sort before every minted one, in their old order.
    pub fn legacy(n: u64) -> DocId {
        DocId(uuid::Uuid::from_u128(
            LEGACY_BITS | u128::from(n & LEGACY_MAX),
        ))
    }

    /// Whether a creator may use this id for a new document: a UUIDv7 with a
    /// real timestamp (the zero-timestamp range belongs to migrated documents).
    pub fn is_mintable(&self) -> bool {
        self.0.get_version_num() == 7
            && self.0.get_variant() == uuid::Variant::RFC4122
            && (self.0.as_u128() >> 80) != 0
    }
}

impl fmt::Display for DocId {
    /// The lowercase hyphenated form, as in routes, JSON, SQL and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// Why a string is not a [`DocId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a document id (a UUID such as 0190b7e0-7a1c-7d4e-8f00-1234567890ab): {0:?}")]
pub struct BadDocId(String);

impl FromStr for DocId {
    type Err = BadDocId;

    /// A UUID in its hyphenated form (either case), or a bare non-negative
    /// number, read as the [`DocId::legacy`] id of a migrated document.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadDocId(s.chars().take(64).collect());
        if !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<u64>() {
                Ok(n) if n <= LEGACY_MAX => Ok(DocId::legacy(n)),
                _ => Err(bad()),
            };
        }
        if s.len() != 36 {
            return Err(bad());
        }
        uuid::Uuid::try_parse(s).map(DocId).map_err(|_| bad())
    }
}

impl Serialize for DocId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocId {
    /// A string as [`FromStr`] takes it, or a bare JSON number (what the
    /// previous release wrote, e.g. in a browser's cached topics).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DocId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a document id (UUID string)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DocId, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DocId, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DocId, E> {
                v.to_string().parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `DocId` as a `TEXT` value in SQL, on both backends.
#[cfg(feature = "server")]
mod sql {
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::{Database, Decode, Encode, Type};

    use super::DocId;

    impl<DB: Database> Type<DB> for DocId
    where
        String: Type<DB>,
    {
        fn type_info() -> DB::TypeInfo {
            <String as Type<DB>>::type_info()
        }

        fn compatible(ty: &DB::TypeInfo) -> bool {
            <String as Type<DB>>::compatible(ty)
        }
    }

    impl<'q, DB: Database> Encode<'q, DB> for DocId
    where
        String: Encode<'q, DB>,
    {
        fn encode_by_ref(
            &self,
            buf: &mut <DB as Database>::ArgumentBuffer,
        ) -> Result<IsNull, BoxDynError> {
            self.to_string().encode(buf)
        }
    }

    impl<'r, DB: Database> Decode<'r, DB> for DocId
    where
        String: Decode<'r, DB>,
    {
        fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
            Ok(String::decode(value)?.parse()?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_are_the_bare_number() {
        let id = TopicId(42);
        assert_eq!(id.to_string(), "42");
        assert_eq!("42".parse::<TopicId>(), Ok(id));
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
        assert_eq!(i64::from(UserId::from(5)), 5);
    }

    #[test]
    fn doc_ids_are_uuid_v7_in_lowercase() {
        let a = DocId::mint();
        let b = DocId::mint();
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text.as_bytes()[14], b'7', "{text}");
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.parse::<DocId>(), Ok(a));
        assert_eq!(text.to_uppercase().parse::<DocId>(), Ok(a));
        assert!(a.is_mintable());
        let json = serde_json::to_string(&a).unwrap_or_default();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<DocId>(&json).ok(), Some(a));
    }

    #[test]
    fn legacy_numbers_map_to_their_migrated_ids() {
        let id = DocId::legacy(42);
        assert_eq!(id.to_string(), "00000000-0000-7000-8000-00000000002a");
        assert_eq!("42".parse::<DocId>(), Ok(id));
        assert_eq!(serde_json::from_str::<DocId>("42").ok(), Some(id));
        assert!(
            !id.is_mintable(),
            "the zero-timestamp range is the migration's"
        );
        assert!(DocId::legacy(1) < DocId::legacy(2));
        assert!(DocId::legacy(LEGACY_MAX) < DocId::mint());
    }

    #[test]
    fn doc_ids_refuse_what_is_not_one() {
        for bad in [
            "",
            "x",
            "-1",
            "281474976710656",
            "1234567890123456789",
            "0190b7e07a1c7d4e8f001234567890ab",
            "{0190b7e0-7a1c-7d4e-8f00-1234567890ab}",
            "0190b7e0-7a1c-7d4e-8f00-1234567890a",
            "0190b7e0-7a1c-7d4e-8f00-1234567890abc",
            "0190b7e0-7a1c-7d4e-8f00-12345678g0ab",
        ] {
            assert!(bad.parse::<DocId>().is_err(), "{bad:?}");
        }
        let v4: DocId = "0190b7e0-7a1c-4d4e-8f00-1234567890ab"
            .parse()
            .unwrap_or(DocId::legacy(0));
        assert!(!v4.is_mintable(), "a creator must mint a v7");
    }
}
