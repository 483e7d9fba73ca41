//! Generated book covers: a colour and a pattern worked out from a hash of the title and the
//! category, so a book looks the same on every page and every visit, and no image is fetched
//! (the pages' Content-Security-Policy loads no images but the favicon).
//!
//! The background's hue comes from the category (mysteries blue, fantasy green, …), nudged by
//! the hash; the pattern (stripes, rings, dots, blocks or a sun) and its placement come from the
//! hash. The title and author are written over it in white, so every colour is darkened until
//! white text on it reaches a contrast ratio of at least [`MIN_CONTRAST`] (WCAG AA asks 4.5).
//! The pattern is an inline SVG whose markup holds only numbers and colours formatted here,
//! never text from the catalog.

use std::fmt::Write as _;

use bookstore_proto::recommendations::v1;

/// The least contrast ratio of white text on any colour of a cover.
pub const MIN_CONTRAST: f64 = 4.8;

/// A generated cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cover {
    /// The background colour, `#rrggbb`.
    pub background: String,
    /// The pattern, an inline `<svg>` (numbers and colours only: safe to write unescaped).
    pub art: String,
}

/// The art's size, in SVG units: a book's 2:3.
const WIDTH: u64 = 100;
const HEIGHT: u64 = 150;
/// The width of a ring's stroke.
const RING_STROKE: u64 = 5;

/// The cover of the book titled `title` in `category`.
pub fn cover(title: &str, category: v1::Category) -> Cover {
    let mut bits = Bits(fnv1a(
        category
            .as_str_name()
            .bytes()
            .chain([0])
            .chain(title.bytes()),
    ));
    let hue = base_hue(category) + bits.take(32) as f64 - 16.0;
    let background = readable(hue, 0.45 + bits.take(20) as f64 / 100.0, 0.30);
    // A neighbouring hue, so pattern and ground go together.
    let accent = readable(hue + 20.0 + bits.take(45) as f64, 0.55, 0.42);
    let mut art = format!(
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid slice" focusable="false"><g fill="{accent}" fill-opacity=".75" stroke="{accent}" stroke-opacity=".75" stroke-width="0">"#
    );
    for shape in pattern(&mut bits) {
        shape.write(&mut art);
    }
    art.push_str("</g></svg>");
    Cover { background, art }
}

/// A shape of a cover's pattern, in SVG units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Rect {
        x: u64,
        y: u64,
        width: u64,
        height: u64,
    },
    Circle {
        cx: u64,
        cy: u64,
        r: u64,
    },
    /// A circle's outline, [`RING_STROKE`] wide.
    Ring {
        cx: u64,
        cy: u64,
        r: u64,
    },
}

