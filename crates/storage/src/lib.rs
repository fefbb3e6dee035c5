//! One storage layer over SQLite (the default) and PostgreSQL, through sqlx's `Any` driver:
//! every query is written once with `$n` placeholders, and only the migrations differ per
//! backend. Times are stored as local 'YYYY-MM-DD HH:MM:SS' text, which sorts correctly on both.
//! The SQL that differs per backend (connection setup, migrations, `BEGIN`, row locks, backup) is
//! in `backend/`; the rest is laid out by resource, one module (or folder) per library or record.

pub mod achievements;
pub mod attachments;
pub mod audit;
pub mod auth;
mod backend;
pub mod cadres;
pub mod calendar;
pub mod calendar_feeds;
pub mod dashboard;
pub mod dockings;
pub mod embeddings;
pub mod enterprises;
pub mod error;
pub mod imports;
pub mod inbox;
pub mod indicators;
pub mod inspections;
pub mod intake;
pub mod labels;
pub mod libraries;
pub mod lists;
pub mod locks;
pub mod matching;
pub mod notices;
pub mod org;
pub mod outbox;
pub mod problems;
pub mod projects;
pub mod rankings;
pub mod scopes;
pub mod search_index;
pub mod signon;
pub mod sweep;
pub mod tasks;
mod text_keys;
pub mod waiting;

use std::path::Path;
use std::time::Duration;

use chrono::NaiveDateTime;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

pub use backend::Backend;
pub use error::StoreError;

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SM4 keys for the sensitive fields (phone numbers) at rest.
    pub cipher: std::sync::Arc<xietong_security::fields::FieldCipher>,
    /// argon2 verifications run by sign-ins through this pool: tests see that a name that does not
    /// exist costs one too (the same time as a real check).
    pub password_checks: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Where the SM4 keys come from: `id:hex32` items, oldest first, the last encrypting.
pub const KEYS_ENV: &str = "XIETONG_SM4_KEYS";

/// Keys from the environment; otherwise one random key for this process only (tests, and
/// commands that never store sensitive fields). The server refuses to start on PostgreSQL without
/// configured keys, and keeps them in `<data-dir>/sm4.keys` on SQLite.
fn configured_cipher() -> Result<xietong_security::fields::FieldCipher> {
    use xietong_security::fields::FieldCipher;
    static EPHEMERAL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let spec = match std::env::var(KEYS_ENV) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => EPHEMERAL.get_or_init(|| FieldCipher::generate_spec("tmp")).clone(),
    };
    FieldCipher::from_config(&spec).map_err(|e| StoreError::internal(e.to_string()))
}

const TIME_FMT: &str = "%Y-%m-%d %H:%M:%S";

/// Stored text form of a local time.
/// Tables whose rows carry a unique name that a form may change.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Named {
    NotifyChannels,
    SsoProviders,
}

/// Whether another row of `table` than `id` already has `name` (a rename's clash, named before the
/// unique index would refuse it less clearly).
pub(crate) async fn name_taken(conn: &mut sqlx::AnyConnection, table: Named, name: &str, id: i64) -> Result<bool> {
    let table = match table {
        Named::NotifyChannels => "notify_channels",
        Named::SsoProviders => "sso_providers",
    };
    let sql = format!("SELECT id FROM {table} WHERE name = $1 AND id <> $2");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name.to_string())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

pub fn ts(t: NaiveDateTime) -> String {
    t.format(TIME_FMT).to_string()
}

/// Parse a stored time; stored values are written by [`ts`], so a failure is a corrupted row.
pub fn parse_ts(s: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, TIME_FMT).map_err(|_| StoreError::internal(format!("数据库中的时间格式无效：{s}")))
}

pub fn parse_ts_opt(s: Option<String>) -> Result<Option<NaiveDateTime>> {
    s.map(|s| parse_ts(&s)).transpose()
}

/// An optional float as two always-typed parameters (value, present flag) for
/// `CASE WHEN $flag = 1 THEN $value END`: through sqlx's Any driver a NULL float is prepared on
/// PostgreSQL with another parameter type, and the cached statement then rejects a real float.
pub(crate) fn opt_f64(v: Option<f64>) -> (f64, i64) {
    match v {
        Some(x) => (x, 1),
        None => (0.0, 0),
    }
}

/// Column helpers so row mapping reads as one line per field.
pub(crate) trait RowExt {
    fn i(&self, col: &str) -> Result<i64>;
    fn oi(&self, col: &str) -> Result<Option<i64>>;
    fn s(&self, col: &str) -> Result<String>;
    fn os(&self, col: &str) -> Result<Option<String>>;
    fn t(&self, col: &str) -> Result<NaiveDateTime>;
    fn ot(&self, col: &str) -> Result<Option<NaiveDateTime>>;
    fn f(&self, col: &str) -> Result<f64>;
    fn of(&self, col: &str) -> Result<Option<f64>>;
    fn d(&self, col: &str) -> Result<chrono::NaiveDate>;
    fn od(&self, col: &str) -> Result<Option<chrono::NaiveDate>>;
}

impl RowExt for AnyRow {
    fn i(&self, col: &str) -> Result<i64> {
        Ok(self.try_get::<i64, _>(col)?)
    }
    fn oi(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
    fn s(&self, col: &str) -> Result<String> {
        Ok(self.try_get::<String, _>(col)?)
    }
    fn os(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }
    fn t(&self, col: &str) -> Result<NaiveDateTime> {
        parse_ts(&self.s(col)?)
    }
    fn ot(&self, col: &str) -> Result<Option<NaiveDateTime>> {
        parse_ts_opt(self.os(col)?)
    }
    fn f(&self, col: &str) -> Result<f64> {
        Ok(self.try_get::<f64, _>(col)?)
    }
    fn of(&self, col: &str) -> Result<Option<f64>> {
        Ok(self.try_get::<Option<f64>, _>(col)?)
    }
    fn d(&self, col: &str) -> Result<chrono::NaiveDate> {
        let s = self.s(col)?;
        chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| StoreError::internal(format!("数据库中的日期格式无效：{s}")))
    }
    fn od(&self, col: &str) -> Result<Option<chrono::NaiveDate>> {
        match self.os(col)? {
            Some(_) => self.d(col).map(Some),
            None => Ok(None),
        }
    }
}

