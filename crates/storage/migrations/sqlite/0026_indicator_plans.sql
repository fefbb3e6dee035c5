-- 分期计划 (issue 17): an indicator's planned profile — the share of its target planned by each
-- checkpoint, as JSON [{"by": "2026-06-30", "percent": 55.0}, …]; empty for the linear plan. The
-- version makes two edits of the plan at once one edit and one 409.
ALTER TABLE indicators ADD COLUMN plan TEXT NOT NULL DEFAULT '';
ALTER TABLE indicators ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
