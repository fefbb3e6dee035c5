-- Evidence on every record it belongs to (issue 13): 督导 visits, 通报, 问题台账 entries, docking
-- activities and 技术合同, beside the task's own files. SQLite cannot change a CHECK, so the
-- table is rebuilt with the wider list (nothing references attachments).
CREATE TABLE attachments_new (
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
    taken_at TEXT,
    gps_lat REAL,
    gps_lon REAL,
    CHECK (size >= 0),
    CHECK (record_kind IN ('task_event', 'task', 'visit', 'notice', 'problem', 'docking_activity', 'contract')),
    -- Task-side files carry their task (one lookup for the scope check); the others never do.
    CHECK ((record_kind IN ('task_event', 'task')) = (task_id IS NOT NULL))
);
INSERT INTO attachments_new SELECT id, sha256, size, mime, original_name, record_kind, record_id, task_id, uploaded_by,
    uploaded_at, has_thumbnail, taken_at, gps_lat, gps_lon FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_record ON attachments(record_kind, record_id);
CREATE INDEX attachments_task ON attachments(task_id);

-- 办结证据要求: a category whose 办结申请 must carry at least one file (set by the 督查局).
ALTER TABLE categories ADD COLUMN completion_evidence BIGINT NOT NULL DEFAULT 0;

-- 任务地点 (optional, set by the 督查局): a photo taken far from it is flagged on the task page.
ALTER TABLE tasks ADD COLUMN site_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN site_lat REAL;
ALTER TABLE tasks ADD COLUMN site_lon REAL;
