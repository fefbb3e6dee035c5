//! The organisation: units (a tree), people by post, accounts, categories and leaders' areas.

use chrono::NaiveDateTime;
use serde::Serialize;
use xietong_supervision::Role;

use crate::audit::{Change, append};
use crate::{Db, Result, RowExt, StoreError, Tx, ts};

/// A login name: 1–32 letters, digits, underscores or dots.
pub fn username(v: &str) -> Result<&str> {
    let v = v.trim();
    if v.is_empty() || v.len() > 32 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return Err(StoreError::invalid("用户名", "应为 1–32 位字母、数字、下划线或点"));
    }
    Ok(v)
}

pub const UNIT_KINDS: [&str; 6] = ["区委部门", "区政府部门", "镇街", "管委会", "外部单位", "内设科室"];

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub head_person_id: Option<i64>,
    pub head_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub post: String,
    pub unit_id: i64,
    pub unit_name: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub person_name: String,
    pub post: String,
    pub unit_name: String,
    pub active: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: i64,
    pub name: String,
    /// 牵头部门: ranks the units carrying the category's tasks each month.
    pub lead_unit_id: Option<i64>,
    pub lead_unit_name: Option<String>,
    /// 办结证据要求: a 办结申请 of this category must carry at least one file.
    pub completion_evidence: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LeaderArea {
    pub leader_person_id: i64,
    pub leader_name: String,
    pub unit_name: Option<String>,
    pub category_name: Option<String>,
}

fn unit(r: &sqlx::any::AnyRow) -> Result<Unit> {
    Ok(Unit {
        id: r.i("id")?,
        code: r.s("code")?,
        name: r.s("name")?,
        kind: r.s("kind")?,
        parent_id: r.oi("parent_id")?,
        head_person_id: r.oi("head_person_id")?,
        head_name: r.os("head_name")?,
    })
}

pub(crate) fn unit_name(name: &str) -> Result<String> {
    Ok(xietong_supervision::validate::required_text("单位名称", name, 64)?)
}

pub(crate) fn unit_code(code: &str) -> Result<String> {
    Ok(xietong_supervision::validate::required_text("单位编码", code, 32)?)
}

