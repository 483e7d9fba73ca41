//! Counters by served method for the layers that count what they did to calls — the calls the
//! load shedder refused, the faults the fault injector made — resolved once at start-up, so
//! counting costs a table lookup and an atomic, never a label set built per call.
//!
//! Health checks and reflection have no counters here: no layer that counts into these ever
//! touches them (see [`is_health_or_reflection`]).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::methods::{MethodInfo, MethodTable};

/// The path prefix of health checks.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";
/// The path prefix of both reflection services (`v1` and `v1alpha`).
const REFLECTION_PREFIX: &str = "/grpc.reflection.";

/// Whether `path` is a health check or a reflection call: what probes, load balancers and
/// `grpcurl` need to keep working whatever else the server refuses or breaks on purpose.
pub(crate) fn is_health_or_reflection(path: &str) -> bool {
    path.starts_with(HEALTH_PREFIX) || path.starts_with(REFLECTION_PREFIX)
}

/// A `T` (a counter, or a few) per served method, and one for paths no method serves.
#[derive(Clone, Debug)]
pub(crate) struct MethodCounters<T> {
    by_path: Arc<FxHashMap<Box<str>, T>>,
    unknown: Arc<T>,
}

impl<T> MethodCounters<T> {
    /// `make(method)` for every method of `methods` but health and reflection, and for
    /// [`MethodInfo::unknown`].
    pub(crate) fn new(methods: &MethodTable, make: impl Fn(&MethodInfo) -> T) -> Self {
        let by_path = methods
            .iter()
            .filter(|(path, _)| !is_health_or_reflection(path))
            .map(|(path, info)| (path.into(), make(info)))
            .collect();
        Self {
            by_path: Arc::new(by_path),
            unknown: Arc::new(make(&MethodInfo::unknown())),
        }
    }

    /// The counters of the method at `path`, or those of `unknown`.
    pub(crate) fn get(&self, path: &str) -> &T {
        self.by_path.get(path).unwrap_or(&self.unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_reflection_are_told_apart_from_services() {
        assert!(is_health_or_reflection("/grpc.health.v1.Health/Check"));
        assert!(is_health_or_reflection("/grpc.health.v1.Health/Watch"));
        assert!(is_health_or_reflection(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(is_health_or_reflection(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!is_health_or_reflection("/Recommendations/Recommend"));
        assert!(!is_health_or_reflection(
            "/bookstore.testing.v1.DummyService/Execute"
        ));
    }

    #[test]
    fn every_service_method_has_its_own_and_the_rest_share_unknown() {
        let counters = MethodCounters::new(&MethodTable::standard(), |info| {
            format!("{}/{}", info.service, info.method)
        });
        assert_eq!(
            counters.get("/Recommendations/Recommend"),
            "Recommendations/Recommend"
        );
        assert_eq!(counters.get("/nope/Nope"), "unknown/unknown");
        assert_eq!(
            counters.get("/grpc.health.v1.Health/Check"),
            "unknown/unknown"
        );
    }
}
