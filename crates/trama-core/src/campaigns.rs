//! Campaigns the territory opens (a heat wave, the flu season): what a campaign must say.

use serde::Deserialize;

use crate::FieldError;
use crate::bounded::BoundedText;
use crate::ids::TaxonomyTermId;

/// The kinds of campaign.
pub const KINDS: [&str; 3] = ["heatwave", "flu_season", "other"];

/// A campaign as the territory admin asks for it (`POST /api/campaigns`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    /// heatwave, flu_season, other
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// The kinds of help its intake form offers (term ids or codes).
    pub categories: Vec<String>,
}

/// A campaign with every field checked (whether each kind of help is in the taxonomy is the
/// store's question).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    pub name: BoundedText,
    pub kind: &'static str,
    pub description: Option<BoundedText>,
    /// With the text each was given as, for a message naming the one the taxonomy lacks.
    pub categories: Vec<(TaxonomyTermId, String)>,
}

impl CampaignRequest {
    pub const NAME_MAX: usize = 200;
    pub const DESCRIPTION_MAX: usize = 2000;

    pub fn parse(&self) -> Result<NewCampaign, FieldError> {
        let name = BoundedText::line("name", &self.name, Self::NAME_MAX)?;
        let kind = KINDS
            .iter()
            .copied()
            .find(|k| *k == self.kind.trim())
            .ok_or_else(|| FieldError::new("kind", "must be heatwave, flu_season or other"))?;
        let description =
            BoundedText::optional("description", &self.description, Self::DESCRIPTION_MAX)?;
        if self.categories.is_empty() {
            return Err(FieldError::new(
                "categories",
                "choose at least one kind of help",
            ));
        }
        let categories = self
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| {
                crate::needs::parse_category(&format!("categories[{i}]"), c).map(|t| (t, c.clone()))
            })
            .collect::<Result<_, _>>()?;
        Ok(NewCampaign {
            name,
            kind,
            description,
            categories,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> CampaignRequest {
        CampaignRequest {
            name: "Estate 2026: ondate di calore".into(),
            kind: "heatwave".into(),
            description: String::new(),
            categories: vec!["H1".into()],
        }
    }

    #[test]
    fn a_campaign_names_each_mistake() {
        assert!(asked().parse().is_ok());
        let field = |r: CampaignRequest| r.parse().unwrap_err().field;
        assert_eq!(
            field(CampaignRequest {
                name: " ".into(),
                ..asked()
            }),
            "name"
        );
        assert_eq!(
            field(CampaignRequest {
                kind: "flood".into(),
                ..asked()
            }),
            "kind"
        );
        assert_eq!(
            field(CampaignRequest {
                description: "x".repeat(2001),
                ..asked()
            }),
            "description"
        );
        assert_eq!(
            field(CampaignRequest {
                categories: vec![],
                ..asked()
            }),
            "categories"
        );
        assert_eq!(
            field(CampaignRequest {
                categories: vec!["H1".into(), "??".into()],
                ..asked()
            }),
            "categories[1]"
        );
    }
}
