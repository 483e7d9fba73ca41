//! The two gRPC faces of the service — the tutorial's legacy `Recommendations` and
//! `bookstore.recommendations.v1.RecommendationsService` — over one [`Recommender`]. This file
//! only translates between protobuf and the domain; the rules live in `recommender.rs` and
//! `search.rs`.

use std::sync::Arc;

use bookstore_proto::legacy;
use bookstore_proto::recommendations::v1;
use tonic::{Request, Response, Status};

use crate::catalog::{Book, Category};
use crate::error::{Error, non_negative};
use crate::recommender::{DEFAULT_MAX_RESULTS, Recommender};
use crate::search::Search;

/// The tutorial's `Recommendations` service, wire-compatible with its Python clients.
#[derive(Clone, Debug)]
pub struct LegacyRecommendations {
    recommender: Arc<Recommender>,
}

impl LegacyRecommendations {
    /// Serves from `recommender`.
    pub fn new(recommender: Arc<Recommender>) -> Self {
        Self { recommender }
    }
}

fn legacy_category(value: i32) -> Result<Category, Error> {
    match legacy::BookCategory::try_from(value) {
        Ok(legacy::BookCategory::Mystery) => Ok(Category::Mystery),
        Ok(legacy::BookCategory::ScienceFiction) => Ok(Category::ScienceFiction),
        Ok(legacy::BookCategory::SelfHelp) => Ok(Category::SelfHelp),
        Err(_) => Err(Error::CategoryNotFound),
    }
}

#[tonic::async_trait]
impl legacy::recommendations_server::Recommendations for LegacyRecommendations {
    async fn recommend(
        &self,
        request: Request<legacy::RecommendationRequest>,
    ) -> Result<Response<legacy::RecommendationResponse>, Status> {
        let request = request.into_inner();
        non_negative("user_id", request.user_id.into())?;
        let category = legacy_category(request.category)?;
        let wanted = non_negative("max_results", request.max_results.into())?;
        let recommendations = self.recommender.recommend(category, wanted, |books| {
            books
                .into_iter()
                .map(|book| legacy::BookRecommendation {
                    // Catalog ids of the legacy categories are small; the tutorial's type is
                    // int32.
                    id: i32::try_from(book.id).unwrap_or(i32::MAX),
                    title: book.title.clone(),
                })
                .collect()
        })?;
        Ok(Response::new(legacy::RecommendationResponse {
            recommendations,
        }))
    }
}

/// `bookstore.recommendations.v1.RecommendationsService`.
#[derive(Clone, Debug)]
pub struct RecommendationsV1 {
    recommender: Arc<Recommender>,
}

impl RecommendationsV1 {
    /// Serves from `recommender`.
    pub fn new(recommender: Arc<Recommender>) -> Self {
        Self { recommender }
    }
}

/// The v1 enum value of a domain category.
pub fn v1_category(category: Category) -> v1::Category {
    match category {
        Category::Mystery => v1::Category::Mystery,
        Category::ScienceFiction => v1::Category::ScienceFiction,
        Category::SelfHelp => v1::Category::SelfHelp,
        Category::Fantasy => v1::Category::Fantasy,
        Category::History => v1::Category::History,
        Category::Biography => v1::Category::Biography,
        Category::Classics => v1::Category::Classics,
        Category::Science => v1::Category::Science,
    }
}

fn domain_category(value: i32) -> Result<Category, Error> {
    match v1::Category::try_from(value) {
        Ok(v1::Category::Unspecified) => Err(Error::CategoryRequired),
        Ok(wanted) => Category::ALL
            .into_iter()
            .find(|category| v1_category(*category) == wanted)
            .ok_or(Error::CategoryNotFound),
        Err(_) => Err(Error::CategoryNotFound),
    }
}

