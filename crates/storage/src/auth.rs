//! Accounts and sessions. Passwords are argon2id hashes; session tokens are random and only their
//! SM3 digest is stored, so a copy of the database does not let anyone sign in.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde::Serialize;
use xietong_security::{AccountLockPolicy, AccountState, LockoutPolicy, LoginState, PasswordPolicy};
use xietong_supervision::{Actor, DataScope, PersonId, Role, UnitId};

use crate::error::{check, got};
use crate::{Db, Result, RowExt, StoreError, ts};
use xietong_supervision::validate::{Checks, int_in};

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

pub(crate) fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn token_digest(token: &str) -> String {
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
    /// The role's 数据范围 (a setting of the 安全管理员's) and the units it covers.
    pub data_scope: DataScope,
    pub scope_unit_ids: Vec<UnitId>,
    /// Set on an account an administrator created or reset: nothing but changing it is allowed.
    pub must_change_password: bool,
    #[serde(skip)]
    pub csrf: String,
}

/// How a person is shown wherever they acted (操作人, 提交人, 审核人): unit, post and name, never
/// the login.
pub fn person_display(unit: &str, post: &str, name: &str) -> String {
    [unit, post, name].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

/// How the scheduler's automatic steps are signed.
pub const SYSTEM_NAME: &str = "系统（自动督办）";
/// How the demo loader's records are signed (its actor is `demo`, no account).
pub const DEMO_NAME: &str = "系统（演示数据）";

/// Joins the person behind a stored login (`<alias>.actor`): select `ap_name`, `ap_post`, `ap_unit`
/// and read them with [`actor_of`].
pub(crate) fn actor_join(alias: &str) -> String {
    format!(
        "LEFT JOIN users a_us ON a_us.username = {alias}.actor LEFT JOIN people a_p ON a_p.id = a_us.person_id \
         LEFT JOIN units a_u ON a_u.id = a_p.unit_id"
    )
}
pub(crate) const ACTOR_COLS: &str = "a_p.name AS ap_name, a_p.post AS ap_post, a_u.name AS ap_unit";

/// The person of a row joined by [`actor_join`]; the login itself when no account has it.
pub(crate) fn actor_of(r: &sqlx::any::AnyRow) -> Result<String> {
    Ok(match r.os("ap_name")? {
        Some(name) => {
            person_display(&r.os("ap_unit")?.unwrap_or_default(), &r.os("ap_post")?.unwrap_or_default(), &name)
        }
        None if r.s("actor")? == "system" => SYSTEM_NAME.into(),
        None if r.s("actor")? == "demo" => DEMO_NAME.into(),
        None => r.s("actor")?,
    })
}

impl SessionUser {
    /// 「建设和交通局 联络员 张某」 (see [`person_display`]).
    pub fn display_name(&self) -> String {
        if self.user_id == 0 && self.username == "system" {
            return SYSTEM_NAME.into();
        }
        person_display(&self.unit_name, &self.post, &self.person_name)
    }

    pub fn actor(&self) -> Actor {
        Actor {
            person_id: PersonId(self.person_id),
            role: self.role,
            unit_id: UnitId(self.unit_id),
            data_scope: self.data_scope.clone(),
            scope_unit_ids: self.scope_unit_ids.clone(),
        }
    }
    /// 数据范围「全部」on supervised records.
    pub fn sees_all(&self) -> bool {
        self.data_scope.reaches_all(self.role)
    }
    /// Is `unit`'s business within the 数据范围? (Without building an `Actor`: called per row.)
    pub fn in_scope(&self, unit: UnitId) -> bool {
        self.data_scope.reaches(self.role, &self.scope_unit_ids, unit)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LoginRecord {
    pub username: String,
    pub at: NaiveDateTime,
    pub ok: bool,
    pub message: String,
    /// The caller's network address.
    pub address: String,
}

/// A search of the 登录日志 or the operation log: any part of the name, a result, a date range.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct LogQuery {
    /// 用户名或操作人（包含即可）
    pub who: Option<String>,
    /// 登录日志：ok 成功 / fail 失败；操作日志：操作代码前缀，如 user. 或 review.
    pub what: Option<String>,
    /// 起始日期 YYYY-MM-DD
    pub from: Option<String>,
    /// 截止日期 YYYY-MM-DD（含当日）
    pub to: Option<String>,
}

impl LogQuery {
    /// The bind values: who as a LIKE pattern, what, and the time range as stored text.
    fn binds(&self) -> Result<(String, String, String, String)> {
        let day = |field: &str, v: &Option<String>| -> Result<Option<chrono::NaiveDate>> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => Ok(Some(xietong_calendar::parse_date(field, s)?)),
            }
        };
        let from = day("起始日期", &self.from)?.map(|d| d.to_string()).unwrap_or_default();
        let to = day("截止日期", &self.to)?.map(|d| format!("{d} 23:59:59")).unwrap_or_else(|| "9999".into());
        let who = self.who.as_deref().map(str::trim).unwrap_or("").chars().take(64).collect::<String>();
        let who = format!("%{}%", who.replace(['\\', '%', '_'], ""));
        Ok((who, self.what.as_deref().map(str::trim).unwrap_or("").to_string(), from, to))
    }
}

