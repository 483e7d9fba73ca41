//! chromedriver as a child process: started on a free port (it picks one itself with
//! `--port=0` and says which), and stopped with the browsers it started when dropped, also
//! when a test panics.
//!
//! It stays in the test's process group, as do the browsers it starts (chromedriver starts
//! Chromium in its own group), so a signal to the run's group ends them too: a Ctrl+C, or the
//! `timeout` that bounds `tests/browser/run.sh` in `.ci/run` (the script has no timeout of its
//! own, which would move cargo and everything under it into a group of its own).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The chromedriver binary: `$CHROMEDRIVER`, else `chromedriver` on `PATH` (Debian's
/// `chromium-driver` package installs `/usr/bin/chromedriver`).
fn binary() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned())
}

/// How long chromedriver may take to say it is listening.
const STARTUP: Duration = Duration::from_secs(20);

/// How long chromedriver may take to quit its browsers when told to shut down.
const SHUTDOWN: Duration = Duration::from_secs(5);

/// A running chromedriver; dropping it quits its browsers and ends it.
#[derive(Debug)]
pub struct Chromedriver {
    child: Child,
    addr: SocketAddr,
    url: String,
}

impl Chromedriver {
    /// Starts chromedriver on a free loopback port and waits until it listens. Panics, saying
    /// what to install, when it is not there: a browser suite that cannot run must fail.
    pub async fn start() -> Self {
        let binary = binary();
        let mut child = Command::new(&binary)
            .args(["--port=0", "--allowed-ips=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {binary:?} ({error}): the browser tests need chromium and \
                     chromium-driver (tests/browser/run.sh installs them)"
                )
            });
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(STARTUP, async {
            while let Some(line) = lines.next_line().await.expect("read chromedriver's output") {
                // "ChromeDriver was started successfully on port 35645."
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    return rest.trim_end_matches('.').parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{binary} did not report a port within {STARTUP:?}"));
        // Keep reading what it prints, so a full pipe can never stall it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        Self {
            child,
            addr,
            url: format!("http://{addr}"),
        }
    }

    /// Where WebDriver clients connect, e.g. `http://127.0.0.1:35645`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks chromedriver to quit every browser it started and exit (its `/shutdown`), and
    /// waits for its answer. Blocking: it runs in `drop`, where nothing can be awaited.
    fn shut_down(&self) -> std::io::Result<()> {
        let mut stream = TcpStream::connect_timeout(&self.addr, SHUTDOWN)?;
        stream.set_read_timeout(Some(SHUTDOWN))?;
        stream.set_write_timeout(Some(SHUTDOWN))?;
        stream
            .write_all(b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).map(drop)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // Killing chromedriver alone would leave its browsers running: they quit first.
        if let Err(error) = self.shut_down() {
            eprintln!("chromedriver at {} did not shut down: {error}", self.url);
        }
        let _ = self.child.start_kill();
    }
}
