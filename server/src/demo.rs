//! The demo committee for `serve --demo`: a county-level CPPCC committee with
//! staff, leaders, members from several sectors, liaison offices, and topics of
//! all five consultation forms at different stages, whose drafts and records
//! already hold text. It lets someone try the product without typing anything.
//!
//! Seeding happens only into a database without users, so restarting with
//! `--demo` never duplicates or overwrites anything.

use std::collections::HashMap;

use xieshang_shared::schema::{self, Draft, Entry, Record, RecordField};
use xieshang_shared::{ConsultationForm, DocId, NewTopic, Role, SectorId, SiteId, Stage, UserId};
use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::auth;
use crate::db::queries::users::{self, NewUser};
use crate::db::queries::{docs, topics};
use crate::db::Db;

/// Every demo account signs in with this password.
pub const DEMO_PASSWORD: &str = "demo1234";

/// A demo account, printed at start so the person trying the demo can sign in.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub display_name: String,
}

#[rustfmt::skip]
const SECTORS: &[&str] = &["工商联", "农工党", "教育界", "医药卫生界", "农业界", "经济界"];
const SITES: &[&str] = &["城关街道委员联络室", "青山镇委员联络室", "白沙乡委员联络室"];

/// (username, display name, role, invited, sector, site)
#[rustfmt::skip]
type Person = (&'static str, &'static str, Role, bool, Option<&'static str>, Option<&'static str>);

#[rustfmt::skip]
const PEOPLE: &[Person] = &[
    ("admin", "系统管理员", Role::Admin, false, None, None),
    ("zhou.min", "周敏（办公室）", Role::Staff, false, None, None),
    ("sun.li", "孙丽（提案委）", Role::Staff, false, None, None),
    ("wang.jianguo", "王建国（主席）", Role::Leader, false, None, None),
    ("zhang.xiuying", "张秀英（副主席）", Role::Leader, false, None, None),
    ("chen.ming", "陈明", Role::Member, false, Some("工商联"), Some("城关街道委员联络室")),
    ("liu.fang", "刘芳", Role::Member, false, Some("农工党"), Some("城关街道委员联络室")),
    ("zhao.lei", "赵磊", Role::Member, false, Some("教育界"), Some("青山镇委员联络室")),
    ("huang.hui", "黄慧", Role::Member, false, Some("医药卫生界"), Some("城关街道委员联络室")),
    ("yang.shan", "杨山", Role::Member, false, Some("农业界"), Some("青山镇委员联络室")),
    ("wu.jing", "吴静", Role::Member, false, Some("经济界"), Some("白沙乡委员联络室")),
    ("he.ping", "何平", Role::Member, false, Some("农业界"), Some("白沙乡委员联络室")),
    ("lin.xiao", "林晓（特邀委员）", Role::Member, true, Some("医药卫生界"), Some("城关街道委员联络室")),
];

/// One demo topic with its responsibility fields, people and draft text.
struct DemoTopic {
    title: &'static str,
    form: ConsultationForm,
    stage: Stage,
    lead_leader: &'static str,
    responsible_dept: &'static str,
    responsible_person: &'static str,
    due: &'static str,
    site: Option<&'static str>,
    participants: &'static [&'static str],
    body: &'static str,
}

