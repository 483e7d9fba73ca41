//! Generated book covers: a colour and a pattern worked out from a hash of the title and the
//! category, so a book looks the same on every page and every visit, and no image is fetched.
//!
//! The background's hue comes from the category (mysteries blue, fantasy green, …), its shade
//! from the hash; the pattern (stripes, rings, dots, blocks or a sun), its colour (a
//! neighbouring hue) and its placement come from the hash too. The title and author are
//! written over it in white, so every colour is darkened until white text on it reaches a
//! contrast ratio of at least [`MIN_CONTRAST`] (WCAG AA asks 4.5).
//!
//! Cheap to render, since every page of books draws several: the colours are worked out once
//! per process ([`SHADES`] of each kind per category, a table of 144 short strings), so a
//! cover is a hash of its title and a few numbers drawn from it ([`Cover`], `Copy`, no heap),
//! and its markup is the same few elements whatever the pattern: repeated shapes (stripes,
//! dots) are one SVG `<pattern>` tile, not one element per shape. Its `Display` writes that
//! markup straight into the page — an inline `<svg>` whose background is a `<rect>`, so the
//! page carries no `style` attribute — holding only numbers and colours formatted here, never
//! text from the catalog. About 2,000 instructions and 330 bytes a cover (BENCHMARKS.md,
//! session 6), where drawing each from scratch had cost 14,000 and, dotted, over 2 KB.

use std::fmt;
use std::sync::LazyLock;

use bookstore_proto::recommendations::v1;

use bookstore_layers::fnv;

/// The least contrast ratio of white text on any colour of a cover.
pub const MIN_CONTRAST: f64 = 4.8;

/// How many backgrounds, and how many pattern colours, each category has.
pub const SHADES: usize = 8;
/// The categories' enum values run from 0 (unspecified) to this, less one.
const CATEGORIES: usize = 9;

/// The art's size, in SVG units: a book's 2:3.
const WIDTH: u64 = 100;
const HEIGHT: u64 = 150;
/// The width of a ring's stroke.
const RING_STROKE: u64 = 5;
// The markup writes these three out as literals, since each formatted number costs a call into
// `core::fmt` on every cover; a unit test keeps the two the same.

/// A book's generated cover: its `Display` is the inline `<svg>` (numbers and colours only:
/// safe to write unescaped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cover {
    /// The book's id: it names the cover's `<pattern>`, unique on a page of distinct books.
    id: i64,
    /// The background colour, `#rrggbb`.
    background: &'static str,
    /// The pattern's colour, `#rrggbb`.
    accent: &'static str,
    pattern: Pattern,
}

/// The cover of book `id`, titled `title`, in `category`.
pub fn cover(id: i64, title: &str, category: v1::Category) -> Cover {
    let index = usize::try_from(i32::from(category))
        .unwrap_or(0)
        .min(CATEGORIES - 1);
    let seed = fnv::hash(&[index as u8, 0]);
    let mut bits = Bits(fnv::extend(seed, title.as_bytes()));
    let palette = &*PALETTE;
    let background = &palette.backgrounds[index][bits.take(SHADES as u64) as usize];
    let accent = &palette.accents[index][bits.take(SHADES as u64) as usize];
    Cover {
        id,
        background,
        accent,
        pattern: Pattern::draw(&mut bits),
    }
}

impl fmt::Display for Cover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            id,
            background,
            accent,
            pattern,
        } = *self;
        write!(
            f,
            r#"<svg viewBox="0 0 100 150" preserveAspectRatio="xMidYMid slice" focusable="false"><rect width="100" height="150" fill="{background}"/>"#
        )?;
        // The `<g>` gives its colour to the shapes, a `<pattern>`'s included.
        match pattern {
            Pattern::Rings { cx, cy } => write!(
                f,
                r#"<g fill="none" stroke="{accent}" stroke-opacity=".75" stroke-width="5" transform="translate({cx} {cy})"><circle r="8"/><circle r="16"/><circle r="24"/><circle r="32"/>"#
            )?,
            pattern => {
                write!(f, r#"<g fill="{accent}" fill-opacity=".75">"#)?;
                pattern.write_shapes(id, f)?;
            }
        }
        f.write_str("</g></svg>")
    }
}

/// A cover's pattern, in SVG units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    /// Vertical stripes `width` wide, one every `period`, from `x` to `x + span`.
    Stripes {
        x: u64,
        span: u64,
        period: u64,
        width: u64,
    },
    /// Four rings, 8 to 32 in radius, around (`cx`, `cy`).
    Rings { cx: u64, cy: u64 },
    /// Dots of radius `r`, one every `step` each way, filling `columns` × `rows` tiles from
    /// (`x`, `y`).
    Dots {
        x: u64,
        y: u64,
        columns: u64,
        rows: u64,
        step: u64,
        r: u64,
    },
    /// A band across at `band`, and under it a block from `x`, `width` wide.
    Blocks { band: u64, x: u64, width: u64 },
    /// A sun of radius `r` at (`cx`, `cy`) over a line.
    Sun { cx: u64, cy: u64, r: u64 },
}

