//! `bookstore.catalog.v1.CatalogService`: reads from the in-memory snapshot (so they keep
//! working while the database is away), writes through [`CatalogSync`] (one transaction each,
//! answered once this replica serves the result). This file only translates between protobuf
//! and the domain; the rules live in `book_rules.rs`, `write_access.rs` and `catalog.rs`.

use std::sync::Arc;

use bookstore_layers::PeerIdentity;
use bookstore_proto::catalog::v1 as catalog;
use tonic::{Request, Response, Status};

use crate::book_rules::{self, book_id, book_name};
use crate::catalog::Book;
use crate::catalog_sync::CatalogSync;
use crate::database::{Written, etag};
use crate::error::Error;
use crate::page_token;
use crate::recommender::Recommender;
use crate::search::page_size;
use crate::service::{search_category, v1_category};
use crate::write_access::WriteAccess;

/// `bookstore.catalog.v1.CatalogService` over the recommender's catalog.
#[derive(Clone, Debug)]
pub struct CatalogV1 {
    recommender: Arc<Recommender>,
    /// `None` without a database.
    sync: Option<Arc<CatalogSync>>,
    access: Arc<WriteAccess>,
}

impl CatalogV1 {
    /// Serves `recommender`'s catalog; writes go through `sync`, for clients `access` admits.
    pub fn new(
        recommender: Arc<Recommender>,
        sync: Option<Arc<CatalogSync>>,
        access: WriteAccess,
    ) -> Self {
        Self {
            recommender,
            sync,
            access: Arc::new(access),
        }
    }

    /// The synchroniser, if `request`'s client may write.
    fn writer<T>(&self, request: &Request<T>) -> Result<&CatalogSync, Error> {
        self.access
            .check(request.extensions().get::<PeerIdentity>())?;
        self.sync.as_deref().ok_or(Error::ReadOnly)
    }
}

/// The API's form of a book.
fn v1_book(book: &Book) -> catalog::Book {
    catalog::Book {
        name: book_name(book.id),
        title: book.title.clone(),
        author: book.author.clone(),
        category: v1_category(book.category).into(),
        year: book.year,
        etag: etag(book),
    }
}

/// The book a write left behind.
fn written_book(written: Written) -> Option<catalog::Book> {
    written.book.as_ref().map(v1_book)
}

/// The fingerprint binding a listing's tokens to its category filter (not to the catalog: a
/// listing continues after its last id however the catalog changed).
fn listing_fingerprint(category: Option<crate::catalog::Category>) -> u64 {
    page_token::SearchFingerprint::new()
        .write(b"ListBooks")
        .of_search(&[] as &[&str], category)
}

#[tonic::async_trait]
impl catalog::catalog_service_server::CatalogService for CatalogV1 {
    async fn get_book(
        &self,
        request: Request<catalog::GetBookRequest>,
    ) -> Result<Response<catalog::GetBookResponse>, Status> {
        let id = book_id("name", &request.get_ref().name)?;
        let snapshot = self.recommender.snapshot()?;
        let book = snapshot.book(id.into())?;
        Ok(Response::new(catalog::GetBookResponse {
            book: Some(v1_book(book)),
        }))
    }

    async fn list_books(
        &self,
        request: Request<catalog::ListBooksRequest>,
    ) -> Result<Response<catalog::ListBooksResponse>, Status> {
        let request = request.into_inner();
        let category = search_category(request.category)?;
        let size = page_size(request.page_size.into())?;
        let fingerprint = listing_fingerprint(category);
        let after = page_token::read(&request.page_token, fingerprint)?;
        let after = u32::try_from(after).map_err(|_| page_token::malformed())?;
        let snapshot = self.recommender.snapshot()?;
        let (books, more) = snapshot.catalog().page_after(category, after, size);
        let next_page_token = match books.last() {
            Some(last) if more => {
                page_token::write(usize::try_from(last.id).unwrap_or(usize::MAX), fingerprint)
            }
            _ => String::new(),
        };
        let total = snapshot.catalog().count(category);
        Ok(Response::new(catalog::ListBooksResponse {
            books: books.into_iter().map(v1_book).collect(),
            next_page_token,
            total_size: i32::try_from(total).unwrap_or(i32::MAX),
        }))
    }

    async fn create_book(
        &self,
        request: Request<catalog::CreateBookRequest>,
    ) -> Result<Response<catalog::CreateBookResponse>, Status> {
        let writer = self.writer(&request)?;
        let fields = book_rules::new_book(request.into_inner().book)?;
        let written = writer.create(&fields).await.map_err(Error::from)?;
        Ok(Response::new(catalog::CreateBookResponse {
            book: written_book(written),
        }))
    }

    async fn update_book(
        &self,
        request: Request<catalog::UpdateBookRequest>,
    ) -> Result<Response<catalog::UpdateBookResponse>, Status> {
        let writer = self.writer(&request)?;
        let request = request.into_inner();
        let etag = request
            .book
            .as_ref()
            .map(|book| book.etag.clone())
            .unwrap_or_default();
        let (id, changes) = book_rules::changes(request.book, request.update_mask)?;
        let written = writer
            .update(id, &changes, book_rules::etag(&etag))
            .await
            .map_err(Error::from)?;
        Ok(Response::new(catalog::UpdateBookResponse {
            book: written_book(written),
        }))
    }

    async fn delete_book(
        &self,
        request: Request<catalog::DeleteBookRequest>,
    ) -> Result<Response<catalog::DeleteBookResponse>, Status> {
        let writer = self.writer(&request)?;
        let request = request.into_inner();
        let id = book_id("name", &request.name)?;
        writer
            .delete(id, book_rules::etag(&request.etag))
            .await
            .map_err(Error::from)?;
        Ok(Response::new(catalog::DeleteBookResponse {}))
    }
}
