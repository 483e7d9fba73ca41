//! Where `bookstore up` keeps the catalog: an SQLite file in its data directory
//! (`--data-dir`, `BOOKSTORE_DATA_DIR`, by default `$XDG_DATA_HOME/bookstore` or
//! `~/.local/share/bookstore`), so books added with `bookstore books add` survive a restart —
//! unless a database is named outright (`--database-url`, `DATABASE_URL`).
//!
//! The default follows the XDG base directory specification by hand (two variables) rather
//! than through a crate: it is all `bookstore` needs, on every platform it is run on.

use std::path::{Path, PathBuf};

/// The catalog file's name inside the data directory.
const CATALOG_FILE: &str = "catalog.db";

/// Why the catalog's place could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum CatalogLocationError {
    /// No directory to default to.
    #[error(
        "cannot tell where to keep the catalog: neither XDG_DATA_HOME nor HOME is set — set \
         BOOKSTORE_DATA_DIR (or --data-dir), or DATABASE_URL (or --database-url)"
    )]
    NoDataDir,
    /// The directory could not be created.
    #[error(
        "cannot create the data directory {dir}: {source} — set BOOKSTORE_DATA_DIR (or \
         --data-dir) to another"
    )]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A path that an SQLite URL cannot carry.
    #[error(
        "the data directory {0} is not valid UTF-8 — set BOOKSTORE_DATA_DIR (or --data-dir) \
         to another"
    )]
    NotUtf8(PathBuf),
}

/// The catalog's database, as the service is given it and as the banner shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CatalogLocation {
    /// The URL the service opens.
    pub(crate) url: String,
    /// What the banner shows: the file, or the URL without its password.
    pub(crate) shown: String,
}

impl CatalogLocation {
    /// The database `url` names, or else an SQLite file in `data_dir` (the user's data
    /// directory when not given), the directory created if need be.
    pub(crate) fn resolve(
        url: Option<&str>,
        data_dir: Option<&Path>,
    ) -> Result<Self, CatalogLocationError> {
        if let Some(url) = url {
            return Ok(Self {
                url: url.to_owned(),
                shown: without_password(url),
            });
        }
        let dir = match data_dir {
            Some(dir) => dir.to_path_buf(),
            None => default_data_dir(
                std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
                std::env::var_os("HOME").map(PathBuf::from),
            )
            .ok_or(CatalogLocationError::NoDataDir)?,
        };
        std::fs::create_dir_all(&dir).map_err(|source| CatalogLocationError::CreateDir {
            dir: dir.clone(),
            source,
        })?;
        // Absolute, so the banner says where the file is whatever directory it was run from.
        let file = std::path::absolute(&dir).unwrap_or(dir).join(CATALOG_FILE);
        let path = file
            .to_str()
            .ok_or_else(|| CatalogLocationError::NotUtf8(file.clone()))?;
        Ok(Self {
            url: sqlite_url(path),
            shown: path.to_owned(),
        })
    }
}

/// `$XDG_DATA_HOME/bookstore` when that is an absolute path (the specification ignores
/// relative ones), else `$HOME/.local/share/bookstore`.
fn default_data_dir(xdg_data_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    let base = xdg_data_home.filter(|dir| dir.is_absolute()).or_else(|| {
        home.filter(|home| !home.as_os_str().is_empty())
            .map(|home| home.join(".local").join("share"))
    })?;
    Some(base.join("bookstore"))
}

/// The `sqlite://` URL of the file at `path`: sqlx percent-decodes the path, and ends it at `?`.
fn sqlite_url(path: &str) -> String {
    let mut url = String::from("sqlite://");
    for c in path.chars() {
        match c {
            '%' => url.push_str("%25"),
            '?' => url.push_str("%3F"),
            '#' => url.push_str("%23"),
            c => url.push(c),
        }
    }
    url
}

/// `url` with the password of its user info, if any, replaced by `***`: banners end up in
/// terminals' scrollback and in CI logs.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_directory_follows_xdg_then_home() {
        let xdg = Some(PathBuf::from("/data"));
        let home = Some(PathBuf::from("/home/ada"));
        assert_eq!(
            default_data_dir(xdg, home.clone()),
            Some(PathBuf::from("/data/bookstore"))
        );
        assert_eq!(
            default_data_dir(Some(PathBuf::from("relative")), home.clone()),
            Some(PathBuf::from("/home/ada/.local/share/bookstore"))
        );
        assert_eq!(
            default_data_dir(None, home),
            Some(PathBuf::from("/home/ada/.local/share/bookstore"))
        );
        assert_eq!(default_data_dir(None, Some(PathBuf::new())), None);
        assert_eq!(default_data_dir(None, None), None);
    }

    #[test]
    fn a_data_directory_becomes_an_sqlite_file_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new").join("data?#%");
        let store = CatalogLocation::resolve(None, Some(&data)).unwrap();
        assert!(data.is_dir(), "created");
        let file = data.join("catalog.db");
        assert_eq!(store.shown, file.to_str().unwrap());
        assert!(store.url.starts_with("sqlite:///"), "{}", store.url);
        assert!(
            store.url.ends_with("/new/data%3F%23%25/catalog.db"),
            "{}",
            store.url
        );
    }

    #[test]
    fn a_database_url_wins_and_is_shown_without_its_password() {
        let store =
            CatalogLocation::resolve(Some("postgres://shop:s3cret@db:5432/books"), None).unwrap();
        assert_eq!(store.url, "postgres://shop:s3cret@db:5432/books");
        assert_eq!(store.shown, "postgres://shop:***@db:5432/books");
        assert_eq!(
            without_password("sqlite://data/catalog.db"),
            "sqlite://data/catalog.db"
        );
        assert_eq!(
            without_password("postgres://db/books"),
            "postgres://db/books"
        );
        assert_eq!(
            without_password("postgres://shop@db/books"),
            "postgres://shop@db/books"
        );
    }
}
