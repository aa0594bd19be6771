//! The consultation domain's vocabulary, with the names from GLOSSARY.md.
//!
//! These are plain data shared by the REST API (serde JSON), the server's SQL
//! layer and the client UI. Every string enum here has exactly one wire name
//! per variant (`as_str`, `FromStr`, serde all agree) and a label per [`Lang`],
//! so the UI never invents its own spelling of a role or a form.

mod role;
mod topic;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::error::ParseEnumError;
pub use role::{Role, User};
pub use topic::{is_iso_date, ConsultationForm, NewTopic, Stage, Topic};

/// Defines a string enum with one wire name and two labels per variant.
///
/// Generates serde names, `as_str`, `label`, `ALL`, `FromStr` and `Display`
/// from one table, so they cannot drift apart.
macro_rules! labelled_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, zh $zh:literal, en $en:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every variant in declaration order, for pickers and exhaustive tests.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name used in JSON, SQL and URLs.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// What the user interface shows for this value in `lang`.
            pub fn label(self, lang: $crate::model::Lang) -> &'static str {
                match lang {
                    $crate::model::Lang::ZhCn => match self { $($name::$variant => $zh,)+ },
                    $crate::model::Lang::En => match self { $($name::$variant => $en,)+ },
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::ParseEnumError;

            /// Parses the wire name exactly (case-sensitive, like serde).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err($crate::error::ParseEnumError::new($what, s)),
                }
            }
        }

        impl std::fmt::Display for $name {
            /// The wire name, so logs and SQL read the same.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use labelled_enum;

/// The user-interface language: zh-CN by default, English selectable.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    /// Simplified Chinese, the default for committee users.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// The BCP 47 tag (`"zh-CN"`, `"en"`), as stored in settings and `<html lang>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
}

impl FromStr for Lang {
    type Err = ParseEnumError;

    /// Accepts the tags loosely (`zh`, `zh-cn`, `en-US`), since they come from browsers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        if lower == "zh" || lower.starts_with("zh-") {
            Ok(Lang::ZhCn)
        } else if lower == "en" || lower.starts_with("en-") {
            Ok(Lang::En)
        } else {
            Err(ParseEnumError::new("language", s))
        }
    }
}

impl fmt::Display for Lang {
    /// The BCP 47 tag.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

labelled_enum! {
    /// Which schema a collaborative document follows (see `crate::schema`).
    DocKind as "document kind" {
        /// 协商成果建议稿: the recommendation text members draft together.
        Draft = "draft", zh "协商成果建议稿", en "Recommendation draft";
        /// 协商记录: who said what, when and where.
        Record = "record", zh "协商记录", en "Consultation record";
        /// 社情民意: a short report of public conditions and opinion.
        OpinionReport = "opinion_report", zh "社情民意", en "Public opinion report";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_kind_wire_names() {
        for kind in DocKind::ALL {
            let json = serde_json::to_string(kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.as_str().parse::<DocKind>(), Ok(*kind));
        }
        assert_eq!(DocKind::OpinionReport.as_str(), "opinion_report");
        assert_eq!(DocKind::Draft.label(Lang::ZhCn), "协商成果建议稿");
        assert!("Draft".parse::<DocKind>().is_err());
    }

    #[test]
    fn lang_tags() {
        assert_eq!(
            serde_json::to_string(&Lang::ZhCn).unwrap_or_default(),
            "\"zh-CN\""
        );
        assert_eq!(
            serde_json::to_string(&Lang::En).unwrap_or_default(),
            "\"en\""
        );
        assert_eq!("zh-CN".parse::<Lang>(), Ok(Lang::ZhCn));
        assert_eq!("en-US".parse::<Lang>(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().is_err());
        assert_eq!(Lang::default(), Lang::ZhCn);
    }
}
