//! 企业库: enterprises with a checked 统一社会信用代码, a GB/T 4754-2017 industry, a location, and
//! the qualifications the district counts (国家高新技术企业 with certificate and expiry, 科技型中小企业,
//! 专精特新, 上市培育). The industry table is seeded from the bundled standard.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_calendar::parse_date;
use xietong_office::table::Column;
use xietong_office::xlsx::RawRow;
use xietong_supervision::validate::{optional_text, required_text};

use crate::audit::{Change, append};
use crate::imports::{ImportReport, RowProblem, problem, refusal};
use crate::{Db, Result, RowExt, StoreError, ts};

const INDUSTRIES: &str = include_str!("../../../assets/gbt4754/gbt4754-2017.tsv");

/// Qualifications the district reports; the first needs a certificate number and expiry.
pub const QUALIFICATIONS: [&str; 4] = ["国家高新技术企业", "科技型中小企业", "专精特新", "上市培育"];

#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Qualification {
    pub kind: String,
    #[serde(default)]
    pub cert_no: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub expires_on: Option<String>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewEnterprise {
    pub name: String,
    pub credit_code: String,
    pub industry_code: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub qualifications: Vec<Qualification>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Enterprise {
    pub id: i64,
    pub name: String,
    pub credit_code: Option<String>,
    pub industry_code: Option<String>,
    pub industry_name: Option<String>,
    pub location: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub qualifications: Vec<Qualification>,
}

/// Validated fields of one enterprise, ready to store.
struct Checked {
    name: String,
    /// None only for an enterprise known from a district report whose code is still to be collected.
    credit_code: Option<String>,
    industry_code: String,
    location: String,
    contact_name: String,
    contact_phone: String,
    qualifications: Vec<(String, String, Option<NaiveDate>)>,
}

fn check(n: &NewEnterprise, require_code: bool) -> Result<Checked> {
    let name = required_text("企业名称", &n.name, 100)?;
    let credit_code = if !require_code && n.credit_code.trim().is_empty() {
        None
    } else {
        Some(xietong_docking::codes::credit_code(&n.credit_code)?)
    };
    let industry_code = required_text("行业代码", &n.industry_code, 8)?.to_uppercase();
    let mut qualifications = vec![];
    for q in &n.qualifications {
        let kind = q.kind.trim();
        if !QUALIFICATIONS.contains(&kind) {
            return Err(StoreError::invalid(
                "资质",
                format!("「{kind}」不是可登记的资质（{}）", QUALIFICATIONS.join("、")),
            ));
        }
        if qualifications.iter().any(|(k, _, _): &(String, String, Option<NaiveDate>)| k == kind) {
            return Err(StoreError::invalid("资质", format!("「{kind}」重复")));
        }
        let expires = match q.expires_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) => Some(parse_date("资质有效期", d)?),
            None => None,
        };
        let cert = optional_text("证书编号", &q.cert_no, 40)?.unwrap_or_default();
        if kind == QUALIFICATIONS[0] && (cert.is_empty() || expires.is_none()) {
            return Err(StoreError::invalid("资质", "国家高新技术企业须填写证书编号和有效期"));
        }
        qualifications.push((kind.to_string(), cert, expires));
    }
    Ok(Checked {
        name,
        credit_code,
        industry_code,
        location: optional_text("所在镇街/园区", &n.location, 100)?.unwrap_or_default(),
        contact_name: optional_text("联系人", &n.contact_name, 50)?.unwrap_or_default(),
        contact_phone: optional_text("联系电话", &n.contact_phone, 30)?.unwrap_or_default(),
        qualifications,
    })
}