/// The category a search is filtered by: `None` (every category) for UNSPECIFIED.
pub(crate) fn search_category(value: i32) -> Result<Option<Category>, Error> {
    match v1::Category::try_from(value) {
        Ok(v1::Category::Unspecified) => Ok(None),
        Ok(_) => domain_category(value).map(Some),
        Err(_) => Err(Error::UnknownCategory { value }),
    }
}

fn v1_book(book: &Book) -> v1::Book {
    v1::Book {
        id: book.id.into(),
        title: book.title.clone(),
        author: book.author.clone(),
        category: v1_category(book.category).into(),
        year: book.year,
    }
}

#[tonic::async_trait]
impl v1::recommendations_service_server::RecommendationsService for RecommendationsV1 {
    async fn recommend(
        &self,
        request: Request<v1::RecommendRequest>,
    ) -> Result<Response<v1::RecommendResponse>, Status> {
        let request = request.into_inner();
        non_negative("user_id", request.user_id)?;
        let category = domain_category(request.category)?;
        let wanted = match non_negative("max_results", request.max_results.into())? {
            0 => DEFAULT_MAX_RESULTS as u64,
            wanted => wanted,
        };
        let books = self.recommender.recommend(category, wanted, |books| {
            books.into_iter().map(v1_book).collect()
        })?;
        Ok(Response::new(v1::RecommendResponse { books }))
    }

    async fn list_categories(
        &self,
        _request: Request<v1::ListCategoriesRequest>,
    ) -> Result<Response<v1::ListCategoriesResponse>, Status> {
        let snapshot = self.recommender.snapshot()?;
        let catalog = snapshot.catalog();
        let categories = Category::ALL
            .into_iter()
            .filter(|category| !catalog.books(*category).is_empty())
            .map(|category| v1::CategorySummary {
                category: v1_category(category).into(),
                display_name: category.display_name().to_owned(),
                book_count: i32::try_from(catalog.books(category).len()).unwrap_or(i32::MAX),
            })
            .collect();
        Ok(Response::new(v1::ListCategoriesResponse { categories }))
    }

    async fn get_book(
        &self,
        request: Request<v1::GetBookRequest>,
    ) -> Result<Response<v1::GetBookResponse>, Status> {
        let snapshot = self.recommender.snapshot()?;
        let book = snapshot.book(request.get_ref().id)?;
        Ok(Response::new(v1::GetBookResponse {
            book: Some(v1_book(book)),
        }))
    }

