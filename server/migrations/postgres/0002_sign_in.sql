-- Sign-in bookkeeping: failed logins (rate limit per username) and sessions
-- ended by DELETE /api/session before their tokens expire.

CREATE TABLE login_failures (
    username TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures(username, at);

-- The random nonce of each signed-out token; rows are dropped once the token has expired anyway.
CREATE TABLE revoked_sessions (
    nonce      TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
