//! Fills a new catalog database with generated books, for measuring how the service scales with
//! the catalog's size (`bench/catalog-scale.sh`, BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p recommendations --example generate_catalog -- \
//!     --books 1000000 --database-url sqlite:///tmp/catalog.db
//! ```
//!
//! The books are plausible and the same for the same `--seed`: distinct title-and-author pairs
//! (the database's unique constraint), titles of 15 to 40 characters, spread evenly at random
//! over every category, published between 1800 and 2024, with ids 1 to N. They are written the
//! way the service seeds a new database (`CatalogStore::migrate`, then `CatalogStore::seed`:
//! one transaction, in batches), so PostgreSQL URLs work too. Seeding only fills a database
//! that never held books: generate into a new file (or an empty PostgreSQL database).
//!
//! Prints one JSON line on stdout: the number of books, the seconds spent generating them and
//! the seconds spent writing them (migration included).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use recommendations::catalog::Book;
use recommendations::{Catalog, Category, database};

/// The shortest and longest title generated, in characters.
const TITLE_CHARS: std::ops::RangeInclusive<usize> = 15..=40;
/// The years books are published in.
const YEARS: std::ops::RangeInclusive<i32> = 1800..=2024;

/// Title templates per category, in `Category::ALL`'s order: `{a}` is replaced with an
/// adjective, `{n}` and `{m}` with nouns, `{p}` with a place.
const TEMPLATES: [&[&str]; 8] = [
    // Mystery
    &[
        "The {a} {n}",
        "Death at {p}",
        "Murder in the {a} {n}",
        "The {n} of {p}",
        "The Case of the {a} {n}",
    ],
    // Science fiction
    &[
        "The {a} {n}",
        "Beyond the {a} {n}",
        "The {n}s of {p}",
        "Last {n} from {p}",
        "{a} {n}, {a} {m}",
    ],
    // Self-help
    &[
        "The {a} Habit",
        "Finding Your {a} {n}",
        "The Art of the {a} {n}",
        "Less {n}, More {m}",
        "The {n} Principle",
    ],
    // Fantasy
    &[
        "The {a} {n}",
        "The {n} of {p}",
        "Song of the {a} {n}",
        "The {n} and the {m}",
        "Crown of {a} {n}s",
    ],
    // History
    &[
        "{p}: A History",
        "The Fall of {p}",
        "The {a} {n}: A History",
        "The {n}s of {p}",
        "Empire of the {a} {n}",
    ],
    // Biography
    &[
        "A Life of the {a} {n}",
        "The {n} from {p}",
        "Letters from {p}",
        "The {a} Years",
        "Portrait of a {a} {n}",
    ],
    // Classics
    &[
        "The {a} {n}",
        "{n} and {m}",
        "The {n} of {p}",
        "Tales of the {a} {n}",
        "A {n} in {p}",
    ],
    // Popular science
    &[
        "The {a} Science of {n}s",
        "How the {n} Works",
        "The {n} Code",
        "A Brief History of the {n}",
        "The {a} Universe",
    ],
];

/// Words for `{a}`.
const ADJECTIVES: &str = "\
    Silent, Hidden, Crimson, Broken, Golden, Forgotten, Distant, Quiet, Burning, Frozen, \
    Secret, Hollow, Endless, Scarlet, Wandering, Iron, Silver, Lost, Shattered, Gentle, \
    Restless, Ancient, Bright, Dark, Fallen, Invisible, Midnight, Northern, Painted, \
    Patient, Radiant, Second, Strange, Sudden, Tangled, Unfinished, Velvet, Wild, Winter, \
    Yellow";

/// Words for `{n}` and `{m}`.
const NOUNS: &str = "\
    Lighthouse, Garden, River, Mirror, Orchard, Clock, Harbour, Letter, Compass, Lantern, \
    Forest, Tower, Bridge, Station, Archive, Island, Engine, Map, Window, Key, Signal, \
    Storm, Machine, Crown, Shadow, Voice, Feather, Circle, Atlas, Ember, Empire, Horizon, \
    Library, Meadow, Mountain, Ocean, Promise, Question, Road, Season, Star, Theory, \
    Thread, Valley, Wall, Wave, Wind, Wolf";

/// Words for `{p}`.
const PLACES: &str = "\
    Alexandria, Carthage, Venice, Samarkand, Kyoto, Lisbon, Prague, Timbuktu, Ravenna, \
    Antioch, Avalon, Cair Morden, Eastwick, Greyhaven, Kestrel Bay, Marrow End, Nineveh, \
    Orion, Persepolis, Port Selden, Quill Island, Sardis, Thule, Vega, Wessex, Zanzibar";

/// Authors' first names.
const FIRST_NAMES: &str = "\
    Ada, Alan, Alice, Amara, Anton, Beatrix, Boris, Carmen, Clara, Daniel, Edith, Elena, \
    Emil, Farah, Felix, Grace, Hana, Henry, Ines, Isaac, Ivan, Jonas, Julia, Kenji, Laila, \
    Leo, Lucia, Marcus, Mei, Nadia, Noah, Olga, Omar, Paul, Priya, Rosa, Ruth, Samuel, \
    Sofia, Tariq, Teresa, Tomas, Ursula, Victor, Wen, Yusuf, Zora";

