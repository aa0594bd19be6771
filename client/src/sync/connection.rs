//! The connection of one document: connect, the state-vector exchange,
//! acknowledgements, closes and retries, heartbeat, presence messages.

use std::rc::Rc;

use xieshang_shared::protocol::{AuthMessage, ExtMessage, Message, SyncMessage};
use xieshang_shared::sync;
use yrs::TextRef;

use super::creations::{self, Registered};
use super::engine::{send, Engine};
use super::presence::Presence;
use super::status::Link;
use super::store;
use super::timing::{self, Beat};
use super::web::{self, Socket, SocketEvent, Timeout};
use super::REMOTE_ORIGIN;

/// Least time between two awareness messages of ours.
const PRESENCE_THROTTLE_MS: f64 = 100.0;

impl Engine {
    /// Opens a new connection unless there is a reason not to.
    pub fn connect(self: &Rc<Engine>) {
        let mut st = self.st.borrow_mut();
        st.retry = None;
        st.socket = None;
        st.answered = false;
        st.server_sv = None;
        if st.closed || st.facts.loading || st.facts.auth_required || st.denied.is_some() {
            return;
        }
        st.facts.browser_offline = !web::browser_online();
        if st.facts.browser_offline {
            st.facts.link = Link::Down;
            drop(st);
            return self.publish(); // the `online` event brings us back
        }
        if st.creation.is_some() {
            // The server must know the document before its first update.
            if !st.registering {
                st.registering = true;
                st.facts.link = Link::Connecting;
                drop(st);
                self.register();
                self.publish();
            }
            return;
        }
        st.conn += 1;
        let conn = st.conn;
        st.outbox.begin(conn);
        st.since = web::now();
        st.heard = None;
        let url = web::sync_url(self.doc_id, &st.token);
        let weak = Rc::downgrade(self);
        let handler = move |event| {
            if let Some(engine) = weak.upgrade() {
                engine.on_socket(conn, event);
            }
        };
        match Socket::open(&url, handler) {
            Ok(socket) => {
                st.socket = Some(socket);
                st.facts.link = Link::Connecting;
                drop(st);
            }
            Err(_) => {
                drop(st);
                self.lost(true);
            }
        }
        self.publish();
    }