/// Qualifications written in one cell: "国家高新技术企业|GR202341001234|2026-12-31；科技型中小企业".
pub fn parse_qualifications(cell: &str) -> Vec<Qualification> {
    cell.split(['；', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|q| {
            let mut parts = q.split(['|', '｜']).map(str::trim);
            Qualification {
                kind: parts.next().unwrap_or("").to_string(),
                cert_no: parts.next().unwrap_or("").to_string(),
                expires_on: parts.next().map(str::to_string).filter(|s| !s.is_empty()),
            }
        })
        .collect()
}

/// Columns of the enterprise import template.
pub fn enterprise_columns() -> Vec<Column> {
    let c = |key: &str, header: &str, required: bool, width: f64, note: &str| Column {
        key: key.into(),
        header: header.into(),
        required,
        width,
        note: note.into(),
        choices: vec![],
    };
    vec![
        c("name", "企业名称", true, 30.0, "营业执照上的名称"),
        c("credit_code", "统一社会信用代码", true, 22.0, "18 位，系统按 GB 32100 校验"),
        c("industry_code", "行业代码", true, 10.0, "国民经济行业分类 GB/T 4754-2017 代码，如 C1441"),
        c("location", "所在镇街/园区", false, 18.0, ""),
        c("qualifications", "资质", false, 40.0, "多项用分号分隔；高新技术企业写作 国家高新技术企业|证书编号|有效期"),
        c("contact_name", "联系人", false, 10.0, ""),
        c("contact_phone", "联系电话", false, 14.0, ""),
    ]
}

impl Db {
    /// Load the bundled GB/T 4754-2017 table on first start (one statement per 200 rows).
    pub(crate) async fn seed_industries_if_empty(&self) -> Result<()> {
        let n = sqlx::query("SELECT COUNT(*) AS n FROM industries").fetch_one(&self.pool).await?.i("n")?;
        if n > 0 {
            return Ok(());
        }
        let rows: Vec<Vec<&str>> =
            INDUSTRIES.lines().skip(1).map(|l| l.split('\t').collect::<Vec<_>>()).filter(|c| c.len() >= 4).collect();
        let mut tx = self.begin().await?;
        for chunk in rows.chunks(200) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${}, ${})", i * 4 + 1, i * 4 + 2, i * 4 + 3, i * 4 + 4))
                .collect();
            let sql = format!(
                "INSERT INTO industries (code, name, parent, level) VALUES {} ON CONFLICT (code) DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                q = q
                    .bind(c[0].to_string())
                    .bind(c[1].to_string())
                    .bind(c[2].to_string())
                    .bind(c[3].parse::<i64>().unwrap_or(0));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn industry_name(&self, code: &str) -> Result<Option<String>> {
        let r = sqlx::query("SELECT name FROM industries WHERE code = $1")
            .bind(code.to_string())
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| r.s("name")).transpose()
    }

    /// The industry code as the table keys it ("1441"); "C1441" is accepted when C is its 门类.
    pub(crate) async fn industry_code(tx: &mut sqlx::AnyConnection, given: &str) -> Result<String> {
        // Full-width letters and digits from a Chinese input method are the same code.
        let given = xietong_supervision::text::identifier_key(given).to_uppercase();
        let given = given.as_str();
        let bad = || StoreError::invalid("行业代码", format!("「{given}」不是 GB/T 4754-2017 中的代码"));
        let (letter, code) = match given.chars().next() {
            Some(l) if l.is_ascii_alphabetic() && given.len() > 1 && given[1..].chars().all(|c| c.is_ascii_digit()) => {
                (Some(l.to_ascii_uppercase().to_string()), given[1..].to_string())
            }
            _ => (None, given.to_string()),
        };
        let mut at = code.clone();
        // Walk up to the 门类 (at most three steps: 小类 → 中类 → 大类 → 门类).
        for _ in 0..4 {
            let r = sqlx::query("SELECT parent FROM industries WHERE code = $1")
                .bind(at.clone())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(bad)?;
            let parent = r.s("parent")?;
            if parent.is_empty() {
                return match &letter {
                    Some(l) if *l != at => {
                        Err(StoreError::invalid("行业代码", format!("「{code}」属于门类 {at}，不是 {l}")))
                    }
                    _ => Ok(code),
                };
            }
            at = parent;
        }
        Err(bad())
    }

    async fn insert_enterprise(&self, tx: &mut sqlx::AnyConnection, c: &Checked, now: NaiveDateTime) -> Result<i64> {
        let industry = Self::industry_code(tx, &c.industry_code).await?;
        let code = c.credit_code.clone().unwrap_or_default();
        for (field, sql, v) in [
            ("企业名称", "SELECT COUNT(*) AS n FROM enterprises WHERE name = $1", &c.name),
            ("统一社会信用代码", "SELECT COUNT(*) AS n FROM enterprises WHERE credit_code = $1", &code),
        ] {
            if sqlx::query(sql).bind(v.clone()).fetch_one(&mut *tx).await?.i("n")? > 0 {
                return Err(StoreError::invalid(field, format!("「{v}」已在企业库中")));
            }
        }
        let id = sqlx::query(
            "INSERT INTO enterprises (name, credit_code, industry_code, location, contact_name, contact_phone, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(c.name.clone())
        .bind(c.credit_code.clone())
        .bind(industry)
        .bind(c.location.clone())
        .bind(c.contact_name.clone())
        .bind(self.seal(&c.contact_phone))
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for (kind, cert, expires) in &c.qualifications {
            sqlx::query("INSERT INTO enterprise_qualifications (enterprise_id, kind, cert_no, expires_on) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(kind.clone())
                .bind(cert.clone())
                .bind(expires.map(|d| d.to_string()))
                .execute(&mut *tx)
                .await?;
        }
        Ok(id)
    }

    /// Register one enterprise (科技局 work; the caller checks the role).
    pub async fn add_enterprise(&self, actor: &str, n: &NewEnterprise, now: NaiveDateTime) -> Result<i64> {
        self.add_enterprise_checked(actor, check(n, true)?, now).await
    }

    /// Register an enterprise known from a district report whose credit code is still to be
    /// collected; a code given is still checked.
    pub async fn add_reported_enterprise(&self, actor: &str, n: &NewEnterprise, now: NaiveDateTime) -> Result<i64> {
        self.add_enterprise_checked(actor, check(n, false)?, now).await
    }

    async fn add_enterprise_checked(&self, actor: &str, c: Checked, now: NaiveDateTime) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = self.insert_enterprise(&mut tx, &c, now).await?;
        let after = serde_json::json!({"name": c.name, "credit_code": c.credit_code, "industry_code": c.industry_code});
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "enterprise.create",
                entity: "enterprise",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Import enterprises, all or nothing, every bad row reported.
    pub async fn import_enterprises(
        &self,
        actor: &str,
        rows: &[RawRow],
        cell_problems: Vec<RowProblem>,
        now: NaiveDateTime,
    ) -> Result<ImportReport> {
        if rows.is_empty() {
            return Err(StoreError::BadInput("文件中没有数据行".into()));
        }
        let bad_cells = crate::imports::rows_with_problems(&cell_problems);
        let mut problems = cell_problems;
        let mut ids = vec![];
        let mut tx = self.begin().await?;
        for r in rows {
            if bad_cells.contains(&r.row) {
                continue;
            }
            let n = NewEnterprise {
                name: r.get("name").into(),
                credit_code: r.get("credit_code").into(),
                industry_code: r.get("industry_code").into(),
                location: r.get("location").into(),
                contact_name: r.get("contact_name").into(),
                contact_phone: r.get("contact_phone").into(),
                qualifications: parse_qualifications(r.get("qualifications")),
            };
            // Checks only read, so a refused row leaves the transaction usable for the next one.
            let res = match check(&n, true) {
                Ok(c) => self.insert_enterprise(&mut tx, &c, now).await,
                Err(e) => Err(e),
            };
            match res {
                Ok(id) => ids.push(id),
                Err(e @ StoreError::Internal(_)) => return Err(e),
                Err(e) => problems.extend(problem(r.row, e)),
            }
        }
        if !problems.is_empty() {
            tx.rollback().await?;
            return Err(refusal(&problems));
        }
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "enterprise.import",
                entity: "enterprise",
                entity_id: ids.len().to_string(),
                before: String::new(),
                after: serde_json::json!({"ids": ids}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportReport { rows: rows.len(), created_ids: ids, list_id: None })
    }

    /// The registry as `u` may read it: the contact person and phone shown per the personal-data
    /// table (`xietong_security::privacy`), an enterprise's own record whole to its own accounts.
    pub async fn enterprises_for(
        &self,
        u: &crate::auth::SessionUser,
        qualification: Option<&str>,
        on: NaiveDate,
    ) -> Result<Vec<Enterprise>> {
        use xietong_security::privacy::{PersonalField, Relation, show};
        let own = self.party_of(u).await?.enterprise_id;
        let mut list = self.list_enterprises(qualification, on).await?;
        for e in &mut list {
            let rel = if Some(e.id) == own { Relation::Own } else { Relation::Other };
            e.contact_name = show(u.role, rel, PersonalField::EnterpriseContactName, &e.contact_name);
            e.contact_phone = show(u.role, rel, PersonalField::EnterpriseContactPhone, &e.contact_phone);
        }
        Ok(list)
    }

    /// The registry, optionally only those holding a qualification valid on `on`, contacts whole:
    /// for the 科技局's own work and for matching; readers get [`Db::enterprises_for`].
    pub async fn list_enterprises(&self, qualification: Option<&str>, on: NaiveDate) -> Result<Vec<Enterprise>> {
        let rows = sqlx::query(
            "SELECT e.*, i.name AS industry_name FROM enterprises e LEFT JOIN industries i ON i.code = e.industry_code \
             WHERE $1 = '' OR EXISTS (SELECT 1 FROM enterprise_qualifications q WHERE q.enterprise_id = e.id AND q.kind = $1 AND (q.expires_on IS NULL OR q.expires_on >= $2)) \
             ORDER BY e.id",
        )
        .bind(qualification.unwrap_or("").to_string())
        .bind(on.to_string())
        .fetch_all(&self.pool)
        .await?;
        let quals =
            sqlx::query("SELECT enterprise_id, kind, cert_no, expires_on FROM enterprise_qualifications ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let mut out = vec![];
        for r in &rows {
            let id = r.i("id")?;
            let mut qs = vec![];
            for q in &quals {
                if q.i("enterprise_id")? == id {
                    qs.push(Qualification {
                        kind: q.s("kind")?,
                        cert_no: q.s("cert_no")?,
                        expires_on: q.os("expires_on")?,
                    });
                }
            }
            out.push(Enterprise {
                id,
                name: r.s("name")?,
                credit_code: r.os("credit_code")?,
                industry_code: r.os("industry_code")?,
                industry_name: r.os("industry_name")?,
                location: r.s("location")?,
                contact_name: r.s("contact_name")?,
                contact_phone: self.open_field(&r.s("contact_phone")?)?,
                qualifications: qs,
            });
        }
        Ok(out)
    }
}
