//! Accounts and sessions. Passwords are argon2id hashes; session tokens are random and only their
//! SM3 digest is stored, so a copy of the database does not let anyone sign in.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde::Serialize;
use xietong_supervision::{Actor, Role};

use crate::{ts, Db, Result, RowExt, StoreError};

/// Idle timeout and absolute lifetime of a session.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle: Duration::minutes(30), absolute: Duration::hours(12) }
    }
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::internal(format!("密码哈希失败：{e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn token_digest(token: &str) -> String {
    xietong_audit::entry_hash("", 0, token, "", "", "", "", "", "")
}

/// The signed-in user, with their data scope resolved.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub person_id: i64,
    pub person_name: String,
    pub post: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub scope_unit_ids: Vec<i64>,
    #[serde(skip)]
    pub csrf: String,
}

impl SessionUser {
    pub fn actor(&self) -> Actor {
        Actor { person_id: self.person_id, role: self.role, unit_id: self.unit_id, scope_unit_ids: self.scope_unit_ids.clone() }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LoginRecord {
    pub username: String,
    pub at: NaiveDateTime,
    pub ok: bool,
    pub message: String,
}

/// A new session: the token goes into the cookie (or the API client), the CSRF token into forms.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub user: SessionUser,
}

impl Db {
    /// Check a password and open a session. Failures say only "用户名或密码错误" so accounts cannot be probed.
    pub async fn login(&self, username: &str, password: &str, now: NaiveDateTime, policy: SessionPolicy) -> Result<NewSession> {
        let row = sqlx::query("SELECT id, password_hash, active FROM users WHERE username = $1")
            .bind(username.trim().to_string())
            .fetch_optional(&self.pool)
            .await?;
        let ok = match &row {
            Some(r) => r.i("active")? != 0 && verify_password(password, &r.s("password_hash")?),
            None => {
                // Spend the same time as a real check, so timing does not reveal which names exist.
                let _ = verify_password(password, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3s8cZ4mYxZ0QxQxZb2hS1mYdHkqz4wQmZr3m1pG0c2A");
                false
            }
        };
        sqlx::query("INSERT INTO login_log (username, at, ok, message) VALUES ($1, $2, $3, $4)")
            .bind(username.chars().take(64).collect::<String>())
            .bind(ts(now))
            .bind(ok as i64)
            .bind(if ok { "登录成功" } else { "用户名或密码错误" }.to_string())
            .execute(&self.pool)
            .await?;
        let Some(row) = row.filter(|_| ok) else {
            return Err(StoreError::Denied("用户名或密码错误".into()));
        };
        let user_id = row.i("id")?;
        let token = random_token();
        let csrf = random_token();
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)")
            .bind(token_digest(&token))
            .bind(user_id)
            .bind(csrf.clone())
            .bind(ts(now))
            .bind(ts(now + policy.absolute))
            .execute(&self.pool)
            .await?;
        let user = self.session_user(user_id, csrf.clone()).await?;
        Ok(NewSession { token, csrf, user })
    }

    /// Resolve a session token, enforcing idle and absolute expiry, and refresh its idle clock.
    pub async fn session(&self, token: &str, now: NaiveDateTime, policy: SessionPolicy) -> Result<Option<SessionUser>> {
        let digest = token_digest(token);
        let Some(r) = sqlx::query("SELECT user_id, csrf, last_seen_at, expires_at FROM sessions WHERE token_hash = $1")
            .bind(digest.clone())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        if now >= r.t("expires_at")? || now - r.t("last_seen_at")? >= policy.idle {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(digest).execute(&self.pool).await?;
            return Ok(None);
        }
        // Touch at most once a minute: every page view need not be a write.
        if now - r.t("last_seen_at")? >= Duration::minutes(1) {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2").bind(ts(now)).bind(digest).execute(&self.pool).await?;
        }
        let user = self.session_user(r.i("user_id")?, r.s("csrf")?).await?;
        Ok(Some(user))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_digest(token)).execute(&self.pool).await?;
        Ok(())
    }

