//! The endpoints of one upstream, and which one an attempt goes to.
//!
//! A [`Pool`] holds one lazily connected tonic `Channel` per endpoint: the upstream's own
//! address, or — when load balancing — each address its name resolves to and answers probes
//! (`balance` keeps the set current). [`Pool::pick`] chooses by the power of two choices
//! (two endpoints at random, the one with fewer calls in flight), the policy tower's and
//! tonic's balancers use, with what they cannot do: it skips endpoints ejected as outliers
//! (`outlier`) and endpoints this call has already tried, so a retry or a hedge goes
//! elsewhere. A hedge goes only to an untried endpoint in service, or not at all (a second
//! attempt on the same connection saves nothing); a first attempt or a retry always gets an
//! endpoint while the pool has one — preferring, in turn, an untried one in service, a tried
//! one in service, and the ejected one due back first.
//!
//! Each server thread of a web app has its own pool (its own connections, on its own runtime),
//! but an endpoint's failure record is the process's: [`Outliers`] holds one per address,
//! shared by every pool of the upstream, so an endpoint found failing on one thread is out on
//! all of them, and ejections are decided under one lock, so two endpoints failing at once
//! cannot both leave as "not the last one".

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use rand::Rng as _;
use tokio::time::Instant;
use tonic::transport::Channel;

use crate::outlier::{EjectionPolicy, Outlier};

/// One endpoint: its connection, its calls in flight, its failure record.
#[derive(Debug)]
pub(crate) struct Member {
    /// The address calls go to, or `None` for the upstream's own host name.
    pub(crate) addr: Option<SocketAddr>,
    /// The lazily connected channel to it.
    pub(crate) channel: Channel,
    in_flight: AtomicUsize,
    outlier: Arc<Outlier>,
}

/// The failure records of one upstream's endpoints, by address (`None`: the upstream's own
/// host name), shared by every pool of the upstream in the process.
#[derive(Debug, Default)]
pub(crate) struct Outliers {
    by_endpoint: Mutex<HashMap<Option<SocketAddr>, Arc<Outlier>>>,
    /// Held while an ejection is decided and put in place.
    ejecting: Mutex<()>,
}

impl Outliers {
    fn of(&self, addr: Option<SocketAddr>) -> Arc<Outlier> {
        let mut by_endpoint = self
            .by_endpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        by_endpoint.entry(addr).or_default().clone()
    }
}

/// Counts an attempt as in flight on its endpoint until dropped.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Member>);

impl InFlight {
    pub(crate) fn new(member: Arc<Member>) -> Self {
        member.in_flight.fetch_add(1, Relaxed);
        Self(member)
    }

    pub(crate) fn member(&self) -> &Arc<Member> {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// How an attempt went, for its endpoint's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Health {
    /// Answered (an error the service meant counts: the endpoint works).
    Answered,
    /// No answer, `UNAVAILABLE`, or a shed call.
    Failed,
    /// Outrun by a later hedge: a failure at most once per this window (the hedging delay).
    Outrun(Duration),
}

/// What an attempt is, for [`Pool::pick`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The first attempt, or a retry: it needs an endpoint, whichever.
    FirstOrRetry,
    /// A hedge: worth sending only to an untried endpoint in service.
    Hedge,
}

/// The endpoints of one upstream.
#[derive(Debug)]
pub(crate) struct Pool {
    /// The upstream's name, for logs.
    upstream: String,
    members: RwLock<Arc<[Arc<Member>]>>,
    outliers: Arc<Outliers>,
    ejection: EjectionPolicy,
    ejections: Counter,
    epoch: Instant,
}

