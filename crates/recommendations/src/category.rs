//! The genres books are filed under: the domain's own type, which the legacy and v1 APIs each
//! map their enums onto, and the slugs catalog files, the database and URLs name them by.

/// A genre. The domain's own type: the legacy and v1 APIs each map their enum onto it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Mystery.
    Mystery,
    /// Science fiction.
    ScienceFiction,
    /// Self-help.
    SelfHelp,
    /// Fantasy.
    Fantasy,
    /// History.
    History,
    /// Biography.
    Biography,
    /// Classics.
    Classics,
    /// Popular science.
    Science,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Self; 8] = [
        Self::Mystery,
        Self::ScienceFiction,
        Self::SelfHelp,
        Self::Fantasy,
        Self::History,
        Self::Biography,
        Self::Classics,
        Self::Science,
    ];

    /// The name used in catalog files and URLs, e.g. `science_fiction`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Mystery => "mystery",
            Self::ScienceFiction => "science_fiction",
            Self::SelfHelp => "self_help",
            Self::Fantasy => "fantasy",
            Self::History => "history",
            Self::Biography => "biography",
            Self::Classics => "classics",
            Self::Science => "science",
        }
    }

    /// The name shown to people, e.g. `Science fiction`.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Mystery => "Mystery",
            Self::ScienceFiction => "Science fiction",
            Self::SelfHelp => "Self-help",
            Self::Fantasy => "Fantasy",
            Self::History => "History",
            Self::Biography => "Biography",
            Self::Classics => "Classics",
            Self::Science => "Science",
        }
    }

    /// The category with this slug.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|category| category.slug() == slug)
    }

    /// The category's position in [`Category::ALL`], for tables indexed by category.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
