-- Evidence (issue 13): files attached to a record. The bytes live in the object store under
-- their SHA-256 (same bytes stored once); a row says which record a file belongs to, so a
-- download can apply that record's data scope. task_id is kept for every task-side record so
-- the check is one lookup.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    original_name TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    task_id BIGINT REFERENCES tasks(id),
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at TEXT NOT NULL,
    has_thumbnail BIGINT NOT NULL DEFAULT 0,
    -- From a photo's EXIF: capture time (local, as the camera wrote it) and position.
    taken_at TEXT,
    gps_lat REAL,
    gps_lon REAL,
    CHECK (size >= 0),
    CHECK (record_kind IN ('task_event', 'task'))
);
CREATE INDEX attachments_record ON attachments(record_kind, record_id);
CREATE INDEX attachments_task ON attachments(task_id);
