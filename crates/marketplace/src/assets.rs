//! What the pages load besides themselves: the stylesheet and the favicon.
//!
//! The stylesheet (`templates/style.css`, beside the templates whose classes it styles) is
//! served from its own URL rather than written into every page, since the
//! Content-Security-Policy allows styles from the site (`style-src 'self'`) and none inline: a
//! page is smaller, and a browser fetches the sheet once. Its URL names the hash of its content
//! ([`STYLESHEET_PATH`], `/assets/style-<16 hex digits>.css`, worked out at compile time), so
//! it is cached for good (`immutable`) and an edited sheet, at a new URL, is fetched at once;
//! any other name under `/assets/` is a 404. How is written once, for every web app, in
//! [`bookstore_layers::Stylesheet`].
//!
//! The favicon, as SVG (what the pages' `<link rel="icon">` names) and as ICO (what browsers
//! ask for at `/favicon.ico` without being told), both cached for a year (their URLs are fixed,
//! so not `immutable`).
//!
//! The ICO is drawn from the same shapes as the SVG when first asked for, so the two cannot
//! drift apart and the repository holds no binary: a 32×32 true-colour bitmap with alpha,
//! the simplest image an ICO holds.

use std::sync::LazyLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use bookstore_layers::Stylesheet;

/// How long browsers may keep the favicon.
const CACHE_FOR_A_YEAR: &str = "public, max-age=31536000";

/// The pages' stylesheet, served at [`STYLESHEET_PATH`].
pub(crate) const STYLESHEET: Stylesheet = Stylesheet::new(include_str!("../templates/style.css"));

/// Where the pages' stylesheet is served: `/assets/style-<its FNV-1a hash, in hex>.css`.
pub const STYLESHEET_PATH: &str = STYLESHEET.path();

/// The favicon's side, in pixels (and SVG units).
const SIZE: usize = 32;
/// The background's corner radius.
const CORNER: f64 = 6.0;
/// Colours, `[r, g, b]`: background, left page, right page.
const BACKGROUND: [u8; 3] = [0x1d, 0x35, 0x57];
const LEFT_PAGE: [u8; 3] = [0xff, 0xff, 0xff];
const RIGHT_PAGE: [u8; 3] = [0xf4, 0xc9, 0x5d];
/// The pages: `(x, y, width, height, colour)`, an open book.
const PAGES: [(usize, usize, usize, usize, [u8; 3]); 2] =
    [(6, 8, 9, 16, LEFT_PAGE), (17, 8, 9, 16, RIGHT_PAGE)];

/// `GET /favicon.svg`.
pub(crate) async fn favicon_svg() -> impl IntoResponse {
    static SVG: LazyLock<String> = LazyLock::new(svg);
    (
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        SVG.as_str(),
    )
}

/// `GET /favicon.ico`.
pub(crate) async fn favicon_ico() -> impl IntoResponse {
    static ICO: LazyLock<Vec<u8>> = LazyLock::new(ico);
    (
        [
            (CONTENT_TYPE, "image/x-icon"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        ICO.as_slice(),
    )
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn svg() -> String {
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}"><rect width="{SIZE}" height="{SIZE}" rx="{CORNER}" fill="{}"/>"#,
        hex(BACKGROUND)
    );
    for (x, y, width, height, colour) in PAGES {
        svg += &format!(
            r#"<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="{}"/>"#,
            hex(colour)
        );
    }
    svg + "</svg>"
}

/// The colour of pixel `(x, y)` (from the top left), `None` outside the rounded corners.
fn pixel(x: usize, y: usize) -> Option<[u8; 3]> {
    let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
    let nearest = |c: f64| c.clamp(CORNER, SIZE as f64 - CORNER);
    let (dx, dy) = (cx - nearest(cx), cy - nearest(cy));
    if dx * dx + dy * dy > CORNER * CORNER {
        return None;
    }
    let page = PAGES.iter().find(|(px, py, width, height, _)| {
        (*px..px + width).contains(&x) && (*py..py + height).contains(&y)
    });
    Some(page.map_or(BACKGROUND, |page| page.4))
}

fn ico() -> Vec<u8> {
    let side = SIZE as u32;
    let pixels = side * side * 4;
    // One bit per pixel, rows padded to 32 bits: all zero, since the alpha channel says it.
    let mask = side.div_ceil(32) * 4 * side;
    let image_size = 40 + pixels + mask;
    let mut ico = Vec::with_capacity(22 + image_size as usize);
    // ICONDIR: reserved, type 1 (icon), one image.
    for field in [0u16, 1, 1] {
        ico.extend(field.to_le_bytes());
    }
    // ICONDIRENTRY: width, height, no palette, reserved, 1 plane, 32 bits, size, offset.
    ico.extend([SIZE as u8, SIZE as u8, 0, 0]);
    ico.extend(1u16.to_le_bytes());
    ico.extend(32u16.to_le_bytes());
    ico.extend(image_size.to_le_bytes());
    ico.extend(22u32.to_le_bytes());
    // BITMAPINFOHEADER: its height counts the image and its mask.
    ico.extend(40u32.to_le_bytes());
    ico.extend(side.to_le_bytes());
    ico.extend((side * 2).to_le_bytes());
    ico.extend(1u16.to_le_bytes());
    ico.extend(32u16.to_le_bytes());
    ico.extend(
        [0u32, pixels + mask, 0, 0, 0, 0]
            .iter()
            .flat_map(|n| n.to_le_bytes()),
    );
    // Rows bottom-up, pixels as blue, green, red, alpha.
    for y in (0..SIZE).rev() {
        for x in 0..SIZE {
            ico.extend(match pixel(x, y) {
                Some([r, g, b]) => [b, g, r, 0xff],
                None => [0; 4],
            });
        }
    }
    ico.resize(ico.len() + mask as usize, 0);
    ico
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ico_is_a_32_pixel_icon_of_the_svgs_shapes() {
        let ico = ico();
        assert_eq!(&ico[..6], [0, 0, 1, 0, 1, 0], "one icon");
        assert_eq!(&ico[6..8], [32, 32]);
        let size = u32::from_le_bytes(ico[14..18].try_into().unwrap()) as usize;
        assert_eq!(ico.len(), 22 + size);
        assert_eq!(ico.len(), 22 + 40 + 32 * 32 * 4 + 32 * 4);
        // The top-left corner is rounded off; the middle of the left page is white.
        assert_eq!(pixel(0, 0), None);
        assert_eq!(pixel(16, 0), Some(BACKGROUND));
        assert_eq!(pixel(10, 16), Some(LEFT_PAGE));
        assert_eq!(pixel(20, 16), Some(RIGHT_PAGE));
        // Bottom-up: the first row written is the bottom row, transparent at its corners.
        assert_eq!(&ico[62..66], [0, 0, 0, 0]);
        let middle_of_bottom_row = 62 + 16 * 4;
        assert_eq!(
            &ico[middle_of_bottom_row..middle_of_bottom_row + 4],
            [0x57, 0x35, 0x1d, 0xff]
        );
        let svg = svg();
        assert!(
            svg.starts_with("<svg xmlns=") && svg.contains(r##"fill="#f4c95d""##),
            "{svg}"
        );
    }
}