/// A new session: the token goes into the cookie (or the API client), the CSRF token into forms.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub user: SessionUser,
}

/// The account-wide counter's address in `login_failures` (no network address looks like it).
const ALL_ADDRESSES: &str = "*";

/// A hash of a random password with the same parameters as real ones: a name that does not exist
/// is checked against it, so it costs the same time as one that does.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&random_token()).unwrap_or_default());

/// A wrong password is answered this much later per failure of the pair so far (at most five):
/// guessing slows down before the pair locks.
const TARPIT_STEP_MS: u64 = 100;

/// Why a sign-in was refused before or after the password check, in the words the user sees. The
/// same for names that exist and names that do not.
fn pair_locked_msg(lockout: &LockoutPolicy, until: NaiveDateTime) -> String {
    format!(
        "账号已锁定（在此地址连续 {} 次密码错误），请于 {} 后重试或联系管理员",
        lockout.attempts,
        until.format("%H:%M")
    )
}

fn account_locked_msg(until: NaiveDateTime) -> String {
    format!("账号已锁定（短时间内密码错误次数过多），请于 {} 后重试或联系管理员", until.format("%H:%M"))
}

const WRONG: &str = "用户名或密码错误";

/// A `login_failures` row: window start, failures, locked until.
type FailureRow = (Option<NaiveDateTime>, u32, Option<NaiveDateTime>);

