//! 从文件立项 (任务抽取, issue 17): the 督查局 uploads or pastes a 会议纪要, 领导批示 or 上级交办 notice,
//! reads the draft batch beside the document with the words each field came from highlighted,
//! corrects it, and confirms: every ticked item is 立项并交办 in one transaction, linked to the
//! document. The extraction is `xietong-intake`'s, the same code as `xietong intake extract`.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_intake::{Alias, Draft, Org, OrgUnit, default_aliases};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::intake::UnitAlias;
use xietong_storage::tasks::NewTask;
use xietong_supervision::{ReportCycle, Role, SourceKind};

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::Fields;
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_extract))
        .routes(routes!(api_aliases, api_set_alias))
        .routes(routes!(api_remove_alias))
}

pub fn page_router() -> crate::policy::Pages {
    use axum::routing::{get, post};
    crate::policy::Pages::new()
        .route("/intake", get(intake_page))
        .route("/intake/draft", post(draft_submit))
        .route("/intake/confirm", post(confirm_submit))
        .route("/intake/aliases", post(alias_submit))
        .route("/intake/aliases/{id}/remove", post(alias_remove_submit))
}

/// The largest document read (characters): a 纪要 is a few thousand.
const MAX_CHARS: usize = 100_000;

/// The org tree with the aliases kept in the database (first, so they win) and the built-in ones.
async fn org_of(s: &AppState) -> Result<Org, StoreError> {
    let units: Vec<OrgUnit> =
        s.db.list_units().await?.into_iter().map(|u| OrgUnit { name: u.name, kind: u.kind }).collect();
    let mut aliases: Vec<Alias> =
        s.db.unit_aliases().await?.into_iter().map(|a| Alias { words: a.words, units: vec![a.unit_name] }).collect();
    aliases.extend(default_aliases());
    Ok(Org::new(units, &aliases))
}

