//! Interface texts: zh-CN by default, English selectable. The domain's words
//! follow GLOSSARY.md; labels of domain values (forms, stages, kinds) come
//! from `xieshang_shared`, so they are spelled once.

use crate::sync::SyncState;

/// A language of the interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文, the default: the users are CPPCC members and staff.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order the switch lists them.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, used for `<html lang>`, the switch's values and storage.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The inverse of [`Lang::code`].
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }

    /// The language's own name, as the switch shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::ZhCn => "中文",
            Lang::En => "English",
        }
    }
}

/// Every text of the interface, one field per phrase.
pub struct Texts {
    pub tagline: &'static str,
    pub language: &'static str,
    pub sign_in: &'static str,
    pub signing_in: &'static str,
    pub sign_out: &'static str,
    /// Sign out and remove this user's local stores.
    pub forget_device: &'static str,
    /// The warning before removing data that still holds unsent work.
    pub forget_device_unsent: &'static str,
    pub forget_device_sure: &'static str,
    pub confirm: &'static str,
    pub cancel: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub bad_credentials: &'static str,
    pub network_error: &'static str,
    pub server_error: &'static str,
    pub forbidden: &'static str,
    pub topics: &'static str,
    pub no_topics: &'static str,
    pub loading: &'static str,
    pub topic: &'static str,
    pub document: &'static str,
    pub back_to_topics: &'static str,
    pub back_to_topic: &'static str,
    pub not_found: &'static str,
    pub offline_cached: &'static str,
    pub not_cached: &'static str,
    pub synced: &'static str,
    pub syncing: &'static str,
    pub offline: &'static str,
    pub unsent: &'static str,
    pub form: &'static str,
    pub stage: &'static str,
    pub due: &'static str,
    pub lead_leader: &'static str,
    pub responsible_dept: &'static str,
    pub responsible_person: &'static str,
    pub plan_year: &'static str,
    pub responsibility: &'static str,
    pub draft: &'static str,
    pub open_draft: &'static str,
    pub records: &'static str,
    pub no_records: &'static str,
    /// Created on this computer, not registered with the server yet.
    pub not_on_server: &'static str,
    /// Creating failed: neither this computer's store nor the server took it.
    pub create_failed: &'static str,
    pub new_record: &'static str,
    pub participants: &'static str,
    pub nobody: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    pub preview: &'static str,
    pub present: &'static str,
    pub alone: &'static str,
    pub rec_time: &'static str,
    pub rec_place: &'static str,
    pub rec_presider: &'static str,
    pub entries: &'static str,
    pub no_entries: &'static str,
    pub speaker: &'static str,
    pub said: &'static str,
    pub add_entry: &'static str,
    pub summary: &'static str,
    pub op_reporter: &'static str,
    pub op_site: &'static str,
    pub op_category: &'static str,
    pub versions: &'static str,
    pub no_versions: &'static str,
    pub current: &'static str,
    pub signed_by: &'static str,
    pub sign_off: &'static str,
    pub signed: &'static str,
    pub signoff_queued: &'static str,
    pub signoff_stale: &'static str,
    pub stale: &'static str,
    pub finalize: &'static str,
    pub absent_reason: &'static str,
    pub finalized_as: &'static str,
    pub missing: &'static str,
    pub stale_finalize: &'static str,
    pub readonly: &'static str,
    pub downloads: &'static str,
    pub session_expired: &'static str,
    pub review: &'static str,
    pub you: &'static str,
}

