//! 统一身份认证: the identity providers the 安全管理员 registers, the link between a provider's
//! subject and an existing account, sign-ins under way, and which roles may still sign in with a
//! password. A provider's word opens a session only for an account that already exists, is active
//! and — where a unit claim is mapped — belongs to that unit: nothing here creates an account or
//! changes what an account may do.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_notify::AddressKind;
use xietong_signon::{Identity, MatchBy, Pending, ProviderConfig, ProviderKind, claims::claim};
use xietong_supervision::Role;

use crate::auth::{NewSession, SessionPolicy, SessionUser, token_digest};
use crate::{Db, Result, RowExt, StoreError, Tx, audit, parse_ts, parse_ts_opt, ts};

/// A registered provider, its secrets masked.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SsoProvider {
    pub id: i64,
    pub name: String,
    pub kind: ProviderKind,
    pub kind_label: String,
    pub config: ProviderConfig,
    pub enabled: bool,
    pub version: i64,
    /// 首次登录时用户名声明与什么比对
    pub match_by_label: String,
    /// 已绑定的账号数
    pub links: i64,
}

/// A provider as the login page offers it.
#[derive(Clone, Debug, Serialize)]
pub struct SignInOption {
    pub id: i64,
    pub name: String,
    pub kind: ProviderKind,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct ProviderInput {
    /// 名称（登录页按钮上显示），1–40 字
    pub name: String,
    pub config: ProviderConfig,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// 修改时必填：读取时的版本号
    #[serde(default)]
    pub version: Option<i64>,
}

fn yes() -> bool {
    true
}

/// An account linked to a provider's subject.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SsoLink {
    pub provider_id: i64,
    pub provider: String,
    pub subject: String,
    pub user_id: i64,
    pub username: String,
    pub person: String,
    pub linked_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

/// Whether a role's accounts may sign in with their password.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PasswordLogin {
    /// 角色代码（admin、supervisor、liaison …）
    pub role: String,
    #[serde(default)]
    pub role_label: String,
    /// 是否允许密码登录
    pub allowed: bool,
}

/// How long a sign-in sent to a provider may take to come back.
const PENDING_MINUTES: i64 = 10;
const PASSWORD_OFF_KEY: &str = "security.password_off_roles";

impl Db {
    fn provider_of(&self, r: &sqlx::any::AnyRow, masked: bool) -> Result<(SsoProvider, ProviderConfig)> {
        let config: ProviderConfig = serde_json::from_str(&self.open_field(&r.s("config")?)?)
            .map_err(|e| StoreError::internal(format!("身份源配置无法读取：{e}")))?;
        let kind = config.kind;
        let p = SsoProvider {
            id: r.i("id")?,
            name: r.s("name")?,
            kind,
            kind_label: kind.label_zh().into(),
            config: if masked { config.masked() } else { config.clone() },
            enabled: r.i("enabled")? != 0,
            version: r.i("version")?,
            match_by_label: config.match_by().label_zh().into(),
            links: r.i("links")?,
        };
        Ok((p, config))
    }

    /// The registered providers (安全管理员).
    pub async fn sso_providers(&self, u: &SessionUser) -> Result<Vec<SsoProvider>> {
        u.actor().may_secure()?;
        let rows = sqlx::query(
            "SELECT p.id, p.name, p.config, p.enabled, p.version, \
             (SELECT COUNT(*) FROM sso_links l WHERE l.provider_id = p.id) AS links FROM sso_providers p ORDER BY p.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(self.provider_of(r, true)?.0)).collect()
    }

    /// The enabled providers, for the login page (names only).
    pub async fn sign_in_options(&self) -> Result<Vec<SignInOption>> {
        let rows = sqlx::query("SELECT id, name, kind FROM sso_providers WHERE enabled = 1 ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let kind =
                    ProviderKind::from_code(&r.s("kind")?).ok_or_else(|| StoreError::internal("未知身份源类型"))?;
                Ok(SignInOption { id: r.i("id")?, name: r.s("name")?, kind })
            })
            .collect()
    }

