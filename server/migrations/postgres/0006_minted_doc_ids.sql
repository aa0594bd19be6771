-- Documents get ids minted by their creators (a UUIDv7 in lowercase hyphenated
-- form, TEXT), so a member can create one offline and a relay node can too.
-- Every document that had an integer id N keeps it as
-- '00000000-0000-7000-8000-' followed by N in 12 hex digits (a zero
-- timestamp: migrated documents sort before every minted one, in their old
-- order; the server and the client map an old number to the same id).
-- `created_by` records who created a document, for idempotent creation.
-- The foreign keys are dropped, every column that names a document changes
-- type in place, and the keys are added again under their old names.

ALTER TABLE doc_updates        DROP CONSTRAINT doc_updates_doc_id_fkey;
ALTER TABLE doc_snapshots      DROP CONSTRAINT doc_snapshots_doc_id_fkey;
ALTER TABLE doc_authors        DROP CONSTRAINT doc_authors_doc_id_fkey;
ALTER TABLE doc_versions       DROP CONSTRAINT doc_versions_doc_id_fkey;
ALTER TABLE signoffs           DROP CONSTRAINT signoffs_doc_id_fkey;
ALTER TABLE finalized_versions DROP CONSTRAINT finalized_versions_doc_id_fkey;
ALTER TABLE followups          DROP CONSTRAINT followups_doc_id_fkey;
ALTER TABLE instructions       DROP CONSTRAINT instructions_doc_id_fkey;
ALTER TABLE audit_log          DROP CONSTRAINT audit_log_doc_id_fkey;
ALTER TABLE docs               DROP CONSTRAINT docs_amends_fkey;

ALTER TABLE docs ALTER COLUMN id DROP IDENTITY;
ALTER TABLE docs
    ALTER COLUMN id TYPE TEXT USING ('00000000-0000-7000-8000-' || lpad(to_hex(id), 12, '0')),
    ALTER COLUMN amends TYPE TEXT USING ('00000000-0000-7000-8000-' || lpad(to_hex(amends), 12, '0'));
ALTER TABLE doc_updates ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE doc_snapshots ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE doc_authors ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE doc_versions ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE signoffs ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE finalized_versions ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE followups ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE instructions ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));
ALTER TABLE audit_log ALTER COLUMN doc_id TYPE TEXT
    USING ('00000000-0000-7000-8000-' || lpad(to_hex(doc_id), 12, '0'));

ALTER TABLE docs ADD COLUMN created_by BIGINT REFERENCES users(id) ON DELETE SET NULL;

ALTER TABLE docs ADD CONSTRAINT docs_amends_fkey FOREIGN KEY (amends) REFERENCES docs(id);
ALTER TABLE doc_updates ADD CONSTRAINT doc_updates_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE doc_snapshots ADD CONSTRAINT doc_snapshots_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE doc_authors ADD CONSTRAINT doc_authors_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE doc_versions ADD CONSTRAINT doc_versions_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE signoffs ADD CONSTRAINT signoffs_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE finalized_versions ADD CONSTRAINT finalized_versions_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE followups ADD CONSTRAINT followups_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE instructions ADD CONSTRAINT instructions_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_doc_id_fkey
    FOREIGN KEY (doc_id) REFERENCES docs(id) ON DELETE CASCADE;
