//! Telemetry for every `weft` process: a `tracing` subscriber writing JSON (or pretty)
//! lines filtered by `RUST_LOG`, OTLP trace export when `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set, and the Prometheus recorder behind `/metrics`.
//!
//! The subscriber and the metrics recorder are process-global; both are installed at
//! most once, so tests that start many applications in one process share them.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Keeps the OTLP pipeline alive; dropping it flushes pending spans.
pub struct TelemetryGuard {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl std::fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("otlp", &self.provider.is_some())
            .finish()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("otlp shutdown: {err}");
        }
    }
}

/// Levels when `RUST_LOG` is unset. tantivy warns about its own benign merge races
/// ("couldn't find segment in SegmentManager") while an index is written hard, which
/// reads as trouble on a first start; its errors still show. poem's "listening" lines
/// repeat Weft's own "weft is serving".
pub const DEFAULT_LEVELS: &str = "info,tantivy=error,poem::server=warn";

/// Installs the global subscriber. `RUST_LOG` decides the levels (default
/// [`DEFAULT_LEVELS`]).
pub fn init(format: LogFormat, service_name: &str) -> TelemetryGuard {
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LEVELS));
    let fmt_layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter())
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_filter(filter())
            .boxed(),
    };

    let provider = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
        .and_then(|_| otlp_provider(service_name));
    let otel_layer = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("weft"))
            .with_filter(filter())
    });

    // A second init (another app in the same test process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(fmt_layer)
        .with(otel_layer)
        .try_init();
    TelemetryGuard { provider }
}

fn otlp_provider(service_name: &str) -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT) itself. The
    // batch processor exports from its own thread, outside tokio, hence the blocking client.
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(err) => {
            eprintln!("otlp exporter disabled: {err}");
            return None;
        }
    };
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(format!("weft-{service_name}"))
        .build();
    Some(
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    PROMETHEUS.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Suffix("duration_seconds".to_owned()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed in a test process; ours still renders
        // what is recorded through it, and the server only records through the global one.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// W3C trace context (`traceparent`) across processes: the HTTP stack continues an
/// incoming one, and the gateway, the peer client and the event bus pass theirs on, so
/// one request through a cluster is one trace.
pub mod trace_context {
    use std::collections::HashMap;

    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::TraceContextExt as _;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    pub const HEADER: &str = "traceparent";

    /// The `traceparent` of the current span, when spans are exported.
    pub fn current() -> Option<String> {
        let mut carrier = HashMap::new();
        TraceContextPropagator::new()
            .inject_context(&tracing::Span::current().context(), &mut carrier);
        carrier.remove(HEADER)
    }

    /// Makes `span` a child of the remote span `traceparent` names; an invalid value
    /// leaves it a root.
    pub fn continue_from(span: &tracing::Span, traceparent: &str) {
        let carrier = HashMap::from([(HEADER.to_owned(), traceparent.to_owned())]);
        let parent = TraceContextPropagator::new().extract(&carrier);
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
    }
}
