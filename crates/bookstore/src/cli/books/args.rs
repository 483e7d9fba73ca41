//! The arguments of `bookstore books`: what each command takes, what every one of them shares
//! ([`CatalogCall`]), and what an update sends. Books are named by id (`42`) or by name
//! (`books/42`); categories by slug, refused (with the valid ones listed) before any call; an
//! update without a field to change is refused by clap too.

use bookstore_proto::catalog::v1::Book;
use bookstore_proto::recommendations::v1::Category;
use bookstore_tls::UpstreamTlsSettings;
use clap::{Args, Subcommand};

use crate::cli::category::category_parser;
use crate::cli::{Deadline, OutputArgs, RecommendationsAt};

/// `bookstore books`: the catalog's books.
#[derive(Subcommand, Clone, Debug, PartialEq, Eq)]
pub enum BooksCommand {
    /// Lists the catalog's books, a page at a time (or all of them with --all).
    List(ListArgs),
    /// Shows one book, with its etag.
    Get(GetArgs),
    /// Adds a book and shows it, with the name the catalog gave it.
    Add(AddArgs),
    /// Changes the fields given (and only those) of a book.
    Update(UpdateArgs),
    /// Removes a book; its name is never given to another.
    Delete(DeleteArgs),
}

/// Where the catalog is, how to call it, and how to write the answer: what every `books`
/// command shares.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct CatalogCall {
    /// Where the Recommendations service (which serves the catalog) is.
    #[command(flatten)]
    pub at: RecommendationsAt,

    /// The deadline of each call.
    #[command(flatten)]
    pub deadline: Deadline,

    /// TLS or mutual TLS to the service (writes under mutual TLS need the `admin` certificate).
    #[command(flatten)]
    pub tls: UpstreamTlsSettings,

    /// Text or JSON.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `bookstore books list`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ListArgs {
    /// Only books of this category.
    #[arg(long, value_parser = category_parser())]
    pub category: Option<Category>,

    /// Books per page (the service's default, 20, when not given; at most 100).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    pub page_size: Option<i32>,

    /// Where to continue: the token a previous page printed.
    #[arg(long)]
    pub page_token: Option<String>,

    /// Every page, one after the other, as one list.
    #[arg(long)]
    pub all: bool,

    /// The service and the output.
    #[command(flatten)]
    pub call: CatalogCall,
}

/// Options of `bookstore books get`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct GetArgs {
    /// The book: its id (`42`) or its name (`books/42`).
    #[arg(value_parser = parse_book_name, value_name = "BOOK")]
    pub book: String,

    /// The service and the output.
    #[command(flatten)]
    pub call: CatalogCall,
}

/// Options of `bookstore books add`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct AddArgs {
    /// Title: not empty, at most 200 characters.
    #[arg(long)]
    pub title: String,

    /// Author: not empty, at most 200 characters; no other book has the same title and author.
    #[arg(long)]
    pub author: String,

    /// Category.
    #[arg(long, value_parser = category_parser())]
    pub category: Category,

    /// Year of first publication, negative for BCE (-3000 up to next year).
    #[arg(long, allow_negative_numbers = true)]
    pub year: i32,

    /// The service and the output.
    #[command(flatten)]
    pub call: CatalogCall,
}

/// Options of `bookstore books update`: at least one field to change.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
#[group(
    id = "changes",
    required = true,
    multiple = true,
    args = ["title", "author", "category", "year"]
)]
pub struct UpdateArgs {
    /// The book: its id (`42`) or its name (`books/42`).
    #[arg(value_parser = parse_book_name, value_name = "BOOK")]
    pub book: String,

    /// New title.
    #[arg(long)]
    pub title: Option<String>,

    /// New author.
    #[arg(long)]
    pub author: Option<String>,

    /// New category.
    #[arg(long, value_parser = category_parser())]
    pub category: Option<Category>,

    /// New year of first publication.
    #[arg(long, allow_negative_numbers = true)]
    pub year: Option<i32>,

    /// Change it only if its etag is still this one (as `get` showed it): no one changed it since.
    #[arg(long)]
    pub etag: Option<String>,

    /// The service and the output.
    #[command(flatten)]
    pub call: CatalogCall,
}

