//! The catalog loader over generated files: any text is a catalog or one line saying why not
//! (never a panic); a well-formed file is accepted exactly when it keeps every rule, with the
//! first broken rule named; a file of the wrong shape is malformed, not invalid.

use proptest::prelude::*;
use recommendations::{Catalog, CatalogError, Category};

use crate::cases;

/// One `[[book]]` table as a generator writes it.
#[derive(Clone, Debug)]
struct Record {
    id: u32,
    title: String,
    author: String,
    category: String,
    year: i32,
    /// A way the table is not of the expected shape, if any.
    flaw: Option<Flaw>,
}

/// A table of the wrong shape: the file is malformed whatever its values.
#[derive(Clone, Copy, Debug)]
enum Flaw {
    UnknownField,
    YearAsText,
    IdOutOfRange(i64),
    MissingAuthor,
}

/// `text` as a TOML basic string: quotes, backslashes and control characters escaped.
fn toml_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted + "\""
}

impl Record {
    fn toml(&self) -> String {
        let id = match self.flaw {
            Some(Flaw::IdOutOfRange(id)) => id.to_string(),
            _ => self.id.to_string(),
        };
        let year = match self.flaw {
            Some(Flaw::YearAsText) => toml_string(&self.year.to_string()),
            _ => self.year.to_string(),
        };
        let mut table = format!(
            "[[book]]\nid = {id}\ntitle = {}\ncategory = {}\nyear = {year}\n",
            toml_string(&self.title),
            toml_string(&self.category),
        );
        if !matches!(self.flaw, Some(Flaw::MissingAuthor)) {
            table += &format!("author = {}\n", toml_string(&self.author));
        }
        if matches!(self.flaw, Some(Flaw::UnknownField)) {
            table += "colour = \"red\"\n";
        }
        table
    }
}

fn record() -> impl Strategy<Value = Record> {
    let text = prop_oneof![
        4 => "[A-Za-z0-9 ,.'!?-]{1,20}",
        1 => Just(String::new()),
        1 => "[ \t\u{3000}\u{a0}]{1,3}",
        2 => any::<String>(),
    ];
    let slug =
        prop::sample::select(Category::ALL.map(Category::slug).to_vec()).prop_map(str::to_owned);
    let category = prop_oneof![
        6 => slug,
        1 => Just("poetry".to_owned()),
        1 => Just("Mystery".to_owned()),
        1 => any::<String>(),
    ];
    let flaw = prop_oneof![
        30 => Just(None),
        1 => Just(Some(Flaw::UnknownField)),
        1 => Just(Some(Flaw::YearAsText)),
        1 => prop_oneof![Just(-1i64), Just(1i64 << 32), any::<i64>().prop_filter("not a u32", |id| u32::try_from(*id).is_err())]
            .prop_map(|id| Some(Flaw::IdOutOfRange(id))),
        1 => Just(Some(Flaw::MissingAuthor)),
    ];
    (0..40u32, text.clone(), text, category, any::<i32>(), flaw).prop_map(
        |(id, title, author, category, year, flaw)| Record {
            id,
            title,
            author,
            category,
            year,
            flaw,
        },
    )
}

/// The first rule the records break, as the loader words it, or `None` if they keep them all.
fn first_broken_rule(records: &[Record]) -> Option<String> {
    if records.is_empty() {
        return Some("it contains no books".to_owned());
    }
    let mut seen = std::collections::HashSet::new();
    records.iter().find_map(|record| {
        let id = record.id;
        if id == 0 {
            Some("book ids start at 1".to_owned())
        } else if !seen.insert(id) {
            Some(format!("book id {id} appears more than once"))
        } else if record.title.trim().is_empty() {
            Some(format!("book {id} has an empty title"))
        } else if record.author.trim().is_empty() {
            Some(format!("book {id} has an empty author"))
        } else if Category::from_slug(&record.category).is_none() {
            Some(format!("book {id} has unknown category"))
        } else {
            None
        }
    })
}

#[test]
fn any_text_is_a_catalog_or_one_line_saying_why_not() {
    let tokens = prop::sample::select(vec![
        "[[book]]\n",
        "[book]\n",
        "id = 1\n",
        "id = 0\n",
        "id = -3\n",
        "title = \"T\"\n",
        "title = \"\"\n",
        "author = \"A\"\n",
        "category = \"mystery\"\n",
        "category = \"x\"\n",
        "year = 1999\n",
        "year = 1e3\n",
        "\"",
        "=",
        "[",
        "]",
        "\n",
        "#é\n",
        "\u{feff}",
        "é",
        "\t",
        "'''",
        "\"\"\"",
        "\\u00e9",
        "\r\n",
    ]);
    let text = prop_oneof![
        any::<String>(),
        prop::collection::vec(tokens, 0..40).prop_map(|tokens| tokens.concat()),
    ];
    proptest!(cases(512), |(text in text)| {
        match Catalog::parse(&text, "generated.toml") {
            Ok(catalog) => prop_assert!(!catalog.is_empty()),
            Err(error) => {
                prop_assert!(!matches!(error, CatalogError::Read { .. }), "{error:?}");
                let line = error.to_string();
                prop_assert!(!line.contains('\n'), "not one line: {line}");
                prop_assert!(line.starts_with("catalog generated.toml is "), "{line}");
            }
        }
    });
}

#[test]
fn a_well_formed_file_is_accepted_exactly_when_it_keeps_every_rule() {
    proptest!(cases(512), |(records in prop::collection::vec(record(), 0..8))| {
        let text: String = records.iter().map(Record::toml).collect();
        let result = Catalog::parse(&text, "generated.toml");
        if records.iter().any(|record| record.flaw.is_some()) {
            let malformed = matches!(result, Err(CatalogError::Parse { .. }));
            prop_assert!(malformed, "{result:?}\n{text}");
            return Ok(());
        }
        match (first_broken_rule(&records), result) {
            (None, Ok(catalog)) => {
                prop_assert_eq!(catalog.len(), records.len());
                for category in Category::ALL {
                    // In order of id, whatever the file's order.
                    let mut expected: Vec<_> = records
                        .iter()
                        .filter(|record| record.category == category.slug())
                        .map(|record| (record.id, record.title.as_str(), record.author.as_str(), record.year))
                        .collect();
                    expected.sort_by_key(|book| book.0);
                    let loaded: Vec<_> = catalog
                        .books(category)
                        .iter()
                        .map(|book| (book.id, book.title.as_str(), book.author.as_str(), book.year))
                        .collect();
                    prop_assert_eq!(loaded, expected, "{:?}", category);
                }
            }
            (Some(rule), Err(CatalogError::Invalid { problem, .. })) => {
                prop_assert!(problem.starts_with(&rule), "{problem} is not {rule}");
            }
            (rule, result) => {
                return Err(TestCaseError::fail(format!("{rule:?} but {result:?}\n{text}")));
            }
        }
    });
}
