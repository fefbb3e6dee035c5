//! Storage-level guarantees, on SQLite and PostgreSQL: escalation steps fire exactly once across
//! processes and restarts, and the audit chain catches edits and deletions.

mod common;

use common::{dt, fresh};
use sqlx::Row;
use xietong_audit::ChainError;
use xietong_storage::Db;
use xietong_storage::tasks::{Command, Ctx, NewTask};

/// A task from a superior directive, handed over at once.
fn superior_task(title: &str, doc_no: &str, lead_unit_id: i64, deadline: &str) -> NewTask {
    NewTask {
        title: title.into(),
        source_kind: "superior".into(),
        doc_no: doc_no.into(),
        source_date: "2026-11-20".into(),
        lead_unit_id,
        report_cycle: "weekly".into(),
        deadline: deadline.into(),
        assign_now: true,
        ..Default::default()
    }
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    sqlx::query(sql).fetch_one(&db.pool).await.unwrap().try_get::<i64, _>("n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn escalation_steps_fire_exactly_once_across_processes_and_restarts() {
    each_backend!(|b| {
        let Some(tdb) = fresh(b).await else { continue };
        let now = dt("2026-11-23 10:00");
        xietong_demo::load(&tdb.db, now).await.unwrap();
        let cal = tdb.db.load_calendar().await.unwrap();
        let rules = tdb.db.load_rules().await.unwrap();
        let sup = tdb.db.user_by_name("duchaju").await.unwrap().unwrap();
        let jsj = tdb.db.list_units().await.unwrap().into_iter().find(|u| u.code == "jsj").unwrap().id;
        // 30 fresh tasks due within the next two weeks.
        let mut ids = vec![];
        for i in 0..30 {
            let deadline = cal.add_working_days(now.date(), 1 + i % 8).value.to_string();
            let n = superior_task(&format!("并发督办测试{i}"), &format!("并发〔2026〕{i}号"), jsj, &deadline);
            ids.push(tdb.db.create_task(&sup, &Ctx { cal: &cal, rules: &rules, now }, &n).await.unwrap());
        }
        let before_steps = count(&tdb.db, "SELECT COUNT(*) AS n FROM escalations").await;
        // Two "server processes" (independent pools) sweep at the same moments, racing.
        let a = tdb.reopen().await;
        let c = tdb.reopen().await;
        let mut t = now;
        let end = cal.add_working_minutes(now, 30 * 450).value;
        let mut fired_total = 0;
        while t <= end {
            let ctx = Ctx { cal: &cal, rules: &rules, now: t };
            let (ra, rc) = tokio::join!(a.sweep(&ctx, 7), c.sweep(&ctx, 7));
            fired_total += ra.unwrap().steps_fired + rc.unwrap().steps_fired;
            t += chrono::Duration::hours(7);
        }
        // A restart: a third pool sweeps the same moment again, and fires nothing.
        a.pool.close().await;
        let restarted = tdb.reopen().await;
        let again = restarted.sweep(&Ctx { cal: &cal, rules: &rules, now: end }, 100).await.unwrap();
        assert_eq!(again.steps_fired, 0, "{b:?}: a restart must not re-fire");

        let steps = count(&tdb.db, "SELECT COUNT(*) AS n FROM escalations").await - before_steps;
        assert_eq!(steps, fired_total, "{b:?}: reported firings equal stored steps");
        // The 30 new tasks went through the whole ladder: 4 steps each, once.
        let mut per_task = 0;
        for id in &ids {
            let rows = sqlx::query("SELECT step, COUNT(*) AS n FROM escalations WHERE task_id = $1 GROUP BY step")
                .bind(id.0)
                .fetch_all(&tdb.db.pool)
                .await
                .unwrap();
            assert_eq!(rows.len(), 4, "{b:?}: task {id} fired {} distinct steps", rows.len());
            for r in rows {
                assert_eq!(r.try_get::<i64, _>("n").unwrap(), 1);
            }
            per_task += 4;
        }
        assert!(steps >= per_task);
        // Each firing had its effects exactly once: one timeline entry, one audit entry, one 催办 per Urge step.
        let events = count(&tdb.db, "SELECT COUNT(*) AS n FROM task_events WHERE action LIKE 'escalate:%'").await;
        let all_steps = count(&tdb.db, "SELECT COUNT(*) AS n FROM escalations").await;
        assert_eq!(events, all_steps, "{b:?}");
        let audits = count(&tdb.db, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'task.escalate'").await;
        assert_eq!(audits, all_steps, "{b:?}");
        let auto_urges = count(&tdb.db, "SELECT COUNT(*) AS n FROM urges WHERE manual = 0").await;
        let urge_steps = count(&tdb.db, "SELECT COUNT(*) AS n FROM escalations WHERE step = 'urge'").await;
        assert_eq!(auto_urges, urge_steps, "{b:?}");
        assert!(tdb.db.verify_audit().await.unwrap().is_ok(), "{b:?}: concurrent appends keep the chain intact");
        c.pool.close().await;
        restarted.pool.close().await;
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_tasks_are_not_escalated() {
    each_backend!(|b| {
        let Some(tdb) = fresh(b).await else { continue };
        let now = dt("2026-11-23 10:00");
        xietong_demo::load(&tdb.db, now).await.unwrap();
        let cal = tdb.db.load_calendar().await.unwrap();
        let rules = tdb.db.load_rules().await.unwrap();
        let sup = tdb.db.user_by_name("duchaju").await.unwrap().unwrap();
        let jsj = tdb.db.list_units().await.unwrap().into_iter().find(|u| u.code == "jsj").unwrap().id;
        let ctx = |t| Ctx { cal: &cal, rules: &rules, now: t };
        let n = superior_task("撤销后不再督办", "撤销〔2026〕1号", jsj, "2026-11-25");
        let id = tdb.db.create_task(&sup, &ctx(now), &n).await.unwrap();
        tdb.db.perform(&sup, &ctx(now), id, Command::Cancel { reason: "上级已撤回".into() }).await.unwrap();
        tdb.db.sweep(&ctx(dt("2027-03-01 10:00")), 100).await.unwrap();
        let fired = sqlx::query("SELECT COUNT(*) AS n FROM escalations WHERE task_id = $1")
            .bind(id.0)
            .fetch_one(&tdb.db.pool)
            .await
            .unwrap();
        assert_eq!(fired.try_get::<i64, _>("n").unwrap(), 0, "{b:?}: a cancelled task is not escalated");
        tdb.cleanup().await;
    });
}

async fn tamper(db: &Db, sql: &'static str) {
    // The database itself refuses edits to the audit log…
    assert!(sqlx::query(sql).execute(&db.pool).await.is_err(), "append-only trigger must refuse: {sql}");
    // …so an attacker with database access drops the trigger first.
    let on = if db.backend == xietong_storage::Backend::Postgres { " ON audit_log" } else { "" };
    for t in ["audit_log_no_update", "audit_log_no_delete"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {t}{on}"))).execute(&db.pool).await.unwrap();
    }
    sqlx::query(sql).execute(&db.pool).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_first_edited_or_deleted_entry() {
    each_backend!(|b| {
        // Edited row.
        let Some(tdb) = fresh(b).await else { continue };
        xietong_demo::load(&tdb.db, dt("2026-11-23 10:00")).await.unwrap();
        let n = tdb.db.verify_audit().await.unwrap().unwrap();
        assert!(n > 100);
        tamper(&tdb.db, "UPDATE audit_log SET actor = 'intruder' WHERE seq = 42").await;
        assert_eq!(tdb.db.verify_audit().await.unwrap(), Err(ChainError::Tampered { seq: 42 }), "{b:?}");
        tdb.cleanup().await;

        // Deleted row in the middle.
        let Some(tdb) = fresh(b).await else { continue };
        xietong_demo::load(&tdb.db, dt("2026-11-23 10:00")).await.unwrap();
        tamper(&tdb.db, "DELETE FROM audit_log WHERE seq = 7").await;
        assert_eq!(tdb.db.verify_audit().await.unwrap(), Err(ChainError::Missing { expected: 7, found: 8 }), "{b:?}");
        tdb.cleanup().await;

        // Deleted newest row: caught by the chain head.
        let Some(tdb) = fresh(b).await else { continue };
        xietong_demo::load(&tdb.db, dt("2026-11-23 10:00")).await.unwrap();
        let n = tdb.db.verify_audit().await.unwrap().unwrap();
        tamper(&tdb.db, "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").await;
        assert_eq!(
            tdb.db.verify_audit().await.unwrap(),
            Err(ChainError::Truncated { expected: n, found: n - 1 }),
            "{b:?}"
        );
        tdb.cleanup().await;
    });
}

/// Optional floats (a report without a stated percentage, a project without expected output)
/// next to real ones on one connection: PostgreSQL once rejected the real float after the NULL
/// had been prepared with another type through the Any driver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_floats_on_one_connection() {
    each_backend!(|b| {
        let Some(tdb) = fresh(b).await else { continue };
        let now = dt("2026-11-23 10:00");
        xietong_demo::load(&tdb.db, now).await.unwrap();
        let one = match b {
            common::Backend::Sqlite => Db::connect_with(
                &format!("sqlite://{}?mode=rwc", tdb.dir.as_ref().unwrap().path().join("xietong.db").display()),
                None,
                Some(1),
            )
            .await
            .unwrap(),
            common::Backend::Postgres => {
                Db::connect_with(&common::pg_url(), tdb.schema.as_deref(), Some(1)).await.unwrap()
            }
        };
        let sup = one.user_by_name("duchaju").await.unwrap().unwrap();
        let ind = one.all_indicators(&sup, now.date()).await.unwrap()[0].id;
        for pct in [None, Some(40.0), None, Some(41.5)] {
            let r = xietong_storage::indicators::NewIndicatorReport {
                as_of: "2026-11-20".into(),
                actual: 1000.0,
                reported_percent: pct,
                note: String::new(),
                confirm_large: false,
            };
            one.report_indicator(&sup, now, ind, &r).await.unwrap_or_else(|e| panic!("{b:?} {pct:?}: {e:?}"));
        }
        one.pool.close().await;
        tdb.cleanup().await;
    });
}

/// A task long overdue reaches 问题台账候选 through the escalation ladder, is listed for the
/// 督查局, and leaves the list once raised into the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_candidates_come_from_the_escalation_ladder() {
    each_backend!(|b| {
        let Some(tdb) = fresh(b).await else { continue };
        let now = dt("2026-11-23 10:00");
        xietong_demo::load(&tdb.db, now).await.unwrap();
        let sup = tdb.db.user_by_name("duchaju").await.unwrap().unwrap();
        assert!(tdb.db.ledger_candidates(&sup).await.unwrap().is_empty(), "nothing is 10 working days overdue yet");
        let later = dt("2026-12-10 10:00");
        let cal = tdb.db.load_calendar().await.unwrap();
        let rules = tdb.db.load_rules().await.unwrap();
        tdb.db.sweep(&Ctx { cal: &cal, rules: &rules, now: later }, 500).await.unwrap();
        let c = tdb.db.ledger_candidates(&sup).await.unwrap();
        assert!(!c.is_empty(), "tasks 10 working days overdue are proposed");
        assert!(!c.iter().any(|x| x.1.contains("易涝")), "易涝点 is already in the ledger (the demo raised it): {c:?}");
        let lly = tdb.db.user_by_name("jsj_lly").await.unwrap().unwrap();
        assert!(tdb.db.ledger_candidates(&lly).await.unwrap().is_empty(), "a liaison gets no candidate list");
        let task = c[0].0;
        let jsj = tdb.db.list_units().await.unwrap().into_iter().find(|u| u.code == "jsj").unwrap().id;
        let n = xietong_storage::problems::NewProblem {
            title: "长期逾期".into(),
            description: "研判".into(),
            source_task_id: Some(task),
            lead_unit_id: jsj,
            unit_ids: vec![],
        };
        tdb.db.raise_problem(&sup, &n, later).await.unwrap();
        assert!(
            !tdb.db.ledger_candidates(&sup).await.unwrap().iter().any(|x| x.0 == task),
            "raised: no longer a candidate"
        );
        tdb.cleanup().await;
    });
}

/// The 审计管理员 as the storage layer sees one (no account needed for a storage-level test).
fn auditor(role: xietong_supervision::Role) -> xietong_storage::auth::SessionUser {
    xietong_storage::auth::SessionUser {
        user_id: 1,
        username: "shenji".into(),
        role,
        person_id: 1,
        person_name: "审计管理员".into(),
        post: String::new(),
        unit_id: 1,
        unit_name: String::new(),
        data_scope: role.default_data_scope(),
        scope_unit_ids: vec![],
        must_change_password: false,
        csrf: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_younger_than_180_days_cannot_be_purged_by_the_app_or_by_hand() {
    use xietong_storage::audit::{Change, append};
    use xietong_supervision::Role;
    each_backend!(|b| {
        let Some(tdb) = fresh(b).await else { continue };
        let db = &tdb.db;
        // 40 entries and 40 logins from last winter, then 10 and 10 from last week.
        let mut tx = db.begin().await.unwrap();
        for i in 0..50i64 {
            let at = if i < 40 {
                dt("2025-12-01 09:00") + chrono::Duration::hours(i)
            } else {
                dt("2026-11-16 09:00") + chrono::Duration::hours(i)
            };
            let c = Change {
                actor: "duchaju",
                action: "task.create",
                entity: "task",
                entity_id: i.to_string(),
                before: String::new(),
                after: "{}".into(),
            };
            append(&mut tx, at, c).await.unwrap();
            sqlx::query("INSERT INTO login_log (username, at, ok, message, address) VALUES ('duchaju', $1, 1, '登录成功', '127.0.0.1')")
                .bind(xietong_storage::ts(at))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let now = dt("2026-11-23 10:00");
        let rows = |db: &Db| {
            let db = db.clone();
            async move {
                (
                    count(&db, "SELECT COUNT(*) AS n FROM audit_log").await,
                    count(&db, "SELECT COUNT(*) AS n FROM login_log").await,
                )
            }
        };

        // By hand, even an old row is refused until a purge marks it; a recent one always.
        for seq in [1, 45] {
            let e = sqlx::query("DELETE FROM audit_log WHERE seq = $1").bind(seq).execute(&db.pool).await.unwrap_err();
            assert!(e.to_string().contains("保留期"), "{e}");
        }
        // Inside the retention period, or not the 审计管理员: refused, nothing changes.
        let e = db
            .purge_logs(&auditor(Role::AuditAdmin), chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), now)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("清理截止日期") && e.to_string().contains("2026-05-27"), "{e}");
        for r in [Role::Admin, Role::SecurityAdmin, Role::Supervisor] {
            assert!(
                db.purge_logs(&auditor(r), chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), now).await.is_err(),
                "{r:?}"
            );
        }
        assert_eq!(rows(db).await, (50, 50));

        // Older than 180 days: purged, and the rest of the chain still verifies from the kept hash.
        let p = db
            .purge_logs(&auditor(Role::AuditAdmin), chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(), now)
            .await
            .unwrap();
        assert_eq!((p.audit_entries, p.logins, p.kept_from_seq), (40, 40, 41));
        assert_eq!(rows(db).await, (11, 10), "10 recent entries and the purge's own");
        assert_eq!(db.verify_audit().await.unwrap(), Ok(51));
        // Purging again finds nothing older, and says the chain still starts at 41.
        let p = db
            .purge_logs(&auditor(Role::AuditAdmin), chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(), now)
            .await
            .unwrap();
        assert_eq!((p.audit_entries, p.logins, p.kept_from_seq), (0, 0, 41));
        assert_eq!(db.verify_audit().await.unwrap(), Ok(52));
        let e = sqlx::query("DELETE FROM audit_log WHERE seq = 41").execute(&db.pool).await.unwrap_err();
        assert!(e.to_string().contains("保留期"), "{e}");

        // An application clock set two years ahead cannot purge last week's records: the
        // database's own clock refuses, the whole purge rolls back.
        let e = db
            .purge_logs(
                &auditor(Role::AuditAdmin),
                chrono::NaiveDate::from_ymd_opt(2028, 1, 1).unwrap(),
                dt("2028-11-23 10:00"),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("保留期"), "{e}");
        assert_eq!(rows(db).await, (12, 10));
        assert_eq!(db.verify_audit().await.unwrap(), Ok(52));
        tdb.cleanup().await;
    });
}

/// Rows written before migration 0013 (or by a bulk load) have no 文号 key; opening the database
/// gives them one, two servers opening it at once included. Look-alikes stored before the rule
/// both stay, kept apart, and any new look-alike is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doc_no_keys_are_backfilled_when_the_database_opens() {
    each_backend!(|b| {
        let Some(tdb) = fresh(b).await else { continue };
        let now = dt("2026-11-23 10:00");
        xietong_demo::load(&tdb.db, now).await.unwrap();
        let (cal, rules) = (tdb.db.load_calendar().await.unwrap(), tdb.db.load_rules().await.unwrap());
        let ctx = Ctx { cal: &cal, rules: &rules, now };
        let sup = tdb.db.user_by_name("duchaju").await.unwrap().unwrap();
        let jsj = tdb.db.list_units().await.unwrap().into_iter().find(|u| u.code == "jsj").unwrap().id;
        let first =
            tdb.db.create_task(&sup, &ctx, &superior_task("旧任务一", "旧〔2026〕1号", jsj, "2026-12-18")).await;
        let second =
            tdb.db.create_task(&sup, &ctx, &superior_task("旧任务二", "旧〔2026〕2号", jsj, "2026-12-18")).await;
        let (first, second) = (first.unwrap().0, second.unwrap().0);
        // As an old database holds them: no keys, and a look-alike of the first stored before the rule.
        sqlx::query("UPDATE tasks SET doc_no_key = NULL").execute(&tdb.db.pool).await.unwrap();
        sqlx::query("UPDATE tasks SET doc_no = '旧〔2026〕１号' WHERE id = $1")
            .bind(second)
            .execute(&tdb.db.pool)
            .await
            .unwrap();
        let (a, c) = tokio::join!(tdb.reopen(), tdb.reopen());
        drop((a, c));
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) AS n FROM tasks WHERE doc_no_key IS NULL").await, 0, "{b:?}");
        assert_eq!(tdb.db.task_id_by_doc_no("旧〔2026〕1号").await.unwrap(), Some(first), "{b:?}");
        let key: String = sqlx::query("SELECT doc_no_key FROM tasks WHERE id = $1")
            .bind(second)
            .fetch_one(&tdb.db.pool)
            .await
            .unwrap()
            .get("doc_no_key");
        assert_eq!(key, format!("旧〔2026〕1号#{second}"), "{b:?}: the later look-alike is kept apart");
        let e = tdb.db.create_task(&sup, &ctx, &superior_task("新任务", "旧[2026]1号", jsj, "2026-12-18")).await;
        assert_eq!(
            e.unwrap_err().to_string(),
            "字段「文号」「旧[2026]1号」已存在（即「旧〔2026〕1号」，仅全角半角、大小写、空格或括号不同），同一文号不能重复立项"
        );
        tdb.cleanup().await;
    });
}