const ZH_CN: Texts = Texts {
    tagline: "政协协商工作协同起草",
    language: "语言",
    sign_in: "登录",
    signing_in: "正在登录…",
    sign_out: "退出",
    forget_device: "清除本机数据",
    forget_device_unsent: "本机还有尚未发送到服务器的修改或签署，清除后将永久丢失：",
    forget_device_sure: "将退出登录，并从这台电脑删除您的全部本地数据（文档、缓存、待发送内容）。",
    confirm: "确定",
    cancel: "取消",
    username: "用户名",
    password: "密码",
    bad_credentials: "用户名或密码错误",
    network_error: "无法连接服务器，请检查网络",
    server_error: "服务器出错，请稍后再试",
    forbidden: "无权查看此内容",
    topics: "协商议题",
    no_topics: "暂无议题",
    loading: "加载中…",
    topic: "议题",
    document: "文稿",
    back_to_topics: "返回议题列表",
    back_to_topic: "返回议题",
    not_found: "页面不存在",
    offline_cached: "离线：显示上次同步的内容",
    not_cached: "离线，且本机没有保存过此内容",
    synced: "已同步",
    syncing: "同步中…",
    offline: "离线",
    unsent: "有未发送的修改",
    form: "协商形式",
    stage: "工作节点",
    due: "完成时限",
    lead_leader: "牵头领导",
    responsible_dept: "责任部门",
    responsible_person: "责任人",
    plan_year: "计划年度",
    responsibility: "责任分解",
    draft: "协商成果建议稿",
    open_draft: "打开建议稿",
    records: "协商记录",
    no_records: "暂无协商记录",
    not_on_server: "尚未上传到服务器",
    create_failed: "无法新建：本机无法保存，也无法连接服务器",
    new_record: "新建协商记录",
    participants: "参与人员",
    nobody: "暂无",
    title: "标题",
    body: "正文（Markdown）",
    preview: "预览",
    present: "在线成员",
    alone: "暂无其他成员",
    rec_time: "时间",
    rec_place: "地点",
    rec_presider: "主持人",
    entries: "发言记录",
    no_entries: "暂无发言",
    speaker: "发言人",
    said: "发言内容",
    add_entry: "添加发言",
    summary: "小结",
    op_reporter: "反映人",
    op_site: "来源",
    op_category: "类别",
    versions: "版本记录",
    no_versions: "暂无版本",
    current: "当前版本",
    signed_by: "已签署：",
    sign_off: "签署同意",
    signed: "已签署当前版本",
    signoff_queued: "签署已保存，联网后发送",
    signoff_stale: "已过期：您签署后文稿又有修改，请查看改动后重新签署",
    stale: "已过期",
    finalize: "定稿",
    absent_reason: "缺签说明（可选）",
    finalized_as: "已定稿",
    missing: "尚未签署：",
    stale_finalize: "文稿已有新修改，请刷新版本后再定稿",
    readonly: "已定稿，只读",
    downloads: "下载建言献策简报",
    session_expired: "登录已过期，请重新登录。未发送的修改已保留，登录后继续发送。",
    review: "审议与定稿",
    you: "我",
};

const EN: Texts = Texts {
    tagline: "Co-drafting for CPPCC consultation work",
    language: "Language",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    sign_out: "Sign out",
    forget_device: "Remove my data",
    forget_device_unsent: "This computer still holds changes or sign-offs the server has not received; removing them loses them for good:",
    forget_device_sure: "You will be signed out and all your local data (documents, caches, unsent work) deleted from this computer.",
    confirm: "Confirm",
    cancel: "Cancel",
    username: "Username",
    password: "Password",
    bad_credentials: "Wrong username or password",
    network_error: "Cannot reach the server; check the network",
    server_error: "The server failed; please try again later",
    forbidden: "You may not see this",
    topics: "Consultation topics",
    no_topics: "No topics yet",
    loading: "Loading…",
    topic: "Topic",
    document: "Document",
    back_to_topics: "Back to topics",
    back_to_topic: "Back to the topic",
    not_found: "Page not found",
    offline_cached: "Offline: showing what was last synced",
    not_cached: "Offline, and this was never saved on this device",
    synced: "Synced",
    syncing: "Syncing…",
    offline: "Offline",
    unsent: "Unsent changes",
    form: "Form",
    stage: "Stage",
    due: "Due",
    lead_leader: "Lead leader",
    responsible_dept: "Responsible department",
    responsible_person: "Responsible person",
    plan_year: "Plan year",
    responsibility: "Responsibilities",
    draft: "Recommendation draft",
    open_draft: "Open the draft",
    records: "Consultation records",
    no_records: "No records yet",
    not_on_server: "Not yet on the server",
    create_failed: "Cannot create: this computer cannot store it and the server cannot be reached",
    new_record: "New record",
    participants: "Participants",
    nobody: "None",
    title: "Title",
    body: "Text (Markdown)",
    preview: "Preview",
    present: "Also here",
    alone: "Nobody else is here",
    rec_time: "Time",
    rec_place: "Place",
    rec_presider: "Presided by",
    entries: "Statements",
    no_entries: "No statements yet",
    speaker: "Speaker",
    said: "What was said",
    add_entry: "Add a statement",
    summary: "Summary",
    op_reporter: "Reported by",
    op_site: "From",
    op_category: "Category",
    versions: "Versions",
    no_versions: "No versions yet",
    current: "Current",
    signed_by: "Signed by: ",
    sign_off: "Sign off",
    signed: "You signed the current version",
    signoff_queued: "Sign-off saved; it is sent when online",
    signoff_stale: "Stale: the text changed after the version you signed; review the changes and sign again",
    stale: "stale",
    finalize: "Finalize",
    absent_reason: "Reason for absent sign-offs (optional)",
    finalized_as: "Finalized",
    missing: "Not yet signed: ",
    stale_finalize: "The text changed; refresh the versions and finalize again",
    readonly: "Finalized, read-only",
    downloads: "Download the bulletin",
    session_expired: "Your session has expired; please sign in again. Unsent changes are kept and go out after you sign in.",
    review: "Review and finalize",
    you: "me",
};

