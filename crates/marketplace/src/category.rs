//! The categories the marketplace offers, named as in URLs (`science_fiction`) and on pages
//! (`Science fiction`). Derived from the v1 protobuf enum, so a category added to the API
//! shows up here without a code change. The names are worked out once, on first use: every
//! page shows all of them in its navigation.

use std::sync::LazyLock;

use bookstore_proto::recommendations::v1;

/// A category with its names.
#[derive(Debug)]
pub struct Named {
    /// The category.
    pub category: v1::Category,
    /// Its URL slug, e.g. `science_fiction`.
    pub slug: String,
    /// Its name on pages, e.g. `Science fiction`.
    pub name: String,
}

/// Every category with its names, in the API's order.
pub fn named() -> &'static [Named] {
    static NAMED: LazyLock<Vec<Named>> = LazyLock::new(|| {
        all()
            .map(|category| Named {
                category,
                slug: slug(category),
                name: display_name(category),
            })
            .collect()
    });
    &NAMED
}

/// The names of `category` (`None` only for `Unspecified`, which no page shows).
pub fn names_of(category: v1::Category) -> Option<&'static Named> {
    named().iter().find(|named| named.category == category)
}

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
        assert_eq!(named().len(), all().count());
        let named = names_of(v1::Category::ScienceFiction).unwrap();
        assert_eq!(
            (named.slug.as_str(), named.name.as_str()),
            ("science_fiction", "Science fiction")
        );
        assert!(names_of(v1::Category::Unspecified).is_none());
    }
}