impl Pattern {
    /// One of five patterns, placed by the hash; every one stays inside the art.
    fn draw(bits: &mut Bits) -> Self {
        match bits.take(5) {
            0 => {
                let (count, width, gap) = (2 + bits.take(3), 4 + bits.take(9), 5 + bits.take(6));
                let span = count * (width + gap) - gap;
                let x = bits.take(WIDTH - span + 1);
                Self::Stripes {
                    x,
                    span,
                    period: width + gap,
                    width,
                }
            }
            1 => {
                let outer = 32 + RING_STROKE;
                let cx = outer + bits.take(WIDTH - 2 * outer + 1);
                let cy = 70 + bits.take(HEIGHT - 70 - outer + 1);
                Self::Rings { cx, cy }
            }
            2 => {
                let (step, r) = (12 + bits.take(6), 2 + bits.take(3));
                let top = 60 + bits.take(30);
                let columns = WIDTH / step;
                Self::Dots {
                    // Centred across; whole tiles only, so no dot is cut.
                    x: (WIDTH - columns * step) / 2,
                    y: top,
                    columns,
                    rows: (HEIGHT - top) / step,
                    step,
                    r,
                }
            }
            3 => {
                let band = 55 + bits.take(40);
                let x = bits.take(50);
                let width = 20 + bits.take(WIDTH - x - 20 + 1).min(40);
                Self::Blocks { band, x, width }
            }
            _ => {
                let r = 22 + bits.take(18);
                let cx = r + bits.take(WIDTH - 2 * r + 1);
                // Above a line 6 below it, 4 thick, inside the art.
                let cy = 80 + bits.take(HEIGHT - 10 - r - 80 + 1);
                Self::Sun { cx, cy, r }
            }
        }
    }

    /// The filled shapes (every pattern but the rings), a tile's `<pattern>` named after the
    /// book `id`.
    fn write_shapes(self, id: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stripes {
                x,
                span,
                period,
                width,
            } => write!(
                f,
                r#"<pattern id="cover-{id}" x="{x}" width="{period}" height="150" patternUnits="userSpaceOnUse"><rect width="{width}" height="150"/></pattern><rect x="{x}" width="{span}" height="150" fill="url(#cover-{id})"/>"#
            ),
            Self::Dots {
                x,
                y,
                columns,
                rows,
                step,
                r,
            } => write!(
                f,
                r#"<pattern id="cover-{id}" x="{x}" y="{y}" width="{step}" height="{step}" patternUnits="userSpaceOnUse"><circle cx="{c}" cy="{c}" r="{r}"/></pattern><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="url(#cover-{id})"/>"#,
                c = step / 2,
                w = columns * step,
                h = rows * step,
            ),
            Self::Blocks { band, x, width } => write!(
                f,
                r#"<rect y="{band}" width="100" height="14"/><rect x="{x}" y="{y}" width="{width}" height="{h}"/>"#,
                y = band + 20,
                h = HEIGHT - band - 20,
            ),
            Self::Sun { cx, cy, r } => write!(
                f,
                r#"<circle cx="{cx}" cy="{cy}" r="{r}"/><rect y="{y}" width="100" height="4"/>"#,
                y = cy + r + 6,
            ),
            Self::Rings { .. } => Ok(()),
        }
    }
}

/// Every category's colours, worked out once.
struct Palette {
    /// By category, then shade: backgrounds.
    backgrounds: [[String; SHADES]; CATEGORIES],
    /// By category, then shade: pattern colours.
    accents: [[String; SHADES]; CATEGORIES],
}

static PALETTE: LazyLock<Palette> = LazyLock::new(|| {
    let base_hue = |index: usize| {
        let value = i32::try_from(index).unwrap_or(0);
        base_hue(v1::Category::try_from(value).unwrap_or_default())
    };
    Palette {
        // Hues up to 16° either side of the category's, saturations spread across the shades.
        backgrounds: std::array::from_fn(|category| {
            std::array::from_fn(|shade| {
                let hue = base_hue(category) - 16.0 + 4.0 * shade as f64;
                let saturation = 0.45 + 0.025 * ((3 * shade) % SHADES) as f64;
                readable(hue, saturation, 0.30)
            })
        }),
        // A neighbouring hue, so pattern and ground go together.
        accents: std::array::from_fn(|category| {
            std::array::from_fn(|shade| {
                readable(base_hue(category) + 20.0 + 6.0 * shade as f64, 0.55, 0.42)
            })
        }),
    }
});

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

/// Draws small numbers from a hash, one after another.
struct Bits(u64);

impl Bits {
    /// A number below `below`, then moves on (re-mixing when the hash runs low).
    fn take(&mut self, below: u64) -> u64 {
        let value = self.0 % below;
        self.0 /= below;
        if self.0 < 1 << 16 {
            self.0 = fnv::hash(&self.0.to_le_bytes()) ^ value;
        }
        value
    }
}

#[cfg(test)]
mod tests;
