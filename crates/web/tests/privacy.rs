//! Personal data and confidential 难题 reach only whom they should (issue 12), on both backends.
//!
//! For each demo role the test gathers everything that role can read — every GET operation of the
//! OpenAPI document (ids filled in with every expert, problem, docking and achievement), every
//! export, and every page reachable by following links from the home page plus each record's own
//! page — and then compares each personal field of each record with the one table in
//! `xietong_security::privacy`: a field the role may not see whole never appears whole, a hidden
//! field does not appear masked either, and where the role sees a record the list shows the field
//! as the table says. Confidential problems' titles and descriptions appear only for the 科技局,
//! the owning enterprise and the parties of a docking on them.

mod common;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::Read;

use common::{Client, dt, with_demo};
use serde_json::Value;
use xietong_security::privacy::{Exposure, PersonalField, Relation, exposure, mask};
use xietong_supervision::Role;

const READERS: [&str; 10] =
    ["admin", "quzhang", "duchaju", "jsj_lly", "jsj_dlk", "kejiju", "qiye", "gaoxiao", "anquan", "shenji"];

/// A cookie session for pages, signed in through the form (with its CSRF field, if the form has one).
async fn browser(app: &common::TestApp, username: &str) -> reqwest::Client {
    let c =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::limited(5)).build().unwrap();
    let form = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let mut fields = vec![
        ("username".to_string(), username.to_string()),
        ("password".to_string(), xietong_demo::DEMO_PASSWORD.to_string()),
        ("next".to_string(), "/".to_string()),
    ];
    for name in ["csrf", "csrf_token", "_csrf"] {
        if let Some(v) = hidden_value(&form, name) {
            fields.push((name.to_string(), v));
        }
    }
    let r = c.post(app.url("/login")).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 200, "login {username}");
    assert_ne!(r.url().path(), "/login", "{username} signed in");
    c
}

fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at + html[at..].find('>')?];
    let v = tag.split("value=\"").nth(1)?;
    Some(v[..v.find('"')?].to_string())
}

/// Every text inside an Office file (xlsx, docx): the XML of each part.
fn office_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    let Ok(mut z) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return out };
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut s = String::new();
        if f.read_to_string(&mut s).is_ok() {
            out.push_str(&s);
        }
    }
    out
}

/// Links on a page to other pages of the site (GET only; no sign-out).
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&"))
        .filter(|s| {
            s.starts_with('/') && !s.starts_with("//") && !s.starts_with("/logout") && !s.starts_with("/assets")
        })
        .collect()
}

struct Corpus {
    /// What the API's list answered, by path (for the "shows as the table says" check).
    lists: HashMap<String, Value>,
    /// Everything read, concatenated.
    text: String,
    reads: usize,
}

