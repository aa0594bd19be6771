//! The bulletin (建言献策) of a finalized outcome: Markdown and HTML carry the
//! header (committee, 第N期, date, title), the body and who signed; the DOCX
//! opens in LibreOffice (converted to PDF, whose text must hold the Chinese
//! title and body). A draft exports marked 草稿. Follow-up and the audit log
//! record what happened to it.

use std::io::{Cursor, Read};
use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use tokio::process::Command;
use xieshang_server::export::html::body_section;
use xieshang_shared::markdown;
use xieshang_tests::records::Records;
use xieshang_tests::{Backend, TestClient, TestServer};

const COMMITTEE: &str = "测试县政协";
const TITLE: &str = "关于加强农村养老服务的建议";
const BODY: &str = "# 一、基本情况\n\n全县共有养老机构十二家，床位不足。\n\n## 二、建议\n\n- 增加财政投入\n- 培养护理人员";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulletin_exports_and_followup() -> Result<()> {
    let tag = "export";
    let server =
        TestServer::start_with(Backend::Sqlite, |c| c.committee_name = COMMITTEE.into()).await?;
    let c = server.committee(2).await?;
    let (_, doc) = c.new_topic(&server.api, TITLE).await?;
    let r = Records::new(&server.api);
    let mut w = TestClient::new("writer");
    w.connect(&server.api.ws_url(doc, Some(&c.members[0].token), true))
        .await?;
    w.append(BODY).await?;
    w.wait_all_acked().await?;
    w.disconnect().await;

    // Not finalized yet: the current text, marked as a draft.
    let draft = r.export(&c.members[0], doc, "md").await?;
    let md = String::from_utf8(draft.bytes)?;
    ensure!(
        draft.status == 200 && md.contains("草稿") && md.contains("全县共有养老机构"),
        "{tag}: {md}"
    );

    let v = r.current_version(&c.staff, doc).await?;
    for m in &c.members {
        let (status, body) = r.sign(m, doc, &v).await?;
        ensure!(status == 201, "{tag}: {status} {body}");
    }
    let (status, fv) = r.finalize(&c.staff, doc, &v, None).await?;
    ensure!(status == 201, "{tag}: finalize {status}: {fv}");
    let issue = format!("第{}期", fv["bulletin_no"].as_i64().context("bulletin_no")?);
    let signers: Vec<&str> = c.members.iter().map(|m| m.username.as_str()).collect();

    let md = r.export(&c.members[1], doc, "md").await?;
    ensure!(
        md.status == 200 && md.content_type.starts_with("text/markdown"),
        "{tag}: {md:?}"
    );
    ensure!(
        md.disposition.contains("filename*=UTF-8''%E5%85%B3"),
        "{tag}: {}",
        md.disposition
    );
    let text = String::from_utf8(md.bytes)?;
    for needle in [
        COMMITTEE,
        &issue,
        TITLE,
        "全县共有养老机构十二家",
        "- 培养护理人员",
    ]
    .into_iter()
    .chain(signers.iter().copied())
    {
        ensure!(
            text.contains(needle),
            "{tag}: markdown lacks {needle:?}:\n{text}"
        );
    }
    ensure!(
        !text.contains("草稿"),
        "{tag}: finalized bulletin marked draft"
    );

    let html = r.export(&c.members[1], doc, "html").await?;
    let page = String::from_utf8(html.bytes)?;
    ensure!(
        html.content_type.starts_with("text/html"),
        "{tag}: {}",
        html.content_type
    );
    ensure!(
        page.contains("<h1>一、基本情况</h1>") && page.contains(&issue),
        "{tag}: {page}"
    );

    let docx = r.export(&c.staff, doc, "docx").await?;
    ensure!(
        docx.status == 200 && docx.bytes.starts_with(b"PK\x03\x04"),
        "{tag}: not a zip"
    );
    ensure!(
        docx.content_type.contains("wordprocessingml"),
        "{tag}: {}",
        docx.content_type
    );
    let pdf_text = docx_to_texts(std::slice::from_ref(&docx.bytes)).await?;
    match pdf_text.map(|mut t| t.remove(0)) {
        None => xieshang_tests::skip_or_fail(
            tag,
            "DOCX check",
            "`libreoffice` or `pdftotext` is not on PATH (Debian: apt-get install \
             --no-install-recommends libreoffice-writer-nogui poppler-utils fonts-noto-cjk; \
             `cargo xtask test` installs them)",
        ),
        Some(t) => {
            let flat: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            for needle in [
                TITLE,
                "全县共有养老机构十二家，床位不足。",
                "一、基本情况",
                &issue,
                COMMITTEE,
            ] {
                ensure!(
                    flat.contains(needle),
                    "{tag}: PDF text lacks {needle:?}:\n{t}"
                );
            }
            println!("[{tag}] DOCX opened in LibreOffice; PDF text has title, body and {issue}");
        }
    }
    let (status, body) = r
        .export(&c.staff, doc, "pdf")
        .await
        .map(|d| (d.status, d.bytes))?;
    ensure!(
        status == 400,
        "{tag}: unknown format answered {status}: {}",
        String::from_utf8_lossy(&body)
    );

    // Follow-up: where it went, a leader's instruction, adoption; all audited.
    let put = json!({"sent_to": ["县委办公室", "县政府办公室"], "adoption": "adopted", "units": ["县民政局"]});
    let path = format!("/docs/{doc}/followup");
    let (status, f) = r.call(&c.staff, "PUT", &path, Some(put)).await?;
    ensure!(
        status == 200 && f["adoption"] == "adopted",
        "{tag}: {status} {f}"
    );
    let (status, _) = r
        .call(
            &c.members[0],
            "PUT",
            &path,
            Some(json!({"adoption": "adopted"})),
        )
        .await?;
    ensure!(
        status == 403,
        "{tag}: a member changed the follow-up ({status})"
    );
    let (status, _) = r
        .call(&c.staff, "PUT", &path, Some(json!({"adoption": "maybe"})))
        .await?;
    ensure!(
        status == 400,
        "{tag}: a bad adoption was accepted ({status})"
    );
    let instr =
        json!({"leader": "县委书记 王某", "date": "2026-12-01", "content": "请民政局抓好落实。"});
    let (status, i) = r
        .call(
            &c.staff,
            "POST",
            &format!("{path}/instructions"),
            Some(instr),
        )
        .await?;
    ensure!(status == 201, "{tag}: {status} {i}");
    let (_, f) = r.call(&c.members[0], "GET", &path, None).await?;
    ensure!(
        f["instructions"][0]["content"] == "请民政局抓好落实。",
        "{tag}: {f}"
    );
    let (status, log) = r
        .call(&c.staff, "GET", &format!("/audit?doc={doc}"), None)
        .await?;
    let actions: Vec<&str> = log
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for a in ["signoff", "finalize", "export", "followup", "instruction"] {
        ensure!(
            actions.contains(&a),
            "{tag}: audit lacks {a}: {status} {actions:?}"
        );
    }
    let (status, _) = r
        .call(&c.members[0], "GET", &format!("/audit?doc={doc}"), None)
        .await?;
    ensure!(status == 403, "{tag}: a member read the audit log");

    // An amendment starts a new draft seeded with the finalized text.
    let (status, am) = r
        .call(&c.staff, "POST", &format!("/docs/{doc}/amend"), None)
        .await?;
    ensure!(
        status == 201 && am["amends"] == doc.to_string(),
        "{tag}: {status} {am}"
    );
    let new_doc = xieshang_tests::api::doc_id(&am["id"]).context("amendment id")?;
    let body = server.api.draft_body(&c.members[0], new_doc).await?;
    ensure!(body == BODY, "{tag}: amendment body {body:?}");
    let d: Value = server.api.doc(&c.members[0], new_doc).await?;
    ensure!(
        d["finalized"] == false && d["content"]["title"] == TITLE,
        "{tag}: {d}"
    );
    println!("[{tag}] md/html/docx exported ({issue}), follow-up + audit ({} entries), amendment {new_doc}", actions.len());
    server.shutdown().await;
    Ok(())
}

