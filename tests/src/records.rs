//! The canonical-records API (issue #4) as tests use it: versions, sign-offs,
//! finalization, restore, authorship, export, follow-up and audit. Answers are
//! `(status, JSON)` so tests can assert refusals as well as successes.

use anyhow::{Context, Result};
use serde_json::Value;
use xieshang_shared::DocId;

use crate::{Api, Session};

/// Calls to one server's records endpoints.
#[derive(Debug, Clone)]
pub struct Records {
    base: String,
    http: reqwest::Client,
}

/// A downloaded file: status, content type, content disposition, bytes.
#[derive(Debug, Clone)]
pub struct Download {
    pub status: u16,
    pub content_type: String,
    pub disposition: String,
    pub bytes: Vec<u8>,
}

impl Records {
    /// The records API of the server behind `api`.
    pub fn new(api: &Api) -> Records {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_default();
        Records {
            base: format!("{}/api", api.base()),
            http,
        }
    }

    /// `method path` with an optional JSON body as `who`; answers status and JSON (Null if none).
    pub async fn call(
        &self,
        who: &Session,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&who.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("calling {path}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// `GET /docs/{doc}/versions`.
    pub async fn versions(&self, who: &Session, doc: DocId) -> Result<Vec<Value>> {
        let (status, v) = self
            .call(who, "GET", &format!("/docs/{doc}/versions"), None)
            .await?;
        anyhow::ensure!(status == 200, "GET versions answered {status}: {v}");
        v.as_array().cloned().context("versions is not an array")
    }

    /// The current version's name, from the versions listing.
    pub async fn current_version(&self, who: &Session, doc: DocId) -> Result<String> {
        let list = self.versions(who, doc).await?;
        let last = list.last().context("no versions")?;
        anyhow::ensure!(
            last["current"] == true,
            "last version is not current: {last}"
        );
        last["version"]
            .as_str()
            .map(str::to_string)
            .context("version without name")
    }

    /// `POST /docs/{doc}/signoffs {"version"}`.
    pub async fn sign(&self, who: &Session, doc: DocId, version: &str) -> Result<(u16, Value)> {
        let body = serde_json::json!({ "version": version });
        self.call(who, "POST", &format!("/docs/{doc}/signoffs"), Some(body))
            .await
    }

    /// `POST /docs/{doc}/finalize {"version","absent_reason"?}`.
    pub async fn finalize(
        &self,
        who: &Session,
        doc: DocId,
        version: &str,
        absent_reason: Option<&str>,
    ) -> Result<(u16, Value)> {
        let mut body = serde_json::json!({ "version": version });
        if let Some(r) = absent_reason {
            body["absent_reason"] = Value::String(r.to_string());
        }
        self.call(who, "POST", &format!("/docs/{doc}/finalize"), Some(body))
            .await
    }

    /// `GET /docs/{doc}/export?format=…` as bytes with its headers.
    pub async fn export(&self, who: &Session, doc: DocId, format: &str) -> Result<Download> {
        let resp = self
            .http
            .get(format!("{}/docs/{doc}/export?format={format}", self.base))
            .bearer_auth(&who.token)
            .send()
            .await?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let (status, content_type, disposition) = (
            resp.status().as_u16(),
            header("content-type"),
            header("content-disposition"),
        );
        let bytes = resp.bytes().await?.to_vec();
        Ok(Download {
            status,
            content_type,
            disposition,
            bytes,
        })
    }
}