    /// A provider with its secrets, for signing in: (name, configuration, version, enabled).
    pub async fn sso_provider_for_use(&self, id: i64) -> Result<(String, ProviderConfig, i64, bool)> {
        let r = sqlx::query("SELECT id, name, config, enabled, version, 0 AS links FROM sso_providers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("身份源 {id} 不存在")))?;
        let (p, config) = self.provider_of(&r, false)?;
        Ok((p.name, config, p.version, p.enabled))
    }

    async fn checked_provider(
        &self,
        b: &ProviderInput,
        old: Option<&ProviderConfig>,
    ) -> Result<(ProviderConfig, String)> {
        let name = b.name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(StoreError::invalid("name", "身份源名称应为 1–40 个字"));
        }
        let cfg = match old {
            Some(old) => b.config.clone().keeping_secrets_of(old),
            None => b.config.clone(),
        };
        cfg.check().map_err(|e| StoreError::invalid(e.field, e.message))?;
        let sealed = self.seal(&serde_json::to_string(&cfg).map_err(|e| StoreError::internal(e.to_string()))?);
        Ok((cfg, sealed))
    }

    async fn audit_provider(
        &self,
        tx: &mut Tx,
        u: &SessionUser,
        action: &'static str,
        id: i64,
        c: &ProviderConfig,
        now: NaiveDateTime,
    ) -> Result<()> {
        let url = if c.kind == ProviderKind::Oidc { c.issuer.clone() } else { c.dingtalk_base() };
        let after = serde_json::json!({"kind": c.kind.code(), "url": url, "match_by": c.match_by().code(),
            "unit_claim": c.unit_claim})
        .to_string();
        let change = audit::Change {
            actor: &u.username,
            action,
            entity: "sso_provider",
            entity_id: id.to_string(),
            before: String::new(),
            after,
        };
        audit::append(tx, now, change).await.map(|_| ())
    }

