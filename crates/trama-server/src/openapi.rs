//! The OpenAPI 3.1 description of every JSON endpoint (`/api/openapi.json`).

use crate::accounts::api::LoginRequest;
use crate::accounts::api::LoginResponse;
use crate::accounts::api::NewTokenView;
use crate::accounts::api::SignupAccepted;
use crate::accounts::api::SignupRequest;
use crate::accounts::api::TokenRequest;
use crate::accounts::api::VerifyRequest;
use crate::accounts::service::GrantView;
use crate::accounts::service::TokenView;
use crate::accounts::service::UserView;
use crate::error::ErrorEnvelope;
use crate::policy::Routes;
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Trama", description = "Trama's JSON API and its HSDS 3.0 API. Errors: {\"error\": {\"code\", \"message\", \"field\"}}; see docs/API.md."),
    paths(
        crate::budgets::api::create_funder_api, crate::budgets::api::create_programme_api,
        crate::budgets::api::follow_api, crate::budgets::api::revoke_api, crate::budgets::api::grant_api,
        crate::budgets::api::give_consent_api, crate::budgets::api::my_consents_api,
        crate::accounts::privacy::export_api, crate::accounts::privacy::erase_api,
        crate::budgets::api::delegate_api, crate::budgets::api::undelegate_api, crate::budgets::api::delegations_api,
        crate::budgets::api::my_budget_api, crate::budgets::api::person_budget_api, crate::budgets::api::funding_api, crate::budgets::api::create_plan_api, crate::budgets::api::plans_api, crate::budgets::api::plan_funding_api,
        crate::budgets::api::book_api, crate::budgets::api::dashboard_api, crate::budgets::api::provider_bookings_api, crate::budgets::api::funder_statement_api, crate::budgets::api::deliver_api, crate::budgets::api::cancel_api, crate::budgets::api::programme_beneficiaries_api,
        crate::directory::hsds::api_info, crate::directory::hsds::list_services, crate::directory::hsds::get_service,
        crate::directory::hsds::list_organizations, crate::directory::hsds::get_organization,
        crate::directory::hsds::list_service_at_locations, crate::directory::hsds::get_service_at_location,
        crate::directory::hsds::list_taxonomies, crate::directory::hsds::get_taxonomy,
        crate::directory::hsds::list_taxonomy_terms, crate::directory::hsds::get_taxonomy_term,
        crate::accounts::api::signup, crate::accounts::api::verify, crate::accounts::api::password_reset, crate::accounts::api::password_reset_confirm, crate::accounts::api::login, crate::accounts::api::logout, crate::accounts::api::me, crate::accounts::api::create_token, crate::accounts::api::list_tokens, crate::accounts::api::revoke_token,
        crate::directory::api::create_service, crate::directory::api::update_service, crate::directory::api::delete_service,
        crate::help::api::create_need_api, crate::help::api::list_needs_api,
        crate::help::api::needs_by_area_api, crate::help::api::get_need_api,
        crate::help::api::need_suggestions_api, crate::help::api::propose_api,
        crate::help::api::accept_api, crate::help::api::cancel_need_api,
        crate::help::api::reopen_need_api, crate::help::api::update_need_api, crate::help::api::create_offer_api, crate::help::api::update_offer_api,
        crate::help::api::pause_offer_api, crate::help::api::resume_offer_api, crate::help::api::withdraw_offer_api,
        crate::help::api::list_offers_api, crate::help::api::get_offer_api,
        crate::help::api::offer_suggestions_api, crate::help::api::list_matches_api,
        crate::help::api::get_match_api, crate::help::api::match_event_api,
        crate::help::api::register_person_api, crate::help::api::list_people_api,
        crate::help::api::person_activity_api, crate::help::api::my_activity_api,
        crate::accounts::notifications::notifications_api, crate::accounts::notifications::notifications_read_api,
        crate::campaigns::api::create_campaign_api, crate::campaigns::api::list_campaigns_api,
        crate::campaigns::api::get_campaign_api, crate::campaigns::api::dispatch_campaign_api, crate::campaigns::api::close_campaign_api,
        crate::campaigns::api::batch_api, crate::hubs::api::list_hubs_api,
        crate::hubs::api::put_hub_api, crate::hubs::api::add_room_api,
        crate::hubs::api::room_slots_api, crate::hubs::api::book_room_api,
        crate::hubs::api::shared_services_api,
        crate::register::api::checkpoint, crate::register::api::checkpoints, crate::register::api::key, crate::register::api::tile,
        crate::register::api::inclusion, crate::register::api::consistency,
        crate::register::api::entries, crate::register::api::context,
        crate::register::api::flows_api, crate::register::api::credits_api,
        crate::register::api::record_flow_api, crate::register::api::import_flows_api,
        crate::register::api::my_contributions_api, crate::register::api::my_statement_api,
        crate::register::api::forget_me_api,
        crate::ops::healthz, crate::ops::readyz,
    ),
    components(schemas(crate::accounts::privacy::EraseRequest, crate::accounts::service::ErasureView, crate::budgets::service::ConsentView, crate::budgets::api::GiveConsentRequest, crate::budgets::service::DelegationRequest, crate::budgets::service::DelegationView, crate::budgets::service::FunderRequest, crate::budgets::api::CreatedView, crate::budgets::service::ProgrammeRequest, crate::budgets::api::ConsentRequest, trama_core::budget::booking::GrantForm, crate::budgets::service::AllocationView, crate::budgets::service::BookingView, crate::budgets::service::PersonBudgetView, crate::budgets::service::VolunteerHelpView, crate::budgets::service::FunderView, crate::budgets::service::ProgrammeView, crate::budgets::service::TotalView, crate::budgets::service::DoubleFundingView, crate::budgets::service::ExpiringView, crate::budgets::service::DashboardView, crate::budgets::service::ProviderBookingView, crate::budgets::service::BeyondPlanView, crate::budgets::service::PlanView, crate::budgets::api::PlanFundingRequest, trama_core::budget::booking::BookingForm, crate::budgets::api::DeliveryRequest, trama_core::budget::booking::PlanMonthForm, trama_core::budget::booking::PlanLineForm, crate::budgets::service::FundingRequestBody, crate::budgets::service::ExclusionRequest, crate::budgets::service::ShareView, crate::budgets::service::NotUsedView, crate::budgets::service::LineFundingView, crate::budgets::service::FundingView, crate::register::service::InclusionProofView, crate::register::service::ConsistencyProofView, crate::register::service::EntriesPage, crate::register::service::EntryView, crate::register::service::FlowView, crate::register::service::TerritoryCredits, crate::register::service::FlowRequest, crate::register::service::AppendedView, crate::register::service::MyContributions, crate::register::service::MyContribution, ErrorEnvelope, crate::error::ErrorBody, SignupRequest, SignupAccepted, VerifyRequest, crate::accounts::api::PasswordResetRequest, crate::accounts::api::PasswordResetConfirm, LoginRequest, UserView, GrantView, LoginResponse, TokenRequest, NewTokenView, TokenView)),
    modifiers(&EveryErrorIsTheEnvelope),
    tags((name = "hsds", description = "Open Referral HSDS 3.0, read-only"), (name = "accounts"), (name = "provider"), (name = "needs", description = "Needs, offers, suggestions and matches"), (name = "assisted", description = "Operators acting for people (assisted mode)"), (name = "campaigns", description = "Emergency campaigns and batch assignment"), (name = "hubs", description = "Community hubs"), (name = "register", description = "The contribution register: a C2SP tlog-tiles transparency log of ValueFlows events, proofs, flows and time credits"), (name = "budgets", description = "Care budgets: funders, programmes, allocations, consent, bookings paid from a person's budget"), (name = "operations")),
)]
pub struct ApiDoc;

/// Every operation says that any other status is an error in the JSON envelope (`default`),
/// so a client (and schemathesis) knows what a 401, 413 or 429 looks like wherever it comes.
pub(crate) struct EveryErrorIsTheEnvelope;

impl utoipa::Modify for EveryErrorIsTheEnvelope {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let envelope = ResponseBuilder::new()
            .description(
                "An error: the JSON envelope {\"error\": {code, message, field}} (docs/API.md)",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| RefOr::T(envelope.clone()));
            }
        }
    }
}

pub fn routes() -> Routes {
    Routes::api().get("/openapi.json", openapi_json, crate::policy::PUBLIC)
}

/// The OpenAPI 3.1 description of every endpoint.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