/// The texts of `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::ZhCn => &ZH_CN,
        Lang::En => &EN,
    }
}

/// The shared crate's language for its labels (`ConsultationForm::label`, …).
pub fn shared(lang: Lang) -> xieshang_shared::Lang {
    match lang {
        Lang::ZhCn => xieshang_shared::Lang::ZhCn,
        Lang::En => xieshang_shared::Lang::En,
    }
}

/// The indicator's words: 已同步 / 同步中… / 离线，N 处修改未发送.
pub fn sync_text(lang: Lang, state: SyncState, pending: usize) -> String {
    let t = texts(lang);
    match (lang, state, pending) {
        (_, SyncState::Synced, _) => t.synced.to_owned(),
        (_, SyncState::Syncing, 0) => t.syncing.to_owned(),
        (Lang::ZhCn, SyncState::Syncing, n) => format!("同步中，{n} 处修改待确认"),
        (Lang::En, SyncState::Syncing, n) => format!("Syncing, {n} changes awaiting the server"),
        (_, SyncState::Offline, 0) => t.offline.to_owned(),
        (Lang::ZhCn, SyncState::Offline, n) => format!("离线，{n} 处修改未发送"),
        (Lang::En, SyncState::Offline, 1) => "Offline, 1 change not yet sent".to_owned(),
        (Lang::En, SyncState::Offline, n) => format!("Offline, {n} changes not yet sent"),
    }
}

/// The warning beside the indicator when changes could not be stored locally.
pub fn unsaved_text(lang: Lang, n: usize) -> String {
    match (lang, n) {
        (Lang::ZhCn, n) => format!("（{n} 处修改未能保存在本机，请保持联网直到同步完成）"),
        (Lang::En, 1) => {
            "(1 change not saved on this computer: stay online until it syncs)".to_owned()
        }
        (Lang::En, n) => {
            format!("({n} changes not saved on this computer: stay online until they sync)")
        }
    }
}

/// "第 3 行，第 5 列" / "line 3, column 5".
pub fn line_col(lang: Lang, line: u32, col: u32) -> String {
    match lang {
        Lang::ZhCn => format!("第 {line} 行，第 {col} 列"),
        Lang::En => format!("line {line}, column {col}"),
    }
}

/// Why a version was named.
pub fn version_reason(lang: Lang, reason: &str) -> &str {
    match (lang, reason) {
        (Lang::ZhCn, "signoff") => "签署",
        (Lang::ZhCn, "finalize") => "定稿",
        (Lang::ZhCn, "restore") => "恢复",
        (Lang::ZhCn, "viewed") => "查看",
        (Lang::ZhCn, "periodic") => "自动保存",
        (Lang::ZhCn, "amend") => "修订",
        (Lang::ZhCn, "current") => "当前",
        (Lang::En, "signoff") => "sign-off",
        (Lang::En, "finalize") => "finalized",
        (Lang::En, "restore") => "restored",
        (Lang::En, "viewed") => "viewed",
        (Lang::En, "periodic") => "autosave",
        (Lang::En, "amend") => "amendment",
        (Lang::En, "current") => "current",
        _ => reason,
    }
}