/// The shared Markdown corpus (`tests/fixtures/markdown`): name, Markdown and
/// the HTML `to_html` must give (shared/tests/markdown_corpus.rs checks that).
fn corpus() -> Result<Vec<(String, String, String)>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/markdown");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    ensure!(files.len() >= 8, "corpus has {} files", files.len());
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .context("name")?
                .to_string_lossy()
                .into_owned();
            let md = std::fs::read_to_string(&p)?;
            let html = std::fs::read_to_string(p.with_extension("html"))?;
            Ok((name, md, html))
        })
        .collect()
}

/// Text with every whitespace character removed: LibreOffice wraps lines and
/// pdftotext breaks them where the page did, so only the characters compare.
fn flat(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every corpus file as a draft's body: the HTML bulletin's body section is the
/// expected HTML, the Markdown bulletin holds the body as written, the DOCX
/// (through LibreOffice) reads as `plain_text`, and no script survives into
/// the HTML or the DOCX XML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_bulletins_match_the_shared_renderer() -> Result<()> {
    let tag = "export-corpus";
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.committee_name = COMMITTEE.into();
        c.bulletin_report_to = "县委、县政府".into();
    })
    .await?;
    let c = server.committee(1).await?;
    let r = Records::new(&server.api);
    let mut docxs = Vec::new();
    let mut expected_text = Vec::new();
    let corpus = corpus()?;
    for (name, md, expected) in &corpus {
        let (_, doc) = c.new_topic(&server.api, &format!("语料 {name}")).await?;
        let mut w = TestClient::new("writer");
        w.connect(&server.api.ws_url(doc, Some(&c.members[0].token), true))
            .await?;
        w.append(md).await?;
        w.wait_all_acked().await?;
        w.disconnect().await;

        let page = String::from_utf8(r.export(&c.members[0], doc, "html").await?.bytes)?;
        let body = body_section(&page).context("no body section")?;
        ensure!(
            body == expected,
            "{tag}: {name}: HTML body differs:\n{body}"
        );
        ensure!(
            page.contains("<p class=\"recipients\">报：县委、县政府</p>")
                && page.contains(&format!("{COMMITTEE}办公室")),
            "{tag}: {name}: header or recipients"
        );
        ensure!(
            !page.to_lowercase().contains("<script"),
            "{tag}: {name}: script in HTML"
        );

        let md_export = r.export(&c.members[0], doc, "md").await?;
        let text = String::from_utf8(md_export.bytes)?;
        // The Markdown bulletin is the body as written (hostile text included),
        // served as a download, never as a page.
        ensure!(
            text.contains(md.trim())
                && md_export.content_type.starts_with("text/markdown")
                && md_export.disposition.starts_with("attachment"),
            "{tag}: {name}: markdown bulletin"
        );

        let docx = r.export(&c.staff, doc, "docx").await?.bytes;
        let mut zip = zip::ZipArchive::new(Cursor::new(&docx))?;
        let mut xml = String::new();
        zip.by_name("word/document.xml")?.read_to_string(&mut xml)?;
        ensure!(
            !xml.to_lowercase().contains("<script"),
            "{tag}: {name}: script in DOCX XML"
        );
        docxs.push(docx);
        expected_text.push(markdown::plain_text(md));
    }
    match docx_to_texts(&docxs).await? {
        None => {
            xieshang_tests::skip_or_fail(tag, "DOCX text", "`libreoffice` or `pdftotext` missing")
        }
        Some(texts) => {
            for ((name, ..), (pdf, want)) in corpus.iter().zip(texts.iter().zip(&expected_text)) {
                ensure!(
                    flat(pdf).contains(&flat(want)),
                    "{tag}: {name}: the DOCX does not read as plain_text.\nwant: {want}\npdf: {pdf}"
                );
            }
            println!(
                "[{tag}] {} corpus files: HTML body, Markdown, DOCX text all match",
                corpus.len()
            );
        }
    }
    server.shutdown().await;
    Ok(())
}

