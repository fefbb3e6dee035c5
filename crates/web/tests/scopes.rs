//! 数据范围 (RuoYi data scopes) on SQLite and PostgreSQL: the 安全管理员 sets 全部 / 自定 / 本单位 /
//! 本单位及以下 / 仅本人 per role, and every read (detail, list, export) and write (actions, 立项)
//! follows it at the next request. Cross-unit reads and writes are refused under each kind.

mod common;

use common::{Client, dt, fingerprint, with_demo};
use serde_json::{Value, json};

fn new_task(lead: i64, leader: Option<i64>, doc_no: &str) -> Value {
    json!({"title": format!("数据范围测试任务 {doc_no}"), "description": "按区政府常务会要求推进", "source_kind": "meeting", "doc_no": doc_no,
           "source_title": "区政府常务会议纪要", "source_date": "2026-11-20", "lead_unit_id": lead, "co_unit_ids": [],
           "leader_person_id": leader, "report_cycle": "weekly", "deadline": "2026-12-04", "assign_now": true})
}

async fn create(sup: &Client, lead: i64, leader: Option<i64>, doc_no: &str) -> i64 {
    let (s, v) = sup.post("/api/tasks", new_task(lead, leader, doc_no)).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// The ids of the tasks a client's list shows.
async fn listed(c: &Client) -> Vec<i64> {
    let (s, v) = c.get("/api/tasks?page_size=100").await;
    assert_eq!(s, 200, "{v}");
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|t| t["task"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len() as i64, v["total"].as_i64().unwrap(), "one page holds them all");
    ids
}

/// The 文号 in a client's Excel export of the task list, read back with the product's own reader.
async fn exported(c: &Client) -> String {
    let (s, bytes) = c.bytes("/api/exports/tasks").await;
    assert_eq!(s, 200);
    let col = xietong_office::table::Column {
        key: "文号".into(),
        header: "文号".into(),
        required: true,
        width: 10.0,
        note: String::new(),
        choices: vec![],
    };
    let rows = xietong_office::xlsx::read_table("tasks.xlsx", &bytes, &[col]).expect("the export reads back");
    rows.iter().map(|r| r.get("文号").to_string()).collect::<Vec<_>>().join("|")
}

async fn set_scope(anquan: &Client, role: &str, body: Value) {
    let (s, v) = anquan.put(&format!("/api/data-scopes/{role}"), body).await;
    assert_eq!(s, 204, "{v}");
}

/// Detail refused as out of scope, with the reason in Chinese.
async fn refused(c: &Client, id: i64) {
    let (s, v) = c.get(&format!("/api/tasks/{id}")).await;
    assert_eq!(s, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("数据范围"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_data_scope_kind_governs_reads_lists_exports_and_writes() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let anquan = Client::login(&app, "anquan").await;
        let (cgj, slj, jsj, dlk) = (
            sup.unit_id("cgj").await,
            sup.unit_id("slj").await,
            sup.unit_id("jsj").await,
            sup.unit_id("jsj_dlk").await,
        );
        let leader = Client::login(&app, "fqz_cj").await;
        let me = leader.get("/api/me").await.1["person_id"].as_i64().unwrap();
        let other_leader = Client::login(&app, "fqz_sh").await.get("/api/me").await.1["person_id"].as_i64().unwrap();
        let a = create(&sup, cgj, Some(me), "二七督〔2026〕范围1号").await; // 城管局, in my charge
        let bb = create(&sup, slj, Some(other_leader), "二七督〔2026〕范围2号").await; // 水利局, another leader's
        let sub = create(&sup, dlk, None, "二七督〔2026〕范围3号").await; // 道路科, under 建设和交通局

        // Defaults: the 安全管理员 sees every role's scope; leaders 全部, liaisons 本单位及以下.
        let (s, scopes) = anquan.get("/api/data-scopes").await;
        assert_eq!(s, 200, "{scopes}");
        let kind = |r: &str| {
            scopes.as_array().unwrap().iter().find(|x| x["role"] == r).unwrap()["kind"].as_str().unwrap().to_string()
        };
        assert_eq!(
            (kind("leader"), kind("liaison"), kind("responsible"), kind("enterprise")),
            ("all".into(), "unit_and_below".into(), "self".into(), "unit".into())
        );
        assert_eq!(
            Client::login(&app, "admin").await.get("/api/data-scopes").await.0,
            403,
            "三员分立: not the 系统管理员's setting"
        );
        let jsj_lly = Client::login(&app, "jsj_lly").await;
        assert!(listed(&jsj_lly).await.contains(&sub), "本单位及以下 reaches the 内设科室's task");
        assert_eq!(jsj_lly.get(&format!("/api/tasks/{sub}")).await.0, 200);
        assert!(listed(&leader).await.contains(&bb));

        // 本单位: the liaison of 建设和交通局 loses 道路科's task in detail, list, export and actions.
        set_scope(&anquan, "liaison", json!({"kind": "unit"})).await;
        refused(&jsj_lly, sub).await;
        assert!(!listed(&jsj_lly).await.contains(&sub));
        assert!(!exported(&jsj_lly).await.contains("范围3号"));
        let before = fingerprint(&tdb.db).await;
        let (s, v) = jsj_lly.act(sub, "receive", json!({})).await;
        assert_eq!(s, 403, "{v}");
        assert_eq!(fingerprint(&tdb.db).await, before, "a refused write writes nothing");
        let dlk_task_of_own_unit = create(&sup, jsj, None, "二七督〔2026〕范围4号").await;
        assert_eq!(
            jsj_lly.act(dlk_task_of_own_unit, "receive", json!({})).await.0,
            200,
            "its own unit's task still works"
        );

        // 自定: a leader limited to 城管局 sees A, not B (nor the 道路科 task), and may not 批示 B.
        set_scope(&anquan, "leader", json!({"kind": "custom", "unit_ids": [cgj]})).await;
        assert_eq!(leader.get(&format!("/api/tasks/{a}")).await.0, 200);
        refused(&leader, bb).await;
        let ids = listed(&leader).await;
        assert!(ids.contains(&a) && !ids.contains(&bb) && !ids.contains(&sub), "{ids:?}");
        let xlsx = exported(&leader).await;
        assert!(xlsx.contains("范围1号") && !xlsx.contains("范围2号"));
        let before = fingerprint(&tdb.db).await;
        assert_eq!(leader.act(bb, "instruct", json!({"text": "请加快推进"})).await.0, 403);
        assert_eq!(fingerprint(&tdb.db).await, before);
        assert_eq!(leader.act(a, "instruct", json!({"text": "请加快推进"})).await.0, 200);

        // 仅本人: only the tasks the leader is in charge of, whichever unit leads them.
        set_scope(&anquan, "leader", json!({"kind": "self"})).await;
        let ids = listed(&leader).await;
        assert!(ids.contains(&a) && !ids.contains(&bb), "{ids:?}");
        refused(&leader, bb).await;
        assert_eq!(
            listed(&Client::login(&app, "quzhang").await).await.iter().filter(|i| [a, bb, sub].contains(i)).count(),
            0,
            "区长 is in charge of none of them"
        );

        // 全部: a liaison set to 全部 reads another unit's task.
        set_scope(&anquan, "liaison", json!({"kind": "all"})).await;
        assert_eq!(jsj_lly.get(&format!("/api/tasks/{bb}")).await.0, 200);
        assert!(listed(&jsj_lly).await.contains(&bb));

        let cgj_name =
            sup.get("/api/units").await.1.as_array().unwrap().iter().find(|u| u["id"] == cgj).unwrap()["name"].clone();
        let (_, todo) = sup.get("/api/todo").await;
        assert!(
            todo.as_array().unwrap().iter().any(|t| t["task"]["lead_unit_name"] != cgj_name),
            "the 督查局's 待办 spans units: {todo}"
        );

        // 立项 is a write too: the 督查局 limited to 城管局 may not open a task led by 水利局.
        set_scope(&anquan, "supervisor", json!({"kind": "custom", "unit_ids": [cgj]})).await;
        let before = fingerprint(&tdb.db).await;
        let (s, v) = sup.post("/api/tasks", new_task(slj, None, "二七督〔2026〕范围5号")).await;
        assert_eq!(s, 403, "{v}");
        assert!(v["error"].as_str().unwrap().contains("牵头单位不在您的数据范围"), "{v}");
        assert_eq!(fingerprint(&tdb.db).await, before);
        refused(&sup, bb).await;
        create(&sup, cgj, None, "二七督〔2026〕范围6号").await;
        // 待办 too: nothing of another unit's reaches the narrowed 督查局's list.
        let (_, todo) = sup.get("/api/todo").await;
        assert!(todo.as_array().unwrap().iter().all(|t| t["task"]["lead_unit_name"] == cgj_name), "{todo}");

        // Every change is in the audit chain, with before and after.
        let n = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'settings.data_scope'")
            .fetch_one(&tdb.db.pool)
            .await
            .unwrap();
        assert_eq!(sqlx::Row::try_get::<i64, _>(&n, "n").unwrap(), 5);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_data_scope_settings_are_refused_and_change_nothing() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let anquan = Client::login(&app, "anquan").await;
        let before = fingerprint(&tdb.db).await;
        let cases = [
            ("liaison", json!({"kind": "everything"}), 400, "数据范围"),
            ("liaison", json!({"kind": "custom", "unit_ids": []}), 400, "至少选择一个单位"),
            ("liaison", json!({"kind": "custom", "unit_ids": [999999]}), 400, "编号 999999 的单位不存在"),
            ("enterprise", json!({"kind": "all"}), 400, "固定"),
            ("nobody", json!({"kind": "all"}), 404, "角色"),
        ];
        for (role, body, status, msg) in cases {
            let (s, v) = anquan.put(&format!("/api/data-scopes/{role}"), body).await;
            assert_eq!(s, status, "{role}: {v}");
            assert!(v["error"].as_str().unwrap().contains(msg), "{role}: {v}");
        }
        let (s, _) = Client::login(&app, "duchaju").await.put("/api/data-scopes/liaison", json!({"kind": "all"})).await;
        assert_eq!(s, 403, "only the 安全管理员");
        assert_eq!(fingerprint(&tdb.db).await, before);
        assert_eq!(
            tdb.db.data_scope_of(xietong_supervision::Role::Liaison).await.unwrap(),
            xietong_supervision::DataScope::UnitAndBelow
        );
        tdb.cleanup().await;
    });
}
