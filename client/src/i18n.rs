//! Interface texts: zh-CN by default, English selectable. The domain's words
//! follow GLOSSARY.md.

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
    pub username: &'static str,
    pub password: &'static str,
    pub bad_credentials: &'static str,
    pub network_error: &'static str,
    pub server_error: &'static str,
    pub topics: &'static str,
    pub no_topics: &'static str,
    pub loading: &'static str,
    pub topic: &'static str,
    pub document: &'static str,
    pub coming_soon: &'static str,
    pub back_to_topics: &'static str,
    pub not_found: &'static str,
    pub due: &'static str,
}

const ZH_CN: Texts = Texts {
    tagline: "政协协商工作协同起草",
    language: "语言",
    sign_in: "登录",
    signing_in: "正在登录…",
    sign_out: "退出",
    username: "用户名",
    password: "密码",
    bad_credentials: "用户名或密码错误",
    network_error: "无法连接服务器，请检查网络",
    server_error: "服务器出错，请稍后再试",
    topics: "协商议题",
    no_topics: "暂无议题",
    loading: "加载中…",
    topic: "议题",
    document: "文稿",
    coming_soon: "此页面即将推出",
    back_to_topics: "返回议题列表",
    not_found: "页面不存在",
    due: "完成时限",
};

const EN: Texts = Texts {
    tagline: "Co-drafting for CPPCC consultation work",
    language: "Language",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    sign_out: "Sign out",
    username: "Username",
    password: "Password",
    bad_credentials: "Wrong username or password",
    network_error: "Cannot reach the server; check the network",
    server_error: "The server failed; please try again later",
    topics: "Consultation topics",
    no_topics: "No topics yet",
    loading: "Loading…",
    topic: "Topic",
    document: "Document",
    coming_soon: "This page is coming soon",
    back_to_topics: "Back to topics",
    not_found: "Page not found",
    due: "Due",
};

/// The texts of `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::ZhCn => &ZH_CN,
        Lang::En => &EN,
    }
}

/// The label of a consultation form (`ConsultationForm` in the API, snake_case).
/// Unknown values are shown as they came.
pub fn form_label(lang: Lang, form: &str) -> String {
    let label = match (lang, form) {
        (Lang::ZhCn, "meeting") => "会议协商",
        (Lang::ZhCn, "inspection") => "视察协商",
        (Lang::ZhCn, "requested") => "点题协商",
        (Lang::ZhCn, "dialogue") => "恳谈协商",
        (Lang::ZhCn, "written") => "书面协商",
        (Lang::En, "meeting") => "Meeting",
        (Lang::En, "inspection") => "Inspection",
        (Lang::En, "requested") => "Requested",
        (Lang::En, "dialogue") => "Dialogue",
        (Lang::En, "written") => "Written",
        _ => return form.to_owned(),
    };
    label.to_owned()
}

/// The label of a topic's stage (`Stage` in the API).
pub fn stage_label(lang: Lang, stage: &str) -> String {
    let label = match (lang, stage) {
        (Lang::ZhCn, "research") => "调研",
        (Lang::ZhCn, "consultation") => "协商",
        (Lang::ZhCn, "transformation") => "转化",
        (Lang::En, "research") => "Research",
        (Lang::En, "consultation") => "Consultation",
        (Lang::En, "transformation") => "Transformation",
        _ => return stage.to_owned(),
    };
    label.to_owned()
}
