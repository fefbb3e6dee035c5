-- One inbox per person (issue 13, item 4). A notification is addressed to a unit, a person or a
-- role; `role` set together with `unit_id` narrows a unit's message to the accounts of that role
-- (an enterprise's or institution's accounts), set alone it addresses every account of the role
-- (the 科技局). `link` is the page of the record the message is about (a task, a 通报, a 难题…).
ALTER TABLE notifications ADD COLUMN role TEXT;
ALTER TABLE notifications ADD COLUMN link TEXT;
UPDATE notifications SET link = '/tasks/' || task_id WHERE task_id IS NOT NULL;
CREATE INDEX notifications_person ON notifications(person_id);
CREATE INDEX notifications_role ON notifications(role);

-- Read state per account: a message addressed to a unit is read by each of its people on their own.
CREATE TABLE notification_reads (
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    read_at TEXT NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notification_reads_user ON notification_reads(user_id);
