//! A headless Chromium session through chromedriver: navigation and DOM access through
//! thirtyfour (W3C WebDriver), plus the two Chrome-specific endpoints the suite needs, the
//! browser's console log and DevTools screen emulation.

use std::time::Duration;

use serde_json::{Value, json};
use thirtyfour::common::command::FormatRequestData;
use thirtyfour::extensions::cdp::ChromeDevTools;
use thirtyfour::{By, Capabilities, RequestData, SessionId, WebDriver, WebElement};

use crate::chromedriver::Chromedriver;

/// The browser binary: `$CHROME_PATH` (as Lighthouse reads it), else Debian's chromium.
fn chrome_path() -> String {
    std::env::var("CHROME_PATH").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// How long a page may take to load, and anything a test waits for in the page.
const PAGE_WAIT: Duration = Duration::from_secs(15);

/// Resources a page loads after its `load` event (the favicon) report their failures a moment
/// later; the console is read after this pause.
const LATE_LOADS: Duration = Duration::from_millis(300);

/// One entry of the browser's console log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleEntry {
    /// `SEVERE`, `WARNING`, `INFO`, ...
    pub level: String,
    /// Where it came from: `network`, `javascript`, `security`, `console-api`, ...
    pub source: String,
    /// The message; a failed load's starts with the URL of the resource.
    pub message: String,
}

/// chromedriver's log endpoint (`POST /session/{id}/se/log`), which W3C WebDriver lacks:
/// the console entries logged since it was last read.
#[derive(Debug)]
struct ReadBrowserLog;

impl FormatRequestData for ReadBrowserLog {
    fn format_request(&self, session_id: &SessionId) -> RequestData {
        RequestData::new(http::Method::POST, format!("/session/{session_id}/se/log"))
            .add_body(json!({ "type": "browser" }))
    }
}

/// A headless Chromium, driven through its own chromedriver; both end when it is dropped.
#[derive(Debug)]
pub struct Browser {
    client: WebDriver,
    // Held for its `Drop`, which runs after the session's: it quits the browser if the
    // session is still open (a failed test) and ends chromedriver.
    _driver: Chromedriver,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with its console log on.
    pub async fn open() -> Self {
        let driver = Chromedriver::start().await;
        let capabilities: Capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_path(),
                // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    "--no-first-run",
                    "--disable-extensions",
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
            "timeouts": { "pageLoad": PAGE_WAIT.as_millis() as u64, "script": 10_000 },
        })
        .as_object()
        .expect("an object")
        .clone();
        let client = WebDriver::new(driver.url(), capabilities)
            .await
            .unwrap_or_else(|error| {
                panic!("chromedriver could not start {} ({error})", chrome_path())
            });
        Self {
            client,
            _driver: driver,
        }
    }

    /// The WebDriver client, for finding and clicking.
    pub fn client(&self) -> &WebDriver {
        &self.client
    }

    /// Loads `url` and waits for it (the `load` event).
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("cannot load {url}: {error}"));
    }

    /// The path of the page shown now, with its query, e.g. `/search?q=dune`.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the path of the page shown satisfies `predicate` and the page has loaded
    /// (after a click or a submitted form), returning it; fails the test, saying where the
    /// browser is instead, if it does not get there.
    pub async fn wait_for_path(&self, predicate: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = tokio::time::Instant::now() + PAGE_WAIT;
        loop {
            let path = self.path().await;
            if predicate(&path) && self.ready().await {
                return path;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {what}, but the browser is on {path}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the page shown has loaded; a page being replaced, whose scripts cannot run for
    /// a moment, has not.
    async fn ready(&self) -> bool {
        self.client
            .execute("return document.readyState", Vec::new())
            .await
            .is_ok_and(|state| state.json() == "complete")
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
            .json()
            .clone()
    }

    /// Every element matching the CSS `selector` (none is not an error).
    pub async fn all(&self, selector: &str) -> Vec<WebElement> {
        self.client
            .find_all(By::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("cannot search for {selector}: {error}"))
    }

    /// The one element matching `selector`; fails the test if there is none.
    pub async fn one(&self, selector: &str) -> WebElement {
        let path = self.path().await;
        self.client
            .find(By::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("{path} has no {selector}: {error}"))
    }

    /// Console entries logged since the last call, once the page's late loads had their
    /// chance to fail. Reading the log empties it.
    pub async fn console(&self) -> Vec<ConsoleEntry> {
        tokio::time::sleep(LATE_LOADS).await;
        let entries: Value = self
            .client
            .handle
            .cmd(ReadBrowserLog)
            .await
            .and_then(|response| response.value_json())
            .unwrap_or_else(|error| panic!("cannot read the browser's console log: {error}"));
        entries
            .as_array()
            .expect("the log is an array")
            .iter()
            .map(|entry| ConsoleEntry {
                level: entry["level"].as_str().unwrap_or_default().to_owned(),
                source: entry["source"].as_str().unwrap_or_default().to_owned(),
                message: entry["message"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// The `SEVERE` console entries since the last read: failed loads, CSP violations,
    /// script errors.
    pub async fn console_errors(&self) -> Vec<ConsoleEntry> {
        self.console()
            .await
            .into_iter()
            .filter(|entry| entry.level == "SEVERE")
            .collect()
    }

    /// Fails the test if the console logged an error since the last read.
    pub async fn assert_clean_console(&self, page: &str) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "console errors on {page}: {errors:#?}");
    }

    /// Lays pages out as a screen `width` CSS pixels wide would (a phone's when `mobile`, which
    /// also makes the browser honour the page's viewport `<meta>`), through DevTools.
    pub async fn emulate_screen(&self, width: u32, height: u32, mobile: bool) {
        let metrics = json!({
            "width": width,
            "height": height,
            "deviceScaleFactor": if mobile { 3 } else { 1 },
            "mobile": mobile,
        });
        ChromeDevTools::new(self.client.handle.clone())
            .execute_cdp_with_params("Emulation.setDeviceMetricsOverride", metrics)
            .await
            .unwrap_or_else(|error| panic!("cannot emulate a {width} px screen: {error}"));
    }

    /// Ends the session (the browser quits), then chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().quit().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Unless `close` ended the session, thirtyfour would end it from a background task of
        // a runtime that may be shutting down (a failed test's); chromedriver's own shutdown,
        // as `_driver` drops next, quits the browser instead.
        let _ = self.client.clone().leak();
    }
}
