//! 督查检查计划 and their merging (能合尽合) (API and page).

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::inspections::{InspectionOverview, NewInspection};

use crate::AppState;
use crate::api::{Created, J};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView, Unread};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inspections, register_inspection)).routes(routes!(merge_inspections))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/inspections", get(inspections_page).post(inspection_submit))
        .route("/inspections/merge", post(merge_submit))
}

/// 督查考核事项登记表、合并建议（附理由）和各单位每月受检次数（合并前后）。
#[utoipa::path(get, path = "/api/inspections", tag = "督查统筹", responses((status = 200, body = InspectionOverview), (status = 401, body = ErrorBody)))]
async fn inspections(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<InspectionOverview>, ApiError> {
    Ok(Json(s.db.inspection_overview(&u).await?))
}

/// 登记督查考核事项（督查局）。
#[utoipa::path(post, path = "/api/inspections", request_body = NewInspection, tag = "督查统筹",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn register_inspection(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewInspection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(Created { id: s.db.register_inspection(&u, &n, s.clock.now()).await? })))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct MergeBody {
    pub inspection_ids: Vec<i64>,
    pub name: String,
    pub reason: String,
}

/// 合并督查考核事项（能合尽合，保留各自来源）。
#[utoipa::path(post, path = "/api/inspections/merges", request_body = MergeBody, tag = "督查统筹",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn merge_inspections(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<MergeBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(Created { id: s.db.merge_inspections(&u, &b.inspection_ids, &b.name, &b.reason, s.clock.now()).await? }),
    ))
}

// ---------------------------------------------------------------- 督查统筹
async fn inspections_with(
    s: &AppState,
    u: &SessionUser,
    (st, err): (StatusCode, Option<String>),
    form: FormView,
) -> Response {
    let o = match s.db.inspection_overview(u).await {
        Ok(o) => o,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    // Burden as a unit × month grid ("before → after").
    let months: BTreeSet<String> = o.burden.iter().map(|b| b.month.clone()).collect();
    let mut grid: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
    for b in &o.burden {
        grid.entry(b.unit_name.clone()).or_default().insert(b.month.clone(), (b.before, b.after));
    }
    let grid: Vec<_> = grid
        .into_iter()
        .map(|(unit, m)| context! { unit => unit, cells => months.iter().map(|mm| m.get(mm).copied().unwrap_or((0, 0))).collect::<Vec<_>>() })
        .collect();
    render(
        s,
        st,
        "inspections.html",
        Some(u),
        context! { nav => "inspections", o => o, units => units, months => months, grid => grid, flash_err => err,
        f => form.value() },
    )
}

async fn inspections_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    inspections_with(&s, &u, (StatusCode::OK, None), FormView::fresh(Fields::default())).await
}

async fn inspection_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let mut unread = Unread::default();
    let issuing = unread.required_id(&f, "issuing_unit_id", "发起单位");
    let target_unit_ids = unread.take(f.ids("target_unit_id", "被督查单位").map(Some)).unwrap_or_default();
    let n = NewInspection {
        name: f.s("name"),
        // Unread (its error is in `unread`), so never looked up.
        issuing_unit_id: issuing.unwrap_or(0),
        subject: f.s("subject"),
        start_on: f.s("start_on"),
        end_on: f.s("end_on"),
        target_unit_ids,
    };
    match s.db.register_inspection_from_form(&u, &n, s.clock.now(), unread.0).await {
        Ok(_) => Redirect::to("/inspections").into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => inspections_with(&s, &u, (status_of(&e), FormView::flash(&e)), FormView::refused(f, &e)).await,
    }
}

async fn merge_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        s.db.merge_inspections(&u, &f.ids("inspection_id", "合并事项")?, &f.s("name"), &f.s("reason"), s.clock.now())
            .await
    }
    .await;
    match r {
        Ok(_) => Redirect::to("/inspections").into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            let fresh = FormView::fresh(Fields::default());
            inspections_with(&s, &u, (status_of(&e), Some(e.to_string())), fresh).await
        }
    }
}
