//! 优秀年轻干部 (issue 18), on SQLite and PostgreSQL: the demo's 班子 give the district's reported
//! figure (8 of 22, 36.36 %); the cadre records are the 组织部's alone; a wrong ID number or an
//! impossible date is refused naming the field with nothing written; a person is in a level's pool
//! once, also when 16 requests race.

mod common;

use std::sync::Arc;

use common::{Client, dt, fingerprint, with_demo};
use serde_json::json;

const NOW: &str = "2026-11-23 10:00";

/// A made-up ID number with its right check character.
fn id_number(birth: &str, seq: u32) -> String {
    let s = format!("410103{birth}{seq:03}");
    let mut d = [0u32; 17];
    for (i, c) in s.chars().enumerate() {
        d[i] = c.to_digit(10).unwrap();
    }
    format!("{s}{}", xietong_security::id_number::check_char(&d))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pool_and_the_team_checks_are_the_organisation_departments() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let org = Client::login(&app, "zuzhibu").await;
        // The reported figure, from the demo's records.
        let (s, teams) = org.get("/api/teams").await;
        assert_eq!(s, 200, "{teams}");
        let teams = teams.as_array().unwrap().clone();
        assert_eq!(teams.len(), 2);
        let members: i64 = teams.iter().map(|t| t["check"]["members"].as_i64().unwrap()).sum();
        let young: i64 = teams.iter().map(|t| t["check"]["young"].as_i64().unwrap()).sum();
        assert_eq!((young, members), (8, 22));
        assert!(teams.iter().all(|t| t["check"]["youngest"].as_i64().unwrap() >= 1 && t["check"]["meets"] == true));
        let (_, html) = org.bytes("/teams").await;
        assert!(String::from_utf8(html).unwrap().contains("其中 35 岁以下 8 人，占 36.36%"));

        // Nobody else reads a cadre record; the 系统管理员 sees the team counts, never an age.
        for who in ["admin", "duchaju", "quzhang", "kejiju", "jsj_lly", "anquan", "shenji"] {
            let c = Client::login(&app, who).await;
            assert_eq!(c.get("/api/cadres").await.0, 403, "{who}");
        }
        let admin = Client::login(&app, "admin").await;
        let (s, v) = admin.get("/api/teams").await;
        assert_eq!(s, 200);
        assert!(!v.to_string().contains("birth") && !v.to_string().contains("\"age\":"), "{v}");

        // The 组织部 sees the whole record; the young members are in the 科级库.
        let (_, list) = org.get("/api/cadres?pool=section").await;
        let list = list.as_array().unwrap().clone();
        assert_eq!(list.len(), 8, "the young 班子 members");
        assert!(list.iter().all(|c| c["age"].as_i64().unwrap() <= 35 && c["id_number"].as_str().unwrap().len() == 18));

        // Bad input: named, nothing written.
        let (_, all) = org.get("/api/cadres").await;
        let fresh =
            all.as_array().unwrap().iter().find(|c| c["recorded"] == false).unwrap()["person_id"].as_i64().unwrap();
        let before = fingerprint(&tdb.db).await;
        let good = id_number("19960304", 21);
        let mut wrong: Vec<char> = good.chars().collect();
        wrong[17] = if wrong[17] == '1' { '2' } else { '1' };
        let body = |id: &str, start: &str| {
            json!({"id_number": id, "education": "硕士研究生", "major": "金融学", "rank": "一级科员",
                   "entry_route": "公开引进", "work_start": start})
        };
        let wrong: String = wrong.into_iter().collect();
        let (s, v) = org.put(&format!("/api/cadres/{fresh}"), body(&wrong, "2021-07-01")).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("身份证号")), "{v}");
        let (s, v) = org.put(&format!("/api/cadres/{fresh}"), body(&good, "2005-07-01")).await;
        assert_eq!(s, 400, "{v}");
        assert!(v.to_string().contains("参加工作时间") && v.to_string().contains("不满 16 周岁"), "{v}");
        let (s, v) = org
            .put(
                &format!("/api/cadres/{fresh}"),
                json!({"id_number": good, "education": "本科", "rank": "科员",
                "entry_route": "公开引进", "work_start": "2021-07-01"}),
            )
            .await;
        assert_eq!(s, 400, "{v}");
        assert!(v.to_string().contains("学历") && v.to_string().contains("职级"), "every field at once: {v}");
        assert_eq!(fingerprint(&tdb.db).await, before, "refusals write nothing");

        // Recorded, then put into the 股级库 by 16 requests at once: once.
        let (s, v) = org.put(&format!("/api/cadres/{fresh}"), body(&good, "2021-07-01")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["birth_date"], "1996-03-04");
        let org = Arc::new(org);
        let mut racing = vec![];
        for _ in 0..16 {
            let org = org.clone();
            racing.push(tokio::spawn(async move {
                org.post(
                    &format!("/api/cadres/{fresh}/pools"),
                    json!({"level": "stock", "reason": "招商引资专班表现突出"}),
                )
                .await
            }));
        }
        let mut ok = 0;
        for r in racing {
            let (s, v) = r.await.unwrap();
            match s {
                200 => ok += 1,
                409 => assert!(v["error"].as_str().unwrap().contains("同一级只能在库一次"), "{v}"),
                _ => panic!("{s}: {v}"),
            }
        }
        assert_eq!(ok, 1);
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'cadre.pool_enter' AND entity_id = '{fresh}'"
        )))
        .fetch_one(&tdb.db.pool)
        .await
        .unwrap();
        assert_eq!(sqlx::Row::try_get::<i64, _>(&n, "n").unwrap(), 1);
        // Out, with the reason; the entry is kept.
        let (s, v) = org
            .post(&format!("/api/cadres/{fresh}/pools/exit"), json!({"level": "stock", "reason": "已提拔使用"}))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["pools"][0]["exit_reason"], "已提拔使用");

        // A stricter rule for 镇街 flags both teams, saying by how much.
        let strict = json!({"young_age": 35, "min_young_percent": 40.0, "youngest_age": 30, "min_youngest": 2});
        assert_eq!(org.put("/api/teams/requirements/镇街", strict).await.0, 204);
        let (_, teams) = org.get("/api/teams").await;
        let t = &teams[0]["check"];
        assert_eq!(t["meets"], false, "{teams}");
        assert!(t["shortfalls"][0].as_str().unwrap().contains("低于要求的 40%"), "{t}");
        let candidate = teams[0]["candidate"].as_str().unwrap_or_default();
        assert!(
            candidate.contains("若由科级库的") && candidate.contains("占 "),
            "what a pool member would change: {teams}"
        );
        let (_, v) = admin.get("/api/teams").await;
        assert!(v[0]["candidate"].is_null(), "no names for the 系统管理员: {v}");
        let (s, v) = org
            .put(
                "/api/teams/requirements/镇街",
                json!({"young_age": 35, "min_young_percent": 140.0, "youngest_age": 30, "min_youngest": 1}),
            )
            .await;
        assert_eq!((s, v["field"].as_str()), (400, Some("年轻干部最低占比")), "{v}");

        // The pages.
        let (s, html) = org.bytes("/cadres").await;
        let html = String::from_utf8(html).unwrap();
        assert_eq!(s, 200);
        assert!(html.contains("科级优秀年轻干部库（在库 8 人）"), "{}", &html[..html.len().min(2000)]);
        let (s, _) = org.bytes(&format!("/cadres/{fresh}")).await;
        assert_eq!(s, 200);
        let (s, _) = org.get(&format!("/api/cadres/{fresh}/evidence")).await;
        assert_eq!(s, 200);

        // A 督导 finding handed over as a task, decomposed to a person: on that person's evidence.
        let leader = Client::login(&app, "fqz_sh").await;
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jyj_lly").await;
        let jyj = sup.unit_id("jyj").await;
        let visit =
            json!({"unit_id": jyj, "visited_on": "2026-11-20", "place": "某幼儿园", "findings": "后厨监控未接入平台"});
        let (s, v) = leader.post("/api/visits", visit).await;
        assert_eq!(s, 201, "{v}");
        let task = json!({"title": "幼儿园后厨监控接入平台", "lead_unit_id": jyj, "report_cycle": "weekly",
                          "deadline": "2026-12-07", "assign_now": true, "source_kind": "", "doc_no": "",
                          "source_date": ""});
        let (s, t) = sup.post(&format!("/api/visits/{}/tasks", v["id"]), task).await;
        assert_eq!(s, 201, "{t}");
        let task = t["id"].as_i64().unwrap();
        assert_eq!(lly.act(task, "receive", json!({})).await.0, 200);
        let (_, people) = lly.get(&format!("/api/people?unit_id={jyj}")).await;
        let person = people[0]["id"].as_i64().unwrap();
        let sub = json!({"subtasks": [{"title": "接入监控", "dept_unit_id": jyj, "person_id": person,
                                       "deadline": "2026-12-04"}]});
        assert_eq!(lly.act(task, "decompose", sub).await.0, 200);
        let (_, ev) = org.get(&format!("/api/cadres/{person}/evidence")).await;
        assert_eq!(ev["visits"][0]["findings"], "后厨监控未接入平台", "{ev}");
        assert_eq!(ev["visits"][0]["task_title"], "幼儿园后厨监控接入平台");
        assert_eq!(ev["subtasks"][0]["outcome"], "open");
        tdb.cleanup().await;
    });
}

