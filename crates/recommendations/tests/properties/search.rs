//! v1's `SearchBooks` over generated searches, through a real server, against a model of the
//! documented rules: paging with any page sizes (changing from page to page, if the client
//! likes) yields exactly the books whose title or author contains every word of the query in any
//! case, of the category, ordered by lowercased title then id — each once, with the same
//! `total_size` on every page; queries of more than 16 different words are refused; and a page
//! token continues its own search only — the search of the same canonical words (different
//! lowercased words, ignoring those inside another) and category.

use std::collections::BTreeSet;

use bookstore_proto::recommendations::v1;
use proptest::prelude::*;
use proptest::sample::Index;
use recommendations::{Catalog, Category};
use tonic::Code;

use crate::cases;
use crate::grpc::Server;

/// Every word of the catalog's titles and authors.
fn vocabulary(catalog: &Catalog) -> Vec<String> {
    Category::ALL
        .iter()
        .flat_map(|category| catalog.books(*category))
        .flat_map(|book| [book.title.as_str(), book.author.as_str()])
        .flat_map(str::split_whitespace)
        .map(str::to_owned)
        .collect()
}

/// A query word: a word of the catalog or part of one, in any case; or anything.
fn word(vocabulary: Vec<String>) -> impl Strategy<Value = String> {
    let from_catalog = (
        prop::sample::select(vocabulary),
        any::<Index>(),
        any::<Index>(),
        0..3u8,
    )
        .prop_map(|(word, start, end, case)| {
            let chars: Vec<char> = word.chars().collect();
            let (start, end) = (start.index(chars.len()), end.index(chars.len() + 1));
            let part: String = chars[start.min(end)..start.max(end)].iter().collect();
            match case {
                0 => part,
                1 => part.to_uppercase(),
                _ => part.to_lowercase(),
            }
        });
    prop_oneof![
        6 => from_catalog,
        1 => "[a-zA-Zéë' ]{1,4}",
        1 => any::<String>(),
    ]
}

/// A query of words joined by any whitespace; sometimes long, sometimes of many short words
/// (about as many different ones as the limit).
fn query(vocabulary: Vec<String>) -> impl Strategy<Value = String> {
    let separator = prop::sample::select(vec![" ", "  ", "\t", " \n"]);
    prop_oneof![
        8 => prop::collection::vec((word(vocabulary), separator), 0..4)
            .prop_map(|words| words.into_iter().map(|(word, gap)| word + gap).collect()),
        1 => (195..210usize).prop_map(|length| "a".repeat(length)),
        1 => prop::collection::vec("[a-eA-E]{1,2}|[a-z]{1,3}", 14..24)
            .prop_map(|words| words.join(" ")),
    ]
}

/// `query`'s words shuffled, one of them repeated in upper case and a part of one added: by
/// the documented rules, often the same search.
fn same_words(query: String) -> impl Strategy<Value = String> {
    let words: Vec<String> = query.split_whitespace().map(str::to_owned).collect();
    (Just(words).prop_shuffle(), any::<Index>(), any::<Index>()).prop_map(
        |(mut words, repeat, part)| {
            if let Some(word) = words.get(repeat.index(words.len().max(1))) {
                words.push(word.to_uppercase());
            }
            if let Some(word) = words.get(part.index(words.len().max(1))) {
                let chars: Vec<char> = word.chars().collect();
                words.push(chars[..chars.len().div_ceil(2)].iter().collect());
            }
            words.join(" ")
        },
    )
}

/// The words a book must contain, canonical (lowercased, different, sorted, none inside
/// another), or the refusal's code when the query is over a limit.
fn canonical(query: &str) -> Result<Vec<String>, Code> {
    let different: BTreeSet<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if query.chars().count() > 200 || different.len() > 16 {
        return Err(Code::InvalidArgument);
    }
    let inside_another = |word: &String| {
        different
            .iter()
            .any(|other| other != word && other.contains(word.as_str()))
    };
    Ok(different
        .iter()
        .filter(|word| !inside_another(word))
        .cloned()
        .collect())
}

/// A category number: unspecified, each category, or one the API does not define.
fn category() -> impl Strategy<Value = i32> {
    prop_oneof![3 => Just(0), 6 => 1..=8i32, 1 => prop_oneof![Just(9), Just(-1), any::<i32>()]]
}

