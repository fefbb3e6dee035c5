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
        tdb.cleanup().await;
    });
}