/// Converts DOCX files to PDF with one LibreOffice run and answers each PDF's
/// text, or `None` when `libreoffice` or `pdftotext` is missing.
async fn docx_to_texts(docxs: &[Vec<u8>]) -> Result<Option<Vec<String>>> {
    let have = |cmd: &'static str| async move {
        Command::new(cmd).arg("--version").output().await.is_ok()
    };
    if !have("libreoffice").await || !have("pdftotext").await {
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let mut files = Vec::new();
    for (i, docx) in docxs.iter().enumerate() {
        let file = dir.path().join(format!("bulletin{i}.docx"));
        std::fs::write(&file, docx)?;
        files.push(file);
    }
    let convert = Command::new("libreoffice")
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .args(&files)
        // A profile of its own: no clash with another running instance, nothing left behind.
        .env("HOME", dir.path())
        .arg(format!(
            "-env:UserInstallation=file://{}/lo-profile",
            dir.path().display()
        ))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), convert)
        .await
        .context("libreoffice took over 5 minutes")??;
    let mut texts = Vec::new();
    for file in &files {
        let pdf = file.with_extension("pdf");
        ensure!(
            pdf.is_file(),
            "libreoffice made no {}: {} {}",
            pdf.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = Command::new("pdftotext")
            .arg("-enc")
            .arg("UTF-8")
            .arg(&pdf)
            .arg("-")
            .output()
            .await?;
        ensure!(
            text.status.success(),
            "pdftotext failed: {}",
            String::from_utf8_lossy(&text.stderr)
        );
        texts.push(String::from_utf8_lossy(&text.stdout).into_owned());
    }
    Ok(Some(texts))
}