/// Authors' last names.
const LAST_NAMES: &str = "\
    Abbott, Adeyemi, Bauer, Bianchi, Brennan, Castillo, Chen, Dubois, Eriksen, Fischer, \
    Garcia, Haddad, Hughes, Ibsen, Ivanova, Jensen, Kowalski, Larsen, Lindqvist, Marsh, \
    Moreau, Nakamura, Novak, Okafor, Olsen, Park, Petrov, Quinn, Rahman, Reyes, Rossi, \
    Sato, Schmidt, Silva, Sorensen, Tanaka, Varga, Vogel, Walsh, Weber, Yilmaz, Zielinski";

/// Generates books and writes them to a new catalog database.
#[derive(Parser, Debug)]
struct Args {
    /// How many books to generate.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..))]
    books: u32,

    /// The database to fill: `sqlite://PATH` (created if missing) or `postgres://…`. It must
    /// never have held books.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,

    /// Seed for the generator: the same seed gives the same books.
    #[arg(long, default_value_t = 17)]
    seed: u64,
}

/// The word lists, split once.
struct Words {
    adjectives: Vec<&'static str>,
    nouns: Vec<&'static str>,
    places: Vec<&'static str>,
    first_names: Vec<&'static str>,
    last_names: Vec<&'static str>,
}

impl Words {
    fn new() -> Self {
        let split = |list: &'static str| list.split(", ").collect();
        Self {
            adjectives: split(ADJECTIVES),
            nouns: split(NOUNS),
            places: split(PLACES),
            first_names: split(FIRST_NAMES),
            last_names: split(LAST_NAMES),
        }
    }

    /// `template` with its placeholders replaced by random words.
    fn title(&self, template: &str, rng: &mut StdRng) -> String {
        let mut title = template.to_owned();
        for (placeholder, words) in [
            ("{a}", &self.adjectives),
            ("{n}", &self.nouns),
            ("{m}", &self.nouns),
            ("{p}", &self.places),
        ] {
            while let Some(at) = title.find(placeholder) {
                let word = words.choose(rng).copied().unwrap_or_default();
                title.replace_range(at..at + placeholder.len(), word);
            }
        }
        title
    }

    /// A random author: a first name, usually a middle initial, and a last name.
    fn author(&self, rng: &mut StdRng) -> String {
        let first = self.first_names.choose(rng).copied().unwrap_or_default();
        let last = self.last_names.choose(rng).copied().unwrap_or_default();
        match rng.random_range(0..30u8) {
            initial @ 0..26 => format!("{first} {}. {last}", char::from(b'A' + initial)),
            _ => format!("{first} {last}"),
        }
    }
}

/// `count` books with ids 1 to `count`, the same for the same `seed` (see the module docs).
fn generate(count: u32, seed: u64) -> Vec<Book> {
    let words = Words::new();
    let mut rng = StdRng::seed_from_u64(seed);
    // Hashes of the title-and-author pairs so far: equal pairs hash alike, so none repeats.
    let mut taken = HashSet::with_capacity(count as usize);
    let mut books = Vec::with_capacity(count as usize);
    for id in 1..=count {
        let index = rng.random_range(0..Category::ALL.len());
        let (title, author) = loop {
            let template = TEMPLATES[index]
                .choose(&mut rng)
                .copied()
                .unwrap_or_default();
            let title = words.title(template, &mut rng);
            if !TITLE_CHARS.contains(&title.chars().count()) {
                continue;
            }
            let author = words.author(&mut rng);
            let mut hasher = DefaultHasher::new();
            (&title, &author).hash(&mut hasher);
            if taken.insert(hasher.finish()) {
                break (title, author);
            }
        };
        books.push(Book {
            id,
            title,
            author,
            category: Category::ALL[index],
            year: rng.random_range(YEARS),
        });
    }
    books
}

/// Generates the books and writes them; what went wrong, in one line, if anything did.
async fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let catalog = Catalog::from_books(generate(args.books, args.seed));
    let generated = started.elapsed();
    let started = Instant::now();
    let store = database::open(&args.database_url).map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    if !store.seed(&catalog).await.map_err(|e| e.to_string())? {
        return Err("the database holds (or once held) books: generate into a new one".into());
    }
    let written = started.elapsed();
    eprintln!(
        "generate_catalog: {} books generated in {:.2} s and written in {:.2} s",
        catalog.len(),
        generated.as_secs_f64(),
        written.as_secs_f64()
    );
    println!(
        "{{\"books\": {}, \"generate_s\": {:.3}, \"write_s\": {:.3}}}",
        catalog.len(),
        generated.as_secs_f64(),
        written.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        eprintln!("generate_catalog: a debug build; --release is many times faster");
    }
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("generate_catalog: {error}");
            ExitCode::FAILURE
        }
    }
}
