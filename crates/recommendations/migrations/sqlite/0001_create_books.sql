-- The catalog: one row per book, and the catalog's version, which every write bumps in the same
-- transaction so that replicas notice a change by reading one row.
--
-- AUTOINCREMENT: a deleted book's id is never given to another book (its `books/{id}` name
-- may still be in someone's bookmarks or page token).
CREATE TABLE books (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL CHECK (length(trim(title)) > 0),
    author TEXT NOT NULL CHECK (length(trim(author)) > 0),
    category TEXT NOT NULL CHECK (category IN ('mystery', 'science_fiction', 'self_help',
        'fantasy', 'history', 'biography', 'classics', 'science')),
    year INTEGER NOT NULL,
    UNIQUE (title, author)
);

CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);

INSERT INTO catalog_version (id, version) VALUES (1, 0);
