//! The work calendar and supervision rules as stored settings. The calendar is seeded from the
//! bundled holiday-cn data once; after that the administrator's edits are the truth.

use chrono::{NaiveDate, NaiveDateTime};
use xietong_calendar::{DayOverride, OfficeHours, WorkCalendar};
use xietong_supervision::validate::{Checks, FieldErrors};
use xietong_supervision::{EscalationRules, UrgeRules};

use crate::audit::{Change, append};
use crate::{Db, Result, RowExt, StoreError};

const OFFICE_HOURS: &str = "office_hours";
const ESCALATION: &str = "escalation_rules";
const URGE: &str = "urge_rules";

/// Everything a computation needs that an administrator can change.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Rules {
    pub escalation: EscalationRules,
    pub urge: UrgeRules,
}

impl Rules {
    /// Every field's error at once, after those `c` already holds (numbers a form could not read).
    pub fn check(&self, mut c: Checks) -> std::result::Result<(), FieldErrors> {
        self.escalation.check(&mut c);
        self.urge.check_settings(&mut c);
        c.finish()
    }
}

impl Db {
    pub(crate) async fn seed_calendar_if_empty(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("SELECT COUNT(*) AS n FROM calendar_years").fetch_one(&mut *tx).await?.i("n")?;
        if n == 0 {
            for y in WorkCalendar::bundled_years() {
                sqlx::query("INSERT INTO calendar_years (year, source) VALUES ($1, 'holiday-cn')")
                    .bind(y as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            for d in WorkCalendar::bundled_overrides() {
                sqlx::query("INSERT INTO calendar_days (day, off, name, source) VALUES ($1, $2, $3, 'holiday-cn')")
                    .bind(d.date.to_string())
                    .bind(d.off as i64)
                    .bind(d.name)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn load_calendar(&self) -> Result<WorkCalendar> {
        let office = match self.get_setting(OFFICE_HOURS).await? {
            Some(s) => OfficeHours::parse(&s)?,
            None => OfficeHours::default(),
        };
        let mut cal = WorkCalendar::new(office);
        for r in sqlx::query("SELECT year FROM calendar_years").fetch_all(&self.pool).await? {
            cal.mark_year_published(r.i("year")? as i32);
        }
        for r in sqlx::query("SELECT day, off, name FROM calendar_days").fetch_all(&self.pool).await? {
            let day = r.s("day")?;
            let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .map_err(|_| StoreError::internal(format!("日历日期无效：{day}")))?;
            cal.set_override(DayOverride { date, off: r.i("off")? != 0, name: r.s("name")? });
        }
        Ok(cal)
    }

    pub async fn load_rules(&self) -> Result<Rules> {
        let escalation = match self.get_setting(ESCALATION).await? {
            Some(s) => serde_json::from_str(&s).map_err(|e| StoreError::internal(format!("升级规则设置无效：{e}")))?,
            None => EscalationRules::default(),
        };
        let urge = match self.get_setting(URGE).await? {
            Some(s) => serde_json::from_str(&s).map_err(|e| StoreError::internal(format!("催办规则设置无效：{e}")))?,
            None => UrgeRules::default(),
        };
        Ok(Rules { escalation, urge })
    }

    pub async fn save_rules(&self, actor: &str, rules: &Rules, now: NaiveDateTime) -> Result<()> {
        rules.check(Checks::new())?;
        let mut tx = self.begin().await?;
        let old = self.load_rules().await?;
        let before = serde_json::json!({"escalation": old.escalation, "urge": old.urge});
        self.set_setting(&mut tx, ESCALATION, &serde_json::to_string(&rules.escalation).unwrap_or_default()).await?;
        self.set_setting(&mut tx, URGE, &serde_json::to_string(&rules.urge).unwrap_or_default()).await?;
        let after = serde_json::json!({"escalation": rules.escalation, "urge": rules.urge});
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "settings.rules",
                entity: "settings",
                entity_id: "rules".into(),
                before: before.to_string(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An administrator sets a day as off (holiday) or on (调休 working day).
    pub async fn set_calendar_day(&self, actor: &str, o: &DayOverride, now: NaiveDateTime) -> Result<()> {
        let name = xietong_supervision::validate::required_text("名称", &o.name, 32)?;
        let mut tx = self.begin().await?;
        let before = sqlx::query("SELECT off, name FROM calendar_days WHERE day = $1")
            .bind(o.date.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let before = match before {
            Some(r) => serde_json::json!({"off": r.i("off")? != 0, "name": r.s("name")?}).to_string(),
            None => String::new(),
        };
        sqlx::query(
            "INSERT INTO calendar_days (day, off, name, source) VALUES ($1, $2, $3, 'admin') \
             ON CONFLICT (day) DO UPDATE SET off = excluded.off, name = excluded.name, source = 'admin'",
        )
        .bind(o.date.to_string())
        .bind(o.off as i64)
        .bind(name.clone())
        .execute(&mut *tx)
        .await?;
        let after = serde_json::json!({"off": o.off, "name": name}).to_string();
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "calendar.set_day",
                entity: "calendar_day",
                entity_id: o.date.to_string(),
                before,
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_calendar_day(&self, actor: &str, date: NaiveDate, now: NaiveDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT off, name FROM calendar_days WHERE day = $1")
            .bind(date.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(r) = r else {
            return Err(StoreError::NotFound(format!("{date} 没有特殊安排，无需删除")));
        };
        let before = serde_json::json!({"off": r.i("off")? != 0, "name": r.s("name")?}).to_string();
        sqlx::query("DELETE FROM calendar_days WHERE day = $1").bind(date.to_string()).execute(&mut *tx).await?;
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "calendar.remove_day",
                entity: "calendar_day",
                entity_id: date.to_string(),
                before,
                after: String::new(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mark a year's schedule as published (its computations stop being provisional).
    pub async fn set_year_published(&self, actor: &str, year: i32, published: bool, now: NaiveDateTime) -> Result<()> {
        if !(2000..=2100).contains(&year) {
            return Err(StoreError::invalid("年份", "应在 2000 到 2100 之间"));
        }
        let mut tx = self.begin().await?;
        if published {
            sqlx::query("INSERT INTO calendar_years (year, source) VALUES ($1, 'admin') ON CONFLICT (year) DO NOTHING")
                .bind(year as i64)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("DELETE FROM calendar_years WHERE year = $1").bind(year as i64).execute(&mut *tx).await?;
        }
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "calendar.publish_year",
                entity: "calendar_year",
                entity_id: year.to_string(),
                before: String::new(),
                after: serde_json::json!({"published": published}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_office_hours(&self, actor: &str, spec: &str, now: NaiveDateTime) -> Result<()> {
        let parsed = OfficeHours::parse(spec).map_err(|e| StoreError::invalid("办公时间", e.to_string()))?;
        let before = self.get_setting(OFFICE_HOURS).await?.unwrap_or_else(|| OfficeHours::default().to_string());
        let mut tx = self.begin().await?;
        self.set_setting(&mut tx, OFFICE_HOURS, &parsed.to_string()).await?;
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "calendar.office_hours",
                entity: "settings",
                entity_id: OFFICE_HOURS.into(),
                before,
                after: parsed.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