    async fn session_user(&self, user_id: i64, csrf: String) -> Result<SessionUser> {
        let r = sqlx::query(
            "SELECT us.id, us.username, us.role, p.id AS person_id, p.name AS person_name, p.post, u.id AS unit_id, u.name AS unit_name \
             FROM users us JOIN people p ON p.id = us.person_id JOIN units u ON u.id = p.unit_id WHERE us.id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        let role = Role::from_code(&r.s("role")?).ok_or_else(|| StoreError::internal("未知角色"))?;
        let unit_id = r.i("unit_id")?;
        Ok(SessionUser {
            user_id: r.i("id")?,
            username: r.s("username")?,
            role,
            person_id: r.i("person_id")?,
            person_name: r.s("person_name")?,
            post: r.s("post")?,
            unit_id,
            unit_name: r.s("unit_name")?,
            scope_unit_ids: self.unit_and_descendants(unit_id).await?,
            csrf,
        })
    }

    /// The newest login attempts (登录日志), for the administrator.
    pub async fn recent_logins(&self, limit: i64) -> Result<Vec<LoginRecord>> {
        let rows = sqlx::query("SELECT username, at, ok, message FROM login_log ORDER BY id DESC LIMIT $1").bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(LoginRecord { username: r.s("username")?, at: r.t("at")?, ok: r.i("ok")? != 0, message: r.s("message")? })).collect()
    }

    /// The "system" actor used by the scheduler and the CLI.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<SessionUser>> {
        let r = sqlx::query("SELECT id FROM users WHERE username = $1").bind(username.to_string()).fetch_optional(&self.pool).await?;
        match r {
            Some(r) => Ok(Some(self.session_user(r.i("id")?, String::new()).await?)),
            None => Ok(None),
        }
    }
}