/// Extract a draft with the current org tree and calendar.
async fn draft_of(s: &AppState, text: &str) -> Result<Draft, StoreError> {
    if text.trim().is_empty() {
        return Err(StoreError::invalid("text", "请上传文件或粘贴文件内容"));
    }
    if text.chars().count() > MAX_CHARS {
        return Err(StoreError::invalid("text", format!("文件过长（超过 {MAX_CHARS} 字），请只粘贴需要立项的部分")));
    }
    let org = org_of(s).await?;
    let cal = s.snapshot().cal;
    let text = text.to_string();
    crate::blocking(move || Ok(xietong_intake::extract(&text, &org, &|d| xietong_intake::working_day(&cal, d), None)))
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtractInput {
    /// 文件全文（会议纪要、领导批示或上级交办通知）
    pub text: String,
}

/// 一项抽取出的交办事项。
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftItem {
    /// 原文（交办该事项的句子）
    pub text: String,
    pub title: String,
    pub lead: Vec<String>,
    pub co: Vec<String>,
    /// 原文中的期限用语
    pub deadline_text: Option<String>,
    /// 期限（YYYY-MM-DD HH:MM）
    pub deadline: Option<String>,
    /// 责任领导（原文用语）
    pub leader: Option<String>,
    /// 需要核对之处（期限为休息日、单位未识别等）
    pub flags: Vec<String>,
}

/// 抽取结果（草稿，尚未立项）。
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftBatch {
    pub doc_no: Option<String>,
    /// 文件日期 YYYY-MM-DD
    pub date: Option<String>,
    /// meeting 会议 / instruction 领导批示 / superior 上级交办
    pub source_kind: String,
    pub tasks: Vec<DraftItem>,
    /// 未交办具体事项的句子（听取汇报、原则同意等）
    pub non_tasks: Vec<String>,
}

/// 从文件抽取交办事项（督查局）：文号、日期、类别，逐项的牵头单位、配合单位、期限和责任领导，以及未交办事项的句子。只生成草稿，不立项。
#[utoipa::path(post, path = "/api/intake/extract", tag = "督办任务", request_body = ExtractInput,
    responses((status = 200, body = DraftBatch), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_extract(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<ExtractInput>,
) -> Result<Json<DraftBatch>, ApiError> {
    may_intake(&u)?;
    let d = draft_of(&s, &b.text).await?;
    Ok(Json(DraftBatch {
        doc_no: d.doc_no,
        date: d.date.map(|x| x.to_string()),
        source_kind: serde_json::to_value(d.source_kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        tasks: d
            .tasks
            .into_iter()
            .map(|t| DraftItem {
                text: t.text,
                title: t.title,
                lead: t.lead,
                co: t.co,
                deadline_text: t.deadline_text,
                deadline: t.deadline.map(|x| x.format("%Y-%m-%d %H:%M").to_string()),
                leader: t.leader,
                flags: t.flags,
            })
            .collect(),
        non_tasks: d.non_tasks,
    }))
}

/// 单位别名：文件中对单位的其他写法（如「区住建局」→ 建设和交通局），从文件立项时据此识别单位。
#[utoipa::path(get, path = "/api/intake/aliases", tag = "督办任务",
    responses((status = 200, body = Vec<UnitAlias>), (status = 403, body = ErrorBody)))]
async fn api_aliases(State(s): State<AppState>, ApiUser(_u, _): ApiUser) -> Result<Json<Vec<UnitAlias>>, ApiError> {
    Ok(Json(s.db.unit_aliases().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AliasInput {
    /// 文件中的写法（2–30 字）
    pub words: String,
    pub unit_id: i64,
}

/// 新增单位别名，或把已有别名改指另一单位（系统管理员、督查局）。
#[utoipa::path(put, path = "/api/intake/aliases", tag = "督办任务", request_body = AliasInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_set_alias(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<AliasInput>,
) -> Result<StatusCode, ApiError> {
    s.db.set_unit_alias(&u, &b.words, b.unit_id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 删除单位别名（系统管理员、督查局）。
#[utoipa::path(delete, path = "/api/intake/aliases/{id}", tag = "督办任务",
    params(("id" = i64, Path, description = "别名编号")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_remove_alias(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.db.remove_unit_alias(&u, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn may_intake(u: &SessionUser) -> Result<(), StoreError> {
    if u.role == Role::Supervisor {
        Ok(())
    } else {
        Err(StoreError::Denied("无权限：只有督查局可以从文件立项".into()))
    }
}

// ---- pages ----

async fn intake_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): crate::forms::RawQuery,
) -> Response {
    let ok = q.iter().find(|(k, v)| k == "ok" && !v.is_empty()).map(|(_, v)| v.clone());
    upload_page(&s, &u, StatusCode::OK, ok, None, "").await
}

async fn upload_form(s: &AppState, u: &SessionUser, status: StatusCode, error: Option<String>, text: &str) -> Response {
    upload_page(s, u, status, None, error, text).await
}

/// The upload form (督查局) and the alias list (系统管理员, 督查局).
async fn upload_page(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    ok: Option<String>,
    error: Option<String>,
    text: &str,
) -> Response {
    let r = async { Ok::<_, StoreError>((s.db.unit_aliases().await?, s.db.list_units().await?)) };
    let (aliases, units) = match r.await {
        Ok(v) => v,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units: Vec<_> =
        units.into_iter().filter(|x| x.kind != "内设科室").map(|x| context! { id => x.id, name => x.name }).collect();
    let builtin: Vec<_> =
        default_aliases().into_iter().map(|a| context! { words => a.words, unit => a.units.join("、") }).collect();
    render(
        s,
        status,
        "intake.html",
        Some(u),
        context! { nav => "intake", error => error, ok => ok, text => text, draft => false,
        may_upload => u.role == Role::Supervisor, aliases => aliases, builtin => builtin, units => units },
    )
}

async fn alias_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let unit = f.id("unit_id", "单位")?.ok_or_else(|| StoreError::invalid("unit_id", "请选择单位"))?;
        s.db.set_unit_alias(&u, &f.s("words"), unit, s.clock.now()).await
    };
    match r.await {
        Ok(()) => Redirect::to(&crate::pages::with_query("/intake", &[("ok", "别名已保存")])).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => upload_page(&s, &u, status_of(&e), None, Some(e.to_string()), "").await,
    }
}

async fn alias_remove_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match s.db.remove_unit_alias(&u, id, s.clock.now()).await {
        Ok(()) => Redirect::to(&crate::pages::with_query("/intake", &[("ok", "别名已删除")])).into_response(),
        Err(e @ StoreError::Conflict(_)) => {
            upload_page(&s, &u, StatusCode::CONFLICT, None, Some(e.to_string()), "").await
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

/// A document's text from an upload: Word's paragraphs, a PDF's text layer, or plain text in UTF-8
/// (else GB18030).
fn text_of_upload(name: &str, bytes: &[u8]) -> Result<String, StoreError> {
    let lower = name.to_lowercase();
    if lower.ends_with(".doc") || lower.ends_with(".wps") {
        return Err(StoreError::invalid("文件", "请先另存为 .docx 再上传，或复制文字粘贴到下框"));
    }
    xietong_office::document_text(bytes).map_err(|e| StoreError::invalid("文件", e.to_string()))
}

async fn draft_submit(State(s): State<AppState>, PageUser(u, _): PageUser, mp: Multipart) -> Response {
    if let Err(e) = may_intake(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let (file, fields) = match crate::imports::read_form(&s, mp).await {
        Ok(v) => v,
        Err(e) => return upload_form(&s, &u, status_of(&e), Some(e.to_string()), "").await,
    };
    let pasted = fields.s("text");
    let r = async {
        let (name, text, original) = match file {
            Ok((name, bytes)) => {
                let text = text_of_upload(&name, &bytes)?;
                (name.clone(), text, Some(bytes))
            }
            Err(_) if !pasted.trim().is_empty() => ("粘贴的文字.txt".to_string(), pasted.clone(), None),
            Err(e) => return Err(e),
        };
        let d = draft_of(&s, &text).await?;
        Ok::<_, StoreError>((name, text, original, d))
    };
    match r.await {
        Ok((_, text, _, d)) if d.tasks.is_empty() => {
            let msg = "未识别出交办事项：文中没有写明由哪个单位办理的事项。可检查文字是否完整，或直接手工立项。";
            upload_form(&s, &u, StatusCode::UNPROCESSABLE_ENTITY, Some(msg.into()), &text).await
        }
        Ok((name, text, original, d)) => {
            let items = items_of_draft(&s, &d).await;
            let mut doc = DocView::of(&d, &name, &text);
            // The uploaded file itself is kept now, and named by its hash until the batch is
            // confirmed: the tasks carry the original, not only the text read from it.
            if let Some(bytes) = original {
                match crate::attachments::store_document(&s, &name, bytes.into()).await {
                    Ok(a) => doc.file_sha256 = a.sha256,
                    Err(e) => return error_page(&s, Some(&u), &e),
                }
            }
            draft_page(&s, &u, StatusCode::OK, None, &doc, items).await
        }
        Err(e @ StoreError::Internal(_)) => error_page(&s, Some(&u), &e),
        Err(e) => upload_form(&s, &u, status_of(&e), Some(e.to_string()), &pasted).await,
    }
}

/// The document as the draft page carries it between requests.
#[derive(Clone, Debug, Default, Serialize)]
struct DocView {
    doc_no: String,
    date: String,
    source_kind: String,
    source_title: String,
    file_name: String,
    /// The uploaded file as stored (empty for pasted text).
    file_sha256: String,
    text: String,
    non_tasks: Vec<String>,
}

impl DocView {
    fn of(d: &Draft, file_name: &str, text: &str) -> DocView {
        let source_kind = match d.source_kind {
            xietong_intake::SourceKind::Meeting => SourceKind::Meeting,
            xietong_intake::SourceKind::Instruction => SourceKind::Instruction,
            xietong_intake::SourceKind::Superior => SourceKind::Superior,
        };
        let title = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").chars().take(100).collect();
        DocView {
            doc_no: d.doc_no.clone().unwrap_or_default(),
            date: d.date.map(|x| x.to_string()).unwrap_or_default(),
            source_kind: source_kind.code().into(),
            source_title: title,
            file_name: file_name.into(),
            file_sha256: String::new(),
            text: text.into(),
            non_tasks: d.non_tasks.clone(),
        }
    }
}

/// One item as the form shows it (from the draft, or as the clerk left it).
#[derive(Clone, Debug, Default, Serialize)]
struct ItemView {
    include: bool,
    doc_no: String,
    title: String,
    description: String,
    lead: Option<i64>,
    co: Vec<i64>,
    deadline: String,
    leader: Option<i64>,
    report_cycle: String,
    /// What the document said: for the clerk, beside each field.
    said_lead: String,
    said_co: String,
    said_deadline: String,
    said_leader: String,
    flags: Vec<String>,
}

async fn items_of_draft(s: &AppState, d: &Draft) -> Vec<ItemView> {
    let units = s.db.list_units().await.unwrap_or_default();
    let unit_id = |name: &str| units.iter().find(|u| u.name == name).map(|u| u.id);
    let leaders = leader_people(s).await;
    let doc_no = d.doc_no.clone().unwrap_or_default();
    let snap = s.snapshot();
    let standing_until = standing_deadline(&snap.cal, d.date.unwrap_or(snap.now.date()));
    d.tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let leader = t.leader.as_deref().and_then(|l| {
                leaders
                    .iter()
                    .find(|(_, post, _)| !post.is_empty() && (l == post || l.ends_with(&format!("、{post}"))))
                    .map(|x| x.0)
            });
            ItemView {
                include: true,
                doc_no: if doc_no.is_empty() { String::new() } else { format!("{doc_no}-{:02}", i + 1) },
                title: t.title.clone(),
                description: t.text.clone(),
                lead: t.lead.first().and_then(|n| unit_id(n)),
                co: t.co.iter().filter_map(|n| unit_id(n)).collect(),
                deadline: match t.deadline {
                    Some(x) => x.date().to_string(),
                    None if standing(t) => standing_until.to_string(),
                    None => String::new(),
                },
                leader,
                report_cycle: ReportCycle::Monthly.code().into(),
                said_lead: t.lead_words.join("；"),
                said_co: t.co_words.join("；"),
                said_deadline: t.deadline_text.clone().unwrap_or_default(),
                said_leader: t.leader.clone().unwrap_or_default(),
                flags: {
                    let mut f = t.flags.clone();
                    if t.deadline.is_none() && standing(t) {
                        f.push(format!(
                            "长期坚持：任务须有办理期限，已暂按 {standing_until}（年底最后一个工作日）设置、按月汇报，\
                             到期可延期续办；请确认"
                        ));
                    }
                    if t.lead.len() > 1 {
                        f.push(format!(
                            "原文有 {} 个牵头单位（{}），系统只能设一个牵头单位，其余请列为配合单位或分项立项",
                            t.lead.len(),
                            t.lead.join("、")
                        ));
                    }
                    f
                },
            }
        })
        .collect()
}

/// An item the document says is 长期坚持 (kept up without an end date).
fn standing(t: &xietong_intake::DraftTask) -> bool {
    t.deadline_text.as_deref().is_some_and(|w| w.contains("长期坚持"))
}

/// The deadline a 长期坚持 item is given for the clerk to confirm: the last working day of the
/// document's year, or of the next year for a document of December (a few weeks is no period).
fn standing_deadline(cal: &xietong_calendar::WorkCalendar, doc_date: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    let year = if doc_date.month() == 12 { doc_date.year() + 1 } else { doc_date.year() };
    let mut day = chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(doc_date);
    while !xietong_intake::working_day(cal, day) && day > doc_date {
        day = day.pred_opt().unwrap_or(day);
    }
    day
}

/// (person id, post, display) of the district leaders.
async fn leader_people(s: &AppState) -> Vec<(i64, String, String)> {
    crate::views::leader_people(s)
        .await
        .into_iter()
        .map(|p| (p.id, p.post.clone(), format!("{} {}", p.post, p.name)))
        .collect()
}

/// The document cut into pieces, each item's sentence marked, within it the words of its units and
/// deadline, so the clerk sees where every field came from.
fn highlighted(doc: &DocView, items: &[(String, Vec<String>, String)]) -> Vec<minijinja::Value> {
    // (start, end, class, item number)
    let mut marks: Vec<(usize, usize, &'static str, usize)> = vec![];
    let mut from = 0;
    for (n, (sentence, words, due)) in items.iter().enumerate() {
        let Some(at) =
            doc.text[from..].find(sentence.as_str()).map(|p| p + from).or_else(|| doc.text.find(sentence.as_str()))
        else {
            continue;
        };
        let end = at + sentence.len();
        from = end;
        let mut inner: Vec<(usize, usize, &'static str)> = vec![];
        for w in words.iter().filter(|w| !w.is_empty()) {
            if let Some(p) = sentence.find(w.as_str()) {
                inner.push((at + p, at + p + w.len(), "unit"));
            }
        }
        if !due.is_empty()
            && let Some(p) = sentence.find(due.as_str())
        {
            inner.push((at + p, at + p + due.len(), "due"));
        }
        inner.sort_unstable();
        let mut cur = at;
        for (a, b, class) in inner {
            if a < cur {
                continue;
            }
            if a > cur {
                marks.push((cur, a, "src", n + 1));
            }
            marks.push((a, b, class, n + 1));
            cur = b;
        }
        if cur < end {
            marks.push((cur, end, "src", n + 1));
        }
    }
    marks.sort_unstable();
    let mut out = vec![];
    let mut cur = 0;
    for (a, b, class, n) in marks {
        if a < cur {
            continue;
        }
        if a > cur {
            out.push(context! { text => &doc.text[cur..a], class => "", n => 0 });
        }
        out.push(context! { text => &doc.text[a..b], class => class, n => n });
        cur = b;
    }
    out.push(context! { text => &doc.text[cur..], class => "", n => 0 });
    out
}

async fn draft_page(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    error: Option<String>,
    doc: &DocView,
    items: Vec<ItemView>,
) -> Response {
    let units: Vec<_> =
        s.db.list_units()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|x| x.kind != "内设科室")
            .map(|x| context! { id => x.id, name => x.name })
            .collect();
    let leaders: Vec<_> =
        leader_people(s).await.into_iter().map(|(id, _, name)| context! { id => id, name => name }).collect();
    let cycles: Vec<_> =
        ReportCycle::ALL.iter().map(|c| context! { code => c.code(), label => c.label_zh() }).collect();
    let sources: Vec<_> =
        SourceKind::ALL.iter().map(|c| context! { code => c.code(), label => c.label_zh() }).collect();
    let said: Vec<(String, Vec<String>, String)> = items
        .iter()
        .map(|i| {
            let words =
                [i.said_lead.split('；'), i.said_co.split('；')].into_iter().flatten().map(str::to_string).collect();
            (i.description.clone(), words, i.said_deadline.clone())
        })
        .collect();
    let pieces = highlighted(doc, &said);
    render(
        s,
        status,
        "intake.html",
        Some(u),
        context! { nav => "intake", draft => true, error => error, doc => doc, items => items, units => units,
        leaders => leaders, cycles => cycles, sources => sources, pieces => pieces },
    )
}

/// The form as the clerk left it.
fn form_of(f: &Fields) -> (DocView, Vec<ItemView>) {
    let doc = DocView {
        doc_no: f.s("doc_no"),
        date: f.s("doc_date"),
        source_kind: f.s("source_kind"),
        source_title: f.s("source_title"),
        file_name: f.s("file_name"),
        file_sha256: f.s("file_sha256").trim().to_string(),
        text: f.s("document"),
        non_tasks: f.all("non_task"),
    };
    let n: usize = f.s("items").trim().parse().unwrap_or(0).min(500);
    let id = |k: &str| f.s(k).trim().parse::<i64>().ok();
    let items = (0..n)
        .map(|i| {
            let k = |name: &str| format!("{name}_{i}");
            ItemView {
                include: f.s(&k("include")) == "1",
                doc_no: f.s(&k("doc_no")),
                title: f.s(&k("title")),
                description: f.s(&k("description")),
                lead: id(&k("lead")),
                co: f.all(&k("co")).iter().filter_map(|x| x.trim().parse().ok()).collect(),
                deadline: f.s(&k("deadline")),
                leader: id(&k("leader")),
                report_cycle: f.s(&k("report_cycle")),
                said_lead: f.s(&k("said_lead")),
                said_co: f.s(&k("said_co")),
                said_deadline: f.s(&k("said_deadline")),
                said_leader: f.s(&k("said_leader")),
                flags: f.all(&k("flag")),
            }
        })
        .collect();
    (doc, items)
}

async fn confirm_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    if let Err(e) = may_intake(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let (doc, items) = form_of(&f);
    let chosen: Vec<(usize, &ItemView)> = items.iter().enumerate().filter(|(_, i)| i.include).collect();
    let tasks: Vec<NewTask> = chosen
        .iter()
        .map(|(_, i)| NewTask {
            title: i.title.clone(),
            description: i.description.clone(),
            source_kind: doc.source_kind.clone(),
            doc_no: i.doc_no.clone(),
            source_title: doc.source_title.clone(),
            source_date: doc.date.clone(),
            category_id: None,
            // 0 is no unit: refused by the checks with the item's number.
            lead_unit_id: i.lead.unwrap_or(0),
            co_unit_ids: i.co.iter().copied().filter(|c| Some(*c) != i.lead).collect(),
            leader_person_id: i.leader,
            report_cycle: i.report_cycle.clone(),
            deadline: i.deadline.clone(),
            received_at: None,
            assign_now: true,
        })
        .collect();
    let r = async {
        if doc.text.trim().is_empty() {
            return Err(StoreError::BadInput("文件内容丢失，请重新上传".into()));
        }
        let name = if doc.doc_no.is_empty() { "来源文件.txt".to_string() } else { format!("{}.txt", doc.doc_no) };
        let snap = s.snapshot();
        let missing_lead: Vec<String> = chosen
            .iter()
            .enumerate()
            .filter(|(_, (_, i))| i.lead.is_none())
            .map(|(n, _)| format!("第 {} 项「牵头单位」：请选择牵头单位", n + 1))
            .collect();
        if !missing_lead.is_empty() {
            return Err(StoreError::BadInput(format!("未立项（未写入任何数据）：\n{}", missing_lead.join("\n"))));
        }
        // The original upload if it is still stored, else the text as read.
        let attachment = match crate::attachments::stored_document(&s, &doc.file_name, &doc.file_sha256).await {
            Some(a) => a,
            None => crate::attachments::store_text(&s, &name, &doc.text).await?,
        };
        s.db.confirm_intake(&u, &snap.ctx(), &tasks, Some(&attachment)).await
    };
    match r.await {
        Ok(ids) => {
            let msg = format!("已立项并交办 {} 项（{}）", ids.len(), doc.doc_no);
            // The list filtered to the new tasks' 文号, with what was done.
            let q = doc.doc_no.clone();
            Redirect::to(&crate::pages::with_query("/tasks", &[("q", &q), ("ok", &msg)])).into_response()
        }
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => draft_page(&s, &u, status_of(&e), Some(e.to_string()), &doc, items).await,
    }
}