impl Db {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_unit(
        &self,
        tx: &mut Tx,
        actor: &str,
        code: &str,
        name: &str,
        kind: &str,
        parent_id: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let name = unit_name(name)?;
        let code = unit_code(code)?;
        if !UNIT_KINDS.contains(&kind) {
            return Err(StoreError::invalid(
                "单位类型",
                format!("「{kind}」不是有效类型，应为：{}", UNIT_KINDS.join("、")),
            ));
        }
        let id = sqlx::query("INSERT INTO units (code, name, kind, parent_id) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(code.clone())
            .bind(name.clone())
            .bind(kind.to_string())
            .bind(parent_id)
            .fetch_one(&mut **tx)
            .await?
            .i("id")?;
        let after = serde_json::json!({"code": code, "name": name, "kind": kind, "parent_id": parent_id}).to_string();
        append(
            tx,
            now,
            Change {
                actor,
                action: "unit.create",
                entity: "unit",
                entity_id: id.to_string(),
                before: String::new(),
                after,
            },
        )
        .await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_person(
        &self,
        tx: &mut Tx,
        actor: &str,
        code: &str,
        name: &str,
        post: &str,
        unit_id: i64,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let name = xietong_supervision::validate::required_text("姓名", name, 32)?;
        let post = xietong_supervision::validate::required_text("职务", post, 32)?;
        let id = sqlx::query("INSERT INTO people (code, name, post, unit_id) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(code.to_string())
            .bind(name.clone())
            .bind(post.clone())
            .bind(unit_id)
            .fetch_one(&mut **tx)
            .await?
            .i("id")?;
        let after = serde_json::json!({"code": code, "name": name, "post": post, "unit_id": unit_id}).to_string();
        append(
            tx,
            now,
            Change {
                actor,
                action: "person.create",
                entity: "person",
                entity_id: id.to_string(),
                before: String::new(),
                after,
            },
        )
        .await?;
        Ok(id)
    }

    pub async fn set_unit_head(
        &self,
        tx: &mut Tx,
        actor: &str,
        unit_id: i64,
        person_id: i64,
        now: NaiveDateTime,
    ) -> Result<()> {
        sqlx::query("UPDATE units SET head_person_id = $1 WHERE id = $2")
            .bind(person_id)
            .bind(unit_id)
            .execute(&mut **tx)
            .await?;
        append(
            tx,
            now,
            Change {
                actor,
                action: "unit.set_head",
                entity: "unit",
                entity_id: unit_id.to_string(),
                before: String::new(),
                after: serde_json::json!({"head_person_id": person_id}).to_string(),
            },
        )
        .await?;
        Ok(())
    }

    /// Create an account with an already computed argon2 hash (see [`crate::auth::hash_password`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_user(
        &self,
        tx: &mut Tx,
        actor: &str,
        username: &str,
        password_hash: &str,
        person_id: i64,
        role: Role,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let username = crate::org::username(username)?;
        let id = sqlx::query("INSERT INTO users (username, password_hash, person_id, role, active, created_at) VALUES ($1, $2, $3, $4, 1, $5) RETURNING id")
            .bind(username.to_string())
            .bind(password_hash.to_string())
            .bind(person_id)
            .bind(role.code().to_string())
            .bind(ts(now))
            .fetch_one(&mut **tx)
            .await?
            .i("id")?;
        // The password hash is not audited: the audit log is readable by auditors.
        let after = serde_json::json!({"username": username, "person_id": person_id, "role": role.code()}).to_string();
        append(
            tx,
            now,
            Change {
                actor,
                action: "user.create",
                entity: "user",
                entity_id: id.to_string(),
                before: String::new(),
                after,
            },
        )
        .await?;
        Ok(id)
    }

    pub async fn create_category(
        &self,
        tx: &mut Tx,
        actor: &str,
        name: &str,
        sort: i64,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let name = xietong_supervision::validate::required_text("工作类别", name, 32)?;
        let id = sqlx::query("INSERT INTO categories (name, sort) VALUES ($1, $2) RETURNING id")
            .bind(name.clone())
            .bind(sort)
            .fetch_one(&mut **tx)
            .await?
            .i("id")?;
        append(
            tx,
            now,
            Change {
                actor,
                action: "category.create",
                entity: "category",
                entity_id: id.to_string(),
                before: String::new(),
                after: serde_json::json!({"name": name}).to_string(),
            },
        )
        .await?;
        Ok(id)
    }

    /// The lead department of a work category, which ranks the units carrying its tasks.
    pub async fn set_category_lead(
        &self,
        tx: &mut Tx,
        actor: &str,
        category_id: i64,
        unit_id: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<()> {
        sqlx::query("UPDATE categories SET lead_unit_id = $1 WHERE id = $2")
            .bind(unit_id)
            .bind(category_id)
            .execute(&mut **tx)
            .await?;
        let after = serde_json::json!({"lead_unit_id": unit_id});
        append(
            tx,
            now,
            Change {
                actor,
                action: "category.lead",
                entity: "category",
                entity_id: category_id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        Ok(())
    }

    pub async fn add_leader_area(
        &self,
        tx: &mut Tx,
        actor: &str,
        leader_person_id: i64,
        unit_id: Option<i64>,
        category_id: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<()> {
        if unit_id.is_none() && category_id.is_none() {
            return Err(StoreError::invalid("分包范围", "须指定单位或工作类别"));
        }
        let id = sqlx::query(
            "INSERT INTO leader_areas (leader_person_id, unit_id, category_id) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(leader_person_id)
        .bind(unit_id)
        .bind(category_id)
        .fetch_one(&mut **tx)
        .await?
        .i("id")?;
        let after =
            serde_json::json!({"leader_person_id": leader_person_id, "unit_id": unit_id, "category_id": category_id})
                .to_string();
        append(
            tx,
            now,
            Change {
                actor,
                action: "leader_area.add",
                entity: "leader_area",
                entity_id: id.to_string(),
                before: String::new(),
                after,
            },
        )
        .await?;
        Ok(())
    }

    pub async fn list_units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query(
            "SELECT u.*, p.name AS head_name FROM units u LEFT JOIN people p ON p.id = u.head_person_id ORDER BY u.sort, u.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(unit).collect()
    }

    pub async fn get_unit(&self, id: i64) -> Result<Unit> {
        let r = sqlx::query("SELECT u.*, p.name AS head_name FROM units u LEFT JOIN people p ON p.id = u.head_person_id WHERE u.id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::invalid("单位", format!("编号 {id} 的单位不存在")))?;
        unit(&r)
    }

    /// A unit and all units below it (本单位及下级).
    pub async fn unit_and_descendants(&self, id: i64) -> Result<Vec<i64>> {
        let mut conn = self.pool.acquire().await?;
        unit_and_descendants(&mut conn, id).await
    }

    pub async fn list_people(&self, unit_id: Option<i64>) -> Result<Vec<Person>> {
        let rows = sqlx::query(
            "SELECT p.id, p.code, p.name, p.post, p.unit_id, u.name AS unit_name FROM people p JOIN units u ON u.id = p.unit_id \
             WHERE ($1 IS NULL OR p.unit_id = $1) ORDER BY p.unit_id, p.id",
        )
        .bind(unit_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Person {
                    id: r.i("id")?,
                    code: r.s("code")?,
                    name: r.s("name")?,
                    post: r.s("post")?,
                    unit_id: r.i("unit_id")?,
                    unit_name: r.s("unit_name")?,
                })
            })
            .collect()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>> {
        let rows = sqlx::query(
            "SELECT us.id, us.username, us.role, us.active, p.name AS person_name, p.post, u.name AS unit_name \
             FROM users us JOIN people p ON p.id = us.person_id JOIN units u ON u.id = p.unit_id ORDER BY us.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UserRow {
                    id: r.i("id")?,
                    username: r.s("username")?,
                    role: r.s("role")?,
                    person_name: r.s("person_name")?,
                    post: r.s("post")?,
                    unit_name: r.s("unit_name")?,
                    active: r.i("active")? != 0,
                })
            })
            .collect()
    }

    pub async fn list_categories(&self) -> Result<Vec<Category>> {
        let rows = sqlx::query("SELECT c.id, c.name, c.lead_unit_id, u.name AS lead_unit_name, c.completion_evidence FROM categories c LEFT JOIN units u ON u.id = c.lead_unit_id ORDER BY c.sort, c.id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Category {
                    id: r.i("id")?,
                    name: r.s("name")?,
                    lead_unit_id: r.oi("lead_unit_id")?,
                    lead_unit_name: r.os("lead_unit_name")?,
                    completion_evidence: r.i("completion_evidence")? != 0,
                })
            })
            .collect()
    }

    pub async fn list_leader_areas(&self) -> Result<Vec<LeaderArea>> {
        let rows = sqlx::query(
            "SELECT a.leader_person_id, p.name AS leader_name, u.name AS unit_name, c.name AS category_name \
             FROM leader_areas a JOIN people p ON p.id = a.leader_person_id \
             LEFT JOIN units u ON u.id = a.unit_id LEFT JOIN categories c ON c.id = a.category_id ORDER BY a.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LeaderArea {
                    leader_person_id: r.i("leader_person_id")?,
                    leader_name: r.s("leader_name")?,
                    unit_name: r.os("unit_name")?,
                    category_name: r.os("category_name")?,
                })
            })
            .collect()
    }

    /// Is the database empty of organisation data (demo not loaded yet)?
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM units").fetch_one(&self.pool).await?.i("n")? == 0)
    }
}

/// A unit and all units below it, on a given connection (so it can run inside a transaction).
pub(crate) async fn unit_and_descendants(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Vec<i64>> {
    let all = sqlx::query("SELECT id, parent_id FROM units").fetch_all(&mut *conn).await?;
    let pairs: Vec<(i64, Option<i64>)> =
        all.iter().map(|r| Ok((r.i("id")?, r.oi("parent_id")?))).collect::<Result<_>>()?;
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        out.extend(pairs.iter().filter(|(_, p)| *p == Some(cur)).map(|(c, _)| *c));
        i += 1;
    }
    Ok(out)
}
