-- Relational facts of a committee and the durable log of every collaborative document.
-- Times are unix milliseconds (INTEGER); ids are INTEGER; the same SQL runs on PostgreSQL.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sites (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE sectors (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('member', 'staff', 'leader', 'admin')),
    invited       BOOLEAN NOT NULL DEFAULT FALSE,
    sector_id     INTEGER REFERENCES sectors(id),
    site_id       INTEGER REFERENCES sites(id),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE topics (
    id                 INTEGER PRIMARY KEY,
    title              TEXT NOT NULL,
    form               TEXT NOT NULL CHECK (form IN ('meeting', 'inspection', 'requested', 'dialogue', 'written')),
    stage              TEXT NOT NULL DEFAULT 'research',
    plan_year          INTEGER,
    lead_leader        TEXT,
    responsible_dept   TEXT,
    responsible_person TEXT,
    due                TEXT,
    site_id            INTEGER REFERENCES sites(id),
    created_by         INTEGER REFERENCES users(id),
    created_at         INTEGER NOT NULL
);

CREATE TABLE participants (
    topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (topic_id, user_id)
);
CREATE INDEX participants_user ON participants(user_id);

-- One row per collaborative document (a yrs Doc).
CREATE TABLE docs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('draft', 'record', 'opinion_report')),
    topic_id   INTEGER REFERENCES topics(id) ON DELETE CASCADE,
    finalized  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL
);
CREATE INDEX docs_topic ON docs(topic_id);

-- Append-only update log: every acknowledged update is a row here (or folded into the snapshot).
CREATE TABLE doc_updates (
    doc_id  INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    user_id INTEGER,
    at      INTEGER NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

-- The log compacted: the merged state of all updates with seq <= upto_seq.
CREATE TABLE doc_snapshots (
    doc_id       INTEGER PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
    upto_seq     INTEGER NOT NULL,
    state        BLOB NOT NULL,
    state_vector BLOB NOT NULL,
    at           INTEGER NOT NULL
);
