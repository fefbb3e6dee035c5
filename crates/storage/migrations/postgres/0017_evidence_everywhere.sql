-- Evidence on every record it belongs to (issue 13): 督导 visits, 通报, 问题台账 entries, docking
-- activities and 技术合同, beside the task's own files.
ALTER TABLE attachments DROP CONSTRAINT attachments_record_kind_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_record_kind_check
    CHECK (record_kind IN ('task_event', 'task', 'visit', 'notice', 'problem', 'docking_activity', 'contract'));
-- Task-side files carry their task (one lookup for the scope check); the others never do.
ALTER TABLE attachments ADD CONSTRAINT attachments_task_side_check
    CHECK ((record_kind IN ('task_event', 'task')) = (task_id IS NOT NULL));

-- 办结证据要求: a category whose 办结申请 must carry at least one file (set by the 督查局).
ALTER TABLE categories ADD COLUMN completion_evidence BIGINT NOT NULL DEFAULT 0;

-- 任务地点 (optional, set by the 督查局): a photo taken far from it is flagged on the task page.
ALTER TABLE tasks ADD COLUMN site_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN site_lat DOUBLE PRECISION;
ALTER TABLE tasks ADD COLUMN site_lon DOUBLE PRECISION;
