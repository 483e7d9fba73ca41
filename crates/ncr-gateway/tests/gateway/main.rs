//! The nCr gateway over HTTP against a real Factorial server (started in-process with
//! `factorial::run`) or a fake one that misbehaves on purpose: exact answers, every input error,
//! and every way the Factorial service can fail.
//!
//! One test binary (rather than one per file) so the suite links once.

mod answers;
mod fixtures;
mod upstream_faults;