async fn gather(app: &common::TestApp, user: &str, ids: &HashMap<&str, Vec<i64>>, openapi: &Value) -> Corpus {
    let api = Client::login(app, user).await;
    let mut corpus = Corpus { lists: HashMap::new(), text: String::new(), reads: 0 };
    let mut paths = vec![];
    for (path, ops) in openapi["paths"].as_object().unwrap() {
        if ops.get("get").is_none() {
            continue;
        }
        let ids_for = |p: &str| -> Vec<i64> {
            for (key, list) in [
                ("expert", "experts"),
                ("tech-problem", "problems"),
                ("docking", "dockings"),
                ("achievement", "achievements"),
            ] {
                if p.contains(key) {
                    return ids[list].clone();
                }
            }
            vec![1]
        };
        if path.contains("{library}") {
            for (lib, list) in [("problem", "problems"), ("expert", "experts"), ("achievement", "achievements")] {
                for id in &ids[list] {
                    paths.push(path.replace("{library}", lib).replace("{id}", &id.to_string()));
                }
            }
        } else if path.contains("{what}") {
            for w in ["tech-problems", "experts", "dockings", "contracts", "platforms"] {
                paths.push(path.replace("{what}", w));
            }
        } else if path.contains("{id}") {
            // Matching is the slow read: a few records each (confidential problems come first).
            let n = if path.contains("matches") { 4 } else { usize::MAX };
            for id in ids_for(path).into_iter().take(n) {
                paths.push(path.replace("{id}", &id.to_string()));
            }
        } else if !path.contains('{') {
            paths.push(path.clone());
        }
    }
    for p in paths {
        let r = api.http.get(format!("{}{p}", api.base)).bearer_auth(&api.token).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "GET {p} as {user}: {}", r.status());
        let is_office =
            r.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("openxmlformats"));
        let bytes = r.bytes().await.unwrap();
        corpus.reads += 1;
        if is_office {
            corpus.text.push_str(&office_text(&bytes));
        } else {
            let s = String::from_utf8_lossy(&bytes).to_string();
            if let Ok(v) = serde_json::from_str::<Value>(&s) {
                corpus.lists.insert(p.clone(), v);
            }
            corpus.text.push_str(&s);
        }
        corpus.text.push('\n');
    }

    // Pages: the record pages themselves, then whatever the links lead to.
    let web = browser(app, user).await;
    let mut queue: VecDeque<String> = VecDeque::from(vec!["/".to_string()]);
    for id in &ids["experts"] {
        queue.push_back(format!("/docking/experts/{id}"));
    }
    for id in &ids["problems"] {
        queue.push_back(format!("/docking/problems/{id}"));
    }
    for id in &ids["dockings"] {
        queue.push_back(format!("/docking/dockings/{id}"));
    }
    let seeds: BTreeSet<String> = queue.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    let mut visited = BTreeSet::new();
    while let Some(p) = queue.pop_front() {
        if !visited.insert(p.clone()) {
            continue;
        }
        // Filters and pages of one list read the same records, and the record pages were queued
        // above: one page per route is enough for the rest.
        let key: String =
            p.split('?').next().unwrap().chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
        if !seeds.contains(&p) && !seen.insert(key) {
            continue;
        }
        let r = web.get(app.url(&p)).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "page {p} as {user}: {}", r.status());
        let html = r.text().await.unwrap();
        corpus.reads += 1;
        queue.extend(links(&html));
        corpus.text.push_str(&html);
    }
    corpus
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_fields_reach_each_role_as_the_table_says() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let bureau = Client::login(&app, "kejiju").await;
        let gaoxiao = tdb.db.user_by_name("gaoxiao").await.unwrap().unwrap();
        let own_institution = tdb.db.party_of(&gaoxiao).await.unwrap().institution_id.unwrap();
        let (_, experts) = bureau.get("/api/experts").await;
        let docked_expert =
            experts.as_array().unwrap().iter().find(|x| x["institution_id"] == own_institution).unwrap()["id"]
                .as_i64()
                .unwrap();
        // Two confidential 难题 of qiye's, published; the second docked with one of gaoxiao's experts.
        let qiye = Client::login(&app, "qiye").await;
        let mut confidential = vec![];
        for (title, description) in [
            (
                "保密难题甲：盾构主轴承密封寿命",
                "盾构主轴承唇形密封在高水压下寿命不足，需延长至 5000 小时以上并给出验证方案。",
            ),
            (
                "保密难题乙：风电叶片前缘侵蚀防护",
                "风电叶片前缘在沙尘环境下侵蚀严重，需要一种可现场修补的防护涂层及其评价方法。",
            ),
        ] {
            let body = serde_json::json!({"title": title, "description": description, "keywords": "密封;涂层",
                "cooperation_mode": "合作开发", "confidential": true});
            let (s, v) = qiye.post("/api/tech-problems", body).await;
            assert_eq!(s, 201, "{v}");
            let id = v["id"].as_i64().unwrap();
            for action in ["pass_formal", "approve"] {
                let (s, v) =
                    bureau.post(&format!("/api/reviews/problem/{id}"), serde_json::json!({"action": action})).await;
                assert_eq!(s, 200, "{action}: {v}");
            }
            confidential.push(id);
        }
        let body =
            serde_json::json!({"title": "保密难题乙的对接", "problem_id": confidential[1], "expert_id": docked_expert});
        let (s, v) = bureau.post("/api/dockings", body).await;
        assert_eq!(s, 201, "{v}");

        // An expert consents in a docking, so the enterprise's "consented" column is exercised.
        let (_, dockings) = bureau.get("/api/dockings").await;
        let with_expert = dockings.as_array().unwrap().iter().find(|d| d["expert_id"].is_i64()).cloned();
        if let Some(d) = &with_expert {
            let (s, body) = bureau.post(&format!("/api/dockings/{}/share-contact", d["id"]), Value::Null).await;
            assert!(s == 204 || s == 409, "share contact: {s} {body}");
        }

        let (_, experts) = bureau.get("/api/experts").await;
        let experts = experts.as_array().unwrap().clone();
        assert_eq!(experts.iter().filter(|x| x["id"] == docked_expert).count(), 1);
        let (_, enterprises) = bureau.get("/api/enterprises").await;
        let enterprises = enterprises.as_array().unwrap().clone();
        let (_, problems) = bureau.get("/api/tech-problems").await;
        let problems = problems.as_array().unwrap().clone();
        let (_, achievements) = bureau.get("/api/achievements").await;
        let ids: HashMap<&str, Vec<i64>> = HashMap::from([
            ("experts", experts.iter().map(|x| x["id"].as_i64().unwrap()).collect()),
            ("problems", {
                let mut ids: Vec<i64> = problems.iter().map(|x| x["id"].as_i64().unwrap()).collect();
                ids.sort_by_key(|id| !confidential.contains(id));
                ids
            }),
            ("dockings", dockings.as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()),
            ("achievements", achievements.as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()),
        ]);
        assert!(experts.iter().any(|x| !x["phone"].as_str().unwrap().is_empty()), "demo experts have phones");
        assert_eq!(problems.iter().filter(|p| p["confidential"] == true).count(), 2, "two confidential problems");
        let consents: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT expert_id, enterprise_id FROM dockings WHERE contact_shared = 1 AND expert_id IS NOT NULL",
        )
        .fetch_all(&tdb.db.pool)
        .await
        .unwrap();
        assert!(!consents.is_empty() || with_expert.is_none(), "a consent recorded");
        let (_, openapi) = bureau.get("/api/openapi.json").await;

        let mut checked = 0;
        let mut reads = 0;
        for user in READERS {
            let session = tdb.db.user_by_name(user).await.unwrap().unwrap();
            let party = tdb.db.party_of(&session).await.unwrap();
            let started = std::time::Instant::now();
            let corpus = gather(&app, user, &ids, &openapi).await;
            eprintln!("{user}: {} reads in {:?}", corpus.reads, started.elapsed());
            reads += corpus.reads;

            // Each (value, exposure) a reader may legitimately see; a masked form may coincide
            // between records, so "never masked" is judged against what is allowed anywhere.
            let mut cases = vec![];
            for x in &experts {
                let id = x["id"].as_i64().unwrap();
                let relation = if Some(x["institution_id"].as_i64().unwrap()) == party.institution_id {
                    Relation::Own
                } else if consents.iter().any(|(e, ent)| *e == id && Some(*ent) == party.enterprise_id) {
                    Relation::Consented
                } else {
                    Relation::Other
                };
                for (field, key) in [
                    (PersonalField::ExpertPhone, "phone"),
                    (PersonalField::ExpertEmail, "email"),
                    (PersonalField::ExpertIdNumber, "id_number"),
                ] {
                    cases.push(("/api/experts", id, key, field, relation, x[key].as_str().unwrap().to_string()));
                }
            }
            for e in &enterprises {
                let id = e["id"].as_i64().unwrap();
                let relation = if Some(id) == party.enterprise_id { Relation::Own } else { Relation::Other };
                for (field, key) in [
                    (PersonalField::EnterpriseContactName, "contact_name"),
                    (PersonalField::EnterpriseContactPhone, "contact_phone"),
                ] {
                    cases.push(("/api/enterprises", id, key, field, relation, e[key].as_str().unwrap().to_string()));
                }
            }
            let allowed_masks: BTreeSet<String> = cases
                .iter()
                .filter(|c| exposure(session.role, c.4, c.3) == Exposure::Masked)
                .map(|c| mask(c.3, &c.5))
                .collect();
            for (list, id, key, field, relation, whole) in &cases {
                if whole.chars().count() < 4 {
                    continue;
                }
                let e = exposure(session.role, *relation, *field);
                let masked = mask(*field, whole);
                let shown = corpus
                    .lists
                    .get(*list)
                    .and_then(|v| v.as_array().cloned())
                    .and_then(|l| l.into_iter().find(|r| r["id"] == *id))
                    .map(|r| r[*key].as_str().unwrap_or_default().to_string());
                match e {
                    Exposure::Whole => {
                        if let Some(s) = &shown {
                            assert_eq!(s, whole, "{user} sees {field:?} of {list} {id} whole");
                        }
                    }
                    Exposure::Masked => {
                        assert!(!corpus.text.contains(whole.as_str()), "{user} must not see {field:?} of {id} whole");
                        if let Some(s) = &shown {
                            assert_eq!(s, &masked, "{user} sees {field:?} of {list} {id} masked");
                        }
                    }
                    Exposure::Hidden => {
                        assert!(!corpus.text.contains(whole.as_str()), "{user} must not see {field:?} of {id} whole");
                        if !allowed_masks.contains(&masked) {
                            assert!(!corpus.text.contains(&masked), "{user} must not see {field:?} of {id} masked");
                        }
                    }
                }
                checked += 1;
            }

            // Confidential problems: their own words only for the bureau, the owner, docked parties.
            for p in problems.iter().filter(|p| p["confidential"] == true) {
                let id = p["id"].as_i64().unwrap();
                let docked: Vec<(i64,)> = sqlx::query_as(
                    "SELECT COUNT(*) FROM dockings d LEFT JOIN experts x ON x.id = d.expert_id \
                     WHERE d.problem_id = $1 AND (d.institution_id = $2 OR x.institution_id = $2)",
                )
                .bind(id)
                .bind(party.institution_id.unwrap_or(-1))
                .fetch_all(&tdb.db.pool)
                .await
                .unwrap();
                let may = session.role == Role::TechBureau
                    || Some(p["enterprise_id"].as_i64().unwrap()) == party.enterprise_id
                    || docked[0].0 > 0;
                if session.role == Role::Institution {
                    // gaoxiao is a party of the docking on the second problem only.
                    assert_eq!(may, id == confidential[1], "gaoxiao's access to {id}");
                }
                for key in ["title", "description"] {
                    let words = p[key].as_str().unwrap();
                    if may {
                        continue;
                    }
                    assert!(!corpus.text.contains(words), "{user} must not read confidential problem {id}'s {key}");
                    checked += 1;
                }
            }
        }
        eprintln!(
            "{reads} reads as {} roles, {checked} checks; ids {:?}",
            READERS.len(),
            ids.values().map(Vec::len).collect::<Vec<_>>()
        );
        assert!(reads > 500, "the walk reached the routes ({reads})");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_history_is_for_the_owner_and_the_bureau() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let bureau = Client::login(&app, "kejiju").await;
        let enterprise = Client::login(&app, "qiye").await;
        let session = tdb.db.user_by_name("qiye").await.unwrap().unwrap();
        let own = tdb.db.party_of(&session).await.unwrap().enterprise_id.unwrap();
        let (_, problems) = bureau.get("/api/tech-problems").await;
        let problems = problems.as_array().unwrap();
        let mine = problems.iter().find(|p| p["enterprise_id"] == own).expect("qiye has a problem");
        let other = problems.iter().find(|p| p["enterprise_id"] != own).expect("another enterprise's problem");
        for (who, c) in [("kejiju", &bureau), ("qiye", &enterprise)] {
            let (s, _) = c.get(&format!("/api/reviews/problem/{}", mine["id"])).await;
            assert_eq!(s, 200, "{who} reads the history of qiye's problem");
        }
        let (s, body) = enterprise.get(&format!("/api/reviews/problem/{}", other["id"])).await;
        assert_eq!(s, 403, "qiye reads another enterprise's review history: {body}");
        assert!(body["error"].as_str().unwrap_or_default().contains("审核记录"), "{body}");
        for who in ["admin", "duchaju", "quzhang", "gaoxiao"] {
            let c = Client::login(&app, who).await;
            let (s, _) = c.get(&format!("/api/reviews/problem/{}", mine["id"])).await;
            assert_eq!(s, 403, "{who} reads qiye's review history");
        }
        tdb.cleanup().await;
    });
}