/// Password policy: at least 8 characters and three of upper case, lower case, digits and symbols.
pub fn check_password_policy(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < 8 {
        return Err(StoreError::invalid("密码", format!("至少 8 位（当前 {n} 位）")));
    }
    if n > 128 {
        return Err(StoreError::invalid("密码", "不能超过 128 位"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 3 {
        return Err(StoreError::invalid("密码", "须包含大写字母、小写字母、数字、符号中的至少三类"));
    }
    Ok(())
}

impl Db {
    /// 系统管理员 creates an account for an existing person.
    pub async fn add_user(&self, admin: &SessionUser, username: &str, password: &str, person_id: i64, role: Role, now: NaiveDateTime) -> Result<i64> {
        admin.actor().may_administer()?;
        check_password_policy(password)?;
        let hash = hash_password(password)?;
        let mut tx = self.begin().await?;
        let exists = sqlx::query("SELECT COUNT(*) AS n FROM people WHERE id = $1").bind(person_id).fetch_one(&mut *tx).await?.i("n")?;
        if exists == 0 {
            return Err(StoreError::invalid("人员", format!("编号 {person_id} 的人员不存在")));
        }
        let taken = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE username = $1").bind(username.trim().to_string()).fetch_one(&mut *tx).await?.i("n")?;
        if taken > 0 {
            return Err(StoreError::invalid("用户名", format!("「{}」已被使用", username.trim())));
        }
        let id = self.create_user(&mut tx, &admin.username, username, &hash, person_id, role, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Reset a password; every session of that account ends.
    pub async fn reset_password(&self, admin: &SessionUser, user_id: i64, password: &str, now: NaiveDateTime) -> Result<()> {
        admin.actor().may_administer()?;
        check_password_policy(password)?;
        let hash = hash_password(password)?;
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("编号 {user_id} 的账号不存在")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        crate::audit::append(&mut tx, now, crate::audit::Change { actor: &admin.username, action: "user.reset_password", entity: "user", entity_id: user_id.to_string(), before: String::new(), after: String::new() }).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enable or disable an account; disabling ends its sessions at once.
    pub async fn set_user_active(&self, admin: &SessionUser, user_id: i64, active: bool, now: NaiveDateTime) -> Result<()> {
        admin.actor().may_administer()?;
        if user_id == admin.user_id && !active {
            return Err(StoreError::Conflict("不能停用自己的账号".into()));
        }
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT active FROM users WHERE id = $1").bind(user_id).fetch_optional(&mut *tx).await?;
        let Some(r) = r else { return Err(StoreError::NotFound(format!("编号 {user_id} 的账号不存在"))) };
        let before = serde_json::json!({"active": r.i("active")? != 0}).to_string();
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2").bind(active as i64).bind(user_id).execute(&mut *tx).await?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        }
        let after = serde_json::json!({"active": active}).to_string();
        crate::audit::append(&mut tx, now, crate::audit::Change { actor: &admin.username, action: "user.set_active", entity: "user", entity_id: user_id.to_string(), before, after }).await?;
        tx.commit().await?;
        Ok(())
    }

    /// 系统管理员 adds a unit (optionally under a parent) or a person.
    pub async fn add_unit(&self, admin: &SessionUser, code: &str, name: &str, kind: &str, parent_id: Option<i64>, now: NaiveDateTime) -> Result<i64> {
        admin.actor().may_administer()?;
        let mut tx = self.begin().await?;
        if let Some(p) = parent_id {
            let n = sqlx::query("SELECT COUNT(*) AS n FROM units WHERE id = $1").bind(p).fetch_one(&mut *tx).await?.i("n")?;
            if n == 0 {
                return Err(StoreError::invalid("上级单位", format!("编号 {p} 的单位不存在")));
            }
        }
        for (col, field, v) in [("code", "单位编码", code), ("name", "单位名称", name)] {
            let sql = if col == "code" { "SELECT COUNT(*) AS n FROM units WHERE code = $1" } else { "SELECT COUNT(*) AS n FROM units WHERE name = $1" };
            if sqlx::query(sql).bind(v.trim().to_string()).fetch_one(&mut *tx).await?.i("n")? > 0 {
                return Err(StoreError::invalid(field, format!("「{}」已存在", v.trim())));
            }
        }
        let id = self.create_unit(&mut tx, &admin.username, code, name, kind, parent_id, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn add_person(&self, admin: &SessionUser, name: &str, post: &str, unit_id: i64, head_of_unit: bool, now: NaiveDateTime) -> Result<i64> {
        admin.actor().may_administer()?;
        let mut tx = self.begin().await?;
        let n = sqlx::query("SELECT COUNT(*) AS n FROM units WHERE id = $1").bind(unit_id).fetch_one(&mut *tx).await?.i("n")?;
        if n == 0 {
            return Err(StoreError::invalid("所属单位", format!("编号 {unit_id} 的单位不存在")));
        }
        let seq = sqlx::query("SELECT COUNT(*) AS n FROM people").fetch_one(&mut *tx).await?.i("n")?;
        let code = format!("p{}_{}", seq + 1, now.format("%Y%m%d%H%M%S"));
        let id = self.create_person(&mut tx, &admin.username, &code, name, post, unit_id, now).await?;
        if head_of_unit {
            self.set_unit_head(&mut tx, &admin.username, unit_id, id, now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password_policy("Xietong@2026").is_ok());
        assert!(check_password_policy("abcdefgh1").unwrap_err().to_string().contains("至少三类"));
        assert!(check_password_policy("Ab1!").unwrap_err().to_string().contains("至少 8 位"));
        assert!(check_password_policy("abcdEFGH1234").is_ok());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("Xietong@2026").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Xietong@2026", &h));
        assert!(!verify_password("xietong@2026", &h));
        assert!(!verify_password("Xietong@2026", "not a hash"));
    }
}
