//! Prometheus metrics (`/metrics`, text exposition format) with the
//! official `prometheus-client` crate.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of the auth event counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    /// `login`, `register`, `refresh`, `logout`, `verify`, `me`.
    pub event: &'static str,
    /// `ok` or the error code.
    pub result: &'static str,
}

/// Labels of the HTTP counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Status class: `2xx`, `4xx`, …
    pub class: &'static str,
}

/// authjar's metrics.
pub struct Metrics {
    registry: Registry,
    events: Family<EventLabels, Counter>,
    /// The HTTP counter's series, one per status class, looked up once:
    /// every response counts, and a lookup in the family takes its lock.
    http_classes: [Counter; 5],
}

/// The status classes, in the order of `Metrics::http_classes`.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("authjar");
        let events = Family::<EventLabels, Counter>::default();
        let http = Family::<HttpLabels, Counter>::default();
        registry.register("auth_events", "Auth operations by outcome", events.clone());
        registry.register(
            "http_responses",
            "HTTP responses by status class",
            http.clone(),
        );
        let http_classes = CLASSES.map(|class| http.get_or_create(&HttpLabels { class }).clone());
        Metrics {
            registry,
            events,
            http_classes,
        }
    }
}

impl Metrics {
    /// Counts one auth event.
    pub fn event(&self, event: &'static str, result: &'static str) {
        self.events
            .get_or_create(&EventLabels { event, result })
            .inc();
    }

    /// Counts one HTTP response.
    pub fn response(&self, status: u16) {
        let class = match status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            _ => 4,
        };
        self.http_classes[class].inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