/// One `login_failures` row, read (under the row lock when `lock`, in a transaction).
async fn failure_row(
    conn: &mut sqlx::AnyConnection,
    username: &str,
    address: &str,
    lock: bool,
) -> Result<Option<FailureRow>> {
    let suffix = if lock { crate::locks::row_lock(conn) } else { "" };
    let sql = format!(
        "SELECT window_start, failures, locked_until FROM login_failures WHERE username = $1 AND address = $2{suffix}"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(username.to_string())
        .bind(address.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| Ok((r.ot("window_start")?, r.i("failures")?.clamp(0, i64::from(u32::MAX)) as u32, r.ot("locked_until")?)))
        .transpose()
}

/// Make sure the row exists and lock it for the rest of the transaction (an insert that loses a
/// race waits for the winner and then finds its row).
async fn locked_failure_row(
    conn: &mut sqlx::AnyConnection,
    username: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<FailureRow> {
    sqlx::query(
        "INSERT INTO login_failures (username, address, window_start, failures) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (username, address) DO NOTHING",
    )
    .bind(username.to_string())
    .bind(address.to_string())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    failure_row(conn, username, address, true).await?.ok_or_else(|| StoreError::internal("登录失败计数行不存在"))
}

async fn save_failure_row(
    conn: &mut sqlx::AnyConnection,
    username: &str,
    address: &str,
    window_start: NaiveDateTime,
    failures: u32,
    locked_until: Option<NaiveDateTime>,
) -> Result<()> {
    sqlx::query(
        "UPDATE login_failures SET window_start = $1, failures = $2, locked_until = $3 WHERE username = $4 AND address = $5",
    )
    .bind(ts(window_start))
    .bind(i64::from(failures))
    .bind(locked_until.map(ts))
    .bind(username.to_string())
    .bind(address.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a wrong password led to.
struct Failure {
    message: String,
    /// Failures of the pair so far (for the tarpit).
    pair_failures: u32,
}

impl Db {
    /// Check a password and open a session. `address` is the caller's network address: wrong
    /// passwords lock the (name, address) pair after the configured count, and the name for every
    /// address only after [`AccountLockPolicy::FAILURES`] within an hour — which notifies the
    /// account's owner and the 安全管理员. Names that do not exist are counted and answered the same
    /// way, and cost the same argon2 verification, so nothing tells which accounts exist. Every
    /// attempt is kept in the 登录日志.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        now: NaiveDateTime,
        policy: SessionPolicy,
        address: &str,
    ) -> Result<NewSession> {
        let lockout = self.security_settings().await?.lockout()?;
        let account = AccountLockPolicy::for_lockout(&lockout);
        let name: String = username.trim().chars().take(64).collect();
        let address: String = address.chars().take(64).collect();
        let log = |ok: bool, message: String| {
            let (name, address) = (name.clone(), address.clone());
            async move {
                sqlx::query("INSERT INTO login_log (username, at, ok, message, address) VALUES ($1, $2, $3, $4, $5)")
                    .bind(name)
                    .bind(ts(now))
                    .bind(ok as i64)
                    .bind(message)
                    .bind(address)
                    .execute(&self.pool)
                    .await
            }
        };
        // Locked: refused before any password is looked at.
        if let Some(msg) = self.signin_locked(&name, &address, now, &lockout, false).await? {
            log(false, msg.clone()).await?;
            return Err(StoreError::Denied(msg));
        }
        let row = sqlx::query("SELECT id, password_hash, active, person_id, role FROM users WHERE username = $1")
            .bind(name.clone())
            .fetch_optional(&self.pool)
            .await?;
        let hash = match &row {
            Some(r) => r.s("password_hash")?,
            None => DUMMY_HASH.clone(),
        };
        // argon2 runs for every name (a disabled account too), so timing does not tell them apart.
        self.password_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let verified = verify_password(password, &hash);
        let user = match &row {
            Some(r) if verified && r.i("active")? != 0 => Some(r.i("id")?),
            _ => None,
        };
        let Some(user_id) = user else {
            let person = row.as_ref().map(|r| r.i("person_id")).transpose()?;
            let user_id = row.as_ref().map(|r| r.i("id")).transpose()?;
            let f = self.count_failure(&name, &address, user_id.zip(person), now, &lockout, &account).await?;
            log(false, f.message.clone()).await?;
            let delay = TARPIT_STEP_MS * u64::from(f.pair_failures.min(5));
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            return Err(StoreError::Denied(f.message));
        };
        // Right password: refused all the same if a parallel attempt locked the pair or the
        // account meanwhile; otherwise the pair's count starts afresh.
        if let Some(msg) = self.signin_locked(&name, &address, now, &lockout, true).await? {
            log(false, msg.clone()).await?;
            return Err(StoreError::Denied(msg));
        }
        // The 安全管理员 may require sign-on for a role: its accounts' passwords no longer open sessions.
        let role = row.as_ref().map(|r| r.s("role")).transpose()?.unwrap_or_default();
        if self.password_login_off().await?.iter().any(|r| r.code() == role) {
            let msg = "本账号所属角色已停用密码登录，请使用统一身份认证登录".to_string();
            log(false, msg.clone()).await?;
            return Err(StoreError::Denied(msg));
        }
        log(true, "登录成功".to_string()).await?;
        self.open_session(user_id, now, policy).await
    }

    /// A new session for an account whose identity has been established.
    pub(crate) async fn open_session(
        &self,
        user_id: i64,
        now: NaiveDateTime,
        policy: SessionPolicy,
    ) -> Result<NewSession> {
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

    /// The refusal when the pair or the account is locked at `now`. With `clear`, in a transaction
    /// holding both rows, and an unlocked pair's count is cleared (a correct password).
    async fn signin_locked(
        &self,
        name: &str,
        address: &str,
        now: NaiveDateTime,
        lockout: &LockoutPolicy,
        clear: bool,
    ) -> Result<Option<String>> {
        let refusal = |pair: Option<FailureRow>, all: Option<FailureRow>| {
            if let Some(until) = all.and_then(|(_, _, l)| l).filter(|t| *t > now) {
                Some(account_locked_msg(until))
            } else {
                pair.and_then(|(_, _, l)| l).filter(|t| *t > now).map(|until| pair_locked_msg(lockout, until))
            }
        };
        if !clear {
            // A plain read: SQLite's write lock is not taken for every sign-in.
            let mut conn = self.pool.acquire().await?;
            let pair = failure_row(&mut conn, name, address, false).await?;
            let all = failure_row(&mut conn, name, ALL_ADDRESSES, false).await?;
            return Ok(refusal(pair, all));
        }
        let mut tx = self.begin().await?;
        let pair = failure_row(&mut tx, name, address, true).await?;
        let all = failure_row(&mut tx, name, ALL_ADDRESSES, true).await?;
        let msg = refusal(pair, all);
        if msg.is_none() && pair.is_some() {
            sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
                .bind(name.to_string())
                .bind(address.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(msg)
    }

    /// Count a wrong password for the pair and for the account, each under its row lock so
    /// parallel attempts each count; lock either at its limit. `user` is the account (id, person)
    /// when the name exists: its owner and the 安全管理员 are told when it locks.
    async fn count_failure(
        &self,
        name: &str,
        address: &str,
        user: Option<(i64, i64)>,
        now: NaiveDateTime,
        lockout: &LockoutPolicy,
        account: &AccountLockPolicy,
    ) -> Result<Failure> {
        let mut tx = self.begin().await?;
        // Lock order: the pair's row, then the account's.
        let (pair_start, failures, locked_until) = locked_failure_row(&mut tx, name, address, now).await?;
        let pair = LoginState { failures, locked_until };
        if let Some(until) = pair.locked_at(now) {
            // A parallel attempt locked the pair after this one was let in.
            tx.commit().await?;
            return Ok(Failure { message: pair_locked_msg(lockout, until), pair_failures: lockout.attempts });
        }
        let next = pair.after_failure(lockout, now);
        let pair_failures = if next.locked_until.is_some() { lockout.attempts } else { next.failures };
        let window_start = if pair.failures == 0 { now } else { pair_start.unwrap_or(now) };
        save_failure_row(&mut tx, name, address, window_start, next.failures, next.locked_until).await?;

        let (window_start, failures, locked_until) = locked_failure_row(&mut tx, name, ALL_ADDRESSES, now).await?;
        let all = AccountState { window_start, failures, locked_until };
        let mut message = match next.locked_until {
            Some(until) => {
                format!("{WRONG}；连续 {} 次错误，该账号在此地址锁定至 {}", lockout.attempts, until.format("%H:%M"))
            }
            None => WRONG.to_string(),
        };
        if all.locked_at(now).is_none() {
            let (after, locked_now) = all.after_failure(account, now);
            save_failure_row(
                &mut tx,
                name,
                ALL_ADDRESSES,
                after.window_start.unwrap_or(now),
                after.failures,
                after.locked_until,
            )
            .await?;
            if let (true, Some(until)) = (locked_now, after.locked_until) {
                message = format!("{WRONG}；{}", account_locked_msg(until));
                if let Some((user_id, person_id)) = user {
                    self.account_locked(&mut tx, name, user_id, person_id, now, until, account).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(Failure { message, pair_failures })
    }

    /// An account locked for every address: its owner and every 安全管理员 are notified, and the
    /// audit chain records it, in the transaction that locked it.
    #[allow(clippy::too_many_arguments)]
    async fn account_locked(
        &self,
        conn: &mut sqlx::AnyConnection,
        name: &str,
        user_id: i64,
        person_id: i64,
        now: NaiveDateTime,
        until: NaiveDateTime,
        account: &AccountLockPolicy,
    ) -> Result<()> {
        let since = now - Duration::minutes(i64::from(account.window_minutes));
        let addresses = sqlx::query(
            "SELECT COUNT(DISTINCT address) AS n FROM login_log WHERE username = $1 AND ok = 0 AND at >= $2",
        )
        .bind(name.to_string())
        .bind(ts(since))
        .fetch_one(&mut *conn)
        .await?
        .i("n")?
        .max(1);
        let text = format!(
            "【安全】账号 {name} 在 {} 分钟内密码错误达 {} 次（来自 {addresses} 个地址），已对所有地址锁定至 {}。如非本人操作，请联系安全管理员。",
            account.window_minutes,
            account.failures,
            until.format("%Y-%m-%d %H:%M")
        );
        // The account's owner, and each 安全管理员 with a link to the page where they follow it up.
        let mut people = vec![(person_id, None)];
        let admins = sqlx::query("SELECT person_id FROM users WHERE role = $1 AND active = 1")
            .bind(Role::SecurityAdmin.code().to_string())
            .fetch_all(&mut *conn)
            .await?;
        for r in &admins {
            people.push((r.i("person_id")?, Some("/online")));
        }
        people.sort_unstable();
        people.dedup_by_key(|p| p.0);
        for (p, link) in people {
            crate::inbox::send(&mut *conn, crate::inbox::To::person(p), "security", &text, None, link, now).await?;
        }
        let after = serde_json::json!({
            "failures": account.failures,
            "window_minutes": account.window_minutes,
            "addresses": addresses,
            "locked_until": ts(until),
        })
        .to_string();
        crate::audit::append(
            conn,
            now,
            crate::audit::Change {
                actor: "system",
                action: "security.account_locked",
                entity: "user",
                entity_id: user_id.to_string(),
                before: String::new(),
                after,
            },
        )
        .await?;
        Ok(())
    }

    /// Forget failure counts nobody needs any more: unlocked rows whose window began over a day ago.
    pub async fn purge_login_failures(&self, now: NaiveDateTime) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM login_failures WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $2)",
        )
        .bind(ts(now - Duration::days(1)))
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected())
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
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(ts(now))
                .bind(digest)
                .execute(&self.pool)
                .await?;
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
            "SELECT us.id, us.username, us.role, us.must_change_password, p.id AS person_id, p.name AS person_name, p.post, u.id AS unit_id, u.name AS unit_name \
             FROM users us JOIN people p ON p.id = us.person_id JOIN units u ON u.id = p.unit_id WHERE us.id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        let role = Role::from_code(&r.s("role")?).ok_or_else(|| StoreError::internal("未知角色"))?;
        let unit_id = r.i("unit_id")?;
        let data_scope = self.data_scope_of(role).await?;
        let scope_unit_ids = self.scope_units(&data_scope, unit_id).await?.into_iter().map(UnitId).collect();
        Ok(SessionUser {
            user_id: r.i("id")?,
            username: r.s("username")?,
            role,
            person_id: r.i("person_id")?,
            person_name: r.s("person_name")?,
            post: r.s("post")?,
            unit_id,
            unit_name: r.s("unit_name")?,
            data_scope,
            scope_unit_ids,
            must_change_password: r.i("must_change_password")? != 0,
            csrf,
        })
    }

    /// The newest login attempts (登录日志).
    pub async fn recent_logins(&self, limit: i64) -> Result<Vec<LoginRecord>> {
        self.search_logins(&LogQuery::default(), limit).await
    }

    /// 登录日志 search, newest first.
    pub async fn search_logins(&self, q: &LogQuery, limit: i64) -> Result<Vec<LoginRecord>> {
        let (who, what, from, to) = q.binds()?;
        let ok = match what.as_str() {
            "" => -1,
            "ok" => 1,
            "fail" => 0,
            other => return Err(StoreError::invalid("结果", format!("「{other}」应为 ok 或 fail"))),
        };
        let rows = sqlx::query(
            "SELECT username, at, ok, message, address FROM login_log WHERE username LIKE $1 AND ($2 = -1 OR ok = $2) AND at >= $3 AND at <= $4 ORDER BY id DESC LIMIT $5",
        )
        .bind(who)
        .bind(ok)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LoginRecord {
                    username: r.s("username")?,
                    at: r.t("at")?,
                    ok: r.i("ok")? != 0,
                    message: r.s("message")?,
                    address: r.s("address")?,
                })
            })
            .collect()
    }

    /// Operation log (the audit chain) search, newest first.
    pub async fn search_audit(&self, q: &LogQuery, limit: i64) -> Result<Vec<xietong_audit::AuditEntry>> {
        let (who, what, from, to) = q.binds()?;
        let rows = sqlx::query("SELECT * FROM audit_log WHERE actor LIKE $1 AND action LIKE $2 AND at >= $3 AND at <= $4 ORDER BY seq DESC LIMIT $5")
            .bind(who)
            .bind(format!("{}%", what.replace(['%', '_'], "")))
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crate::audit::entry).collect()
    }

    /// Accounts' people as [`person_display`] shows them, by login; the scheduler's `system` is
    /// 「系统（自动督办）」. Records that store the login (audit log, review and docking history)
    /// are shown through this.
    pub async fn display_names(&self, logins: &[String]) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        let mut wanted: Vec<&String> = logins.iter().filter(|l| !l.is_empty()).collect();
        wanted.sort();
        wanted.dedup();
        for chunk in wanted.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT us.username, p.name, p.post, u.name AS unit_name FROM users us \
                 JOIN people p ON p.id = us.person_id JOIN units u ON u.id = p.unit_id WHERE us.username IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for l in chunk {
                q = q.bind(l.to_string());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.insert(r.s("username")?, person_display(&r.s("unit_name")?, &r.s("post")?, &r.s("name")?));
            }
        }
        if logins.iter().any(|l| l == "system") {
            out.entry("system".into()).or_insert_with(|| SYSTEM_NAME.into());
        }
        if logins.iter().any(|l| l == "demo") {
            out.entry("demo".into()).or_insert_with(|| DEMO_NAME.into());
        }
        Ok(out)
    }

    /// One login as [`Db::display_names`] shows it; a login no account has any more stays as it is.
    pub async fn display_name(&self, login: &str) -> Result<String> {
        let mut m = self.display_names(&[login.to_string()]).await?;
        Ok(m.remove(login).unwrap_or_else(|| login.to_string()))
    }

    /// The "system" actor used by the scheduler and the CLI.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<SessionUser>> {
        let r = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match r {
            Some(r) => Ok(Some(self.session_user(r.i("id")?, String::new()).await?)),
            None => Ok(None),
        }
    }

    /// An account as its own session would see it (no session: a calendar feed's reader).
    pub async fn user_by_id(&self, user_id: i64) -> Result<SessionUser> {
        self.session_user(user_id, String::new()).await
    }
}

