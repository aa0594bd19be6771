//! Where a request's token comes from (bearer header, `token` query
//! parameter, session cookie) and the `Set-Cookie` values that store and
//! clear it; cookies are built and parsed with the `cookie` crate (through
//! axum-extra) rather than by hand.

use std::borrow::Cow;

use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, SameSite};
use time::Duration;

/// The cookie that carries the session token for browsers.
pub const SESSION_COOKIE: &str = "xieshang_session";
/// The `Set-Cookie` value that stores a session token in the browser:
/// `HttpOnly` (no script reads it), `SameSite=Lax` (no cross-site POST carries
/// it), `Path=/`, `Max-Age`; `secure` (the public URL is https) adds `Secure`
/// so it stays off plain-HTTP requests, and only then, since a plain-HTTP
/// install would otherwise never get its cookie back.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    let max_age = i64::try_from(max_age_secs).unwrap_or(i64::MAX);
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(Duration::seconds(max_age))
        .secure(secure)
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes the session cookie (empty, `Max-Age=0`),
/// with the same attributes so the browser replaces the one it holds.
pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// Whether the configured public URL is https, so cookies must be `Secure`.
pub fn public_url_is_https(public_url: Option<&str>) -> bool {
    public_url.is_some_and(|u| {
        u.trim()
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    })
}

/// `path?query` with the value of every `token` parameter replaced, for logs:
/// a token in a log line is a session for whoever reads the log.
pub fn redact_token(path_and_query: &str) -> Cow<'_, str> {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return Cow::Borrowed(path_and_query);
    };
    if !query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("token"))
    {
        return Cow::Borrowed(path_and_query);
    }
    let redacted: Vec<&str> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("token", _)) => "token=[redacted]",
            _ if pair == "token" => "token=[redacted]",
            _ => pair,
        })
        .collect();
    Cow::Owned(format!("{path}?{}", redacted.join("&")))
}

/// The token a request presents: `Authorization: Bearer`, else the `token`
/// query parameter (what y-websocket's `params` sends), else the session
/// cookie. Tokens the client chose explicitly win over the ambient cookie, so a
/// stale cookie cannot shadow the token a WebSocket was opened with.
pub fn presented_token<'a>(
    headers: &'a HeaderMap,
    query_token: Option<&'a str>,
) -> Option<&'a str> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let cookie = || {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(|c| c.ok())
            .find(|c| c.name_raw() == Some(SESSION_COOKIE))
            .and_then(|c| c.value_raw())
    };
    bearer
        .or(query_token)
        .or_else(cookie)
        .filter(|t| !t.is_empty())
}

/// The `token` parameter of a query string, if present.
pub fn query_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens_in_logged_uris() {
        assert_eq!(redact_token("/sync/3"), "/sync/3");
        assert_eq!(redact_token("/sync/3?ext=1"), "/sync/3?ext=1");
        assert_eq!(
            redact_token("/sync/3?token=abc.def&ext=1"),
            "/sync/3?token=[redacted]&ext=1"
        );
        assert_eq!(
            redact_token("/api/session?x=1&token=a&token=b"),
            "/api/session?x=1&token=[redacted]&token=[redacted]"
        );
        assert_eq!(redact_token("/s?token"), "/s?token=[redacted]");
        assert_eq!(redact_token("/s?tokens=1"), "/s?tokens=1");
    }

    #[test]
    fn cookie_secure_only_for_https() {
        let attributes = |set_cookie: String| -> Vec<String> {
            let mut parts: Vec<String> = set_cookie.split("; ").map(str::to_owned).collect();
            parts.sort();
            parts
        };
        assert_eq!(
            attributes(session_cookie("t", 60, true)),
            [
                "HttpOnly",
                "Max-Age=60",
                "Path=/",
                "SameSite=Lax",
                "Secure",
                "xieshang_session=t"
            ]
        );
        assert_eq!(
            attributes(session_cookie("t", 60, false)),
            [
                "HttpOnly",
                "Max-Age=60",
                "Path=/",
                "SameSite=Lax",
                "xieshang_session=t"
            ]
        );
        assert_eq!(
            attributes(clear_session_cookie(true)),
            [
                "HttpOnly",
                "Max-Age=0",
                "Path=/",
                "SameSite=Lax",
                "Secure",
                "xieshang_session="
            ]
        );
        assert!(public_url_is_https(Some("HTTPS://zx.example.cn/")));
        assert!(!public_url_is_https(Some("http://zx.example.cn/")));
        assert!(!public_url_is_https(Some("https:")));
        assert!(!public_url_is_https(None));
    }

    #[test]
    fn token_sources() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_token(&h, Some("q")), Some("q"));
        h.insert(
            COOKIE,
            "a=1; xieshang_sessionx=d; xieshang_session=c; b=2"
                .parse()
                .unwrap(),
        );
        assert_eq!(presented_token(&h, Some("q")), Some("q"));
        assert_eq!(presented_token(&h, None), Some("c"));
        // Pairs that do not parse are skipped, not the end of the header.
        let mut garbled = HeaderMap::new();
        garbled.insert(COOKIE, "=x; junk; xieshang_session=e".parse().unwrap());
        assert_eq!(presented_token(&garbled, None), Some("e"));
        h.insert(AUTHORIZATION, "Bearer b".parse().unwrap());
        assert_eq!(presented_token(&h, Some("q")), Some("b"));
        assert_eq!(query_token(Some("x=1&token=abc.def")), Some("abc.def"));
        assert_eq!(query_token(Some("x=1")), None);
        assert_eq!(query_token(None), None);
    }
}