const TOPICS: &[DemoTopic] = &[
    DemoTopic {
        title: "关于推进县域医共体建设、提升基层医疗服务能力的建议",
        form: ConsultationForm::Meeting,
        stage: Stage::Consultation,
        lead_leader: "张秀英",
        responsible_dept: "县卫生健康局",
        responsible_person: "李卫东",
        due: "2025-10-31",
        site: None,
        participants: &["huang.hui", "liu.fang", "lin.xiao", "chen.ming", "zhou.min"],
        body: "## 一、基本情况\n\n全县已组建紧密型医共体2个，覆盖乡镇卫生院14家、村卫生室186个，县域就诊率达到87.6%。\n\n\
## 二、存在的问题\n\n一是基层人才\"引不进、留不住\"，乡镇卫生院执业医师缺口较大。\n\n\
二是信息系统互不联通，检查结果在县乡两级之间不能互认，群众重复检查、重复缴费。\n\n\
三是慢性病管理重签约、轻服务，家庭医生履约率偏低。\n\n\
## 三、意见建议\n\n1. 落实\"县管乡用\"，县级医院医生下沉服务时间计入职称晋升条件。\n\n\
2. 建设县域统一的影像、检验和心电诊断中心，实现检查结果互认。\n\n\
3. 将家庭医生履约情况纳入绩效考核，推动签约服务提质增效。\n",
    },
    DemoTopic {
        title: "关于高标准农田建设与管护情况的视察",
        form: ConsultationForm::Inspection,
        stage: Stage::Research,
        lead_leader: "王建国",
        responsible_dept: "县农业农村局",
        responsible_person: "陈志刚",
        due: "2025-08-31",
        site: Some("青山镇委员联络室"),
        participants: &["yang.shan", "he.ping", "zhao.lei"],
        body: "## 一、视察情况\n\n视察组实地查看了青山镇、白沙乡4个高标准农田项目区，听取了县农业农村局的情况汇报。\n\n\
## 二、存在的问题\n\n部分项目\"重建设、轻管护\"，沟渠淤塞、机耕路损毁后无人修复；管护资金来源不稳定。\n\n\
## 三、意见建议\n\n建议建立\"县级统筹、乡镇落实、村级管护\"的长效机制，按亩落实管护经费，并引导种粮大户参与日常管护。\n",
    },
    DemoTopic {
        title: "城关街道老旧小区加装电梯问题",
        form: ConsultationForm::Requested,
        stage: Stage::Consultation,
        lead_leader: "张秀英",
        responsible_dept: "城关街道办事处",
        responsible_person: "郑海燕",
        due: "2025-06-30",
        site: Some("城关街道委员联络室"),
        participants: &["chen.ming", "liu.fang", "huang.hui", "sun.li"],
        body: "## 一、问题\n\n辖区内2000年前建成的多层住宅共63栋，老年居民占比高，上下楼困难，加装电梯意愿强烈。\n\n\
低层住户担心采光、噪音和房屋贬值，\"一楼不同意\"成为最大难点；审批涉及部门多，流程长。\n\n\
## 二、建议\n\n1. 由街道牵头建立\"一站式\"联合审批，公布办理时限。\n\n\
2. 引入第三方评估，对受影响的低层住户给予合理补偿。\n\n\
3. 发挥委员联络室作用，组织居民议事会，做好协商沟通。\n",
    },
    DemoTopic {
        title: "青山镇茶产业品牌建设恳谈会",
        form: ConsultationForm::Dialogue,
        stage: Stage::Transformation,
        lead_leader: "王建国",
        responsible_dept: "县商务局",
        responsible_person: "吴海",
        due: "2025-05-31",
        site: Some("青山镇委员联络室"),
        participants: &["yang.shan", "wu.jing", "he.ping", "chen.ming"],
        body: "## 一、恳谈情况\n\n委员与茶农、合作社、电商企业代表面对面恳谈，共收集意见建议21条。\n\n\
## 二、存在的问题\n\n品牌多而散，\"青山云雾\"区域公用品牌知名度不高；初制加工标准不统一，品质参差不齐。\n\n\
## 三、意见建议\n\n整合现有品牌，统一使用区域公用品牌；制定加工技术规程；支持合作社开展直播销售。\n",
    },
    DemoTopic {
        title: "关于加强中小学生心理健康教育的建议",
        form: ConsultationForm::Written,
        stage: Stage::Research,
        lead_leader: "张秀英",
        responsible_dept: "县教育局",
        responsible_person: "赵红梅",
        due: "2025-12-15",
        site: None,
        participants: &["zhao.lei", "lin.xiao", "huang.hui", "wu.jing"],
        body: "## 一、问题\n\n全县中小学专职心理教师仅9名，多数学校由班主任兼任，专业能力不足。\n\n\
留守儿童比例较高，家庭教育缺位，心理问题发现晚、干预难。\n\n\
## 二、建议\n\n1. 按标准配齐专职心理健康教师，将心理健康教育纳入教师培训。\n\n\
2. 建立学校、家庭、医疗机构联动的心理危机干预机制。\n",
    },
];

