//! The nCr gateway over HTTP against a real Factorial server (started in-process with
//! `factorial::run`) or a fake one that misbehaves on purpose: exact answers, every input error,
//! every way the Factorial service can fail, the pages for people, and answers that echo no
//! markup and carry the security headers.
//!
//! One test binary (rather than one per file) so the suite links once.

mod answers;
mod fixtures;
mod hygiene;
mod pages;
mod properties;
mod upstream_faults;