    async fn search_books(
        &self,
        request: Request<v1::SearchBooksRequest>,
    ) -> Result<Response<v1::SearchBooksResponse>, Status> {
        let request = request.into_inner();
        let snapshot = self.recommender.snapshot()?;
        let page = snapshot.search(&Search {
            query: &request.query,
            category: search_category(request.category)?,
            page_size: request.page_size.into(),
            page_token: &request.page_token,
        })?;
        Ok(Response::new(v1::SearchBooksResponse {
            books: page.books.into_iter().map(v1_book).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
            total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The tutorial's unit test style: call the servicer methods directly, no network.

    use bookstore_proto::legacy::recommendations_server::Recommendations as _;
    use bookstore_proto::recommendations::v1::recommendations_service_server::RecommendationsService as _;
    use tonic::Code;

    use super::*;
    use crate::catalog::Catalog;
    use crate::recommender::MAX_RESULTS_CAP;

    fn recommender() -> Arc<Recommender> {
        Arc::new(Recommender::new(Catalog::built_in().unwrap(), None))
    }

    async fn legacy(
        user_id: i32,
        category: i32,
        max_results: i32,
    ) -> Result<Vec<legacy::BookRecommendation>, Status> {
        let request = legacy::RecommendationRequest {
            user_id,
            category,
            max_results,
        };
        let response = LegacyRecommendations::new(recommender())
            .recommend(Request::new(request))
            .await?;
        Ok(response.into_inner().recommendations)
    }

    async fn v1(
        user_id: i64,
        category: v1::Category,
        max_results: i32,
    ) -> Result<Vec<v1::Book>, Status> {
        let request = v1::RecommendRequest {
            user_id,
            category: category.into(),
            max_results,
        };
        let response = RecommendationsV1::new(recommender())
            .recommend(Request::new(request))
            .await?;
        Ok(response.into_inner().books)
    }

    #[tokio::test]
    async fn legacy_recommend_matches_the_tutorials_unit_test() {
        let books = legacy(1, legacy::BookCategory::ScienceFiction as i32, 1)
            .await
            .unwrap();
        assert_eq!(books.len(), 1);
        let catalog = Catalog::built_in().unwrap();
        let sci_fi: Vec<i32> = catalog
            .books(Category::ScienceFiction)
            .iter()
            .map(|b| b.id as i32)
            .collect();
        assert!(sci_fi.contains(&books[0].id));
    }

    #[tokio::test]
    async fn legacy_every_category_and_count() {
        let catalog = Catalog::built_in().unwrap();
        for (value, category) in [
            (legacy::BookCategory::Mystery, Category::Mystery),
            (
                legacy::BookCategory::ScienceFiction,
                Category::ScienceFiction,
            ),
            (legacy::BookCategory::SelfHelp, Category::SelfHelp),
        ] {
            let available = catalog.books(category).len();
            let ids: Vec<i32> = catalog
                .books(category)
                .iter()
                .map(|b| b.id as i32)
                .collect();
            for max_results in [0, 1, 3, 10] {
                let books = legacy(1, value as i32, max_results).await.unwrap();
                assert_eq!(books.len(), (max_results as usize).min(available));
                assert!(
                    books
                        .iter()
                        .all(|b| ids.contains(&b.id) && !b.title.is_empty())
                );
            }
        }
    }

    #[tokio::test]
    async fn legacy_validation_errors_have_their_status_codes() {
        let status = legacy(1, 42, 3).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::NotFound, "Category not found")
        );
        let status = legacy(1, 0, -1).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "max_results must not be negative, got -1");
        let status = legacy(-5, 0, 3).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "user_id must not be negative, got -5");
    }

    #[tokio::test]
    async fn v1_every_category_and_count() {
        let catalog = Catalog::built_in().unwrap();
        for category in Category::ALL {
            let available = catalog.books(category).len();
            for (max_results, expected) in [
                (0, DEFAULT_MAX_RESULTS),
                (1, 1),
                (3, 3),
                (10, 10),
                (1_000, MAX_RESULTS_CAP),
            ] {
                let books = v1(1, v1_category(category), max_results).await.unwrap();
                assert_eq!(
                    books.len(),
                    expected.min(available),
                    "{category:?} x {max_results}"
                );
                assert!(
                    books
                        .iter()
                        .all(|b| b.category == v1_category(category) as i32)
                );
                assert!(books.iter().all(|b| !b.author.is_empty()));
            }
        }
    }

    #[tokio::test]
    async fn v1_validation_errors_have_their_status_codes() {
        let status = v1(1, v1::Category::Unspecified, 3).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "category is required")
        );
        let request = v1::RecommendRequest {
            user_id: 1,
            category: 999,
            max_results: 3,
        };
        let status = RecommendationsV1::new(recommender())
            .recommend(Request::new(request))
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::NotFound, "Category not found")
        );
        let status = v1(1, v1::Category::Mystery, -3).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        let status = v1(-1, v1::Category::Mystery, 3).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }

    #[tokio::test]
    async fn v1_lists_every_populated_category() {
        let service = RecommendationsV1::new(recommender());
        let response = service
            .list_categories(Request::new(v1::ListCategoriesRequest {}))
            .await
            .unwrap();
        let categories = response.into_inner().categories;
        assert_eq!(categories.len(), Category::ALL.len());
        assert!(
            categories
                .iter()
                .any(|c| c.display_name == "Science fiction" && c.book_count >= 3)
        );
    }
}