/// The keys file of a data directory, created with one new key on first start (owner-only).
fn keys_in(data_dir: &Path) -> Result<xietong_security::fields::FieldCipher> {
    use xietong_security::fields::FieldCipher;
    let path = data_dir.join("sm4.keys");
    if !path.exists() {
        std::fs::write(&path, FieldCipher::generate_spec("1") + "\n")
            .map_err(|e| StoreError::internal(format!("无法写入密钥文件 {}：{e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
    }
    let spec = std::fs::read_to_string(&path)
        .map_err(|e| StoreError::internal(format!("无法读取密钥文件 {}：{e}", path.display())))?;
    FieldCipher::from_config(spec.trim()).map_err(|e| StoreError::internal(format!("{}：{e}", path.display())))
}

impl Db {
    /// Open the SQLite database under `data_dir` (created if missing), WAL and foreign keys on.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Db> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::internal(format!("无法创建数据目录 {}：{e}", data_dir.display())))?;
        let file = data_dir.join("xietong.db");
        let mut db = Self::connect(&format!("sqlite://{}?mode=rwc", file.display()), None).await?;
        if std::env::var(KEYS_ENV).map(|v| v.trim().is_empty()).unwrap_or(true) {
            db.cipher = std::sync::Arc::new(keys_in(data_dir)?);
        }
        Ok(db)
    }

    /// Encrypt a sensitive field for storage.
    pub(crate) fn seal(&self, v: &str) -> String {
        self.cipher.seal(v)
    }

    /// Decrypt a stored sensitive field.
    pub(crate) fn open_field(&self, v: &str) -> Result<String> {
        self.cipher.open(v).map_err(|e| StoreError::internal(e.to_string()))
    }

    /// Connect by URL: `sqlite://…` or `postgres://…`. With `pg_schema`, every PostgreSQL
    /// connection works inside that schema (created if missing), which gives tests a fresh database each.
    pub async fn connect(url: &str, pg_schema: Option<&str>) -> Result<Db> {
        Self::connect_with(url, pg_schema, None).await
    }

    /// [`Db::connect`] with a chosen pool size (tests use one connection to make statement reuse certain).
    pub async fn connect_with(url: &str, pg_schema: Option<&str>, max_connections: Option<u32>) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::invalid("数据库地址", "应以 sqlite:// 或 postgres:// 开头"));
        };
        if let (Backend::Postgres, Some(schema)) = (backend, pg_schema) {
            if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::invalid("数据库模式", "只能包含字母、数字和下划线"));
            }
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}"))).await?;
        }
        let schema = pg_schema.map(|s| s.to_string());
        let opts = AnyPoolOptions::new()
            .max_connections(max_connections.unwrap_or(if backend == Backend::Sqlite { 8 } else { 10 }))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                let schema = schema.clone();
                Box::pin(async move {
                    for sql in backend.dialect().on_connect(schema.as_deref()) {
                        conn.execute(sqlx::AssertSqlSafe(sql)).await?;
                    }
                    Ok(())
                })
            });
        let pool = opts.connect(url).await?;
        let db = Db {
            pool,
            backend,
            cipher: std::sync::Arc::new(configured_cipher()?),
            password_checks: Default::default(),
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        let mut m = Migrator::with_migrations(self.backend.migrations());
        m.set_locking(self.backend.dialect().migration_lock());
        m.run(&self.pool).await.map_err(|e| StoreError::internal(format!("数据库迁移失败：{e}")))?;
        self.seed_calendar_if_empty().await?;
        self.seed_industries_if_empty().await?;
        self.backfill_doc_no_keys().await?;
        Ok(())
    }

    /// Begin a write transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE), so two
    /// writers queue on busy_timeout instead of failing when a read lock would need upgrading.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend.dialect().begin() {
            Some(statement) => self.pool.begin_with(statement).await?,
            None => self.pool.begin().await?,
        })
    }

    /// A consistent online copy of the SQLite database into `dest` (VACUUM INTO), or an error for
    /// PostgreSQL, whose own tools (pg_dump) are the right way.
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        let statement = self.backend.dialect().backup(dest)?;
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.s("value")).transpose()
    }

    /// Set one setting in its own transaction, with an audit entry that summarises the change
    /// (large values such as templates are not copied into the audit log).
    pub async fn save_setting_audited(
        &self,
        actor: &str,
        key: &str,
        value: &str,
        now: NaiveDateTime,
        summary: String,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        self.set_setting(&mut tx, key, value).await?;
        audit::append(
            &mut tx,
            now,
            audit::Change {
                actor,
                action: "settings.set",
                entity: "settings",
                entity_id: key.to_string(),
                before: String::new(),
                after: serde_json::json!({"summary": summary}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_setting(&self, tx: &mut Tx, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key.to_string())
        .bind(value.to_string())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// Local time in the district (China Standard Time, UTC+8, no daylight saving), whatever the
/// server's own time zone.
pub fn local_now() -> NaiveDateTime {
    (chrono::Utc::now() + chrono::Duration::hours(8)).naive_utc().with_nanosecond(0).unwrap_or_default()
}
use chrono::Timelike;