/// The default password policy (the configured one is [`Db::security_settings`]'s), for a
/// first account created before any setting exists.
pub fn check_password_policy(password: &str) -> Result<()> {
    Ok(PasswordPolicy::default().check("密码", password)?)
}

/// The identity settings a 等保 assessment looks at, kept in the settings table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SecuritySettings {
    /// 密码最小长度（8–64）
    pub password_min_length: i64,
    /// 密码须含字符类别数（1–4：大写、小写、数字、符号）
    pub password_min_classes: i64,
    /// 同一账号在同一地址连续失败几次锁定该地址的登录（3–10）
    pub lockout_attempts: i64,
    /// 锁定时长（分钟，1–1440；账号整体锁定亦同）
    pub lockout_minutes: i64,
    /// 每个地址每分钟最多登录尝试次数（5–600）
    pub login_per_minute: i64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        let (p, l) = (PasswordPolicy::default(), LockoutPolicy::default());
        Self {
            password_min_length: p.min_length as i64,
            password_min_classes: p.min_classes as i64,
            lockout_attempts: i64::from(l.attempts),
            lockout_minutes: i64::from(l.minutes),
            login_per_minute: 30,
        }
    }
}

impl SecuritySettings {
    const KEYS: [&'static str; 5] = [
        "security.password_min_length",
        "security.password_min_classes",
        "security.lockout_attempts",
        "security.lockout_minutes",
        "security.login_per_minute",
    ];

