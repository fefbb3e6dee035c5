//! The progress reports of tasks, for their forecasts (预计完成): each `report` event keeps the
//! progress reported then.

use std::collections::HashMap;

use xietong_supervision::forecast::Report;

use crate::{Db, Result, RowExt, parse_ts};

impl Db {
    /// Every progress report of these tasks, in time order, by task. One query; the caller has
    /// already read the tasks with its permissions.
    pub async fn report_histories(&self, task_ids: &[i64]) -> Result<HashMap<i64, Vec<Report>>> {
        let mut out: HashMap<i64, Vec<Report>> = HashMap::new();
        for chunk in task_ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT task_id, at, data FROM task_events WHERE action = 'report' AND task_id IN ({}) ORDER BY at, id",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                let data: serde_json::Value = serde_json::from_str(&r.s("data")?).unwrap_or_default();
                let Some(progress) = data["progress"].as_i64() else { continue };
                out.entry(r.i("task_id")?).or_default().push(Report { at: parse_ts(&r.s("at")?)?, progress });
            }
        }
        Ok(out)
    }
}