async fn count(db: &xietong_storage::Db, sql: &str) -> i64 {
    let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&r, "n").unwrap()
}

async fn upload(c: &Client, path: &str, name: &str, bytes: Vec<u8>) -> (u16, serde_json::Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part(if path.ends_with("attachments") { "files" } else { "file" }, part);
    let r = c.http.post(format!("{}{}", c.base, path)).bearer_auth(&c.token).multipart(form).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// 16 requests at once; the statuses, and every 409's message must contain `conflict`.
async fn race<F, Fut>(n: usize, conflict: &str, f: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (u16, serde_json::Value)> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        set.spawn(f());
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        let (s, v) = r.unwrap();
        match s {
            200 => ok += 1,
            409 => assert!(v["error"].as_str().unwrap().contains(conflict), "{v}"),
            _ => panic!("{s}: {v}"),
        }
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn experiences_add_up_by_year_and_stand_beside_the_reported_figures() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let org = Arc::new(Client::login(&app, "zuzhibu").await);
        // The report's figures as 上报数, the records' as 在库数.
        let (s, figures) = org.get("/api/cadres/figures?year=2026").await;
        assert_eq!(s, 200, "{figures}");
        let fig = |k: &str| {
            let f = figures.as_array().unwrap().iter().find(|f| f["key"] == k).unwrap().clone();
            (f["reported"].as_f64(), f["recorded"].as_f64().unwrap())
        };
        assert_eq!(fig("task_forces"), (Some(5.0), 5.0), "the five 专班 are in the records");
        assert_eq!(fig("training"), (Some(200.0), 28.0), "13 + 15 trainees recorded of 200 reported");
        assert_eq!(fig("task_force_people"), (Some(400.0), 23.0));
        assert_eq!(fig("frontline"), (Some(200.0), 5.0));
        assert_eq!(fig("recruited"), (Some(49.0), 6.0), "公开引进 研究生 under 28 at entry");
        assert_eq!(fig("secondment"), (None, 3.0));
        assert_eq!(fig("young_in_teams"), (Some(8.0), 8.0), "the report's 8 of 22, from the 班子 records");
        let (_, totals) = org.get("/api/experiences/totals?year=2026").await;
        let training = totals["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == "training").unwrap().clone();
        assert_eq!((training["records"].as_i64(), training["people"].as_i64()), (Some(2), Some(28)));
        assert_eq!(training["hours"].as_f64(), Some(13.0 * 120.0 + 15.0 * 8.0));
        // A 挂职 from last September counts in both years.
        let (_, y2025) = org.get("/api/experiences?year=2025").await;
        assert_eq!(y2025.as_array().unwrap().len(), 1, "{y2025}");
        // Drillable to the people: the page lists the 28.
        let (s, html) = org.bytes("/cadres/experiences?year=2026&kind=training").await;
        let html = String::from_utf8(html).unwrap();
        assert_eq!(s, 200);
        assert!(html.contains("参加调训的人员（28 人）"), "{}", &html[..html.len().min(3000)]);

        // The year's 调训 as Excel, one row a trainee.
        let (s, bytes) = org.bytes("/api/exports/experiences?year=2026&kind=training").await;
        assert_eq!(s, 200);
        let cols: Vec<_> = ["名称", "学时", "姓名"].iter().map(|h| xietong_office::Column::plain(h, 10.0)).collect();
        let rows = xietong_office::read_table("training.xlsx", &bytes, &cols).unwrap();
        assert_eq!(rows.len(), 28);
        assert_eq!(rows.iter().filter(|r| r.get("名称") == "中青年干部培训班" && r.get("学时") == "120").count(), 13);

        // Nobody else reads them.
        for who in ["duchaju", "admin", "kejiju", "anquan"] {
            let c = Client::login(&app, who).await;
            assert_eq!(c.get("/api/experiences").await.0, 403, "{who}");
        }

        // Impossible dates and a 调训 without hours: every field named, nothing written.
        let rows = || count(&tdb.db, "SELECT COUNT(*) AS n FROM experiences");
        let before = (rows().await, fingerprint(&tdb.db).await);
        let (s, v) = org
            .post(
                "/api/experiences",
                json!({"kind": "secondment", "name": "副行长", "place": "", "started_on": "2026-05-01",
                       "ended_on": "2026-04-01"}),
            )
            .await;
        assert_eq!(s, 400, "{v}");
        let text = v.to_string();
        assert!(text.contains("挂职单位") && text.contains("结束日期") && text.contains("早于开始日期"), "{v}");
        let (s, v) = org
            .post(
                "/api/experiences",
                json!({"kind": "training", "name": "专题班", "place": "区委党校", "started_on": "2026-05-01"}),
            )
            .await;
        assert_eq!((s, v["field"].as_str()), (400, Some("学时")), "{v}");
        assert_eq!((rows().await, fingerprint(&tdb.db).await), before, "refusals write nothing");

        // A new 挂职: one member added by 16 requests at once, the assessment checked.
        let (s, e) = org
            .post(
                "/api/experiences",
                json!({"kind": "secondment", "name": "总经理助理", "place": "区投资集团（示例）",
                       "started_on": "2026-06-01", "ended_on": "2026-11-30"}),
            )
            .await;
        assert_eq!(s, 201, "{e}");
        let id = e["id"].as_i64().unwrap();
        let (_, all) = org.get("/api/cadres").await;
        let person =
            all.as_array().unwrap().iter().find(|c| c["recorded"] == false).unwrap()["person_id"].as_i64().unwrap();
        let add = {
            let org = org.clone();
            move || {
                let org = org.clone();
                async move {
                    org.post(
                        &format!("/api/experiences/{id}/members"),
                        json!({"person_id": person, "duty": "总经理助理"}),
                    )
                    .await
                }
            }
        };
        assert_eq!(race(16, "已在这条历练记录中", add).await, 1);
        let audit = format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'experience.member_add' AND entity_id = '{id}'"
        );
        assert_eq!(count(&tdb.db, &audit).await, 1, "one entry for the one change");
        let (s, v) = org.put(&format!("/api/experiences/{id}/members/{person}"), json!({"assessment": "良好"})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("考核等次")), "{v}");
        let (s, v) = org.put(&format!("/api/experiences/{id}/members/{person}"), json!({"assessment": "优秀"})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["members"][0]["assessment"], "优秀");
        let (_, ev) = org.get(&format!("/api/cadres/{person}/evidence")).await;
        assert_eq!(ev["experiences"][0]["name"], "总经理助理", "{ev}");

        // 16 edits of the same version: one kept.
        let edit = {
            let org = org.clone();
            move || {
                let org = org.clone();
                async move {
                    org.put(
                        &format!("/api/experiences/{id}"),
                        json!({"kind": "secondment", "name": "总经理助理", "place": "区投资集团有限公司（示例）",
                               "started_on": "2026-06-01", "ended_on": "2026-12-31", "version": 1}),
                    )
                    .await
                }
            }
        };
        assert_eq!(race(16, "已被他人修改", edit).await, 1);
        let audit =
            format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'experience.update' AND entity_id = '{id}'");
        assert_eq!(count(&tdb.db, &audit).await, 1);

        // Evidence files: the 组织部's to add and read.
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
        let (s, v) = upload(&org, &format!("/api/experiences/{id}/attachments"), "考核表.pdf", pdf.clone()).await;
        assert_eq!(s, 201, "{v}");
        let sup = Client::login(&app, "duchaju").await;
        let (s, _) = upload(&sup, &format!("/api/experiences/{id}/attachments"), "x.pdf", pdf).await;
        assert_eq!(s, 403);
        let (s, files) = org.get(&format!("/api/experiences/{id}/attachments")).await;
        assert_eq!((s, files.as_array().map(Vec::len)), (200, Some(1)));

        // A 专班 carries supervised tasks, named or numbered; its members' suggestions count it.
        let (_, list) = org.get("/api/experiences?year=2026&kind=task_force").await;
        let flood = list.as_array().unwrap().iter().find(|e| e["name"] == "防汛救灾专班").unwrap().clone();
        assert_eq!(flood["tasks"].as_array().unwrap().len(), 2, "{flood}");
        let (s, v) =
            org.post(&format!("/api/experiences/{}/tasks", flood["id"]), json!({"task": "没有这个任务"})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("关联任务")), "{v}");

        // 上报数: checked, named, kept.
        let (s, v) =
            org.put("/api/cadres/figures/2026", json!({"figures": {"training": -1.0, "frontline": 2.5}})).await;
        assert_eq!(s, 400, "{v}");
        assert!(v.to_string().contains("调训（人次）") && v.to_string().contains("下沉一线历练（人次）"), "{v}");
        let (s, _) = org.put("/api/cadres/figures/2026", json!({"figures": {"training": 210.0}})).await;
        assert_eq!(s, 204);
        let (_, figures) = org.get("/api/cadres/figures?year=2026").await;
        let t = figures.as_array().unwrap().iter().find(|f| f["key"] == "training").unwrap().clone();
        assert_eq!(t["reported"].as_f64(), Some(210.0));
        tdb.cleanup().await;
    });
}

