-- Canonical records (issue #4): who wrote what, named versions, sign-offs,
-- finalized versions, follow-up of outcomes and the audit log.
-- Times are unix milliseconds; the same SQL text runs on PostgreSQL.

-- Which yrs client ids belong to which signed-in user (attribution). Written in
-- the same transaction as the update that first used the client id; a client id
-- keeps its first owner. Survives compaction, which only folds doc_updates.
CREATE TABLE doc_authors (
    doc_id    INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    client_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    PRIMARY KEY (doc_id, client_id)
);

-- Named versions: the full state at a sign-off, finalization, restore, view or
-- compaction, so any of them can be shown, diffed, attributed and restored.
CREATE TABLE doc_versions (
    id      INTEGER PRIMARY KEY,
    doc_id  INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    hash    TEXT NOT NULL,
    text    TEXT NOT NULL,
    state   BLOB NOT NULL,
    reason  TEXT NOT NULL,
    by_user INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at      INTEGER NOT NULL,
    UNIQUE (doc_id, version)
);

-- Each participant's approval of one exact version (kept even when stale).
CREATE TABLE signoffs (
    id      INTEGER PRIMARY KEY,
    doc_id  INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    UNIQUE (doc_id, version, user_id)
);
CREATE INDEX signoffs_doc ON signoffs(doc_id);

-- The immutable finalized version of a document (one per document).
CREATE TABLE finalized_versions (
    doc_id        INTEGER PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
    version       TEXT NOT NULL,
    hash          TEXT NOT NULL,
    text          TEXT NOT NULL,
    state         BLOB NOT NULL,
    signoffs      TEXT NOT NULL,
    absent        TEXT NOT NULL,
    absent_reason TEXT,
    finalized_by  INTEGER NOT NULL REFERENCES users(id),
    bulletin_no   INTEGER NOT NULL UNIQUE,
    at            INTEGER NOT NULL
);

-- An amendment is a new draft linked to the finalized document it amends.
ALTER TABLE docs ADD COLUMN amends INTEGER REFERENCES docs(id);

-- Follow-up of a finalized outcome: where it went, adoption, responsible units.
CREATE TABLE followups (
    doc_id     INTEGER PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
    sent_to    TEXT NOT NULL,
    adoption   TEXT NOT NULL CHECK (adoption IN ('pending', 'adopted', 'partially_adopted', 'not_adopted')),
    units      TEXT NOT NULL,
    note       TEXT NOT NULL,
    updated_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL
);

-- Leaders' instructions (批示) on a finalized outcome.
CREATE TABLE instructions (
    id       INTEGER PRIMARY KEY,
    doc_id   INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    leader   TEXT NOT NULL,
    date     TEXT NOT NULL,
    content  TEXT NOT NULL,
    added_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX instructions_doc ON instructions(doc_id);

-- Sign-offs, finalizations, exports, restores, amendments and follow-up changes.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    doc_id  INTEGER REFERENCES docs(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX audit_log_doc ON audit_log(doc_id);
