//! The Online Books For You API contract, generated from the `.proto` files in `proto/`.
//!
//! Versioned APIs live under `<domain>::v1`; the tutorials' original, unpackaged contracts live
//! under [`legacy`] and are served side by side with v1 so that clients written against the
//! tutorials keep working. [`FILE_DESCRIPTOR_SET`] describes every file, for server reflection and
//! for middleware that needs to know each method's RPC shape.

/// The encoded `google.protobuf.FileDescriptorSet` of every proto file in the workspace.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));

/// The tutorials' original contracts, frozen and wire-compatible.
pub mod legacy {
    /// `recommendations.proto` and `fact.proto`: both declare no package, so protobuf puts them in
    /// one namespace (`Recommendations`, `Factorial`, `BookCategory`, `Number`, ...).
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod root {
        include!(concat!(env!("OUT_DIR"), "/_.rs"));
    }
    pub use root::*;

    /// `unary.proto`, package `unary`.
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod unary {
        include!(concat!(env!("OUT_DIR"), "/unary.rs"));
    }

    /// `bidirectional.proto`, package `bidirectional`.
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod bidirectional {
        include!(concat!(env!("OUT_DIR"), "/bidirectional.rs"));
    }
}

/// `bookstore.recommendations.*`
pub mod recommendations {
    /// `bookstore.recommendations.v1`
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bookstore.recommendations.v1.rs"));
    }
}

/// `bookstore.factorial.*`
pub mod factorial {
    /// `bookstore.factorial.v1`
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bookstore.factorial.v1.rs"));
    }
}

/// `bookstore.demo.*`: the server- and client-streaming examples.
pub mod demo {
    /// `bookstore.demo.v1`
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bookstore.demo.v1.rs"));
    }
}

/// `bookstore.testing.*`: the middleware test harness's dummy service.
pub mod testing {
    /// `bookstore.testing.v1`
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bookstore.testing.v1.rs"));
    }
}
