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

/// `bookstore.catalog.*`: reading and managing the catalog's books.
pub mod catalog {
    /// `bookstore.catalog.v1`
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bookstore.catalog.v1.rs"));
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

/// `grpc.testing`: gRPC's interop test service and messages (`proto/third_party`), served and
/// called by the `interop` crate.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod grpc_testing {
    include!(concat!(env!("OUT_DIR"), "/grpc.testing.rs"));
}

/// `bookstore.testing.*`: the middleware test harness's dummy service.
pub mod testing {
    /// `bookstore.testing.v1`
    #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bookstore.testing.v1.rs"));
    }
}

/// A generated gRPC server whose limit on decoded request messages can be set, so that a server
/// builder can apply its configured limit to every service it is given. (tonic's default limit,
/// 4 MiB, would otherwise apply silently to any service whose author forgot to lift it.)
///
/// Implemented for every server generated here; a new service gets a line in the list below,
/// or the platform's `GrpcServer::add_service` refuses it at compile time.
pub trait DecodingLimit {
    /// This server, accepting request messages of up to `bytes` bytes.
    #[must_use]
    fn with_decoding_limit(self, bytes: usize) -> Self;
}

/// `impl DecodingLimit` for generated servers, each given as `module => Server: ServiceTrait`.
macro_rules! decoding_limit {
    ($($($module:ident)::+ => $server:ident: $service:ident),* $(,)?) => {$(
        impl<T: $($module)::+::$service> DecodingLimit for $($module)::+::$server<T> {
            fn with_decoding_limit(self, bytes: usize) -> Self {
                self.max_decoding_message_size(bytes)
            }
        }
    )*};
}

decoding_limit! {
    legacy::root::recommendations_server => RecommendationsServer: Recommendations,
    legacy::root::factorial_server => FactorialServer: Factorial,
    legacy::unary::unary_server => UnaryServer: Unary,
    legacy::bidirectional::bidirectional_server => BidirectionalServer: Bidirectional,
    recommendations::v1::recommendations_service_server
        => RecommendationsServiceServer: RecommendationsService,
    catalog::v1::catalog_service_server => CatalogServiceServer: CatalogService,
    factorial::v1::factorial_service_server => FactorialServiceServer: FactorialService,
    demo::v1::demo_service_server => DemoServiceServer: DemoService,
    testing::v1::dummy_service_server => DummyServiceServer: DummyService,
    grpc_testing::test_service_server => TestServiceServer: TestService,
}
