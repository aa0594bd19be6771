-- Sign-in throttling by client address and by (username, address), replacing the
-- count per username alone, with which anyone could lock any user out.
--
-- One row per throttled key: `a <address>` (every sign-in from one address) or
-- `u <address> <username>`. `failures` counts attempts reserved before the
-- password is checked (a success gives its slot back); `not_before` (unix ms) is
-- when the next attempt may start; rows idle for long are forgotten.

DROP TABLE login_failures;

CREATE TABLE signin_throttle (
    key        TEXT PRIMARY KEY,
    failures   INTEGER NOT NULL,
    not_before INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX signin_throttle_updated_at ON signin_throttle(updated_at);