/// Seeds the demo committee into an empty database and answers its logins;
/// `None` when the database already has users (nothing is touched then).
pub async fn seed(db: &Db) -> anyhow::Result<Option<Vec<DemoLogin>>> {
    if users::count_users(db).await? > 0 {
        return Ok(None);
    }
    let mut sectors: HashMap<&str, SectorId> = HashMap::new();
    for name in SECTORS {
        sectors.insert(name, users::add_sector(db, name).await?);
    }
    let mut sites: HashMap<&str, SiteId> = HashMap::new();
    for name in SITES {
        sites.insert(name, users::add_site(db, name).await?);
    }

    // Argon2 is CPU-heavy: hash all demo passwords off the async runtime.
    let hashes = tokio::task::spawn_blocking(|| {
        PEOPLE
            .iter()
            .map(|_| auth::hash_password(DEMO_PASSWORD))
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let mut ids: HashMap<&str, UserId> = HashMap::new();
    let mut logins = Vec::new();
    for (person, hash) in PEOPLE.iter().zip(&hashes) {
        let &(username, display_name, role, invited, sector, site) = person;
        let new = NewUser {
            username,
            display_name,
            role,
            invited,
            sector: sector.and_then(|s| sectors.get(s).copied()),
            site: site.and_then(|s| sites.get(s).copied()),
            password_hash: hash,
        };
        let user = users::add_user(db, &new).await?;
        ids.insert(username, user.id);
        logins.push(DemoLogin {
            username: username.to_string(),
            password: DEMO_PASSWORD.to_string(),
            role,
            display_name: display_name.to_string(),
        });
    }

    let staff = ids.get("zhou.min").copied();
    let mut first_topic = None;
    for t in TOPICS {
        let new = NewTopic {
            title: t.title.to_string(),
            form: t.form,
            stage: Some(t.stage),
            plan_year: Some(2025),
            lead_leader: Some(t.lead_leader.to_string()),
            responsible_dept: Some(t.responsible_dept.to_string()),
            responsible_person: Some(t.responsible_person.to_string()),
            due: Some(t.due.to_string()),
        };
        let site = t.site.and_then(|s| sites.get(s).copied());
        let topic = topics::create_topic(db, new, staff, site).await?;
        let people: Vec<UserId> = t
            .participants
            .iter()
            .filter_map(|u| ids.get(u).copied())
            .collect();
        topics::set_participants(db, topic.id, &people).await?;
        let author = people.first().copied();
        let body = build(|doc| Draft::new(doc).insert_body(0, t.body));
        docs::append_update(db, topic.draft_doc, &body, author).await?;
        first_topic.get_or_insert(topic.id);
        if t.form == ConsultationForm::Requested {
            let record = topics::create_record(db, topic.id, None, staff)
                .await?
                .info()
                .id;
            write_record(db, record, &REQUESTED_RECORD, staff).await?;
        }
    }
    if let Some(topic) = first_topic {
        let record = topics::create_record(db, topic, None, staff)
            .await?
            .info()
            .id;
        write_record(db, record, &MEETING_RECORD, staff).await?;
    }
    Ok(Some(logins))
}

/// A record's fields (form, time, place, presider, participants), entries
/// (speaker, text, time of day) and summary.
struct DemoRecord {
    fields: [&'static str; 5],
    entries: &'static [(&'static str, &'static str, &'static str)],
    summary: &'static str,
}

#[rustfmt::skip]
const MEETING_RECORD: DemoRecord = DemoRecord {
    fields: ["会议协商", "2025-06-12 09:00", "县政协三楼会议室", "张秀英（副主席）", "黄慧、刘芳、林晓、陈明；县卫生健康局李卫东"],
    entries: &[
        ("李卫东", "通报了全县医共体建设进展和下一步工作安排。", "09:05"),
        ("黄慧", "乡镇卫生院人员编制紧张，建议推行县管乡用，让人才沉得下去。", "09:30"),
        ("刘芳", "检查结果互认是群众最关心的事，建议年内建成县域影像中心。", "09:45"),
        ("林晓", "家庭医生签约后服务跟不上，应把履约情况纳入考核。", "10:00"),
        ("张秀英", "请委员们会后完善建议稿，月底前形成协商成果。", "10:20"),
    ],
    summary: "与会委员围绕人才下沉、信息互通、签约服务三个方面提出建议，县卫生健康局表示将认真研究吸纳。",
};

#[rustfmt::skip]
const REQUESTED_RECORD: DemoRecord = DemoRecord {
    fields: ["点题协商", "2025-04-18 14:30", "城关街道委员联络室", "张秀英（副主席）", "陈明、刘芳、黄慧；城关街道办事处郑海燕；居民代表5人"],
    entries: &[
        ("郑海燕", "介绍了辖区老旧小区基本情况和加装电梯的政策。", "14:35"),
        ("居民代表", "楼上老人盼电梯，一楼住户担心采光，希望有个公平的补偿办法。", "14:50"),
        ("陈明", "建议引入第三方评估，补偿标准公开透明。", "15:05"),
    ],
    summary: "街道同意牵头建立联合审批机制，联络室下月组织居民议事会。",
};

/// Builds a fresh document with `write` and answers it as one v1 update.
fn build(write: impl FnOnce(&Doc)) -> Vec<u8> {
    let doc = schema::new_doc();
    write(&doc);
    let txn = doc.transact();
    txn.encode_state_as_update_v1(&StateVector::default())
}

async fn write_record(
    db: &Db,
    doc: DocId,
    r: &DemoRecord,
    by: Option<UserId>,
) -> anyhow::Result<()> {
    let update = build(|doc| {
        let record = Record::new(doc);
        let keys = [
            RecordField::Form,
            RecordField::Time,
            RecordField::Place,
            RecordField::Presider,
            RecordField::Participants,
        ];
        for (key, value) in keys.into_iter().zip(r.fields) {
            record.set_field(key, value);
        }
        for &(speaker, text, at) in r.entries {
            record.push_entry(&Entry {
                speaker: speaker.to_string(),
                text: text.to_string(),
                at: at.to_string(),
            });
        }
        record.insert_summary(0, r.summary);
    });
    docs::append_update(db, doc, &update, by).await?;
    Ok(())
}

/// Terminal columns a string takes: CJK characters are two wide.
fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn pad(s: &str, cols: usize) -> String {
    format!("{s}{}", " ".repeat(cols.saturating_sub(width(s))))
}

/// Prints the demo logins as a table on stdout (not the log: the person who
/// started the demo needs to read them).
pub fn print_logins(logins: &[DemoLogin]) {
    let user_w = logins
        .iter()
        .map(|l| width(&l.username))
        .max()
        .unwrap_or(0)
        .max(8);
    let name_w = logins
        .iter()
        .map(|l| width(&l.display_name))
        .max()
        .unwrap_or(0)
        .max(4);
    println!("演示账号 / demo logins:");
    println!(
        "  {}  {}  {:<8}  password",
        pad("username", user_w),
        pad("姓名", name_w),
        "role"
    );
    for l in logins {
        println!(
            "  {}  {}  {:<8}  {}",
            pad(&l.username, user_w),
            pad(&l.display_name, name_w),
            l.role.as_str(),
            l.password
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn seeds_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).await.unwrap();
        let logins = seed(&db).await.unwrap().unwrap();
        assert_eq!(logins.len(), PEOPLE.len());
        assert!(
            seed(&db).await.unwrap().is_none(),
            "a second seed touches nothing"
        );

        let staff = users::find_by_username(&db, "zhou.min")
            .await
            .unwrap()
            .unwrap();
        assert!(auth::verify_password(DEMO_PASSWORD, &staff.password_hash));
        let all = topics::list_visible(&db, &staff.user).await.unwrap();
        assert_eq!(all.len(), TOPICS.len());
        let forms: std::collections::BTreeSet<_> = all.iter().map(|t| t.form).collect();
        assert_eq!(forms.len(), 5);
        assert!(all.iter().map(|t| t.record_docs.len()).sum::<usize>() >= 2);

        let member = users::find_by_username(&db, "yang.shan")
            .await
            .unwrap()
            .unwrap()
            .user;
        let mine = topics::list_visible(&db, &member).await.unwrap();
        assert_eq!(mine.len(), 2);

        // The drafts and records hold their text, as a peer would see it.
        let config = crate::config::Config::for_data_dir(dir.path().to_path_buf());
        let registry = crate::docs::Registry::new(db.clone(), &config);
        let meeting = all
            .iter()
            .find(|t| t.form == ConsultationForm::Meeting)
            .unwrap();
        let info = docs::doc_info(&db, meeting.draft_doc)
            .await
            .unwrap()
            .unwrap();
        let draft = registry.content(&info).await.unwrap();
        assert_eq!(draft["title"], TOPICS[0].title);
        assert!(draft["body"].as_str().unwrap().contains("## 三、意见建议"));
        let info = docs::doc_info(&db, meeting.record_docs[0])
            .await
            .unwrap()
            .unwrap();
        let record = registry.content(&info).await.unwrap();
        assert_eq!(record["entries"].as_array().map(Vec::len), Some(5));
        assert!(!record["fields"].as_object().unwrap().is_empty());
        registry.shutdown().await;
        print_logins(&logins);
    }
}
