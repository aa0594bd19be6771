//! The JSON API as tests use it (DESIGN.md, "HTTP contract"), plus [`Committee`]:
//! staff, members and a topic whose draft the members may edit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use xieshang_shared::DocId;

/// Something that can create accounts: the in-process server writes them to its
/// database directly, the real binary through `xieshang user add`.
pub trait AddUsers {
    /// Creates `username` with [`crate::PASSWORD`] and `role` (`member`, `staff`, …).
    fn add_user(
        &self,
        username: &str,
        role: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub user_id: i64,
    /// The bearer token (`?token=` on the socket, `Authorization: Bearer` on the API).
    pub token: String,
}

/// The server's HTTP API at one address.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// The API of the server listening on `addr`.
    pub fn new(addr: SocketAddr) -> Api {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_default();
        Api {
            base: format!("http://{addr}"),
            http,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The sync socket of `doc`; `ext` asks for our extensions (acks).
    pub fn ws_url(&self, doc: DocId, token: Option<&str>, ext: bool) -> String {
        let mut url = format!("{}/sync/{doc}", self.base.replacen("http://", "ws://", 1));
        let mut sep = '?';
        if let Some(t) = token {
            url.push_str(&format!("{sep}token={t}"));
            sep = '&';
        }
        if ext {
            url.push_str(&format!("{sep}ext=1"));
        }
        url
    }

    /// `GET /healthz` answered 200.
    pub async fn healthy(&self) -> bool {
        match self.http.get(format!("{}/healthz", self.base)).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    }

    /// `POST /api/session` with [`crate::PASSWORD`].
    pub async fn login(&self, username: &str) -> Result<Session> {
        self.login_with(username, crate::PASSWORD).await
    }

    /// `POST /api/session` with another password (demo or fixture accounts).
    pub async fn login_with(&self, username: &str, password: &str) -> Result<Session> {
        let resp = self
            .http
            .post(format!("{}/api/session", self.base))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await?;
        let v = expect_json(resp, 200, "POST /api/session").await?;
        let token = v["token"]
            .as_str()
            .context("login answer without token")?
            .to_string();
        let user_id = v["user"]["id"]
            .as_i64()
            .context("login answer without user.id")?;
        Ok(Session {
            username: username.to_string(),
            user_id,
            token,
        })
    }

    /// `POST /api/topics` as `staff`; answers `(topic id, draft doc id)`.
    pub async fn create_topic(&self, staff: &Session, title: &str) -> Result<(i64, DocId)> {
        let resp = self
            .http
            .post(format!("{}/api/topics", self.base))
            .bearer_auth(&staff.token)
            .json(&json!({ "title": title, "form": "meeting" }))
            .send()
            .await?;
        let v = expect_json(resp, 201, "POST /api/topics").await?;
        let topic = v["id"].as_i64().context("topic without id")?;
        let doc = doc_id(&v["draft_doc"]).context("topic without draft_doc")?;
        Ok((topic, doc))
    }

    /// `PUT /api/topics/{id}/participants` as `staff`.
    pub async fn set_participants(&self, staff: &Session, topic: i64, users: &[i64]) -> Result<()> {
        let resp = self
            .http
            .put(format!("{}/api/topics/{topic}/participants", self.base))
            .bearer_auth(&staff.token)
            .json(&json!({ "user_ids": users }))
            .send()
            .await?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            bail!(
                "PUT participants answered {status}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// `GET /api/docs/{id}` as `who`.
    pub async fn doc(&self, who: &Session, doc: DocId) -> Result<Value> {
        let resp = self
            .http
            .get(format!("{}/api/docs/{doc}", self.base))
            .bearer_auth(&who.token)
            .send()
            .await?;
        expect_json(resp, 200, "GET /api/docs/{id}").await
    }

    /// The merged Markdown body of a draft, from `GET /api/docs/{id}`.
    pub async fn draft_body(&self, who: &Session, doc: DocId) -> Result<String> {
        let v = self.doc(who, doc).await?;
        v["content"]["body"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no content.body in {v}"))
    }
}

async fn expect_json(resp: reqwest::Response, status: u16, what: &str) -> Result<Value> {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if got != status {
        bail!("{what} answered {got} (expected {status}): {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{what} answered non-JSON: {text}"))
}

/// Unique names across every server a test process starts.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Staff, `members` participants and one outsider (a member who is not a
/// participant), signed in, with one topic whose draft the members may edit.
#[derive(Debug, Clone)]
pub struct Committee {
    pub staff: Session,
    /// Participants of every topic this committee creates.
    pub members: Vec<Session>,
    /// A member who takes part in none of them.
    pub outsider: Session,
    pub topic: i64,
    /// The draft document of `topic`.
    pub doc: DocId,
}

impl Committee {
    /// Creates the accounts on `server`, signs them in through `api` and creates a topic.
    pub async fn setup(server: &impl AddUsers, api: &Api, members: usize) -> Result<Committee> {
        let run = NEXT.fetch_add(1, Ordering::Relaxed);
        let staff_name = format!("staff{run}");
        server.add_user(&staff_name, "staff").await?;
        let outsider_name = format!("outsider{run}");
        server.add_user(&outsider_name, "member").await?;
        let mut names = Vec::new();
        for i in 0..members {
            let name = format!("m{run}_{i}");
            server.add_user(&name, "member").await?;
            names.push(name);
        }
        let staff = api.login(&staff_name).await?;
        let outsider = api.login(&outsider_name).await?;
        let mut sessions = Vec::new();
        for n in &names {
            sessions.push(api.login(n).await?);
        }
        let mut c = Committee {
            staff,
            members: sessions,
            outsider,
            topic: 0,
            doc: DocId::legacy(0),
        };
        let (topic, doc) = c.new_topic(api, "协商议题 test").await?;
        c.topic = topic;
        c.doc = doc;
        Ok(c)
    }

    /// Another topic with the same participants; answers `(topic, draft doc)`.
    pub async fn new_topic(&self, api: &Api, title: &str) -> Result<(i64, DocId)> {
        let (topic, doc) = api.create_topic(&self.staff, title).await?;
        let ids: Vec<i64> = self.members.iter().map(|m| m.user_id).collect();
        api.set_participants(&self.staff, topic, &ids).await?;
        Ok((topic, doc))
    }
}

/// A document id as the API writes it (a UUID string).
pub fn doc_id(v: &Value) -> Result<DocId> {
    let text = v
        .as_str()
        .with_context(|| format!("not a document id: {v}"))?;
    text.parse::<DocId>()
        .with_context(|| format!("not a document id: {text:?}"))
}
