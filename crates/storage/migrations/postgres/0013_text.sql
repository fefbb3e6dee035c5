-- One validated text type (issue 12): 文号 are unique by their comparison form — NFKC, without
-- whitespace or invisible characters, case-folded, year brackets as 〔〕 — so look-alikes such as
-- a full-width ７ or a zero-width space are the same 文号. The form is computed in Rust
-- (xietong_supervision::text::doc_no_key); rows that predate this migration are given theirs when
-- the database is opened (Db::backfill_doc_no_keys). NULL until then, and NULLs never collide.
ALTER TABLE tasks ADD COLUMN doc_no_key TEXT;
CREATE UNIQUE INDEX tasks_doc_no_key_idx ON tasks(doc_no_key);

ALTER TABLE notices ADD COLUMN doc_no_key TEXT;
CREATE UNIQUE INDEX notices_doc_no_key_idx ON notices(doc_no_key);