impl Pool {
    /// An empty pool for `upstream`, its endpoints' records in `outliers`, ejecting by
    /// `ejection`, counting ejections in `ejections`.
    pub(crate) fn new(
        upstream: String,
        outliers: Arc<Outliers>,
        ejection: EjectionPolicy,
        ejections: Counter,
    ) -> Self {
        Self {
            upstream,
            members: RwLock::new(Arc::from([])),
            outliers,
            ejection,
            ejections,
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since the pool was made: the clock of ejections and latency windows.
    pub(crate) fn now(&self) -> u64 {
        self.nanos(Instant::now())
    }

    /// `instant` on the pool's clock.
    pub(crate) fn nanos(&self, instant: Instant) -> u64 {
        let since = instant.saturating_duration_since(self.epoch);
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    }

    fn members(&self) -> Arc<[Arc<Member>]> {
        self.members
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Adds the endpoint at `addr` (`None`: the upstream's own name), reached through `channel`.
    pub(crate) fn insert(&self, addr: Option<SocketAddr>, channel: Channel) {
        let member = Arc::new(Member {
            addr,
            channel,
            in_flight: AtomicUsize::new(0),
            outlier: self.outliers.of(addr),
        });
        let mut members = self.members.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = members.to_vec();
        next.push(member);
        *members = next.into();
    }

    /// Removes the endpoint at `addr` (calls in flight on it finish on their own).
    pub(crate) fn remove(&self, addr: SocketAddr) {
        let mut members = self.members.write().unwrap_or_else(PoisonError::into_inner);
        let next: Vec<_> = members
            .iter()
            .filter(|member| member.addr != Some(addr))
            .cloned()
            .collect();
        *members = next.into();
    }

    /// Whether the pool has more than one endpoint (somewhere else for a hedge to go).
    pub(crate) fn has_alternatives(&self) -> bool {
        self.members
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
            > 1
    }

    /// The endpoint for an attempt of a call that has already tried `tried`; `None` if the
    /// pool is empty, or for a hedge that has nowhere new to go.
    pub(crate) fn pick(&self, tried: &[Arc<Member>], attempt: Attempt) -> Option<Arc<Member>> {
        let members = self.members();
        let untried = |member: &&Arc<Member>| !tried.iter().any(|t| Arc::ptr_eq(t, member));
        if members.len() <= 1 && attempt == Attempt::FirstOrRetry {
            return members.first().cloned();
        }
        let now = self.now();
        let in_service = |member: &&Arc<Member>| !member.outlier.is_ejected(now);
        let ready: Vec<&Arc<Member>> = members.iter().filter(untried).filter(in_service).collect();
        if !ready.is_empty() {
            return Some(power_of_two_choices(&ready).clone());
        }
        if attempt == Attempt::Hedge {
            return None;
        }
        // Every endpoint in service has been tried: the least loaded of them, else the
        // ejected one due back first.
        least_loaded(members.iter().filter(in_service))
            .or_else(|| {
                members
                    .iter()
                    .min_by_key(|member| member.outlier.ejected_until())
            })
            .cloned()
    }

    /// Records how an attempt on `member` went; ejects it if it has failed too often and is
    /// not the last endpoint in service.
    pub(crate) fn record(&self, member: &Member, health: Health) {
        let now = self.now();
        match health {
            Health::Answered => member.outlier.succeeded(now, &self.ejection),
            Health::Outrun(window) if !member.outlier.outrun_counts(now, window) => {}
            Health::Failed | Health::Outrun(_) => self.failed(member, now),
        }
    }

    fn failed(&self, member: &Member, now: u64) {
        let may_eject = || {
            let decided = self
                .outliers
                .ejecting
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let others_serving = self
                .members()
                .iter()
                .any(|other| !std::ptr::eq(&**other, member) && !other.outlier.is_ejected(now));
            others_serving.then_some(decided)
        };
        if let Some(length) = member.outlier.failed(now, &self.ejection, may_eject) {
            self.ejections.inc();
            tracing::warn!(
                upstream = %self.upstream,
                endpoint = %member.addr.map_or_else(|| self.upstream.clone(), |a| a.to_string()),
                ejected_for_ms = length.as_millis() as u64,
                "upstream endpoint ejected after consecutive failures"
            );
        }
    }
}

fn least_loaded<'a>(members: impl Iterator<Item = &'a Arc<Member>>) -> Option<&'a Arc<Member>> {
    members.min_by_key(|member| member.in_flight.load(Relaxed))
}

/// Two distinct endpoints at random; the one with fewer calls in flight.
fn power_of_two_choices<'a>(ready: &[&'a Arc<Member>]) -> &'a Arc<Member> {
    if ready.len() == 1 {
        return ready[0];
    }
    let mut rng = rand::rng();
    let first = rng.random_range(0..ready.len());
    let second = (first + rng.random_range(1..ready.len())) % ready.len();
    let (a, b) = (ready[first], ready[second]);
    if b.in_flight.load(Relaxed) < a.in_flight.load(Relaxed) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tonic::transport::Endpoint;

    use super::*;

    fn pool_of(count: u16) -> (Pool, Vec<Arc<Member>>) {
        let pool = Pool::new(
            "recs".into(),
            Arc::default(),
            EjectionPolicy {
                after_failures: 2,
                base: Duration::from_secs(60),
                max: Duration::from_secs(60),
            },
            Counter::default(),
        );
        for port in 1..=count {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let channel = Endpoint::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect_lazy();
            pool.insert(Some(addr), channel);
        }
        let members = pool.members().to_vec();
        (pool, members)
    }

    fn fail_twice(pool: &Pool, member: &Member) {
        pool.record(member, Health::Failed);
        pool.record(member, Health::Failed);
    }

    #[tokio::test]
    async fn picks_the_less_loaded_of_two_and_never_what_the_call_tried() {
        let (pool, members) = pool_of(2);
        let _busy = InFlight::new(members[0].clone());
        for _ in 0..20 {
            assert!(Arc::ptr_eq(
                &pool.pick(&[], Attempt::FirstOrRetry).unwrap(),
                &members[1]
            ));
        }
        let (pool, members) = pool_of(3);
        for _ in 0..50 {
            let picked = pool
                .pick(std::slice::from_ref(&members[2]), Attempt::FirstOrRetry)
                .unwrap();
            assert!(!Arc::ptr_eq(&picked, &members[2]), "a retry goes elsewhere");
        }
        // Having tried them all, a call may go back to one.
        assert!(pool.pick(&members, Attempt::FirstOrRetry).is_some());
    }

    #[tokio::test]
    async fn an_ejected_endpoint_gets_no_calls_but_the_last_one_is_never_ejected() {
        let (pool, members) = pool_of(3);
        fail_twice(&pool, &members[0]);
        assert_eq!(pool.ejections.get(), 1);
        for _ in 0..50 {
            assert!(!Arc::ptr_eq(
                &pool.pick(&[], Attempt::FirstOrRetry).unwrap(),
                &members[0]
            ));
        }
        fail_twice(&pool, &members[1]);
        fail_twice(&pool, &members[2]);
        assert_eq!(
            pool.ejections.get(),
            2,
            "the last endpoint in service stays"
        );
        for _ in 0..20 {
            assert!(Arc::ptr_eq(
                &pool.pick(&[], Attempt::FirstOrRetry).unwrap(),
                &members[2]
            ));
        }
        // Only ejected endpoints left untried: the call still goes somewhere.
        assert!(
            pool.pick(std::slice::from_ref(&members[2]), Attempt::FirstOrRetry)
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_removed_endpoint_gets_no_calls_and_an_empty_pool_none() {
        let (pool, members) = pool_of(2);
        pool.remove(members[0].addr.unwrap());
        for _ in 0..20 {
            assert!(Arc::ptr_eq(
                &pool.pick(&[], Attempt::FirstOrRetry).unwrap(),
                &members[1]
            ));
        }
        pool.remove(members[1].addr.unwrap());
        assert!(pool.pick(&[], Attempt::FirstOrRetry).is_none());
    }
}
