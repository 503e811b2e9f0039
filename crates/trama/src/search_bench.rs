//! `trama bench-search`: the quality of the directory search on a judged set of queries
//! (`data/search-judgements.tsv`: what a citizen types, the categories that answer it),
//! as precision at 5 over the territory in the database (docs/PERFORMANCE.md).

use anyhow::{Result, bail};
use trama_core::hsds::{PageRequest, attribute_term_ids};
use trama_core::query::ServiceQuery;
use trama_server::state::AppState;

const JUDGEMENTS: &str = include_str!("../data/search-judgements.tsv");

/// One judged query.
struct Judged {
    query: String,
    relevant: Vec<uuid::Uuid>,
}

fn judgements() -> Result<Vec<Judged>> {
    let mut out = Vec::new();
    for (i, line) in JUDGEMENTS.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((query, codes)) = line.split_once('\t') else {
            bail!("search-judgements.tsv line {}: no tab", i + 1);
        };
        out.push(Judged {
            query: query.to_string(),
            relevant: codes
                .split(',')
                .map(|c| trama_core::taxonomy::term_id(c.trim()).0)
                .collect(),
        });
    }
    Ok(out)
}

/// Prints precision at 5 for each query and their mean (as JSON lines, then a summary).
pub async fn run(state: &AppState) -> Result<()> {
    let set = judgements()?;
    let mut sum = 0.0;
    for j in &set {
        let q = ServiceQuery {
            search: Some(j.query.clone()),
            page: PageRequest {
                page: 1,
                per_page: 5,
            },
            ..Default::default()
        };
        let r = trama_server::directory::service::search(state, &q)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", j.query))?;
        // A hit carries the service's own fields; its categories are read with the whole record.
        let mut relevant = 0;
        for h in r.hits.iter().take(5) {
            let id = trama_core::ids::ServiceId(h.service.id);
            let Some(d) = trama_server::directory::service::get_service(state, id).await? else {
                continue;
            };
            if attribute_term_ids(&d.service.attributes)
                .iter()
                .any(|t| j.relevant.contains(t))
            {
                relevant += 1;
            }
        }
        let p = relevant as f64 / 5.0;
        sum += p;
        let top: Vec<&str> = r
            .hits
            .iter()
            .take(5)
            .map(|h| h.service.name.as_str())
            .collect();
        println!(
            "{}",
            serde_json::json!({"query": j.query, "p_at_5": p, "found": r.total, "top": top})
        );
    }
    println!(
        "{}",
        serde_json::json!({"queries": set.len(), "mean_p_at_5": (sum / set.len() as f64 * 1000.0).round() / 1000.0})
    );
    Ok(())
}
