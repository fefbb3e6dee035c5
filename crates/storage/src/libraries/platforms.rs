//! 平台载体: R&D platforms (counted by level), innovation carriers and school–enterprise bases.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_supervision::validate::{Checks, optional_text, required_text};

use super::is_bureau;
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::got;
use crate::{Db, Result, RowExt, StoreError, ts};

/// R&D platforms (counted by level), innovation carriers, and school–enterprise bases.
pub const RD_PLATFORM_KINDS: [&str; 4] = ["重点实验室", "工程技术研究中心", "企业技术中心", "新型研发机构"];
pub const CARRIER_KINDS: [&str; 3] = ["众创空间", "孵化器", "创新创业综合体"];
pub const BASE_KINDS: [&str; 1] = ["校企合作基地"];
pub const PLATFORM_LEVELS: [&str; 3] = ["国家", "省", "市"];

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Platform {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub level: String,
    /// 研发平台 / 创新创业载体 / 校企合作基地
    pub group: String,
    pub host: String,
    pub approved_year: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewPlatform {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub approved_year: Option<i64>,
    /// Errors of form fields that could not be read (a number that is none): answered with every
    /// other field's, never stored.
    #[serde(skip)]
    pub unread: Vec<xietong_supervision::FieldError>,
}

pub fn platform_group(kind: &str) -> &'static str {
    if RD_PLATFORM_KINDS.contains(&kind) {
        "研发平台"
    } else if CARRIER_KINDS.contains(&kind) {
        "创新创业载体"
    } else {
        "校企合作基地"
    }
}

impl Db {
    pub async fn create_platform(&self, u: &SessionUser, n: &NewPlatform, now: NaiveDateTime) -> Result<i64> {
        if !is_bureau(u) {
            return Err(StoreError::Denied("无权限：平台载体登记由科技局办理".into()));
        }
        // Every field is checked before the answer.
        let mut c = Checks::with(n.unread.clone());
        let name = c.take(required_text("平台名称", &n.name, 150));
        let kind = n.kind.trim();
        let all: Vec<&str> = RD_PLATFORM_KINDS.iter().chain(&CARRIER_KINDS).chain(&BASE_KINDS).copied().collect();
        if !all.contains(&kind) {
            c.fail("平台类型", format!("应为 {}", all.join("、")));
        }
        let level = n.level.trim();
        if !level.is_empty() && !PLATFORM_LEVELS.contains(&level) {
            c.fail("级别", "应为 国家、省 或 市");
        }
        if RD_PLATFORM_KINDS.contains(&kind) && level.is_empty() {
            c.fail("级别", "研发平台须填写级别（国家、省、市）");
        }
        if let Some(y) = n.approved_year
            && !(1949..=now.date().format("%Y").to_string().parse::<i64>().unwrap_or(2100)).contains(&y)
        {
            c.fail("认定年份", format!("{y} 不是有效年份"));
        }
        let host = c.take(optional_text("依托单位", &n.host, 100));
        let mut tx = self.begin().await?;
        if let Some(name) = &name
            && sqlx::query("SELECT COUNT(*) AS n FROM platforms WHERE name = $1")
                .bind(name.clone())
                .fetch_one(&mut *tx)
                .await?
                .i("n")?
                > 0
        {
            c.fail("平台名称", format!("「{name}」已登记"));
        }
        c.finish()?;
        let (name, host) = (got(name)?, got(host)?.unwrap_or_default());
        let ent = sqlx::query("SELECT id FROM enterprises WHERE name = $1")
            .bind(host.clone())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.i("id"))
            .transpose()?;
        let inst = sqlx::query("SELECT id FROM institutions WHERE name = $1")
            .bind(host.clone())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.i("id"))
            .transpose()?;
        let id = sqlx::query(
            "INSERT INTO platforms (name, kind, level, host, enterprise_id, institution_id, approved_year, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(name.clone())
        .bind(kind.to_string())
        .bind(level.to_string())
        .bind(host)
        .bind(ent)
        .bind(inst)
        .bind(n.approved_year)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "platform.create",
                entity: "platform",
                entity_id: id.to_string(),
                before: String::new(),
                after: serde_json::json!({"name": name, "kind": kind, "level": level}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Platforms, optionally of one group (研发平台 / 创新创业载体 / 校企合作基地) and level filter
    /// ("省级以上" = 国家 or 省).
    pub async fn list_platforms(&self, group: Option<&str>, level: Option<&str>) -> Result<Vec<Platform>> {
        let rows = sqlx::query("SELECT * FROM platforms ORDER BY id").fetch_all(&self.pool).await?;
        let mut out = vec![];
        for r in &rows {
            let kind = r.s("kind")?;
            let lvl = r.s("level")?;
            let g = platform_group(&kind);
            if group.is_some_and(|x| x != g) {
                continue;
            }
            match level {
                Some("省级以上") if !(lvl == "国家" || lvl == "省") => continue,
                Some(l) if l != "省级以上" && l != lvl => continue,
                _ => {}
            }
            out.push(Platform {
                id: r.i("id")?,
                name: r.s("name")?,
                group: g.into(),
                kind,
                level: lvl,
                host: r.s("host")?,
                approved_year: r.oi("approved_year")?,
            });
        }
        Ok(out)
    }
}
