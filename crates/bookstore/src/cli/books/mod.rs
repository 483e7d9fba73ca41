//! `bookstore books list|get|add|update|delete`: reading and changing the catalog through the
//! Recommendations service's `bookstore.catalog.v1.CatalogService`, found (and secured) as
//! `bookstore recommend` finds it.
//!
//! ```text
//! $ bookstore books add --title "Strong Poison" --author "Dorothy L. Sayers" \
//!       --category mystery --year 1930
//! books/84
//!   title     Strong Poison
//!   author    Dorothy L. Sayers
//!   category  mystery
//!   year      1930
//!   etag      5c0f7d9e2b1a4c38
//! $ bookstore books update 84 --year 1931 --etag 5c0f7d9e2b1a4c38
//! $ bookstore books list --category mystery --page-size 2
//!   NAME     TITLE                         AUTHOR            CATEGORY  YEAR
//!   books/1  The Maltese Falcon            Dashiell Hammett  mystery   1930
//!   books/2  Murder on the Orient Express  Agatha Christie   mystery   1934
//! 2 of 11 mystery books; next page: --page-token 2.5c1d0e7a9b3f4826
//! ```
//!
//! Writes need a service with a database (`DATABASE_URL`; `bookstore up` has one) and, under
//! mutual TLS, the `admin` certificate. The calls live here; their arguments in `args`, what is
//! printed in `report`.

mod args;
mod report;

use std::io::Write;

use bookstore_client::GrpcChannel;
use bookstore_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use bookstore_proto::catalog::v1::{
    Book, CreateBookRequest, DeleteBookRequest, GetBookRequest, ListBooksRequest, UpdateBookRequest,
};
use bookstore_proto::recommendations::v1::Category;

pub use self::args::{
    AddArgs, BooksCommand, CatalogCall, DeleteArgs, GetArgs, ListArgs, UpdateArgs,
};
use self::report::{BookPage, BookView, Deleted};
use crate::cli::CliError;
use crate::cli::grpc::Grpc;

impl BooksCommand {
    /// Makes the call(s), writing the answer to `out`.
    pub async fn run(&self, out: &mut dyn Write) -> Result<(), CliError> {
        match self {
            Self::List(args) => list(args, out).await,
            Self::Get(args) => get(args, out).await,
            Self::Add(args) => add(args, out).await,
            Self::Update(args) => update(args, out).await,
            Self::Delete(args) => delete(args, out).await,
        }
    }
}

impl CatalogCall {
    /// A channel to the service, and a catalog client over it.
    fn connect(&self) -> Result<(Grpc, CatalogServiceClient<GrpcChannel>), CliError> {
        let grpc = Grpc::new(self.at.target(), self.deadline.timeout, &self.tls)?;
        let client = CatalogServiceClient::new(grpc.channel.clone());
        Ok((grpc, client))
    }
}

/// The book in a response, or the error for a response without one.
fn returned(grpc: &Grpc, book: Option<Book>) -> Result<BookView, CliError> {
    book.map(BookView::from).ok_or_else(|| CliError::BadAnswer {
        service: grpc.target.service,
        reason: "the response holds no book".to_owned(),
    })
}

/// `books list`: one page, or every page with `--all`.
async fn list(args: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (grpc, mut client) = args.call.connect()?;
    let category = args.category.unwrap_or(Category::Unspecified);
    let mut page = BookPage::new(args.category);
    let mut token = args.page_token.clone().unwrap_or_default();
    loop {
        let request = grpc.request(ListBooksRequest {
            page_size: args.page_size.unwrap_or(0),
            page_token: token.clone(),
            category: category.into(),
        });
        let response = client
            .list_books(request)
            .await
            .map_err(|status| grpc.error(&status))?
            .into_inner();
        page.books
            .extend(response.books.into_iter().map(BookView::from));
        page.total_size = response.total_size;
        let next = response.next_page_token;
        if next.is_empty() || !args.all {
            page.next_page_token = next;
            break;
        }
        // A service that hands back the token it was given would keep this loop going forever.
        if next == token {
            return Err(CliError::BadAnswer {
                service: grpc.target.service,
                reason: format!("it answered page token {token:?} with the same token"),
            });
        }
        token = next;
    }
    args.call.output.write(&page, out)
}

/// `books get`.
async fn get(args: &GetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (grpc, mut client) = args.call.connect()?;
    let request = grpc.request(GetBookRequest {
        name: args.book.clone(),
    });
    let response = client
        .get_book(request)
        .await
        .map_err(|status| grpc.error(&status))?
        .into_inner();
    args.call
        .output
        .write(&returned(&grpc, response.book)?, out)
}

/// `books add`.
async fn add(args: &AddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (grpc, mut client) = args.call.connect()?;
    let book = Book {
        title: args.title.clone(),
        author: args.author.clone(),
        category: args.category.into(),
        year: args.year,
        ..Book::default()
    };
    let response = client
        .create_book(grpc.request(CreateBookRequest { book: Some(book) }))
        .await
        .map_err(|status| grpc.error(&status))?
        .into_inner();
    args.call
        .output
        .write(&returned(&grpc, response.book)?, out)
}

/// `books update`: the fields given, and an update mask naming exactly them.
async fn update(args: &UpdateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (book, paths) = args.changes();
    let (grpc, mut client) = args.call.connect()?;
    let request = grpc.request(UpdateBookRequest {
        book: Some(book),
        update_mask: Some(prost_types::FieldMask { paths }),
    });
    let response = client
        .update_book(request)
        .await
        .map_err(|status| grpc.error(&status))?
        .into_inner();
    args.call
        .output
        .write(&returned(&grpc, response.book)?, out)
}

/// `books delete`.
async fn delete(args: &DeleteArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (grpc, mut client) = args.call.connect()?;
    let request = grpc.request(DeleteBookRequest {
        name: args.book.clone(),
        etag: args.etag.clone().unwrap_or_default(),
    });
    client
        .delete_book(request)
        .await
        .map_err(|status| grpc.error(&status))?;
    let deleted = Deleted {
        name: args.book.clone(),
        deleted: true,
    };
    args.call.output.write(&deleted, out)
}