/// The documented answer: the ids of every matching book in order, or the refusal's code.
fn documented(catalog: &Catalog, query: &str, category: i32) -> Result<Vec<i64>, Code> {
    canonical(query)?;
    let only = match v1::Category::try_from(category) {
        Ok(v1::Category::Unspecified) => None,
        Ok(category) => {
            let slug = category.as_str_name().trim_start_matches("CATEGORY_");
            Some(Category::from_slug(&slug.to_ascii_lowercase()).unwrap())
        }
        Err(_) => return Err(Code::InvalidArgument),
    };
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut books: Vec<_> = Category::ALL
        .iter()
        .filter(|category| only.is_none_or(|only| only == **category))
        .flat_map(|category| catalog.books(*category))
        .filter(|book| {
            let (title, author) = (book.title.to_lowercase(), book.author.to_lowercase());
            words
                .iter()
                .all(|word| title.contains(word) || author.contains(word))
        })
        .collect();
    books.sort_by_key(|book| (book.title.to_lowercase(), book.id));
    Ok(books.iter().map(|book| i64::from(book.id)).collect())
}

/// Page sizes, used in turn: small ones most, the default (0), the cap and beyond.
fn page_sizes() -> impl Strategy<Value = Vec<i32>> {
    let size = prop_oneof![4 => 1..=12i32, 2 => 0..=120i32, 1 => Just(i32::MAX)];
    prop::collection::vec(size, 1..4)
}

#[test]
fn paging_any_way_yields_exactly_the_documented_books() {
    let server = Server::start();
    let searches = (query(vocabulary(&server.catalog)), category(), page_sizes());
    proptest!(cases(128), |((query, category, sizes) in searches)| {
        let documented = documented(&server.catalog, &query, category);
        let mut books = Vec::new();
        let mut page_token = String::new();
        for page_number in 0.. {
            let page_size = sizes[page_number % sizes.len()];
            let request = v1::SearchBooksRequest { query: query.clone(), category, page_size, page_token };
            let answer = server.runtime.block_on(server.v1().search_books(request));
            let expected = match (answer, &documented) {
                (Err(status), Err(code)) => {
                    prop_assert_eq!(status.code(), *code, "{:?}", status);
                    return Ok(());
                }
                (Ok(page), Ok(expected)) => (page.into_inner(), expected),
                (answer, documented) => {
                    return Err(TestCaseError::fail(format!("{answer:?}, documented {documented:?}")));
                }
            };
            let (page, expected) = expected;
            prop_assert_eq!(page.total_size as usize, expected.len());
            let size = match page_size { 0 => 20, size => (size as usize).min(100) };
            prop_assert_eq!(page.books.len(), size.min(expected.len() - books.len()));
            books.extend(page.books.iter().map(|book| book.id));
            if page.next_page_token.is_empty() {
                prop_assert_eq!(&books, expected);
                return Ok(());
            }
            prop_assert!(books.len() < expected.len(), "a next page after every match");
            page_token = page.next_page_token;
        }
    });
    server.still_serving();
}

#[test]
fn a_page_token_continues_its_own_search_only() {
    let server = Server::start();
    let vocabulary = vocabulary(&server.catalog);
    let search = || (query(vocabulary.clone()), 0..=8i32);
    let searches = (search(), search(), any::<bool>()).prop_flat_map(|(first, other, same)| {
        let second = if same {
            let category = first.1;
            same_words(first.0.clone())
                .prop_map(move |query| (query, category))
                .boxed()
        } else {
            Just(other).boxed()
        };
        (Just(first), second)
    });
    proptest!(cases(128), |((first, second) in searches)| {
        let request = |(query, category): &(String, i32), page_token: String| v1::SearchBooksRequest {
            query: query.clone(),
            category: *category,
            page_size: 1,
            page_token,
        };
        let Ok(page) = server.runtime.block_on(server.v1().search_books(request(&first, String::new()))) else {
            return Ok(()); // a refused search (too long a query) has no token
        };
        let token = page.into_inner().next_page_token;
        if token.is_empty() {
            return Ok(());
        }
        let answer = server.runtime.block_on(server.v1().search_books(request(&second, token)));
        // The first search was accepted, so its words are canonical; the second must be too.
        let same_search = canonical(&second.0).is_ok_and(|words| words == canonical(&first.0).unwrap())
            && first.1 == second.1;
        if same_search {
            let expected = documented(&server.catalog, &second.0, second.1).unwrap();
            let page = answer.unwrap().into_inner();
            prop_assert_eq!(page.books.iter().map(|book| book.id).collect::<Vec<_>>(), vec![expected[1]]);
        } else {
            let status = answer.unwrap_err();
            prop_assert_eq!(status.code(), Code::InvalidArgument, "{:?}", status);
        }
    });
    server.still_serving();
}
