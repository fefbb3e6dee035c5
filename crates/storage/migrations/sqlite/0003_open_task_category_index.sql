-- A leader's 分包督导 待办 reads overdue open tasks per category in deadline order.
CREATE INDEX tasks_open_category_deadline ON tasks(category_id, deadline) WHERE status IN ('assigned','received','in_progress');
