//! `bookstore certs` writes a usable bundle (the services' certificates, and the `admin` and
//! `loadgen` clients', each said what it is for), keeps keys private, and never replaces keys
//! without `--force`.

use std::process::Command;

fn certs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .arg("certs")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn writes_a_ca_and_one_certificate_per_service_with_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let output = certs(&["--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    for name in [
        "ca",
        "recommendations",
        "marketplace",
        "factorial",
        "ncr-gateway",
        "demo",
        "loadgen",
        "admin",
    ] {
        let cert = std::fs::read_to_string(out.join(format!("{name}.pem"))).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{name}");
        let key = out.join(format!("{name}.key"));
        assert!(
            std::fs::read_to_string(&key)
                .unwrap()
                .contains("PRIVATE KEY")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600,
                "{name}"
            );
        }
    }
    // What each client-only identity is for.
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.lines().any(|line| line
            .trim_start()
            .starts_with("admin: may write the catalog under mutual TLS")),
        "{said}"
    );
    assert!(
        said.lines()
            .any(|line| line.trim_start().starts_with("loadgen: ")),
        "{said}"
    );
    let ca_before = std::fs::read(out.join("ca.key")).unwrap();
    let again = certs(&["--out", out.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists; pass --force"));
    assert_eq!(
        std::fs::read(out.join("ca.key")).unwrap(),
        ca_before,
        "nothing replaced"
    );
    let forced = certs(&["--out", out.to_str().unwrap(), "--force"]);
    assert!(forced.status.success());
    assert_ne!(
        std::fs::read(out.join("ca.key")).unwrap(),
        ca_before,
        "--force replaces"
    );
}
