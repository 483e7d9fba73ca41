//! The categories the marketplace offers, named as in URLs (`science_fiction`) and on pages
//! (`Science fiction`). Derived from the v1 protobuf enum, so a category added to the API
//! shows up here without a code change.

use bookstore_proto::recommendations::v1;

/// The URL slug of a category: `CATEGORY_SCIENCE_FICTION` → `science_fiction`.
pub fn slug(category: v1::Category) -> String {
    category
        .as_str_name()
        .trim_start_matches("CATEGORY_")
        .to_ascii_lowercase()
}

/// The category a slug names (never `Unspecified`).
pub fn from_slug(slug: &str) -> Option<v1::Category> {
    if slug.is_empty() || !slug.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    v1::Category::from_str_name(&format!("CATEGORY_{}", slug.to_ascii_uppercase()))
        .filter(|category| *category != v1::Category::Unspecified)
}

/// The name shown on pages: `science_fiction` → `Science fiction`.
pub fn display_name(category: v1::Category) -> String {
    let words = slug(category).replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Every category, in the API's order.
pub fn all() -> impl Iterator<Item = v1::Category> {
    (1..).map_while(|value| v1::Category::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_reject_everything_else() {
        for category in all() {
            assert_eq!(from_slug(&slug(category)), Some(category));
        }
        assert_eq!(slug(v1::Category::ScienceFiction), "science_fiction");
        assert_eq!(
            display_name(v1::Category::ScienceFiction),
            "Science fiction"
        );
        assert_eq!(display_name(v1::Category::Mystery), "Mystery");
        for bad in [
            "",
            "unspecified",
            "MYSTERY",
            "category_mystery",
            "poetry",
            "mystery;drop",
        ] {
            assert_eq!(from_slug(bad), None, "{bad}");
        }
        assert!(all().count() >= 6);
    }
}
