//! Ports nothing listens on, for a test to point a client at (to see it fail) or to hand to a
//! process that binds it itself: bound on port 0, then released, so free a moment ago.

use std::net::TcpListener;

/// A loopback (`127.0.0.1`) port nothing listens on.
pub fn free_port() -> u16 {
    free_port_on("127.0.0.1")
}

/// A port on `host` (an address or a name, e.g. `"127.0.0.2"`, `"localhost"`) nothing listens
/// on.
pub fn free_port_on(host: &str) -> u16 {
    TcpListener::bind((host, 0))
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|error| panic!("binding a port on {host}: {error}"))
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_free() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
        assert_ne!(free_port_on("localhost"), 0);
    }
}
