-- Identity controls (issue 5, first part): lockout after failed logins, forced change of initial
-- passwords, and the address of each login attempt.
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TEXT;
-- 1 for an account created or reset by an administrator: the first sign-in must change it.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE login_log ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_user ON sessions(user_id);