/// Options of `bookstore books delete`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct DeleteArgs {
    /// The book: its id (`42`) or its name (`books/42`).
    #[arg(value_parser = parse_book_name, value_name = "BOOK")]
    pub book: String,

    /// Delete it only if its etag is still this one (as `get` showed it).
    #[arg(long)]
    pub etag: Option<String>,

    /// The service and the output.
    #[command(flatten)]
    pub call: CatalogCall,
}

/// A book's resource name from its id or its name: `42` and `books/42` are `books/42`.
fn parse_book_name(value: &str) -> Result<String, String> {
    let id = value.strip_prefix("books/").unwrap_or(value);
    match id.parse::<u64>() {
        Ok(id) if id > 0 => Ok(format!("books/{id}")),
        _ => Err(format!(
            "expected a book's id or name, e.g. 42 or books/42, got {value:?}"
        )),
    }
}

impl UpdateArgs {
    /// The book an update sends, and the paths of its mask: the fields given, and only those.
    pub(super) fn changes(&self) -> (Book, Vec<String>) {
        let mut book = Book {
            name: self.book.clone(),
            etag: self.etag.clone().unwrap_or_default(),
            ..Book::default()
        };
        let mut paths = Vec::new();
        if let Some(title) = &self.title {
            book.title.clone_from(title);
            paths.push("title".to_owned());
        }
        if let Some(author) = &self.author {
            book.author.clone_from(author);
            paths.push("author".to_owned());
        }
        if let Some(category) = self.category {
            book.category = category.into();
            paths.push("category".to_owned());
        }
        if let Some(year) = self.year {
            book.year = year;
            paths.push("year".to_owned());
        }
        (book, paths)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        books: BooksCommand,
    }

    fn parse(words: &[&str]) -> Result<BooksCommand, String> {
        Cli::try_parse_from(std::iter::once("books").chain(words.iter().copied()))
            .map(|cli| cli.books)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn books_are_named_by_id_or_by_name() {
        assert_eq!(parse_book_name("42").unwrap(), "books/42");
        assert_eq!(parse_book_name("books/42").unwrap(), "books/42");
        assert_eq!(parse_book_name("books/007").unwrap(), "books/7");
        for bad in ["0", "books/", "shelves/4", "-3", "42x", ""] {
            let error = parse_book_name(bad).unwrap_err();
            assert!(error.contains("e.g. 42 or books/42"), "{bad}: {error}");
        }
    }

    #[test]
    fn an_update_masks_exactly_the_fields_given() {
        let Ok(BooksCommand::Update(args)) = parse(&[
            "update",
            "books/9",
            "--year",
            "-44",
            "--title",
            "Gallic War",
        ]) else {
            panic!("an update");
        };
        let (book, paths) = args.changes();
        assert_eq!(paths, ["title", "year"]);
        assert_eq!((book.name.as_str(), book.year), ("books/9", -44));
        assert_eq!((book.author.as_str(), book.etag.as_str()), ("", ""));

        let Ok(BooksCommand::Update(args)) =
            parse(&["update", "9", "--category", "history", "--etag", "e1"])
        else {
            panic!("an update");
        };
        let (book, paths) = args.changes();
        assert_eq!(paths, ["category"]);
        assert_eq!(book.category, i32::from(Category::History));
        assert_eq!(book.etag, "e1");
    }

    #[test]
    fn an_update_without_changes_or_an_unknown_category_is_refused_before_any_call() {
        let error = parse(&["update", "9", "--etag", "e1"]).unwrap_err();
        assert!(error.contains("--title"), "{error}");
        let error = parse(&[
            "add",
            "--title",
            "T",
            "--author",
            "A",
            "--category",
            "poetry",
            "--year",
            "1",
        ])
        .unwrap_err();
        assert!(
            error.contains("possible values: mystery, science_fiction"),
            "{error}"
        );
        assert!(parse(&["list", "--page-size", "0"]).is_err());
        assert!(matches!(
            parse(&["list", "--category", "fantasy", "--all"]),
            Ok(BooksCommand::List(ListArgs {
                category: Some(Category::Fantasy),
                all: true,
                ..
            }))
        ));
    }
}
