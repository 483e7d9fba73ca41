//! The storefront in a real browser: headless Chromium driven through chromedriver (W3C
//! WebDriver, by [thirtyfour](https://docs.rs/thirtyfour)) against the Marketplace and
//! Recommendations running in the test's process.
//!
//! The tests (`tests/storefront.rs`) need `chromium` and `chromium-driver`, so they are
//! `#[ignore]`d in a plain `cargo test --workspace`; `tests/browser/run.sh` installs both when
//! they are missing and runs them with `--ignored`. Without a browser they fail, never pass.
//!
//! - [`Chromedriver`]: the driver process, on a port it picks; dropped, it quits its browsers
//!   and exits (a panicking test leaves nothing behind);
//! - [`Browser`]: one headless session, with its console log and DevTools screen emulation;
//! - [`page`]: what every storefront page must be (the shared frame with one `<h1>`, a layout
//!   that fits its screen, the site's look);
//! - [`Storefront`]: the system under test, on free loopback ports.

mod browser;
mod chromedriver;
pub mod page;
mod system;

pub use browser::{Browser, ConsoleEntry};
pub use chromedriver::Chromedriver;
pub use system::Storefront;
