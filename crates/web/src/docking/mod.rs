//! 产学研对接: the 科技局's libraries (难题库, 专家库, 成果库, 企业库, 高校院所, 平台载体), their 征集 and
//! 审核, matching, the 对接 pipeline to 技术合同, and the statistics — one module per resource, each
//! holding its API routes and its pages.

pub mod achievements;
pub mod baselines;
pub mod campaigns;
pub mod contracts;
pub mod dockings;
pub mod enterprises;
pub mod experts;
pub mod hub;
pub mod industries;
pub mod institutions;
pub mod platforms;
pub mod problems;
pub mod review;
pub mod stats;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
pub use hub::{may_read_libraries, may_read_stats};

/// The docking API routes (roles in [`crate::policy::TABLE`]).
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(achievements::api_router())
        .merge(baselines::api_router())
        .merge(campaigns::api_router())
        .merge(contracts::api_router())
        .merge(dockings::api_router())
        .merge(enterprises::api_router())
        .merge(experts::api_router())
        .merge(industries::api_router())
        .merge(institutions::api_router())
        .merge(platforms::api_router())
        .merge(problems::api_router())
        .merge(review::api_router())
        .merge(stats::api_router())
}

/// The docking pages (roles in [`crate::policy::PAGES`]).
pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .merge(hub::page_router())
        .merge(achievements::page_router())
        .merge(baselines::page_router())
        .merge(campaigns::page_router())
        .merge(contracts::page_router())
        .merge(dockings::page_router())
        .merge(enterprises::page_router())
        .merge(experts::page_router())
        .merge(industries::page_router())
        .merge(institutions::page_router())
        .merge(platforms::page_router())
        .merge(problems::page_router())
        .merge(review::page_router())
        .merge(stats::page_router())
}
