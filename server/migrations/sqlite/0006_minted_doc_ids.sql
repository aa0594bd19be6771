-- Documents get ids minted by their creators (a UUIDv7 in lowercase hyphenated
-- form, TEXT), so a member can create one offline and a relay node can too.
-- Every document that had an integer id N keeps it as
-- '00000000-0000-7000-8000-' followed by N in 12 hex digits (a zero
-- timestamp: migrated documents sort before every minted one, in their old
-- order; the server and the client map an old number to the same id).
-- `created_by` records who created a document, for idempotent creation.
--
-- SQLite cannot change a column's type, so each table that names a document is
-- rebuilt: new tables are filled from the old ones, the old ones dropped
-- (children first, so no cascade runs), and the new ones renamed into place
-- (SQLite rewrites the references to the renamed tables).
PRAGMA defer_foreign_keys = ON;

CREATE TABLE docs_new (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('draft', 'record', 'opinion_report')),
    topic_id   INTEGER REFERENCES topics(id) ON DELETE CASCADE,
    finalized  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    amends     TEXT REFERENCES docs_new(id),
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL
);
INSERT INTO docs_new (id, kind, topic_id, finalized, created_at, amends, created_by)
SELECT '00000000-0000-7000-8000-' || printf('%012x', id), kind, topic_id, finalized, created_at,
       CASE WHEN amends IS NULL THEN NULL ELSE '00000000-0000-7000-8000-' || printf('%012x', amends) END,
       NULL
FROM docs;

CREATE TABLE doc_updates_new (
    doc_id  TEXT NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    user_id INTEGER,
    at      INTEGER NOT NULL,
    PRIMARY KEY (doc_id, seq)
);
INSERT INTO doc_updates_new (doc_id, seq, data, user_id, at)
SELECT '00000000-0000-7000-8000-' || printf('%012x', doc_id), seq, data, user_id, at FROM doc_updates;

CREATE TABLE doc_snapshots_new (
    doc_id       TEXT PRIMARY KEY NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
    upto_seq     INTEGER NOT NULL,
    state        BLOB NOT NULL,
    state_vector BLOB NOT NULL,
    at           INTEGER NOT NULL
);
INSERT INTO doc_snapshots_new (doc_id, upto_seq, state, state_vector, at)
SELECT '00000000-0000-7000-8000-' || printf('%012x', doc_id), upto_seq, state, state_vector, at FROM doc_snapshots;

CREATE TABLE doc_authors_new (
    doc_id    TEXT NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
    client_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    PRIMARY KEY (doc_id, client_id)
);
INSERT INTO doc_authors_new (doc_id, client_id, user_id, at)
SELECT '00000000-0000-7000-8000-' || printf('%012x', doc_id), client_id, user_id, at FROM doc_authors;

CREATE TABLE doc_versions_new (
    id      INTEGER PRIMARY KEY,
    doc_id  TEXT NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    hash    TEXT NOT NULL,
    text    TEXT NOT NULL,
    state   BLOB NOT NULL,
    reason  TEXT NOT NULL,
    by_user INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at      INTEGER NOT NULL,
    UNIQUE (doc_id, version)
);
INSERT INTO doc_versions_new (id, doc_id, version, hash, text, state, reason, by_user, at)
SELECT id, '00000000-0000-7000-8000-' || printf('%012x', doc_id), version, hash, text, state, reason, by_user, at
FROM doc_versions;

CREATE TABLE signoffs_new (
    id      INTEGER PRIMARY KEY,
    doc_id  TEXT NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    UNIQUE (doc_id, version, user_id)
);
INSERT INTO signoffs_new (id, doc_id, version, user_id, at)
SELECT id, '00000000-0000-7000-8000-' || printf('%012x', doc_id), version, user_id, at FROM signoffs;

CREATE TABLE finalized_versions_new (
    doc_id        TEXT PRIMARY KEY NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
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
INSERT INTO finalized_versions_new
    (doc_id, version, hash, text, state, signoffs, absent, absent_reason, finalized_by, bulletin_no, at)
SELECT '00000000-0000-7000-8000-' || printf('%012x', doc_id), version, hash, text, state, signoffs, absent,
       absent_reason, finalized_by, bulletin_no, at
FROM finalized_versions;

CREATE TABLE followups_new (
    doc_id     TEXT PRIMARY KEY NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
    sent_to    TEXT NOT NULL,
    adoption   TEXT NOT NULL CHECK (adoption IN ('pending', 'adopted', 'partially_adopted', 'not_adopted')),
    units      TEXT NOT NULL,
    note       TEXT NOT NULL,
    updated_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO followups_new (doc_id, sent_to, adoption, units, note, updated_by, updated_at)
SELECT '00000000-0000-7000-8000-' || printf('%012x', doc_id), sent_to, adoption, units, note, updated_by, updated_at
FROM followups;

CREATE TABLE instructions_new (
    id       INTEGER PRIMARY KEY,
    doc_id   TEXT NOT NULL REFERENCES docs_new(id) ON DELETE CASCADE,
    leader   TEXT NOT NULL,
    date     TEXT NOT NULL,
    content  TEXT NOT NULL,
    added_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at       INTEGER NOT NULL
);
INSERT INTO instructions_new (id, doc_id, leader, date, content, added_by, at)
SELECT id, '00000000-0000-7000-8000-' || printf('%012x', doc_id), leader, date, content, added_by, at
FROM instructions;

CREATE TABLE audit_log_new (
    id      INTEGER PRIMARY KEY,
    doc_id  TEXT REFERENCES docs_new(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    at      INTEGER NOT NULL
);
INSERT INTO audit_log_new (id, doc_id, user_id, action, detail, at)
SELECT id, CASE WHEN doc_id IS NULL THEN NULL ELSE '00000000-0000-7000-8000-' || printf('%012x', doc_id) END,
       user_id, action, detail, at
FROM audit_log;

DROP TABLE audit_log;
DROP TABLE instructions;
DROP TABLE followups;
DROP TABLE finalized_versions;
DROP TABLE signoffs;
DROP TABLE doc_versions;
DROP TABLE doc_authors;
DROP TABLE doc_snapshots;
DROP TABLE doc_updates;
DROP TABLE docs;

ALTER TABLE docs_new RENAME TO docs;
ALTER TABLE doc_updates_new RENAME TO doc_updates;
ALTER TABLE doc_snapshots_new RENAME TO doc_snapshots;
ALTER TABLE doc_authors_new RENAME TO doc_authors;
ALTER TABLE doc_versions_new RENAME TO doc_versions;
ALTER TABLE signoffs_new RENAME TO signoffs;
ALTER TABLE finalized_versions_new RENAME TO finalized_versions;
ALTER TABLE followups_new RENAME TO followups;
ALTER TABLE instructions_new RENAME TO instructions;
ALTER TABLE audit_log_new RENAME TO audit_log;

CREATE INDEX docs_topic ON docs(topic_id);
CREATE INDEX signoffs_doc ON signoffs(doc_id);
CREATE INDEX instructions_doc ON instructions(doc_id);
CREATE INDEX audit_log_doc ON audit_log(doc_id);
