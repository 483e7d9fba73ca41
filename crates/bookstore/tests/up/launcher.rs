//! Starting `bookstore up` as a child process, signalling it, and waiting for its banner,
//! its homepage and its exit. Every launch keeps its catalog in a data directory of its own
//! (deleted with it) unless told otherwise, never in the developer's.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const HOST: &str = "127.0.0.3";

/// A running `bookstore up`, killed when dropped, and the data directory it was given (if this
/// module made one), deleted after it.
pub(crate) struct Launcher(pub(crate) Child, pub(crate) Option<tempfile::TempDir>);

/// `bookstore up` with the variables a developer's shell could steer it with cleared, and a
/// data directory of its own (returned: it lives as long as the launch needs it). A
/// `--data-dir` flag among the arguments takes precedence.
pub(crate) fn up_command(host: &str) -> (Command, tempfile::TempDir) {
    let data = tempfile::Builder::new()
        .prefix("bookstore-up-data-")
        .tempdir()
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_bookstore"));
    command
        .args(["up", "--host", host])
        .env_remove("DATABASE_URL")
        .env("BOOKSTORE_DATA_DIR", data.path());
    (command, data)
}

impl Drop for Launcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        // Only once the process is gone: it may still be writing there.
        drop(self.1.take());
    }
}

pub(crate) fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub(crate) fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `bookstore up` on `host` with `extra` flags; returns it and its banner once it is up.
pub(crate) fn launch(
    host: &str,
    extra: &[&str],
) -> (Launcher, BufReader<std::process::ChildStdout>, String) {
    launch_with(host, extra, &[])
}

/// [`launch`] with variables set.
pub(crate) fn launch_with(
    host: &str,
    extra: &[&str],
    variables: &[(&str, &str)],
) -> (Launcher, BufReader<std::process::ChildStdout>, String) {
    let (mut command, data) = up_command(host);
    let child = command
        .args(extra)
        .envs(variables.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut launcher = Launcher(child, Some(data));
    let mut stdout = BufReader::new(launcher.0.stdout.take().unwrap());
    let mut banner = String::new();
    while !banner.contains("Press Ctrl+C") {
        assert!(
            stdout.read_line(&mut banner).unwrap() > 0,
            "launcher exited early: {banner}"
        );
    }
    (launcher, stdout, banner)
}

/// The homepage once it shows three recommendations (the services start side by side).
pub(crate) async fn homepage_with_recommendations(url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = reqwest::get(url).await
            && response.status() == 200
        {
            let html = response.text().await.unwrap();
            if html.matches("<li>").count() == 3 {
                return html;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the homepage never showed recommendations"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
