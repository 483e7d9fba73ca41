//! 64-bit FNV-1a: tiny, `const`, and the same on every platform and Rust release (unlike
//! `std`'s `DefaultHasher`). What is derived from it — a stylesheet's URL (`stylesheet`), the
//! marketplace's book covers — therefore never changes under an upgrade. Written out (a dozen
//! lines) rather than taken from the `fnv` crate, whose hasher is not `const`.

/// The hash of no bytes (FNV's offset basis).
pub const EMPTY: u64 = 0xcbf2_9ce4_8422_2325;

/// The hash of some bytes, extended with `bytes`.
pub const fn extend(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut at = 0;
    while at < bytes.len() {
        hash = (hash ^ bytes[at] as u64).wrapping_mul(0x0100_0000_01b3);
        at += 1;
    }
    hash
}

/// The hash of `bytes`.
pub const fn hash(bytes: &[u8]) -> u64 {
    extend(EMPTY, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_fnv_1a() {
        // The published test vectors.
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(extend(hash(b"foo"), b"bar"), hash(b"foobar"));
    }
}
