-- Gapless numbers (bulletins 第N期 today; proposals and opinion issues later).
-- Taking a number is one UPDATE … RETURNING inside the transaction that uses
-- it: the row lock serializes concurrent takers on PostgreSQL (SQLite has one
-- writer anyway), and a rolled-back transaction gives its number back, so the
-- sequence has neither duplicates nor gaps. MAX()+1 had both under concurrency.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO counters (name, value)
SELECT 'bulletin', COALESCE(MAX(bulletin_no), 0) FROM finalized_versions;
