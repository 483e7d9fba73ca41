//! Which RPC methods exist and what shape each has, read from protobuf descriptors.
//!
//! Tower layers see only an HTTP/2 path such as `/bookstore.recommendations.v1.RecommendationsService/Recommend`;
//! the `grpc_type` metric label (unary, client_stream, server_stream, bidi_stream) needs the
//! method's streaming flags, which only the descriptors know. Unknown paths are reported under a
//! single `unknown` label so a client probing random paths cannot blow up metric cardinality.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use prost::Message as _;
use prost_types::FileDescriptorSet;
use prost_types::method_options::IdempotencyLevel;

/// The four shapes of gRPC call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpcKind {
    /// One request, one response.
    Unary,
    /// A stream of requests, one response.
    ClientStream,
    /// One request, a stream of responses.
    ServerStream,
    /// Streams both ways.
    BidiStream,
}

impl RpcKind {
    fn from_flags(client_streaming: bool, server_streaming: bool) -> Self {
        match (client_streaming, server_streaming) {
            (false, false) => Self::Unary,
            (true, false) => Self::ClientStream,
            (false, true) => Self::ServerStream,
            (true, true) => Self::BidiStream,
        }
    }

    /// The label value used by the grpc-ecosystem Prometheus convention.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unary => "unary",
            Self::ClientStream => "client_stream",
            Self::ServerStream => "server_stream",
            Self::BidiStream => "bidi_stream",
        }
    }
}

/// A known RPC method.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MethodInfo {
    /// Fully qualified service name, e.g. `bookstore.recommendations.v1.RecommendationsService`.
    pub service: Arc<str>,
    /// Method name, e.g. `Recommend`.
    pub method: Arc<str>,
    /// The call's shape.
    pub kind: RpcKind,
}

impl MethodInfo {
    /// The info reported for a path no descriptor knows.
    pub fn unknown() -> Self {
        Self {
            service: "unknown".into(),
            method: "unknown".into(),
            kind: RpcKind::Unary,
        }
    }
}

/// Every method of a set of descriptor sets, by HTTP/2 path.
#[derive(Clone, Debug, Default)]
pub struct MethodTable {
    by_path: HashMap<String, MethodInfo>,
    /// The paths of methods the protos mark `idempotency_level = NO_SIDE_EFFECTS` or
    /// `IDEMPOTENT`: calls a client may send again.
    idempotent: HashSet<String>,
}

impl MethodTable {
    /// Builds the table from encoded `FileDescriptorSet`s.
    pub fn from_encoded_sets(sets: &[&[u8]]) -> Result<Self, prost::DecodeError> {
        let mut by_path = HashMap::new();
        let mut idempotent = HashSet::new();
        for encoded in sets {
            let set = FileDescriptorSet::decode(*encoded)?;
            for file in &set.file {
                let package = file.package();
                for service in &file.service {
                    let service_name: Arc<str> = if package.is_empty() {
                        service.name().into()
                    } else {
                        format!("{package}.{}", service.name()).into()
                    };
                    for method in &service.method {
                        let info = MethodInfo {
                            service: service_name.clone(),
                            method: method.name().into(),
                            kind: RpcKind::from_flags(
                                method.client_streaming(),
                                method.server_streaming(),
                            ),
                        };
                        let path = format!("/{service_name}/{}", method.name());
                        let level = method.options.as_ref().map(|o| o.idempotency_level());
                        if level.is_some_and(|level| level != IdempotencyLevel::IdempotencyUnknown)
                        {
                            idempotent.insert(path.clone());
                        }
                        by_path.insert(path, info);
                    }
                }
            }
        }
        Ok(Self {
            by_path,
            idempotent,
        })
    }

    /// The table of every API in this workspace plus health and reflection.
    pub fn standard() -> Self {
        Self::from_encoded_sets(&[
            bookstore_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ])
        .expect("descriptor sets compiled into the binary are valid")
    }

    /// The same table keeping only the methods of the named services.
    pub fn retain_services(mut self, services: &[&str]) -> Self {
        self.by_path
            .retain(|_, info| services.contains(&&*info.service));
        let by_path = &self.by_path;
        self.idempotent.retain(|path| by_path.contains_key(path));
        self
    }

    /// Whether the protos say calling the method at `path` twice does no more than calling it
    /// once (`option idempotency_level`), so a client may retry or hedge it.
    pub fn is_idempotent(&self, path: &str) -> bool {
        self.idempotent.contains(path)
    }

    /// The method served at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&MethodInfo> {
        self.by_path.get(path)
    }

    /// Every `(path, method)` pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &MethodInfo)> {
        self.by_path
            .iter()
            .map(|(path, info)| (path.as_str(), info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_shape_and_the_unpackaged_legacy_service() {
        let table = MethodTable::standard();
        let shape = |path: &str| table.get(path).map(|m| m.kind);
        assert_eq!(shape("/Recommendations/Recommend"), Some(RpcKind::Unary));
        assert_eq!(
            shape("/bookstore.testing.v1.DummyService/ExecuteClientStream"),
            Some(RpcKind::ClientStream)
        );
        assert_eq!(
            shape("/bookstore.testing.v1.DummyService/ExecuteServerStream"),
            Some(RpcKind::ServerStream)
        );
        assert_eq!(
            shape("/bookstore.testing.v1.DummyService/ExecuteBidiStream"),
            Some(RpcKind::BidiStream)
        );
        assert_eq!(
            shape("/grpc.health.v1.Health/Watch"),
            Some(RpcKind::ServerStream)
        );
        assert_eq!(shape("/nope/Nope"), None);
        let legacy = table.get("/Recommendations/Recommend").unwrap();
        assert_eq!(&*legacy.service, "Recommendations");
    }

    #[test]
    fn knows_which_methods_the_protos_mark_idempotent() {
        let table = MethodTable::standard();
        for path in [
            "/bookstore.recommendations.v1.RecommendationsService/Recommend",
            "/bookstore.recommendations.v1.RecommendationsService/GetBook",
            "/bookstore.recommendations.v1.RecommendationsService/SearchBooks",
            "/bookstore.recommendations.v1.RecommendationsService/ListCategories",
            "/bookstore.factorial.v1.FactorialService/Factorial",
            "/bookstore.testing.v1.DummyService/Execute",
        ] {
            assert!(table.is_idempotent(path), "{path}");
        }
        for path in [
            // The tutorial's protos stay as the tutorial wrote them.
            "/Recommendations/Recommend",
            "/bookstore.testing.v1.DummyService/ExecuteClientStream",
            "/grpc.testing.TestService/UnaryCall",
            "/nope/Nope",
        ] {
            assert!(!table.is_idempotent(path), "{path}");
        }
        let kept = table.retain_services(&["bookstore.factorial.v1.FactorialService"]);
        assert!(kept.is_idempotent("/bookstore.factorial.v1.FactorialService/Factorial"));
        assert!(!kept.is_idempotent("/bookstore.testing.v1.DummyService/Execute"));
    }
}