impl Shape {
    fn write(self, art: &mut String) {
        let _ = match self {
            Self::Rect {
                x,
                y,
                width,
                height,
            } => write!(
                art,
                r#"<rect x="{x}" y="{y}" width="{width}" height="{height}"/>"#
            ),
            Self::Circle { cx, cy, r } => write!(art, r#"<circle cx="{cx}" cy="{cy}" r="{r}"/>"#),
            Self::Ring { cx, cy, r } => write!(
                art,
                r#"<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke-width="{RING_STROKE}"/>"#
            ),
        };
    }

    /// The box it covers: `(left, top, right, bottom)`. Every shape stays inside the art, so
    /// none reaches past its cover, even to a script measuring boxes (which sees no clipping).
    #[cfg(test)]
    fn bounds(self) -> (u64, u64, u64, u64) {
        match self {
            Self::Rect {
                x,
                y,
                width,
                height,
            } => (x, y, x + width, y + height),
            Self::Circle { cx, cy, r } => (cx - r, cy - r, cx + r, cy + r),
            Self::Ring { cx, cy, r } => {
                let outer = r + RING_STROKE.div_ceil(2);
                (cx - outer, cy - outer, cx + outer, cy + outer)
            }
        }
    }
}

/// One of five patterns, placed by the hash: stripes, rings, dots, blocks, or a sun.
fn pattern(bits: &mut Bits) -> Vec<Shape> {
    match bits.take(5) {
        0 => {
            let (count, width, gap) = (2 + bits.take(3), 4 + bits.take(9), 5 + bits.take(6));
            let start = bits.take(WIDTH - count * (width + gap) + gap);
            (0..count)
                .map(|i| Shape::Rect {
                    x: start + i * (width + gap),
                    y: 0,
                    width,
                    height: HEIGHT,
                })
                .collect()
        }
        1 => {
            let outer = 32 + RING_STROKE;
            let cx = outer + bits.take(WIDTH - 2 * outer + 1);
            let cy = 70 + bits.take(HEIGHT - 70 - outer + 1);
            [8, 16, 24, 32].map(|r| Shape::Ring { cx, cy, r }).to_vec()
        }
        2 => {
            let (step, r) = (12 + bits.take(6), 2 + bits.take(3));
            let top = 60 + bits.take(30);
            let mut dots = Vec::new();
            for cy in (top..=HEIGHT - step / 2).step_by(step as usize) {
                for cx in (step / 2..=WIDTH - step / 2).step_by(step as usize) {
                    dots.push(Shape::Circle { cx, cy, r });
                }
            }
            dots
        }
        3 => {
            let band = 55 + bits.take(40);
            let x = bits.take(50);
            let width = 20 + bits.take(WIDTH - x - 20 + 1).min(40);
            vec![
                Shape::Rect {
                    x: 0,
                    y: band,
                    width: WIDTH,
                    height: 14,
                },
                Shape::Rect {
                    x,
                    y: band + 20,
                    width,
                    height: HEIGHT - band - 20,
                },
            ]
        }
        _ => {
            let r = 22 + bits.take(18);
            let cx = r + bits.take(WIDTH - 2 * r + 1);
            // Above a line 6 below it, 4 thick, inside the art.
            let cy = 80 + bits.take(HEIGHT - 10 - r - 80 + 1);
            vec![
                Shape::Circle { cx, cy, r },
                Shape::Rect {
                    x: 0,
                    y: cy + r + 6,
                    width: WIDTH,
                    height: 4,
                },
            ]
        }
    }
}

/// Each category's hue, in degrees.
fn base_hue(category: v1::Category) -> f64 {
    match category {
        v1::Category::Mystery => 222.0,
        v1::Category::ScienceFiction => 265.0,
        v1::Category::SelfHelp => 28.0,
        v1::Category::Fantasy => 145.0,
        v1::Category::History => 8.0,
        v1::Category::Biography => 188.0,
        v1::Category::Classics => 340.0,
        v1::Category::Science => 205.0,
        v1::Category::Unspecified => 60.0,
    }
}

/// The colour of `hue`/`saturation`/`lightness`, darkened until white text on it reads.
fn readable(hue: f64, saturation: f64, lightness: f64) -> String {
    let mut lightness = lightness;
    let mut rgb = hsl_to_rgb(hue, saturation, lightness);
    while contrast_with_white(rgb) < MIN_CONTRAST && lightness > 0.0 {
        lightness = (lightness - 0.02).max(0.0);
        rgb = hsl_to_rgb(hue, saturation, lightness);
    }
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

fn hsl_to_rgb(hue: f64, saturation: f64, lightness: f64) -> [u8; 3] {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let sector = hue.rem_euclid(360.0) / 60.0;
    let x = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (r, g, b) = match sector as u8 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = lightness - chroma / 2.0;
    [r, g, b].map(|channel| ((channel + m) * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// WCAG's contrast ratio of white against `rgb`.
fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    let linear = |channel: u8| {
        let c = f64::from(channel) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
    1.05 / (luminance + 0.05)
}

/// 64-bit FNV-1a: tiny, and the same on every platform and Rust release (unlike `std`'s
/// `DefaultHasher`), so covers never change under an upgrade.
fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Draws small numbers from a hash, one after another.
struct Bits(u64);

impl Bits {
    /// A number below `below`, then moves on (re-mixing when the hash runs low).
    fn take(&mut self, below: u64) -> u64 {
        let value = self.0 % below;
        self.0 /= below;
        if self.0 < 1 << 16 {
            self.0 = fnv1a(self.0.to_le_bytes().into_iter()) ^ value;
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_are_deterministic_and_differ_between_books() {
        let a = cover("The Maltese Falcon", v1::Category::Mystery);
        assert_eq!(a, cover("The Maltese Falcon", v1::Category::Mystery));
        assert_ne!(a, cover("The Maltese Falcon", v1::Category::Classics));
        assert_ne!(a, cover("The Big Sleep", v1::Category::Mystery));
        assert!(
            a.art.starts_with("<svg ") && a.art.ends_with("</svg>"),
            "{}",
            a.art
        );
    }

    #[test]
    fn every_colour_reads_under_white_text_and_the_art_is_only_numbers() {
        for category in crate::category::all() {
            for i in 0..200 {
                let title = format!("<b>\"Title\" & {i}</b>");
                let cover = cover(&title, category);
                for colour in std::iter::once(cover.background.as_str())
                    .chain(cover.art.split("=\"#").skip(1).map(|s| &s[..6]))
                {
                    let hex = colour.trim_start_matches('#');
                    let rgb = [0, 2, 4].map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap());
                    assert!(
                        contrast_with_white(rgb) >= MIN_CONTRAST,
                        "{colour} for {title}"
                    );
                }
                assert!(!cover.art.contains("Title") && !cover.art.contains('&'));
                let allowed = |c: char| c.is_ascii_alphanumeric() || " <>=\"/#.-:".contains(c);
                assert!(cover.art.chars().all(allowed), "{}", cover.art);
            }
        }
    }

    #[test]
    fn every_pattern_stays_inside_the_art() {
        let mut kinds = std::collections::HashSet::new();
        for seed in 0..5000u64 {
            let mut bits = Bits(fnv1a(seed.to_le_bytes().into_iter()));
            let shapes = pattern(&mut bits);
            assert!(!shapes.is_empty(), "seed {seed}");
            kinds.insert(std::mem::discriminant(&shapes[0]));
            for shape in shapes {
                let (left, top, right, bottom) = shape.bounds();
                assert!(left <= right && top <= bottom, "{shape:?}");
                assert!(right <= WIDTH && bottom <= HEIGHT, "seed {seed}: {shape:?}");
            }
        }
        assert_eq!(kinds.len(), 3, "rectangles, circles and rings all occur");
    }

    #[test]
    fn contrast_is_wcags() {
        assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 1e-9);
        assert!((contrast_with_white([255, 255, 255]) - 1.0).abs() < 1e-9);
        assert_eq!(hsl_to_rgb(0.0, 1.0, 0.5), [255, 0, 0]);
        assert_eq!(hsl_to_rgb(240.0, 1.0, 0.25), [0, 0, 128]);
    }
}
