//! The browser underneath the engine: WebSocket, timers, network events,
//! clock, and the session check. Thin wrappers that own their JS closures and
//! release them on drop, so a dropped handle never calls back.

use std::cell::{Cell, RefCell};

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// Milliseconds since the epoch.
pub(crate) fn now() -> f64 {
    js_sys::Date::now()
}

/// Uniform in `[0, 1)`, for backoff jitter.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// `navigator.onLine`: false means certainly offline (true may be wrong).
pub(crate) fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Logs a warning to the browser console.
pub(crate) fn warn(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(msg));
}

thread_local! {
    /// `http(s)://host:port` of the server, when not the page's own origin (tests).
    static SERVER: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Points the engine at another server origin, e.g. `http://127.0.0.1:8080`.
pub(crate) fn set_server_origin(origin: Option<String>) {
    SERVER.with(|s| *s.borrow_mut() = origin.map(|o| o.trim_end_matches('/').to_owned()));
}

/// The server's HTTP origin: the override, else the page's.
pub(crate) fn server_origin() -> String {
    SERVER
        .with(|s| s.borrow().clone())
        .or_else(|| web_sys::window()?.location().origin().ok())
        .unwrap_or_default()
}

/// `ws(s)://host/sync/{doc}?token=…&ext=1`.
pub(crate) fn sync_url(doc: xieshang_shared::DocId, token: &str) -> String {
    let origin = server_origin();
    let ws = if let Some(rest) = origin.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = origin.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        origin
    };
    let token = String::from(js_sys::encode_uri_component(token));
    format!("{ws}/sync/{doc}?token={token}&ext=1")
}

/// What a socket reports.
pub(crate) enum SocketEvent {
    Open,
    Message(Vec<u8>),
    /// Closed by either side or failed; `code` 1006 when no close frame came
    /// (a refused upgrade looks like this: the status is not visible).
    Closed {
        code: u16,
        reason: String,
    },
}

/// A WebSocket whose handlers live exactly as long as this value.
pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(JsValue)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Starts connecting to `url`; `handler` gets every event until drop.
    pub fn open(url: &str, handler: impl FnMut(SocketEvent) + 'static) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let handler = std::rc::Rc::new(RefCell::new(handler));
        let h = handler.clone();
        let on_open =
            Closure::<dyn FnMut(JsValue)>::new(move |_| (h.borrow_mut())(SocketEvent::Open));
        let h = handler.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            // Text frames are not the protocol; they are ignored.
            if let Ok(buf) = e.data().dyn_into::<ArrayBuffer>() {
                (h.borrow_mut())(SocketEvent::Message(Uint8Array::new(&buf).to_vec()));
            }
        });
        let h = handler;
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            (h.borrow_mut())(SocketEvent::Closed {
                code: e.code(),
                reason: e.reason(),
            })
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends one binary frame; false if the socket is not open.
    pub fn send(&self, bytes: &[u8]) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_u8_array(bytes).is_ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}

/// A `setTimeout` cancelled on drop.
pub(crate) struct Timeout {
    id: i32,
    _f: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `f` once after `ms`, unless dropped first.
    pub fn new(ms: f64, f: impl FnOnce() + 'static) -> Option<Timeout> {
        let f = Cell::new(Some(f));
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = f.take() {
                f()
            }
        });
        let id = web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                ms.clamp(0.0, f64::from(i32::MAX)) as i32,
            )
            .ok()?;
        Some(Timeout { id, _f: closure })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(self.id);
        }
    }
}

/// A `setInterval` cancelled on drop.
pub(crate) struct Interval {
    id: i32,
    _f: Closure<dyn FnMut()>,
}

impl Interval {
    /// Calls `f` every `ms` until dropped.
    pub fn new(ms: i32, f: impl FnMut() + 'static) -> Option<Interval> {
        let closure = Closure::<dyn FnMut()>::new(f);
        let id = web_sys::window()?
            .set_interval_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                ms,
            )
            .ok()?;
        Some(Interval { id, _f: closure })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            w.clear_interval_with_handle(self.id);
        }
    }
}

/// Registers `online` / `offline` listeners on the window for the page's life.
pub(crate) fn on_network_change(f: impl Fn(bool) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let f = std::rc::Rc::new(f);
    for (event, online) in [("online", true), ("offline", false)] {
        let f = f.clone();
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |_| f(online));
        let _ = window.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        closure.forget(); // page-long listener, registered once
    }
}

/// `GET /api/session` with `token`: `Some(false)` if the server says the
/// session is over (401), `Some(true)` if it is valid, `None` if unknown
/// (no answer, or anything else). Tells an expired session from a failed
/// socket, since a refused upgrade shows the browser no status.
pub(crate) async fn session_valid(token: &str) -> Option<bool> {
    let response = request("GET", "/api/session", token, None).await?;
    match response.status() {
        401 => Some(false),
        200..=299 => Some(true),
        _ => None,
    }
}

/// One request to the server with the session token (and a JSON body);
/// `None` when no answer came.
async fn request(
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Option<web_sys::Response> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().ok()?;
    headers
        .set("authorization", &format!("Bearer {token}"))
        .ok()?;
    if let Some(body) = body {
        headers.set("content-type", "application/json").ok()?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let url = format!("{}{path}", server_origin());
    let request = web_sys::Request::new_with_str_and_init(&url, &init).ok()?;
    let promise = web_sys::window()?.fetch_with_request(&request);
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}

/// `POST {path}` with a JSON `body` to the server, with the session token:
/// the status and the answer's text, or `None` when no answer came.
pub(crate) async fn post_json(path: &str, token: &str, body: &str) -> Option<(u16, String)> {
    let response = request("POST", path, token, Some(body)).await?;
    let text = match response.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()?
            .as_string()
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Some((response.status(), text))
}
