//! Crash safety: again and again, writes go through the API while the server is killed with
//! SIGKILL at a random moment; after every restart each write the API acknowledged is there and
//! the audit chain verifies. On SQLite (a data directory) and PostgreSQL (a fresh database).
//! Rounds: `XIETONG_CRASH_ROUNDS` (default 100).

mod common;

use std::time::Duration;

use common::{Place, free_port, start, wait_ready, xietong};
use rand::Rng;
use xietong_storage::Db;

fn rounds() -> usize {
    std::env::var("XIETONG_CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

async fn run(place: Place, db_of: impl AsyncFn() -> Db) {
    let o = xietong(&place).arg("demo").output().unwrap();
    assert!(o.status.success(), "demo: {}", String::from_utf8_lossy(&o.stderr));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&place, port);
    wait_ready(&http, &base).await;
    // One session for every round: sessions live in the database and survive restarts.
    let sup = std::sync::Arc::new(common::supervisor(&http, &base).await);
    let mut acknowledged: Vec<String> = vec![];
    let mut rng = rand::thread_rng();
    for round in 0..rounds() {
        if round > 0 {
            server = start(&place, port);
            wait_ready(&http, &base).await;
        }
        let kill_after = Duration::from_millis(rng.gen_range(20..400));
        let mut writers = vec![];
        for w in 0..4 {
            let (http, base, sup) = (http.clone(), base.clone(), sup.clone());
            writers.push(tokio::spawn(async move {
                let mut done = vec![];
                for i in 0.. {
                    let doc_no = format!("崩溃测试〔{round}〕{w}-{i}号");
                    let body = sup.task(&format!("崩溃测试任务 {round}-{w}-{i}"), &doc_no);
                    match http.post(format!("{base}/api/tasks")).bearer_auth(&sup.token).json(&body).send().await {
                        Ok(r) if r.status() == 201 => done.push(doc_no),
                        Ok(r) => panic!(
                            "round {round}: a write was refused: {} {}",
                            r.status(),
                            r.text().await.unwrap_or_default()
                        ),
                        Err(_) => break, // the server is gone
                    }
                }
                done
            }));
        }
        tokio::time::sleep(kill_after).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        for w in writers {
            acknowledged.extend(w.await.unwrap());
        }
    }
    let db = db_of().await;
    let mut missing = vec![];
    for doc in &acknowledged {
        if db.task_id_by_doc_no(doc).await.unwrap().is_none() {
            missing.push(doc.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        acknowledged.len() > rounds(),
        "the writers got through: {} writes in {} rounds",
        acknowledged.len(),
        rounds()
    );
    assert!(db.verify_audit().await.unwrap().is_ok(), "the audit chain verifies after {} kills", rounds());
    eprintln!("{} rounds, {} acknowledged writes, none lost", rounds(), acknowledged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(Place::Dir(path.clone()), async || Db::open_data_dir(&path).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    let Some((conn, name, url)) = common::fresh_database("crash").await else { return };
    let u = url.clone();
    let dir = tempfile::tempdir().unwrap();
    run(Place::Pg(url.clone(), dir.path().to_path_buf()), async || Db::connect(&u, None).await.unwrap()).await;
    common::drop_database(conn, &name).await;
}

/// Rows of one query as text, for comparing two databases.
async fn rows(db: &Db, sql: &'static str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .or_else(|| r.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string()))
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// Back up while a writer keeps creating tasks, restore the copy with `restore`, and check that
/// it is exactly the live history up to the backup's moment.
async fn backup_while_writing(
    place: Place,
    out: std::path::PathBuf,
    restore: impl AsyncFn(&std::path::Path) -> Db,
    live: impl AsyncFn() -> Db,
) {
    assert!(xietong(&place).arg("demo").output().unwrap().status.success());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&place, port);
    wait_ready(&http, &base).await;
    let sup = std::sync::Arc::new(common::supervisor(&http, &base).await);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (http, base, sup, stop) = (http.clone(), base.clone(), sup.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = sup.task(&format!("备份测试任务 {n}"), &format!("备份测试〔2026〕{n}号"));
                let r =
                    http.post(format!("{base}/api/tasks")).bearer_auth(&sup.token).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 201);
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let o = xietong(&place).args(["backup", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A second backup to the same file is refused rather than overwriting the first.
    assert!(!xietong(&place).args(["backup", "--out", out.to_str().unwrap()]).output().unwrap().status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();

    let restored = restore(&out).await;
    let live = live().await;
    assert!(restored.verify_audit().await.unwrap().is_ok(), "the copy's audit chain verifies on its own");
    let copy_audit = rows(
        &restored,
        "SELECT seq, at, actor, action, entity, entity_id, before, after, prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .await;
    let live_audit = rows(
        &live,
        "SELECT seq, at, actor, action, entity, entity_id, before, after, prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .await;
    assert!(copy_audit.len() < live_audit.len(), "writes went on after the backup ({written} tasks in all)");
    assert_eq!(
        copy_audit[..],
        live_audit[..copy_audit.len()],
        "the copy is the live history up to its moment, entry for entry"
    );
    let copy_tasks = rows(&restored, "SELECT id, doc_no, title, created_at FROM tasks ORDER BY id").await;
    let live_tasks = rows(&live, "SELECT id, doc_no, title, created_at FROM tasks ORDER BY id").await;
    assert_eq!(copy_tasks[..], live_tasks[..copy_tasks.len()]);
    assert!(copy_tasks.len() < live_tasks.len());
    eprintln!(
        "backup at {} audit entries of {}, {} tasks of {}",
        copy_audit.len(),
        live_audit.len(),
        copy_tasks.len(),
        live_tasks.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_restores_to_the_same_history_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let restored_dir = tempfile::tempdir().unwrap();
    let into = restored_dir.path().to_path_buf();
    let restore = async |out: &std::path::Path| {
        let o = xietong(&Place::Dir(into.clone())).args(["restore", "--from"]).arg(out).output().unwrap();
        assert!(o.status.success(), "restore: {}", String::from_utf8_lossy(&o.stderr));
        Db::open_data_dir(&into).await.unwrap()
    };
    backup_while_writing(Place::Dir(path.clone()), path.join("backup.db"), restore, async || {
        Db::open_data_dir(&path).await.unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_restores_to_the_same_history_on_postgres() {
    let Some((conn, name, url)) = common::fresh_database("backup").await else { return };
    let Some((conn2, name2, url2)) = common::fresh_database("restored").await else { return };
    let dir = tempfile::tempdir().unwrap();
    // pg_dump's archive, restored by `xietong restore` (pg_restore) into an empty database.
    let restore = async |out: &std::path::Path| {
        let place = Place::Pg(url2.clone(), dir.path().join("restored"));
        let o = xietong(&place).args(["restore", "--from"]).arg(out).output().unwrap();
        assert!(o.status.success(), "restore: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("校验通过"));
        // Into a database that is no longer empty, nothing is restored.
        let again = xietong(&place).args(["restore", "--from"]).arg(out).output().unwrap();
        assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("未恢复任何数据"));
        Db::connect(&url2, None).await.unwrap()
    };
    let u = url.clone();
    backup_while_writing(
        Place::Pg(url.clone(), dir.path().to_path_buf()),
        dir.path().join("backup.dump"),
        restore,
        async || Db::connect(&u, None).await.unwrap(),
    )
    .await;
    common::drop_database(conn, &name).await;
    common::drop_database(conn2, &name2).await;
}