    pub fn password(&self) -> Result<PasswordPolicy> {
        Ok(PasswordPolicy::new(self.password_min_length, self.password_min_classes)?)
    }
    pub fn lockout(&self) -> Result<LockoutPolicy> {
        Ok(LockoutPolicy::new(self.lockout_attempts, self.lockout_minutes)?)
    }
    /// Every setting's error at once, after those `c` already holds (numbers a form could not read).
    pub fn check(&self, mut c: Checks) -> Result<()> {
        if let Err(e) = PasswordPolicy::new(self.password_min_length, self.password_min_classes) {
            e.0.into_iter().for_each(|e| c.add(e));
        }
        if let Err(e) = LockoutPolicy::new(self.lockout_attempts, self.lockout_minutes) {
            e.0.into_iter().for_each(|e| c.add(e));
        }
        c.take(int_in("每分钟登录尝试次数", self.login_per_minute, 5, 600));
        Ok(c.finish()?)
    }
    fn values(&self) -> [i64; 5] {
        [
            self.password_min_length,
            self.password_min_classes,
            self.lockout_attempts,
            self.lockout_minutes,
            self.login_per_minute,
        ]
    }
}

/// A signed-in session, for the 在线用户 page.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OnlineSession {
    pub user_id: i64,
    pub username: String,
    pub person_name: String,
    pub unit_name: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl Db {
    pub async fn security_settings(&self) -> Result<SecuritySettings> {
        let mut v = SecuritySettings::default().values();
        for (i, k) in SecuritySettings::KEYS.iter().enumerate() {
            if let Some(x) = self.get_setting(k).await?.and_then(|x| x.trim().parse::<i64>().ok()) {
                v[i] = x;
            }
        }
        let s = SecuritySettings {
            password_min_length: v[0],
            password_min_classes: v[1],
            lockout_attempts: v[2],
            lockout_minutes: v[3],
            login_per_minute: v[4],
        };
        // A hand-edited table with a value out of range falls back to the defaults, never weaker.
        Ok(if s.check(Checks::new()).is_ok() { s } else { SecuritySettings::default() })
    }

    pub async fn save_security_settings(
        &self,
        admin: &SessionUser,
        s: &SecuritySettings,
        now: NaiveDateTime,
    ) -> Result<()> {
        admin.actor().may_secure()?;
        s.check(Checks::new())?;
        let before = serde_json::to_string(&self.security_settings().await?).unwrap_or_default();
        let mut tx = self.begin().await?;
        for (k, v) in SecuritySettings::KEYS.iter().zip(s.values()) {
            self.set_setting(&mut tx, k, &v.to_string()).await?;
        }
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &admin.username,
                action: "settings.security",
                entity: "settings",
                entity_id: "security".into(),
                before,
                after: serde_json::to_string(s).unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn check_new_password(&self, field: &str, password: &str) -> Result<()> {
        Ok(self.security_settings().await?.password()?.check(field, password)?)
    }

    /// Re-encrypt every sensitive field not under the newest key (plaintext rows from before
    /// encryption included): the middle step of a key rotation. Returns how many values changed.
    pub async fn rekey_fields(&self, now: NaiveDateTime) -> Result<usize> {
        const FIELDS: [(&str, &str); 6] = [
            ("notify_channels", "config"),
            ("notify_addresses", "value"),
            ("enterprises", "contact_phone"),
            ("experts", "phone"),
            ("experts", "email"),
            ("experts", "id_number"),
        ];
        let mut tx = self.begin().await?;
        let mut n = 0;
        for (table, col) in FIELDS {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id, {col} AS v FROM {table}")))
                .fetch_all(&mut *tx)
                .await?;
            for r in &rows {
                let v = r.s("v")?;
                if self.cipher.is_stale(&v) {
                    let plain = self.open_field(&v)?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET {col} = $1 WHERE id = $2")))
                        .bind(self.seal(&plain))
                        .bind(r.i("id")?)
                        .execute(&mut *tx)
                        .await?;
                    n += 1;
                }
            }
        }
        let after = serde_json::json!({"values": n, "key": self.cipher.current_key_id()}).to_string();
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: "cli",
                action: "security.rekey",
                entity: "settings",
                entity_id: "sm4".into(),
                before: String::new(),
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Change one's own password (and, for an initial one, the only thing allowed until done).
    /// Every other session of the account ends; `keep_token` stays signed in.
    pub async fn change_password(
        &self,
        u: &SessionUser,
        old: &str,
        (new, again): (&str, Option<&str>),
        keep_token: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let r =
            sqlx::query("SELECT password_hash FROM users WHERE id = $1").bind(u.user_id).fetch_one(&self.pool).await?;
        // Every field's error at once; the page does not refill passwords, so one round must do.
        let mut c = Checks::new();
        if old.is_empty() {
            c.fail("原密码", "不能为空");
        } else if !verify_password(old, &r.s("password_hash")?) {
            c.fail("原密码", "不正确");
        }
        c.take(self.security_settings().await?.password()?.check("新密码", new));
        if old == new && !new.is_empty() {
            c.fail("新密码", "不能与原密码相同");
        }
        if again.is_some_and(|a| a != new) {
            c.fail("确认新密码", "两次输入的新密码不一致");
        }
        c.finish()?;
        let hash = hash_password(new)?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(hash)
            .bind(u.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(u.user_id)
            .bind(token_digest(keep_token))
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &u.username,
                action: "user.change_password",
                entity: "user",
                entity_id: u.user_id.to_string(),
                before: String::new(),
                after: String::new(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// End every session of one's own account (退出所有设备).
    pub async fn logout_everywhere(&self, u: &SessionUser, now: NaiveDateTime) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(u.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &u.username,
                action: "session.logout_all",
                entity: "user",
                entity_id: u.user_id.to_string(),
                before: String::new(),
                after: serde_json::json!({"sessions": n}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Sessions alive now (在线用户), most recently active first.
    pub async fn online_sessions(
        &self,
        admin: &SessionUser,
        now: NaiveDateTime,
        policy: SessionPolicy,
    ) -> Result<Vec<OnlineSession>> {
        admin.actor().may_secure()?;
        let rows = sqlx::query(
            "SELECT s.user_id, s.created_at, s.last_seen_at, s.expires_at, us.username, p.name AS person_name, un.name AS unit_name FROM sessions s \
             JOIN users us ON us.id = s.user_id JOIN people p ON p.id = us.person_id JOIN units un ON un.id = p.unit_id \
             WHERE s.expires_at > $1 AND s.last_seen_at > $2 ORDER BY s.last_seen_at DESC",
        )
        .bind(ts(now))
        .bind(ts(now - policy.idle))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OnlineSession {
                    user_id: r.i("user_id")?,
                    username: r.s("username")?,
                    person_name: r.s("person_name")?,
                    unit_name: r.s("unit_name")?,
                    created_at: r.t("created_at")?,
                    last_seen_at: r.t("last_seen_at")?,
                    expires_at: r.t("expires_at")?,
                })
            })
            .collect()
    }

    /// 强制下线: end every session of an account.
    pub async fn force_logout(&self, admin: &SessionUser, user_id: i64, now: NaiveDateTime) -> Result<u64> {
        admin.actor().may_secure()?;
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &admin.username,
                action: "session.force_logout",
                entity: "user",
                entity_id: user_id.to_string(),
                before: String::new(),
                after: serde_json::json!({"sessions": n}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The role of an account (who may manage it depends on it).
    async fn role_of(&self, user_id: i64) -> Result<Role> {
        let r = sqlx::query("SELECT role FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?;
        let r = r.ok_or_else(|| StoreError::NotFound(format!("编号 {user_id} 的账号不存在")))?;
        Role::from_code(&r.s("role")?).ok_or_else(|| StoreError::internal("未知角色"))
    }

    /// Mark a password as initial: the account's next sign-in must change it first.
    pub async fn require_password_change(tx: &mut crate::Tx, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE users SET must_change_password = 1 WHERE id = $1").bind(user_id).execute(&mut **tx).await?;
        Ok(())
    }

    /// 系统管理员 creates an account for an existing person; its first sign-in must change the password.
    pub async fn add_user(
        &self,
        admin: &SessionUser,
        username: &str,
        password: &str,
        person_id: i64,
        role: Role,
        now: NaiveDateTime,
    ) -> Result<i64> {
        admin.actor().may_manage_account(role)?;
        // Every field is checked before the answer (the form shows each error beside its field).
        let mut c = Checks::new();
        check(&mut c, crate::org::username(username))?;
        check(&mut c, self.check_new_password("密码", password).await)?;
        let mut tx = self.begin().await?;
        let exists = sqlx::query("SELECT COUNT(*) AS n FROM people WHERE id = $1")
            .bind(person_id)
            .fetch_one(&mut *tx)
            .await?
            .i("n")?;
        if exists == 0 {
            c.fail("人员", format!("编号 {person_id} 的人员不存在"));
        }
        if !c.has("用户名") {
            let taken = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE username = $1")
                .bind(username.trim().to_string())
                .fetch_one(&mut *tx)
                .await?
                .i("n")?;
            if taken > 0 {
                c.fail("用户名", format!("「{}」已被使用", username.trim()));
            }
        }
        c.finish()?;
        let hash = hash_password(password)?;
        let id = self.create_user(&mut tx, &admin.username, username, &hash, person_id, role, now).await?;
        Self::require_password_change(&mut tx, id).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Reset a password; every session of that account ends, a lockout is lifted, and the next
    /// sign-in must change it.
    pub async fn reset_password(
        &self,
        admin: &SessionUser,
        user_id: i64,
        password: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        admin.actor().may_manage_account(self.role_of(user_id).await?)?;
        self.check_new_password("密码", password).await?;
        let hash = hash_password(password)?;
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("编号 {user_id} 的账号不存在")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        // Every lock on the name ends with it, the account-wide one and each address's.
        sqlx::query("DELETE FROM login_failures WHERE username = (SELECT username FROM users WHERE id = $1)")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &admin.username,
                action: "user.reset_password",
                entity: "user",
                entity_id: user_id.to_string(),
                before: String::new(),
                after: String::new(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enable or disable an account; disabling ends its sessions at once.
    pub async fn set_user_active(
        &self,
        admin: &SessionUser,
        user_id: i64,
        active: bool,
        now: NaiveDateTime,
    ) -> Result<()> {
        admin.actor().may_manage_account(self.role_of(user_id).await?)?;
        if user_id == admin.user_id && !active {
            return Err(StoreError::Conflict("不能停用自己的账号".into()));
        }
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT active FROM users WHERE id = $1").bind(user_id).fetch_optional(&mut *tx).await?;
        let Some(r) = r else { return Err(StoreError::NotFound(format!("编号 {user_id} 的账号不存在"))) };
        let before = serde_json::json!({"active": r.i("active")? != 0}).to_string();
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(active as i64)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        }
        let after = serde_json::json!({"active": active}).to_string();
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &admin.username,
                action: "user.set_active",
                entity: "user",
                entity_id: user_id.to_string(),
                before,
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// 系统管理员 adds a unit (optionally under a parent) or a person.
    pub async fn add_unit(
        &self,
        admin: &SessionUser,
        code: &str,
        name: &str,
        kind: &str,
        parent_id: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<i64> {
        admin.actor().may_administer()?;
        // Every field is checked before the answer; cleaned before the duplicate checks below
        // look them up (a NUL would fail on PostgreSQL).
        let mut c = Checks::new();
        let code_ok = check(&mut c, crate::org::unit_code(code))?;
        let name_ok = check(&mut c, crate::org::unit_name(name))?;
        if !crate::org::UNIT_KINDS.contains(&kind) {
            c.fail("单位类型", format!("「{kind}」不是有效类型，应为：{}", crate::org::UNIT_KINDS.join("、")));
        }
        let mut tx = self.begin().await?;
        if let Some(p) = parent_id {
            let n = sqlx::query("SELECT COUNT(*) AS n FROM units WHERE id = $1")
                .bind(p)
                .fetch_one(&mut *tx)
                .await?
                .i("n")?;
            if n == 0 {
                c.fail("上级单位", format!("编号 {p} 的单位不存在"));
            }
        }
        for (col, field, v) in [("code", "单位编码", &code_ok), ("name", "单位名称", &name_ok)] {
            let Some(v) = v else { continue };
            let sql = if col == "code" {
                "SELECT COUNT(*) AS n FROM units WHERE code = $1"
            } else {
                "SELECT COUNT(*) AS n FROM units WHERE name = $1"
            };
            if sqlx::query(sql).bind(v.trim().to_string()).fetch_one(&mut *tx).await?.i("n")? > 0 {
                c.fail(field, format!("「{}」已存在", v.trim()));
            }
        }
        c.finish()?;
        let (code, name) = (&got(code_ok)?, &got(name_ok)?);
        let id = self.create_unit(&mut tx, &admin.username, code, name, kind, parent_id, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn add_person(
        &self,
        admin: &SessionUser,
        name: &str,
        post: &str,
        unit_id: i64,
        head_of_unit: bool,
        now: NaiveDateTime,
    ) -> Result<i64> {
        admin.actor().may_administer()?;
        let mut c = Checks::new();
        c.take(xietong_supervision::validate::required_text("姓名", name, 32));
        c.take(xietong_supervision::validate::required_text("职务", post, 32));
        let mut tx = self.begin().await?;
        let n = sqlx::query("SELECT COUNT(*) AS n FROM units WHERE id = $1")
            .bind(unit_id)
            .fetch_one(&mut *tx)
            .await?
            .i("n")?;
        if n == 0 {
            c.fail("所属单位", format!("编号 {unit_id} 的单位不存在"));
        }
        c.finish()?;
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
    fn default_settings_are_valid_and_out_of_range_ones_are_refused() {
        assert!(SecuritySettings::default().check(Checks::new()).is_ok());
        let weak = SecuritySettings { password_min_length: 6, ..SecuritySettings::default() };
        assert!(weak.check(Checks::new()).unwrap_err().to_string().contains("密码最小长度"));
        let lax = SecuritySettings { login_per_minute: 10_000, ..SecuritySettings::default() };
        assert!(lax.check(Checks::new()).is_err());
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
