//! Registered technical contracts (技术合同登记), for a docking or ones the district counts that
//! did not come through a docking.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_docking::contract::{self, ContractAmounts, ContractType};
use xietong_supervision::FieldError;
use xietong_supervision::validate::{self, Checks, required_text};

use super::stage_of;
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::got;
use crate::libraries::must_be_bureau;
use crate::{Db, Result, RowExt, StoreError, ts};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Contract {
    pub id: i64,
    pub docking_id: Option<i64>,
    pub contract_no: String,
    pub kind: ContractType,
    pub kind_label: String,
    pub buyer: String,
    pub seller: String,
    pub amount_wan: f64,
    pub technical_income_wan: f64,
    pub signed_on: String,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewContract {
    /// 技术合同登记编号
    pub contract_no: String,
    /// 技术开发 / 技术转让 / 技术许可 / 技术咨询 / 技术服务
    pub kind: String,
    /// 委托方/受让方（买方）
    pub buyer: String,
    /// 受托方/让与方（卖方）
    pub seller: String,
    pub amount_wan: f64,
    pub technical_income_wan: f64,
    /// YYYY-MM-DD
    pub signed_on: String,
    /// Errors of form fields that could not be read (a number that is none): answered with every
    /// other field's, never stored.
    #[serde(skip)]
    pub unread: Vec<xietong_supervision::FieldError>,
}

pub(super) fn contract_of(r: &sqlx::any::AnyRow) -> Result<Contract> {
    let kind = ContractType::from_code(&r.s("kind")?).ok_or_else(|| StoreError::internal("未知合同类型"))?;
    Ok(Contract {
        id: r.i("id")?,
        docking_id: r.oi("docking_id")?,
        contract_no: r.s("contract_no")?,
        kind,
        kind_label: kind.label_zh().into(),
        buyer: r.s("buyer")?,
        seller: r.s("seller")?,
        amount_wan: r.f("amount_wan")?,
        technical_income_wan: r.f("technical_income_wan")?,
        signed_on: r.s("signed_on")?,
    })
}

impl Db {
    /// Register a technical contract, for a docking or on its own (contracts the district
    /// counts that did not come through a docking).
    pub async fn register_contract(
        &self,
        u: &SessionUser,
        docking_id: Option<i64>,
        n: &NewContract,
        now: NaiveDateTime,
    ) -> Result<i64> {
        must_be_bureau(u, "技术合同登记")?;
        // Stored in its comparison form (full-width digits as ASCII, no spaces or invisible
        // characters, upper case), so a look-alike meets the unique constraint.
        let mut c = Checks::with(n.unread.clone());
        let no = c
            .take(required_text("合同登记编号", &n.contract_no, 40))
            .map(|no| xietong_supervision::text::identifier_key(&no).to_uppercase());
        let kind = c.take(
            ContractType::from_code(n.kind.trim())
                .ok_or_else(|| FieldError::new("合同类型", "应为 技术开发、技术转让、技术许可、技术咨询 或 技术服务")),
        );
        let buyer = c.take(required_text("委托方/受让方", &n.buyer, 100));
        let seller = c.take(required_text("受托方/让与方", &n.seller, 100));
        c.take(ContractAmounts { amount: n.amount_wan, technical_income: n.technical_income_wan }.validate());
        let signed = c.take(validate::date("签订日期", &n.signed_on).and_then(|d| contract::signed_on(d, now.date())));
        let mut tx = self.begin().await?;
        if let Some(d) = docking_id {
            let r = sqlx::query("SELECT stage FROM dockings WHERE id = $1")
                .bind(d)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("没有编号 {d} 的对接")))?;
            if stage_of(&r.s("stage")?)?.is_final() {
                return Err(StoreError::Conflict("对接已结束，不能再登记合同".into()));
            }
        }
        if let Some(no) = &no
            && sqlx::query("SELECT COUNT(*) AS n FROM contracts WHERE contract_no = $1")
                .bind(no.clone())
                .fetch_one(&mut *tx)
                .await?
                .i("n")?
                > 0
        {
            c.fail("合同登记编号", format!("「{no}」已登记"));
        }
        c.finish()?;
        let (no, kind, buyer, seller, signed) = (got(no)?, got(kind)?, got(buyer)?, got(seller)?, got(signed)?);
        let id = sqlx::query(
            "INSERT INTO contracts (docking_id, contract_no, kind, buyer, seller, amount_wan, technical_income_wan, \
             signed_on, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(docking_id)
        .bind(no.clone())
        .bind(kind.code().to_string())
        .bind(buyer.clone())
        .bind(seller.clone())
        .bind(n.amount_wan)
        .bind(n.technical_income_wan)
        .bind(signed.to_string())
        .bind(u.username.clone())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        let after = serde_json::json!({"docking_id": docking_id, "contract_no": no, "kind": kind.code(), "buyer": buyer, "seller": seller, "amount_wan": n.amount_wan, "technical_income_wan": n.technical_income_wan, "signed_on": signed});
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "contract.register",
                entity: "contract",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Contracts, optionally of one year and/or type (the dashboard's drill-down).
    pub async fn list_contracts(&self, year: Option<i32>, kind: Option<ContractType>) -> Result<Vec<Contract>> {
        let rows = sqlx::query(
            "SELECT * FROM contracts WHERE ($1 = '' OR signed_on LIKE $1) AND ($2 = '' OR kind = $2) \
             ORDER BY signed_on DESC, id DESC",
        )
        .bind(year.map(|y| format!("{y}-%")).unwrap_or_default())
        .bind(kind.map(|k| k.code()).unwrap_or("").to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contract_of).collect()
    }
}