    /// Registers this document's creation with the server, then connects;
    /// retries with the usual backoff while there is no answer.
    fn register(self: &Rc<Engine>) {
        let (creation, token) = {
            let st = self.st.borrow();
            (st.creation.clone(), st.token.clone())
        };
        let Some(creation) = creation else { return };
        let weak = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = creations::register(&token, &creation).await;
            let Some(engine) = weak.upgrade() else { return };
            engine.st.borrow_mut().registering = false;
            match outcome {
                Registered::Done => {
                    engine.st.borrow_mut().creation = None;
                    engine.st.borrow_mut().backoff.reset();
                    engine.connect();
                }
                Registered::Later { auth } => {
                    if auth {
                        engine.st.borrow_mut().facts.auth_required = true;
                    }
                    engine.lost(true);
                }
                Registered::Refused(code) => {
                    engine.st.borrow_mut().denied = Some(code);
                    engine.lost(true);
                }
            }
            engine.finish_close_if_done();
        });
    }

    fn on_socket(self: &Rc<Engine>, conn: u64, event: SocketEvent) {
        if self.st.borrow().conn != conn {
            return;
        }
        match event {
            SocketEvent::Open => {
                let mut st = self.st.borrow_mut();
                st.heard = Some(web::now());
                st.facts.link = Link::Handshaking;
                send(&st, &Message::step1(sync::state_vector(&self.doc)));
                drop(st);
                self.send_presence();
                self.publish();
            }
            SocketEvent::Message(bytes) => {
                self.st.borrow_mut().heard = Some(web::now());
                match Message::decode(&bytes) {
                    Ok(msg) => self.on_message(msg),
                    Err(e) => web::warn(&format!("sync: undecodable message ignored: {e}")),
                }
            }
            SocketEvent::Closed { code, reason } => self.on_close(code, reason),
        }
    }

    fn on_message(self: &Rc<Engine>, msg: Message) {
        match msg {
            Message::Sync(SyncMessage::Step1(sv)) => match sync::decode_state_vector(&sv) {
                Ok(sv) => {
                    self.st.borrow_mut().server_sv = Some(sv);
                    self.answer_step1();
                }
                Err(e) => web::warn(&format!("sync: bad state vector from server: {e}")),
            },
            Message::Sync(SyncMessage::Step2(update)) => {
                self.apply_remote(&update);
                let mut st = self.st.borrow_mut();
                st.facts.link = Link::Live;
                st.facts.failing = false;
                st.backoff.reset();
            }
            Message::Sync(SyncMessage::Update(update)) => self.apply_remote(&update),
            Message::Awareness(bytes) => {
                if let Ok(update) = sync::decode_awareness(&bytes) {
                    let changed = self
                        .st
                        .borrow_mut()
                        .presence
                        .as_mut()
                        .is_some_and(|p| p.apply(update, web::now()));
                    if changed {
                        self.refresh_peers();
                    }
                }
            }
            Message::QueryAwareness => self.send_presence(),
            Message::Auth(AuthMessage::PermissionDenied { reason }) => {
                self.st.borrow_mut().denied = Some(reason);
                self.drop_socket();
            }
            Message::Ext(ExtMessage::Ack { count }) => self.on_ack(count),
            Message::Ext(ExtMessage::ReadOnly { reason }) => {
                self.st.borrow_mut().facts.read_only = Some(reason);
            }
            Message::Ext(ExtMessage::Ping { .. } | ExtMessage::Pong { .. }) => {}
        }
        self.publish();
    }

    fn apply_remote(&self, bytes: &[u8]) {
        if let Err(e) = self.apply(bytes, REMOTE_ORIGIN) {
            web::warn(&format!(
                "sync: a server update of {} failed: {e}",
                self.doc_id
            ));
        }
    }

    /// Answers the server's SyncStep1 once nothing local waits to be written.
    pub(super) fn answer_step1(&self) {
        if self.st.borrow().writing || !self.queue.borrow().is_empty() {
            return; // the writer calls again when done
        }
        let mut st = self.st.borrow_mut();
        let Some(sv) = st.server_sv.take() else {
            return;
        };
        st.answered = true;
        let diff = sync::diff_since(&self.doc, &sv);
        let nothing = diff == sync::EMPTY_UPDATE && st.outbox.is_empty();
        if st.facts.read_only.is_some() || nothing {
            return;
        }
        if send(&st, &Message::step2(diff)) {
            let conn = st.conn;
            st.outbox.sent_step2(conn);
        }
    }

    fn on_ack(self: &Rc<Engine>, count: u64) {
        let done = {
            let mut st = self.st.borrow_mut();
            let conn = st.conn;
            st.outbox.ack(conn, count)
        };
        if done.is_empty() {
            return;
        }
        let doc = self.doc_id;
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = store::remove_outbox(doc, &done).await {
                web::warn(&format!("sync: acknowledged changes stay stored: {e}"));
            }
        });
        self.finish_close_if_done();
    }

    fn on_close(self: &Rc<Engine>, code: u16, reason: String) {
        let was_open = self.st.borrow().heard.is_some();
        self.st.borrow_mut().socket = None;
        match code {
            4401 => self.st.borrow_mut().facts.auth_required = true,
            4403 | 4404 => {
                let reason = if reason.is_empty() {
                    "no access".into()
                } else {
                    reason
                };
                self.st.borrow_mut().denied = Some(reason);
            }
            4413 | 4429 | 1007 => self.st.borrow_mut().backoff.penalize(),
            _ => {}
        }
        if !was_open && code == 1006 {
            // The upgrade failed: an expired session, or just no server?
            let token = self.st.borrow().token.clone();
            let weak = Rc::downgrade(self);
            wasm_bindgen_futures::spawn_local(async move {
                let valid = web::session_valid(&token).await;
                if let Some(engine) = weak.upgrade() {
                    if valid == Some(false) && engine.st.borrow().token == token {
                        engine.st.borrow_mut().facts.auth_required = true;
                    }
                    engine.lost(true);
                }
            });
            return;
        }
        self.lost(true);
    }

    /// The connection is gone (or never came): forget its peers, retry later.
    fn lost(self: &Rc<Engine>, failed: bool) {
        let cleared = {
            let mut st = self.st.borrow_mut();
            st.socket = None;
            st.answered = false;
            st.server_sv = None;
            st.facts.link = Link::Down;
            st.facts.failing |= failed;
            st.presence.as_mut().is_some_and(Presence::clear)
        };
        if cleared {
            self.refresh_peers();
        }
        self.schedule_retry();
        self.publish();
    }

    fn schedule_retry(self: &Rc<Engine>) {
        let mut st = self.st.borrow_mut();
        let blocked = st.closed || st.facts.auth_required || st.denied.is_some();
        if blocked || st.socket.is_some() || !web::browser_online() {
            st.retry = None;
            return;
        }
        let delay = st.backoff.next_delay(web::random());
        let weak = Rc::downgrade(self);
        st.retry = Timeout::new(delay, move || {
            if let Some(engine) = weak.upgrade() {
                engine.connect();
            }
        });
    }

    /// Drops the socket without waiting for its close event, then retries.
    pub fn drop_socket(self: &Rc<Engine>) {
        let socket = self.st.borrow_mut().socket.take();
        drop(socket);
        self.lost(true);
    }

    /// The browser's network came back (`true`) or went away.
    pub fn network_changed(self: &Rc<Engine>, online: bool) {
        self.st.borrow_mut().facts.browser_offline = !online;
        if online {
            let idle = self.st.borrow().socket.is_none();
            if idle {
                self.st.borrow_mut().backoff.reset();
                self.connect();
            }
        } else {
            self.st.borrow_mut().retry = None;
            let socket = self.st.borrow_mut().socket.take();
            drop(socket);
            self.lost(true);
        }
        self.publish();
    }

    /// A new token (after signing in again): reconnect with it, outbox kept.
    pub fn set_token(self: &Rc<Engine>, token: String) {
        {
            let mut st = self.st.borrow_mut();
            st.token = token;
            st.facts.auth_required = false;
            st.denied = None;
            st.backoff.reset();
            st.socket = None;
        }
        self.connect();
    }

    /// Heartbeat: detect dead sockets, ping, renew and expire presence.
    pub(super) fn tick(self: &Rc<Engine>) {
        let now = web::now();
        let verdict = {
            let st = self.st.borrow();
            st.socket
                .as_ref()
                .map(|_| timing::beat(now, st.since, st.heard))
        };
        match verdict {
            Some(Beat::Dead) => return self.drop_socket(),
            Some(Beat::Ping) => {
                let mut st = self.st.borrow_mut();
                if now - st.pinged >= timing::PING_EVERY_MS {
                    st.pinged = now;
                    st.nonce += 1;
                    send(&st, &Message::Ext(ExtMessage::Ping { nonce: st.nonce }));
                }
            }
            Some(Beat::Wait) | None => {}
        }
        let (renew, expired) = {
            let mut st = self.st.borrow_mut();
            let renew =
                st.facts.link == Link::Live && now - st.presence_sent >= timing::AWARENESS_RENEW_MS;
            (renew, st.presence.as_mut().is_some_and(|p| p.expire(now)))
        };
        if renew {
            self.send_presence();
        }
        if expired {
            self.refresh_peers();
        }
    }

    /// Moves our caret (UTF-16 indices in `text`), sent at most every 100 ms.
    pub fn set_cursor(self: &Rc<Engine>, text: &TextRef, anchor: u32, head: u32) {
        if let Some(p) = self.st.borrow_mut().presence.as_mut() {
            p.set_cursor(&self.doc, text, anchor, head);
        }
        let mut st = self.st.borrow_mut();
        if st.presence_timer.is_some() {
            return;
        }
        let wait = st.presence_sent + PRESENCE_THROTTLE_MS - web::now();
        if wait <= 0.0 {
            drop(st);
            return self.send_presence();
        }
        let weak = Rc::downgrade(self);
        st.presence_timer = Timeout::new(wait, move || {
            if let Some(engine) = weak.upgrade() {
                engine.st.borrow_mut().presence_timer = None;
                engine.send_presence();
            }
        });
    }

    pub(super) fn send_presence(&self) {
        let mut st = self.st.borrow_mut();
        if st.socket.is_none() || st.closing {
            return;
        }
        let Some(bytes) = st.presence.as_mut().map(Presence::encode_local) else {
            return;
        };
        st.presence_sent = web::now();
        send(&st, &Message::Awareness(bytes));
    }
}