    /// Register a provider (安全管理员). Audited, without its secrets.
    pub async fn create_sso_provider(&self, u: &SessionUser, b: &ProviderInput, now: NaiveDateTime) -> Result<i64> {
        u.actor().may_secure()?;
        let (cfg, sealed) = self.checked_provider(b, None).await?;
        let mut tx = self.begin().await?;
        let id = sqlx::query(
            "INSERT INTO sso_providers (name, kind, config, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(b.name.trim().to_string())
        .bind(cfg.kind.code().to_string())
        .bind(sealed)
        .bind(b.enabled as i64)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::invalid("name", format!("已有名为「{}」的身份源", b.name.trim())))?
        .i("id")?;
        self.audit_provider(&mut tx, u, "sso.provider.create", id, &cfg, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Change a provider (安全管理员) against the version it was read at: 409 when someone else
    /// changed it meanwhile. Secrets left empty or masked are kept.
    pub async fn update_sso_provider(
        &self,
        u: &SessionUser,
        id: i64,
        b: &ProviderInput,
        now: NaiveDateTime,
    ) -> Result<()> {
        u.actor().may_secure()?;
        let (_, old, _, _) = self.sso_provider_for_use(id).await?;
        let version = b.version.ok_or_else(|| StoreError::invalid("version", "请提供读取时的版本号"))?;
        let (cfg, sealed) = self.checked_provider(b, Some(&old)).await?;
        let mut tx = self.begin().await?;
        if crate::name_taken(&mut tx, crate::Named::SsoProviders, b.name.trim(), id).await? {
            return Err(StoreError::invalid("name", format!("已有名为「{}」的身份源", b.name.trim())));
        }
        let n = sqlx::query(
            "UPDATE sso_providers SET name = $1, kind = $2, config = $3, enabled = $4, version = version + 1, \
             updated_at = $5 WHERE id = $6 AND version = $7",
        )
        .bind(b.name.trim().to_string())
        .bind(cfg.kind.code().to_string())
        .bind(sealed)
        .bind(b.enabled as i64)
        .bind(ts(now))
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict("该身份源已被他人修改，请刷新后再改".into()));
        }
        self.audit_provider(&mut tx, u, "sso.provider.update", id, &cfg, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keep a sign-in sent to a provider until it returns (at most ten minutes).
    pub async fn begin_sso(&self, provider_id: i64, p: &Pending, next: &str, now: NaiveDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sso_pending WHERE expires_at < $1").bind(ts(now)).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO sso_pending (state_hash, provider_id, nonce, verifier, next, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_digest(&p.state))
        .bind(provider_id)
        .bind(self.seal(&p.nonce))
        .bind(self.seal(&p.verifier))
        .bind(next.to_string())
        .bind(ts(now + Duration::minutes(PENDING_MINUTES)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take the sign-in kept under `state` for `provider_id`: once only, and only before it
    /// expires. Returns what was kept and where to go after.
    pub async fn take_sso(&self, provider_id: i64, state: &str, now: NaiveDateTime) -> Result<(Pending, String)> {
        let gone = || StoreError::Denied("登录已过期或已使用，请重新登录".into());
        if state.is_empty() || state.len() > 128 {
            return Err(gone());
        }
        let r = sqlx::query(
            "DELETE FROM sso_pending WHERE state_hash = $1 AND provider_id = $2 \
             RETURNING nonce, verifier, next, expires_at",
        )
        .bind(token_digest(state))
        .bind(provider_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(gone)?;
        if parse_ts(&r.s("expires_at")?)? < now {
            return Err(gone());
        }
        let pending = Pending {
            state: state.to_string(),
            nonce: self.open_field(&r.s("nonce")?)?,
            verifier: self.open_field(&r.s("verifier")?)?,
        };
        Ok((pending, r.s("next")?))
    }

    /// Record a refused sign-in through a provider in the 登录日志.
    pub async fn sso_refused(
        &self,
        who: &str,
        provider: &str,
        why: &str,
        address: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let who: String = who.chars().take(64).collect();
        sqlx::query("INSERT INTO login_log (username, at, ok, message, address) VALUES ($1, $2, 0, $3, $4)")
            .bind(if who.is_empty() { "（未识别）".to_string() } else { who })
            .bind(ts(now))
            .bind(format!("统一身份认证（{provider}）：{}", xietong_notify::cut(why, 200)))
            .bind(address.chars().take(64).collect::<String>())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The accounts whose person has `value` as an address of `kind` (sealed, so each is opened).
    async fn accounts_by_address(&self, kind: AddressKind, value: &str) -> Result<Vec<i64>> {
        let norm = |s: &str| match kind {
            AddressKind::Email => s.trim().to_lowercase(),
            AddressKind::Mobile => s.chars().filter(char::is_ascii_digit).collect::<String>(),
            AddressKind::DingtalkUser => s.trim().to_string(),
        };
        let want = norm(value);
        let rows = sqlx::query(
            "SELECT a.value, u.id FROM notify_addresses a JOIN users u ON u.person_id = a.person_id WHERE a.kind = $1",
        )
        .bind(kind.code().to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = vec![];
        for r in &rows {
            if norm(&self.open_field(&r.s("value")?)?) == want {
                out.push(r.i("id")?);
            }
        }
        Ok(out)
    }

    /// The account an identity signs into: the one linked to its subject, else — the first time —
    /// the one its username claim names (by the provider's `match_by`), which is then linked.
    async fn account_for(&self, provider_id: i64, cfg: &ProviderConfig, id: &Identity) -> Result<(i64, bool)> {
        let linked = sqlx::query("SELECT user_id FROM sso_links WHERE provider_id = $1 AND subject = $2")
            .bind(provider_id)
            .bind(id.subject.clone())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(r) = linked {
            return Ok((r.i("user_id")?, false));
        }
        let name_claim = cfg.username_claim();
        let value = claim(&id.claims, name_claim).ok_or_else(|| {
            StoreError::Denied(format!("身份源没有给出用户名声明「{name_claim}」，无法对应到本系统的账号"))
        })?;
        let found = match cfg.match_by() {
            MatchBy::Username => sqlx::query("SELECT id FROM users WHERE username = $1")
                .bind(value.clone())
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.i("id"))
                .collect::<Result<Vec<_>>>()?,
            MatchBy::DingtalkUser => self.accounts_by_address(AddressKind::DingtalkUser, &value).await?,
            MatchBy::Mobile => self.accounts_by_address(AddressKind::Mobile, &value).await?,
            MatchBy::Email => self.accounts_by_address(AddressKind::Email, &value).await?,
        };
        match found.as_slice() {
            [one] => Ok((*one, true)),
            [] => Err(StoreError::Denied(format!(
                "身份源中的「{value}」在本系统没有对应账号（按{}比对）。统一身份认证不会自动开设账号，请联系系统管理员",
                cfg.match_by().label_zh()
            ))),
            _ => Err(StoreError::Denied(format!("「{value}」对应本系统的多个账号，无法自动绑定，请安全管理员处理"))),
        }
    }

    /// Sign in through a provider: find (and at the first time link) the account, check it is
    /// active and, with a unit claim mapped, in that unit; then open a session. Every refusal is
    /// a `Denied` in Chinese; the caller logs it with [`Db::sso_refused`].
    pub async fn sso_sign_in(
        &self,
        provider_id: i64,
        id: &Identity,
        now: NaiveDateTime,
        policy: SessionPolicy,
        address: &str,
    ) -> Result<NewSession> {
        let (name, cfg, _, enabled) = self.sso_provider_for_use(provider_id).await?;
        if !enabled {
            return Err(StoreError::Denied(format!("统一身份认证「{name}」已停用，请用其他方式登录")));
        }
        let (user_id, first) = self.account_for(provider_id, &cfg, id).await?;
        let r = sqlx::query(
            "SELECT us.username, us.active, u.name AS unit_name FROM users us JOIN people p ON p.id = us.person_id \
             JOIN units u ON u.id = p.unit_id WHERE us.id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        let username = r.s("username")?;
        if r.i("active")? == 0 {
            return Err(StoreError::Denied(format!("账号「{username}」已停用，请联系系统管理员")));
        }
        if !cfg.unit_claim.trim().is_empty() {
            let unit = r.s("unit_name")?;
            match claim(&id.claims, cfg.unit_claim.trim()) {
                Some(said) if said == unit => {}
                Some(said) => {
                    return Err(StoreError::Denied(format!(
                        "身份源给出的单位「{said}」与账号「{username}」所在单位「{unit}」不一致，未登录；请联系安全管理员核对"
                    )));
                }
                None => {
                    return Err(StoreError::Denied(format!(
                        "身份源没有给出单位声明「{}」，无法核对单位，未登录",
                        cfg.unit_claim.trim()
                    )));
                }
            }
        }
        let mut tx = self.begin().await?;
        if first {
            // Parallel first sign-ins of one subject: one link is made (and audited), the others find it.
            let made = sqlx::query(
                "INSERT INTO sso_links (provider_id, subject, user_id, linked_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(provider_id)
            .bind(id.subject.clone())
            .bind(user_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let holder = sqlx::query("SELECT user_id FROM sso_links WHERE provider_id = $1 AND subject = $2")
                .bind(provider_id)
                .bind(id.subject.clone())
                .fetch_optional(&mut *tx)
                .await?;
            match holder.map(|h| h.i("user_id")).transpose()? {
                Some(h) if h == user_id => {}
                Some(_) => return Err(StoreError::Conflict("该身份刚被绑定到另一账号，请重新登录".into())),
                None => {
                    return Err(StoreError::Denied(format!(
                        "账号「{username}」已绑定「{name}」中的另一身份，请安全管理员先解除原绑定"
                    )));
                }
            }
            if made == 1 {
                let change = audit::Change {
                    actor: &username,
                    action: "sso.link",
                    entity: "user",
                    entity_id: user_id.to_string(),
                    before: String::new(),
                    after: serde_json::json!({"provider": name, "subject": id.subject}).to_string(),
                };
                audit::append(&mut tx, now, change).await?;
            }
        }
        sqlx::query("UPDATE sso_links SET last_login_at = $1 WHERE provider_id = $2 AND subject = $3")
            .bind(ts(now))
            .bind(provider_id)
            .bind(id.subject.clone())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_log (username, at, ok, message, address) VALUES ($1, $2, 1, $3, $4)")
            .bind(username)
            .bind(ts(now))
            .bind(format!("统一身份认证登录成功（{name}）"))
            .bind(address.chars().take(64).collect::<String>())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.open_session(user_id, now, policy).await
    }

    /// Every link between a provider's subject and an account (安全管理员).
    pub async fn sso_links(&self, u: &SessionUser) -> Result<Vec<SsoLink>> {
        u.actor().may_secure()?;
        let rows = sqlx::query(
            "SELECT l.provider_id, sp.name AS provider, l.subject, l.user_id, us.username, p.name AS person_name, \
             p.post, un.name AS unit_name, l.linked_at, l.last_login_at FROM sso_links l \
             JOIN sso_providers sp ON sp.id = l.provider_id JOIN users us ON us.id = l.user_id \
             JOIN people p ON p.id = us.person_id JOIN units un ON un.id = p.unit_id \
             ORDER BY l.linked_at DESC, l.user_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SsoLink {
                    provider_id: r.i("provider_id")?,
                    provider: r.s("provider")?,
                    subject: r.s("subject")?,
                    user_id: r.i("user_id")?,
                    username: r.s("username")?,
                    person: crate::auth::person_display(&r.s("unit_name")?, &r.s("post")?, &r.s("person_name")?),
                    linked_at: parse_ts(&r.s("linked_at")?)?,
                    last_login_at: parse_ts_opt(r.os("last_login_at")?)?,
                })
            })
            .collect()
    }

    /// Remove a link (安全管理员): the next sign-in through the provider links afresh.
    pub async fn remove_sso_link(
        &self,
        u: &SessionUser,
        provider_id: i64,
        user_id: i64,
        now: NaiveDateTime,
    ) -> Result<()> {
        u.actor().may_secure()?;
        let mut tx = self.begin().await?;
        let gone = sqlx::query("DELETE FROM sso_links WHERE provider_id = $1 AND user_id = $2 RETURNING subject")
            .bind(provider_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Conflict("该绑定已不存在（可能已被他人解除）".into()))?;
        let change = audit::Change {
            actor: &u.username,
            action: "sso.unlink",
            entity: "user",
            entity_id: user_id.to_string(),
            before: serde_json::json!({"provider_id": provider_id, "subject": gone.s("subject")?}).to_string(),
            after: String::new(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The roles whose accounts may not sign in with a password.
    pub async fn password_login_off(&self) -> Result<Vec<Role>> {
        let v = self.get_setting(PASSWORD_OFF_KEY).await?.unwrap_or_default();
        // 安全管理员 always keeps the password: someone must be able to mend a broken provider.
        Ok(v.split(',').filter_map(Role::from_code).filter(|r| *r != Role::SecurityAdmin).collect())
    }

    /// Each role and whether it may sign in with a password.
    pub async fn password_login(&self) -> Result<Vec<PasswordLogin>> {
        let off = self.password_login_off().await?;
        Ok(Role::ALL
            .iter()
            .map(|r| PasswordLogin {
                role: r.code().into(),
                role_label: r.label_zh().into(),
                allowed: !off.contains(r),
            })
            .collect())
    }

    /// Set which roles may sign in with a password (安全管理员). Roles not listed keep theirs.
    pub async fn set_password_login(
        &self,
        u: &SessionUser,
        changes: &[PasswordLogin],
        now: NaiveDateTime,
    ) -> Result<()> {
        u.actor().may_secure()?;
        let mut off = self.password_login_off().await?;
        let before = off.iter().map(|r| r.code()).collect::<Vec<_>>().join(",");
        for c in changes {
            let role = Role::from_code(c.role.trim()).ok_or_else(|| {
                StoreError::invalid("role", format!("未知角色「{}」", xietong_notify::cut(&c.role, 20)))
            })?;
            if role == Role::SecurityAdmin && !c.allowed {
                return Err(StoreError::invalid(
                    "role",
                    "安全管理员须保留密码登录：统一身份认证不可用时，要靠它登录修复",
                ));
            }
            off.retain(|r| *r != role);
            if !c.allowed {
                off.push(role);
            }
        }
        off.sort_by_key(|r| Role::ALL.iter().position(|x| x == r));
        let after = off.iter().map(|r| r.code()).collect::<Vec<_>>().join(",");
        let mut tx = self.begin().await?;
        self.set_setting(&mut tx, PASSWORD_OFF_KEY, &after).await?;
        let change = audit::Change {
            actor: &u.username,
            action: "settings.password_login",
            entity: "settings",
            entity_id: "password_login".into(),
            before: serde_json::json!({"roles": before}).to_string(),
            after: serde_json::json!({"roles": after}).to_string(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(())
    }
}
