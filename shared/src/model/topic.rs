//! Consultation topics (协商议题): how they are consulted, where they stand,
//! who is responsible, and which documents belong to them.

use serde::{Deserialize, Serialize};

use super::labelled_enum;
use crate::ids::{DocId, TopicId, UserId};

labelled_enum! {
    /// How a topic is consulted (协商形式); decides the record's layout and wording.
    ConsultationForm as "consultation form" {
        /// 会议协商: deliberation at a meeting.
        Meeting = "meeting", zh "会议协商", en "Meeting";
        /// 视察协商: on-site inspection, then deliberation.
        Inspection = "inspection", zh "视察协商", en "Inspection";
        /// 点题协商: topic requested by the government or street office.
        Requested = "requested", zh "点题协商", en "Requested topic";
        /// 恳谈协商: face-to-face dialogue with the parties concerned.
        Dialogue = "dialogue", zh "恳谈协商", en "Dialogue";
        /// 书面协商: opinions collected in writing.
        Written = "written", zh "书面协商", en "Written";
    }
}

labelled_enum! {
    /// The three stages ("nodes") of a topic's work, in order.
    Stage as "stage" {
        /// 调研: research before consulting.
        Research = "research", zh "调研", en "Research";
        /// 协商: the consultation itself, drafting the outcome.
        Consultation = "consultation", zh "协商", en "Consultation";
        /// 转化: turning the outcome into action.
        Transformation = "transformation", zh "转化", en "Transformation";
    }
}

impl Default for Stage {
    /// A new topic starts with research.
    fn default() -> Self {
        Stage::Research
    }
}

/// A consultation topic as the API returns it (`GET /api/topics/{id}`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    /// Stable id, used in `/topics/{id}`.
    pub id: TopicId,
    /// The subject, e.g. "关于加快乡村旅游发展的建议".
    pub title: String,
    /// How it is consulted.
    pub form: ConsultationForm,
    /// Where the work stands.
    pub stage: Stage,
    /// Year of the consultation plan it belongs to, if planned.
    #[serde(default)]
    pub plan_year: Option<i32>,
    /// 牵头领导: the leader in charge.
    #[serde(default)]
    pub lead_leader: Option<String>,
    /// 责任部门: the responsible department.
    #[serde(default)]
    pub responsible_dept: Option<String>,
    /// 责任人: the responsible person.
    #[serde(default)]
    pub responsible_person: Option<String>,
    /// 完成时限: deadline as `YYYY-MM-DD`.
    #[serde(default)]
    pub due: Option<String>,
    /// The recommendation draft every topic has from its creation.
    pub draft_doc: DocId,
    /// Records of the consultations held so far, oldest first.
    #[serde(default)]
    pub record_docs: Vec<DocId>,
    /// Users taking part; members see only topics they take part in.
    #[serde(default)]
    pub participants: Vec<UserId>,
}

/// The body of `POST /api/topics`: only title and form are required.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewTopic {
    /// The subject; must not be blank.
    pub title: String,
    /// How it will be consulted.
    pub form: ConsultationForm,
    /// Starting stage; research when absent.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// Year of the consultation plan.
    #[serde(default)]
    pub plan_year: Option<i32>,
    /// 牵头领导.
    #[serde(default)]
    pub lead_leader: Option<String>,
    /// 责任部门.
    #[serde(default)]
    pub responsible_dept: Option<String>,
    /// 责任人.
    #[serde(default)]
    pub responsible_person: Option<String>,
    /// 完成时限 as `YYYY-MM-DD`.
    #[serde(default)]
    pub due: Option<String>,
}

impl NewTopic {
    /// Says what is wrong with a request before anything is stored, so the
    /// server can answer 400 with a clear message: a blank title, or a `due`
    /// that is not a `YYYY-MM-DD` calendar date.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.title.trim().is_empty() {
            return Err("title must not be empty");
        }
        match &self.due {
            Some(due) if !is_iso_date(due) => Err("due must be a date as YYYY-MM-DD"),
            _ => Ok(()),
        }
    }
}

/// True for a plausible calendar date written `YYYY-MM-DD`.
pub fn is_iso_date(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return false;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Lang;

    #[test]
    fn form_and_stage_names() {
        let forms: Vec<&str> = ConsultationForm::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            forms,
            ["meeting", "inspection", "requested", "dialogue", "written"]
        );
        for form in ConsultationForm::ALL {
            assert_eq!(form.as_str().parse::<ConsultationForm>(), Ok(*form));
            let json = serde_json::to_string(form).unwrap_or_default();
            assert_eq!(json, format!("\"{form}\""));
        }
        assert_eq!(ConsultationForm::Requested.label(Lang::ZhCn), "点题协商");
        assert_eq!(ConsultationForm::Written.label(Lang::ZhCn), "书面协商");
        assert_eq!(Stage::Transformation.label(Lang::ZhCn), "转化");
        assert_eq!("consultation".parse::<Stage>(), Ok(Stage::Consultation));
        assert!("Meeting".parse::<ConsultationForm>().is_err());
    }

    #[test]
    fn new_topic_needs_only_title_and_form() {
        let t: Result<NewTopic, _> =
            serde_json::from_str(r#"{"title":"乡村旅游","form":"inspection"}"#);
        let t = t.map_err(|e| e.to_string());
        assert_eq!(
            t,
            Ok(NewTopic {
                title: "乡村旅游".into(),
                form: ConsultationForm::Inspection,
                stage: None,
                plan_year: None,
                lead_leader: None,
                responsible_dept: None,
                responsible_person: None,
                due: None,
            })
        );
        let bad: Result<NewTopic, _> = serde_json::from_str(r#"{"title":"x","form":"party"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn new_topic_validation() {
        let mut t = NewTopic {
            title: "  ".into(),
            form: ConsultationForm::Meeting,
            stage: None,
            plan_year: Some(2026),
            lead_leader: None,
            responsible_dept: None,
            responsible_person: None,
            due: Some("2026-02-29".into()),
        };
        assert!(t.validate().is_err());
        t.title = "议题".into();
        assert!(t.validate().is_err(), "2026 is not a leap year");
        t.due = Some("2028-02-29".into());
        assert_eq!(t.validate(), Ok(()));
        for bad in [
            "2026-13-01",
            "2026-1-01",
            "２０２６-01-01",
            "2026-04-31",
            "",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }

    #[test]
    fn topic_json_shape() {
        let topic = Topic {
            id: TopicId(1),
            title: "t".into(),
            form: ConsultationForm::Meeting,
            stage: Stage::default(),
            plan_year: None,
            lead_leader: Some("王主席".into()),
            responsible_dept: None,
            responsible_person: None,
            due: None,
            draft_doc: DocId::legacy(10),
            record_docs: vec![],
            participants: vec![UserId(2)],
        };
        let v = serde_json::to_value(&topic).unwrap_or_default();
        assert_eq!(v["form"], "meeting");
        assert_eq!(v["stage"], "research");
        assert_eq!(v["draft_doc"], "00000000-0000-7000-8000-00000000000a");
        assert_eq!(v["record_docs"], serde_json::json!([]));
        assert_eq!(v["participants"], serde_json::json!([2]));
        let back: Option<Topic> = serde_json::from_value(v).ok();
        assert_eq!(back, Some(topic));
    }
}
