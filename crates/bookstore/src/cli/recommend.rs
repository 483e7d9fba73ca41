//! `bookstore recommend`: book recommendations from the Recommendations service, as the
//! marketplace asks for them (`bookstore.recommendations.v1`).
//!
//! ```text
//! $ bookstore recommend --category science_fiction --max-results 2
//! Science fiction books you may like:
//!   ID  TITLE             AUTHOR          YEAR
//!   24  The Time Machine  H. G. Wells     1895
//!   19  Neuromancer       William Gibson  1984
//! ```

use std::io::{self, Write};

use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_proto::recommendations::v1::{Book, Category, RecommendRequest};
use bookstore_tls::UpstreamTlsSettings;
use clap::Args;
use marketplace::category::{display_name, from_slug, slug};
use serde::Serialize;

use crate::cli::category::category_parser;
use crate::cli::grpc::Grpc;
use crate::cli::output::{OutputArgs, Report, table};
use crate::cli::{CliError, Deadline, RecommendationsAt};

/// Options of `bookstore recommend`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct RecommendArgs {
    /// The category, named as in the marketplace's addresses.
    #[arg(long, default_value = "mystery", value_parser = category_parser())]
    pub category: Category,

    /// How many books at most (above 50, 50); 0 asks for the service's default (3).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(0..))]
    pub max_results: i32,

    /// Where the service is.
    #[command(flatten)]
    pub at: RecommendationsAt,

    /// The deadline.
    #[command(flatten)]
    pub deadline: Deadline,

    /// TLS or mutual TLS to the service.
    #[command(flatten)]
    pub tls: UpstreamTlsSettings,

    /// Text or JSON.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// One book, as `--json` writes it.
#[derive(Debug, Serialize)]
struct BookLine {
    id: i64,
    title: String,
    author: String,
    category: String,
    year: i32,
}

/// What the service recommended.
#[derive(Debug, Serialize)]
struct Recommendations {
    category: String,
    books: Vec<BookLine>,
}

impl Report for Recommendations {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let category = from_slug(&self.category).map_or_else(String::new, display_name);
        if self.books.is_empty() {
            return writeln!(out, "No {} books to recommend.", category.to_lowercase());
        }
        writeln!(out, "{category} books you may like:")?;
        let rows: Vec<Vec<String>> = self
            .books
            .iter()
            .map(|book| {
                vec![
                    book.id.to_string(),
                    book.title.clone(),
                    book.author.clone(),
                    book.year.to_string(),
                ]
            })
            .collect();
        let header = ["ID", "TITLE", "AUTHOR", "YEAR"];
        table(out, &header, &[true, false, false, true], &rows)
    }
}

fn book_line(book: Book) -> BookLine {
    let category = Category::try_from(book.category).map_or_else(|_| String::new(), slug);
    BookLine {
        id: book.id,
        title: book.title,
        author: book.author,
        category,
        year: book.year,
    }
}

/// Asks for recommendations and writes them to `out`.
pub async fn run(args: &RecommendArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let grpc = Grpc::new(args.at.target(), args.deadline.timeout, &args.tls)?;
    let request = grpc.request(RecommendRequest {
        user_id: 0,
        category: args.category.into(),
        max_results: args.max_results,
    });
    let response = RecommendationsServiceClient::new(grpc.channel.clone())
        .recommend(request)
        .await
        .map_err(|status| grpc.error(&status))?
        .into_inner();
    let report = Recommendations {
        category: slug(args.category),
        books: response.books.into_iter().map(book_line).collect(),
    };
    args.output.write(&report, out)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: RecommendArgs,
    }

    #[test]
    fn categories_are_named_as_in_the_marketplace() {
        let args = Cli::try_parse_from(["recommend"]).unwrap().args;
        assert_eq!((args.category, args.max_results), (Category::Mystery, 3));
        let args = Cli::try_parse_from(["recommend", "--category", "science_fiction"])
            .unwrap()
            .args;
        assert_eq!(args.category, Category::ScienceFiction);
        let error = Cli::try_parse_from(["recommend", "--category", "poetry"])
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("possible values: mystery, science_fiction"),
            "{error}"
        );
        assert!(Cli::try_parse_from(["recommend", "--max-results=-1"]).is_err());
    }
}