fn roster_file(rows: &[[&str; 11]]) -> Vec<u8> {
    let cols = xietong_storage::cadres::roster::roster_columns(vec![]);
    let rows: Vec<Vec<xietong_office::Cell>> =
        rows.iter().map(|r| r.iter().map(|c| xietong_office::Cell::Text(c.to_string())).collect()).collect();
    xietong_office::export_table("干部名册", None, &cols, &rows).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_roster_imports_whole_or_not_at_all_and_the_pool_exports_read_back() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let org = Client::login(&app, "zuzhibu").await;
        let (_, all) = org.get("/api/cadres").await;
        let liaison = all
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["unit_name"] == "马寨镇" && c["post"] == "联络员")
            .unwrap()
            .clone();
        let name = liaison["name"].as_str().unwrap().to_string();
        let (a, b2) = (id_number("19970505", 31), id_number("19990909", 33));
        let good_new = [
            "马寨镇",
            "马寨镇新进干部（示例）",
            "党政办科员",
            &a,
            "硕士研究生",
            "金融学",
            "一级科员",
            "公开引进",
            "2023-07-01",
            "股级优秀年轻干部库",
            "招商引资专班中表现突出",
        ];
        let good_old =
            ["马寨镇", &name, "联络员", &b2, "大学本科", "汉语言文学", "二级科员", "公务员招录", "2021-08-01", "", ""];
        let mut wrong = id_number("19980101", 35);
        wrong.replace_range(17.., if wrong.ends_with('1') { "2" } else { "1" });
        let bad = [
            good_new,
            good_old,
            ["马寨镇", "甲（示例）", "科员", &wrong, "大学本科", "", "一级科员", "选调生", "2020-07-01", "", ""],
            [
                "不存在的乡",
                "乙（示例）",
                "科员",
                &id_number("19960101", 37),
                "大学本科",
                "",
                "一级科员",
                "选调生",
                "2018-07-01",
                "",
                "",
            ],
            [
                "马寨镇",
                "丙（示例）",
                "科员",
                &id_number("20080101", 39),
                "大学本科",
                "",
                "一级科员",
                "选调生",
                "2020-07-01",
                "",
                "",
            ],
            [
                "马寨镇",
                &name,
                "联络员",
                &id_number("19950101", 41),
                "大学本科",
                "",
                "一级科员",
                "选调生",
                "2019-07-01",
                "",
                "",
            ],
            [
                "马寨镇",
                "丁（示例）",
                "科员",
                &id_number("19940101", 43),
                "大学本科",
                "",
                "一级科员",
                "选调生",
                "2017-07-01",
                "科级优秀年轻干部库",
                "",
            ],
        ];
        let people = || count(&tdb.db, "SELECT COUNT(*) AS n FROM people");
        let cadres = || count(&tdb.db, "SELECT COUNT(*) AS n FROM cadres");
        let before = (people().await, cadres().await, fingerprint(&tdb.db).await);
        let (s, v) = upload(&org, "/api/imports/cadres", "干部名册.xlsx", roster_file(&bad)).await;
        assert_eq!(s, 400, "{v}");
        let err = v["error"].as_str().unwrap();
        for want in [
            "第 4 行「身份证号」",
            "第 5 行「单位」",
            "第 6 行「参加工作时间」",
            "第 7 行「姓名」",
            "与第 3 行是同一单位的同一人",
            "第 8 行「入库理由」",
        ] {
            assert!(err.contains(want), "{want}: {err}");
        }
        assert!(!err.contains("第 2 行") && !err.contains("第 3 行「"), "good rows are not named: {err}");
        assert_eq!((people().await, cadres().await, fingerprint(&tdb.db).await), before, "nothing half-written");

        // The good rows: one new person, one existing one recorded; twice, and the second changes nothing more.
        for round in 0..2 {
            let (s, v) = upload(&org, "/api/imports/cadres", "干部名册.xlsx", roster_file(&[good_new, good_old])).await;
            assert_eq!((s, v["created_ids"].as_array().map(Vec::len)), (201, Some(2)), "{round}: {v}");
        }
        assert_eq!((people().await, cadres().await), (before.0 + 1, before.1 + 2));
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) AS n FROM cadre_pool_entries WHERE level = 'stock'").await, 3);
        let (_, stock) = org.get("/api/cadres?pool=stock").await;
        assert!(
            stock
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "马寨镇新进干部（示例）" && c["age"].as_i64().is_some())
        );
        let lly = Client::login(&app, "mzz_lly").await;
        assert_eq!(upload(&lly, "/api/imports/cadres", "x.xlsx", roster_file(&[good_new])).await.0, 403);

        // The exports read back: 8 + 3 pool members; the 班子 table ends with the district's 8 of 22.
        let (s, bytes) = org.bytes("/api/exports/cadres").await;
        assert_eq!(s, 200);
        let cols: Vec<_> = ["干部库", "单位", "姓名", "年龄", "入库理由"]
            .iter()
            .map(|h| xietong_office::Column::plain(h, 10.0))
            .collect();
        let rows = xietong_office::read_table("pool.xlsx", &bytes, &cols).unwrap();
        assert_eq!(rows.len(), 11);
        assert!(
            rows.iter().any(|r| r.get("姓名") == "马寨镇新进干部（示例）" && r.get("干部库") == "股级优秀年轻干部库")
        );
        assert!(!String::from_utf8_lossy(&bytes).contains(&a), "no ID number in the export");
        // A person in both pools is one row in each, 科级库 rows first.
        let (_, section) = org.get("/api/cadres?pool=section").await;
        let both = section[0]["person_id"].as_i64().unwrap();
        let (s, v) =
            org.post(&format!("/api/cadres/{both}/pools"), json!({"level": "stock", "reason": "两库并列"})).await;
        assert_eq!(s, 200, "{v}");
        let (_, bytes) = org.bytes("/api/exports/cadres").await;
        let rows = xietong_office::read_table("pool.xlsx", &bytes, &cols).unwrap();
        assert_eq!(rows.len(), 12);
        let levels: Vec<&str> = rows.iter().map(|r| r.get("干部库")).collect();
        assert!(levels.is_sorted_by_key(|l| *l != "科级优秀年轻干部库"), "{levels:?}");
        let (s, bytes) = org.bytes("/api/exports/cadres?pool=stock").await;
        assert_eq!(s, 200);
        assert_eq!(xietong_office::read_table("pool.xlsx", &bytes, &cols).unwrap().len(), 4);
        let (s, bytes) = org.bytes("/api/exports/teams").await;
        assert_eq!(s, 200);
        let cols: Vec<_> = ["单位", "班子成员", "35岁以下", "占比(%)"]
            .iter()
            .map(|h| xietong_office::Column::plain(h, 10.0))
            .collect();
        let rows = xietong_office::read_table("teams.xlsx", &bytes, &cols).unwrap();
        let total = rows.last().unwrap();
        assert_eq!((total.get("单位"), total.get("班子成员"), total.get("35岁以下")), ("合计", "22", "8"));
        assert_eq!(total.get("占比(%)"), "36.36");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_organisation_departments_own_data_scope_limits_what_it_sees() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let org = Client::login(&app, "zuzhibu").await;
        let anquan = Client::login(&app, "anquan").await;
        let mzz = Client::login(&app, "duchaju").await.unit_id("mzz").await;
        let (_, all) = org.get("/api/cadres").await;
        let hzx_person =
            all.as_array().unwrap().iter().find(|c| c["unit_name"] == "侯寨乡").unwrap()["person_id"].as_i64().unwrap();
        let (s, v) = anquan.put("/api/data-scopes/org_dept", json!({"kind": "custom", "unit_ids": [mzz]})).await;
        assert_eq!(s, 204, "{v}");
        let (_, list) = org.get("/api/cadres").await;
        let list = list.as_array().unwrap().clone();
        assert!(!list.is_empty() && list.iter().all(|c| c["unit_name"] == "马寨镇"), "{list:?}");
        let (_, teams) = org.get("/api/teams").await;
        assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");
        assert_eq!(org.get(&format!("/api/cadres/{hzx_person}")).await.0, 403);
        let (s, v) =
            org.post(&format!("/api/cadres/{hzx_person}/pools"), json!({"level": "stock", "reason": "试"})).await;
        assert_eq!(s, 403, "{v}");
        assert!(v["error"].as_str().unwrap().contains("数据范围"), "{v}");
        let (_, totals) = org.get("/api/experiences/totals?year=2026").await;
        let training = totals["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == "training").unwrap().clone();
        assert_eq!(training["people"].as_i64(), Some(6), "马寨镇's trainees only: {training}");
        let row = [
            "侯寨乡",
            "某（示例）",
            "科员",
            &id_number("19960101", 51),
            "大学本科",
            "",
            "一级科员",
            "选调生",
            "2018-07-01",
            "",
            "",
        ];
        let (s, v) = upload(&org, "/api/imports/cadres", "x.xlsx", roster_file(&[row])).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("不在您的数据范围内"), "{v}");
        tdb.cleanup().await;
    });
}
