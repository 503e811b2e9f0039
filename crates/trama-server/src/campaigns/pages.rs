//! A campaign's public page and its dispatch button.

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::help::words::{Words, words};
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::{Page, SignedForm};
use crate::web::form::{PageError, PageResult};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use trama_core::auth::Role;
use trama_core::ids::CampaignId;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::policy::Scope;
    use crate::web::policies as may;
    Routes::pages()
        .get("/campagne/{id}", campaign, may::anyone())
        .post(
            "/campagne/{id}/assegna",
            campaign_dispatch,
            may::signed(Scope::Territory, "the territory admin"),
        )
}

#[derive(Template)]
#[template(path = "campaign.html")]
pub(crate) struct CampaignPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    id: String,
    name: String,
    description: String,
    counts: trama_store::CampaignCounts,
    is_admin: bool,
    report: Option<crate::campaigns::service::BatchReport>,
}

pub(crate) async fn campaign_render(
    state: &AppState,
    l: &Layout,
    viewer: &Viewer,
    id: &str,
    report: Option<crate::campaigns::service::BatchReport>,
) -> Result<Response, ApiError> {
    let cid = CampaignId::parse("id", id)?;
    let c = crate::campaigns::service::campaign(state, cid)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", id))?;
    let counts = crate::campaigns::service::counts(state, cid).await?;
    Ok(l.render(
        StatusCode::OK,
        &CampaignPage {
            l,
            w: words(l.lang),
            id: c.id.to_string(),
            name: c.name,
            description: c.description,
            counts,
            is_admin: viewer
                .principal
                .as_ref()
                .is_some_and(|p| p.has_role(Role::TerritoryAdmin)),
            report,
        },
    ))
}

pub async fn campaign(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    let Page { l, viewer, .. } = page;
    campaign_render(&state, &l, &viewer, &id, None)
        .await
        .map_err(PageError::from)
}

pub async fn campaign_dispatch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, .. }: SignedForm,
) -> PageResult {
    let Page { l, viewer, .. } = page;
    let p = &p;
    let cid = CampaignId::parse("id", &id)?;
    let report = crate::campaigns::service::run_batch(&state, p, Some(cid), false).await?;
    Ok(campaign_render(&state, &l, &viewer, &id, Some(report)).await?)
}
