//! 数据范围 per role (RuoYi's 全部 / 自定 / 本单位 / 本单位及以下 / 仅本人), kept in the settings table
//! and set by the 安全管理员. The rules themselves are [`xietong_supervision::Actor`]'s; this
//! resolves a session's scope to units and stores the settings.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_supervision::{DataScope, Role};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError};

fn key(role: Role) -> String {
    format!("data_scope.{}", role.code())
}

/// One role's 数据范围 as the settings page and API show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RoleDataScope {
    pub role: Role,
    pub role_label: String,
    /// all / custom / unit / unit_and_below / self
    pub kind: String,
    pub kind_label: String,
    /// 自定: the listed units.
    pub unit_ids: Vec<i64>,
    pub unit_names: Vec<String>,
    /// False for the roles whose scope is fixed (产学研 roles, 安全/审计管理员).
    pub configurable: bool,
}

/// A change of one role's 数据范围.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct DataScopeChange {
    /// all 全部 / custom 自定 / unit 本单位 / unit_and_below 本单位及以下 / self 仅本人
    pub kind: String,
    /// 自定数据权限的单位编号
    #[serde(default)]
    pub unit_ids: Vec<i64>,
}

impl Db {
    /// The role's configured 数据范围; the default when unset, or when the stored text is not
    /// one (a hand-edited table never widens a scope by accident: it falls back to the default).
    pub async fn data_scope_of(&self, role: Role) -> Result<DataScope> {
        if !role.scope_is_setting() {
            return Ok(role.default_data_scope());
        }
        Ok(self
            .get_setting(&key(role))
            .await?
            .and_then(|s| DataScope::decode(s.trim()))
            .unwrap_or_else(|| role.default_data_scope()))
    }

    /// The units a scope covers for a person of `unit_id` (empty for 全部 and 仅本人).
    pub(crate) async fn scope_units(&self, scope: &DataScope, unit_id: i64) -> Result<Vec<i64>> {
        Ok(match scope {
            DataScope::All | DataScope::SelfOnly => vec![],
            DataScope::Custom(units) => units.clone(),
            DataScope::Unit => vec![unit_id],
            DataScope::UnitAndBelow => self.unit_and_descendants(unit_id).await?,
        })
    }

    /// Every role's 数据范围, for the 安全管理员.
    pub async fn data_scopes(&self) -> Result<Vec<RoleDataScope>> {
        let names: std::collections::HashMap<i64, String> = sqlx::query("SELECT id, name FROM units")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.i("id")?, r.s("name")?)))
            .collect::<Result<_>>()?;
        let mut out = vec![];
        for role in Role::ALL {
            let s = self.data_scope_of(role).await?;
            let unit_ids = match &s {
                DataScope::Custom(u) => u.clone(),
                _ => vec![],
            };
            out.push(RoleDataScope {
                role,
                role_label: role.label_zh().into(),
                kind: s.kind().into(),
                kind_label: s.label_zh().into(),
                unit_names: unit_ids
                    .iter()
                    .map(|i| names.get(i).cloned().unwrap_or_else(|| format!("（已删除的单位 {i}）")))
                    .collect(),
                unit_ids,
                configurable: role.scope_is_setting(),
            });
        }
        Ok(out)
    }

    /// Set a role's 数据范围 (安全管理员). Takes effect at each session's next request.
    pub async fn save_data_scope(
        &self,
        admin: &SessionUser,
        role: Role,
        change: &DataScopeChange,
        now: NaiveDateTime,
    ) -> Result<()> {
        admin.actor().may_secure()?;
        if !role.scope_is_setting() {
            return Err(StoreError::invalid(
                "角色",
                format!("{}的数据范围是固定的（{}），不能设置", role.label_zh(), role.default_data_scope().label_zh()),
            ));
        }
        let scope = DataScope::from_parts("数据范围", &change.kind, &change.unit_ids)?;
        let before = self.data_scope_of(role).await?.encode();
        let mut tx = self.begin().await?;
        if let DataScope::Custom(units) = &scope {
            for u in units {
                self.unit_exists(&mut tx, "自定数据权限的单位", *u).await?;
            }
        }
        self.set_setting(&mut tx, &key(role), &scope.encode()).await?;
        append(
            &mut tx,
            now,
            Change {
                actor: &admin.username,
                action: "settings.data_scope",
                entity: "role",
                entity_id: role.code().into(),
                before,
                after: scope.encode(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
