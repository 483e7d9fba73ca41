//! The covers' unit tests: deterministic, readable under white text, only numbers and
//! colours in the markup, every pattern inside the art, and markup of a bounded size.

use super::*;

/// Every colour in `markup`, as `[r, g, b]`.
fn colours(markup: &str) -> Vec<[u8; 3]> {
    markup
        .split("=\"#")
        .skip(1)
        .map(|rest| [0, 2, 4].map(|at| u8::from_str_radix(&rest[at..at + 2], 16).unwrap()))
        .collect()
}

#[test]
fn covers_are_deterministic_and_differ_between_books() {
    let a = cover(1, "The Maltese Falcon", v1::Category::Mystery);
    assert_eq!(a, cover(1, "The Maltese Falcon", v1::Category::Mystery));
    assert_ne!(a, cover(1, "The Maltese Falcon", v1::Category::Classics));
    assert_ne!(a, cover(1, "The Big Sleep", v1::Category::Mystery));
    let svg = a.to_string();
    assert!(svg.ends_with("</g></svg>"), "{svg}");
    // The sizes written out as literals are the constants'.
    let frame = format!(
        r##"<svg viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid slice" focusable="false"><rect width="{WIDTH}" height="{HEIGHT}" fill="#"##
    );
    assert!(svg.starts_with(&frame), "{svg}");
    assert_eq!(
        colours(&svg).len(),
        2,
        "a background and a pattern colour: {svg}"
    );
}

#[test]
fn every_colour_reads_under_white_text_and_the_art_is_only_numbers() {
    for category in crate::category::all() {
        for i in 0..200 {
            let title = format!("<b>\"Title\" & {i}</b>");
            let svg = cover(i, &title, category).to_string();
            for rgb in colours(&svg) {
                assert!(
                    contrast_with_white(rgb) >= MIN_CONTRAST,
                    "{rgb:?} for {title}"
                );
            }
            assert!(!svg.contains("Title") && !svg.contains('&'));
            let allowed = |c: char| c.is_ascii_alphanumeric() || " <>=\"/#.-:()".contains(c);
            assert!(svg.chars().all(allowed), "{svg}");
        }
    }
}

#[test]
fn the_markup_of_every_pattern_uses_the_arts_sizes() {
    // Each pattern, by a piece of markup only it has, and the sizes it writes out.
    let kinds = [
        ("<circle r=", format!(r#"stroke-width="{RING_STROKE}""#)),
        (
            "\"userSpaceOnUse\"><rect ",
            format!(r#"height="{HEIGHT}" patternUnits"#),
        ),
        ("height=\"14\"", format!(r#"width="{WIDTH}" height="14""#)),
        ("height=\"4\"", format!(r#"width="{WIDTH}" height="4""#)),
    ];
    for (kind, literal) in kinds {
        let svg = (0..200)
            .map(|i| cover(1, &i.to_string(), v1::Category::History).to_string())
            .find(|svg| svg.contains(kind))
            .unwrap();
        assert!(svg.contains(&literal), "{literal} in {svg}");
    }
}

#[test]
fn a_pattern_tile_is_named_after_its_book() {
    let tiled = (0..100)
        .map(|i| cover(7, &format!("Title {i}"), v1::Category::Fantasy).to_string())
        .filter(|svg| svg.contains("<pattern"))
        .collect::<Vec<_>>();
    assert!(!tiled.is_empty());
    for svg in tiled {
        assert_eq!(svg.matches(r#"<pattern id="cover-7" "#).count(), 1, "{svg}");
        assert_eq!(svg.matches(r#"fill="url(#cover-7)""#).count(), 1, "{svg}");
    }
}

/// The boxes a pattern's shapes cover: `(left, top, right, bottom)`.
fn boxes(pattern: Pattern) -> Vec<(u64, u64, u64, u64)> {
    match pattern {
        Pattern::Stripes { x, span, .. } => vec![(x, 0, x + span, HEIGHT)],
        Pattern::Rings { cx, cy } => {
            let outer = 32 + RING_STROKE.div_ceil(2);
            vec![(cx - outer, cy - outer, cx + outer, cy + outer)]
        }
        Pattern::Dots {
            x,
            y,
            columns,
            rows,
            step,
            r,
        } => {
            assert!(r < step / 2, "a dot fits its tile");
            vec![(x, y, x + columns * step, y + rows * step)]
        }
        Pattern::Blocks { band, x, width } => {
            vec![
                (0, band, WIDTH, band + 14),
                (x, band + 20, x + width, HEIGHT),
            ]
        }
        Pattern::Sun { cx, cy, r } => {
            vec![
                (cx - r, cy - r, cx + r, cy + r),
                (0, cy + r + 6, WIDTH, cy + r + 10),
            ]
        }
    }
}

#[test]
fn every_pattern_stays_inside_the_art() {
    let mut kinds = std::collections::HashSet::new();
    for seed in 0..5000u64 {
        let pattern = Pattern::draw(&mut Bits(fnv::hash(&seed.to_le_bytes())));
        kinds.insert(std::mem::discriminant(&pattern));
        // Every shape stays inside the art, so none reaches past its cover, even to a script
        // measuring boxes (which sees no clipping).
        for (left, top, right, bottom) in boxes(pattern) {
            assert!(left < right && top < bottom, "{pattern:?}");
            assert!(
                right <= WIDTH && bottom <= HEIGHT,
                "seed {seed}: {pattern:?}"
            );
        }
    }
    assert_eq!(kinds.len(), 5, "every pattern occurs");
}

#[test]
fn a_cover_is_a_few_hundred_bytes_whatever_its_pattern() {
    let longest = (0..2000)
        .map(|i| cover(i64::MAX, &i.to_string(), v1::Category::ScienceFiction))
        .map(|cover| cover.to_string().len())
        .max()
        .unwrap();
    assert!(longest < 450, "{longest} bytes");
}

#[test]
fn contrast_is_wcags() {
    assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 1e-9);
    assert!((contrast_with_white([255, 255, 255]) - 1.0).abs() < 1e-9);
    assert_eq!(hsl_to_rgb(0.0, 1.0, 0.5), [255, 0, 0]);
    assert_eq!(hsl_to_rgb(240.0, 1.0, 0.25), [0, 0, 128]);
}
