//! 催办 by hand: counted per ISO week in `urge_counts` against the weekly cap, recorded, and
//! notified to the lead unit. The body of [`Db::perform_in`]'s 催办 arm.
//!
//! [`Db::perform_in`]: crate::Db::perform_in

use chrono::{Datelike, NaiveDateTime};
use xietong_supervision::validate::optional_multiline;

use super::{Ctx, Task, notify};
use crate::auth::SessionUser;
use crate::{Result, RowExt, StoreError, ts};

/// ISO week label used for the weekly 催办 cap, e.g. "2026-W47".
pub fn week_label(t: NaiveDateTime) -> String {
    let w = t.date().iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// One 催办 of task `t`; refused once the week's cap is reached. Returns the timeline comment.
pub(super) async fn urge(
    tx: &mut sqlx::AnyConnection,
    user: &SessionUser,
    ctx: &Ctx<'_>,
    t: &Task,
    c: &str,
) -> Result<String> {
    let (now, task_id) = (ctx.now, t.id);
    let week = week_label(now);
    let comment = optional_multiline("催办内容", c, 1000)?.unwrap_or_else(|| "请抓紧办理".into());
    // The cap's check is in the counter's own UPDATE: a 4th 催办 of a week changes no row.
    let counted = sqlx::query(
        "INSERT INTO urge_counts (task_id, week, manual) VALUES ($1, $2, 1) ON CONFLICT (task_id, week) \
         DO UPDATE SET manual = urge_counts.manual + 1 WHERE urge_counts.manual < $3",
    )
    .bind(task_id)
    .bind(week.clone())
    .bind(ctx.rules.urge.cap_per_week)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if counted != 1 {
        let sent = sqlx::query("SELECT manual FROM urge_counts WHERE task_id = $1 AND week = $2")
            .bind(task_id)
            .bind(week.clone())
            .fetch_one(&mut *tx)
            .await?
            .i("manual")?;
        ctx.rules.urge.check(sent.max(ctx.rules.urge.cap_per_week)).map_err(StoreError::Conflict)?;
    }
    sqlx::query("INSERT INTO urges (task_id, manual, by_user_id, at, week, comment) VALUES ($1, 1, $2, $3, $4, $5)")
        .bind(task_id)
        .bind(user.user_id)
        .bind(ts(now))
        .bind(week)
        .bind(comment.clone())
        .execute(&mut *tx)
        .await?;
    notify(
        &mut *tx,
        Some(t.lead_unit_id),
        None,
        task_id,
        "urge",
        &format!("督查局催办「{}」：{comment}", t.title),
        now,
    )
    .await?;
    Ok(comment)
}
