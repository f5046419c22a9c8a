//! Logging (tracing) and metrics (Prometheus text at `/metrics`).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogSettings;

/// Installs the global tracing subscriber (once per process; later calls do nothing). The
/// log goes to standard error; standard output is for what a command prints (the server's
/// banner, the import's report, a new token).
pub fn init_logging(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let layer = fmt::layer().with_writer(std::io::stderr);
    let result = if settings.json {
        registry.with(layer.json()).try_init()
    } else {
        registry.with(layer).try_init()
    };
    // A second init (tests start many apps in one process) keeps the first subscriber.
    drop(result);
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then ours simply stays empty.
            drop(metrics::set_global_recorder(recorder));
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "bulletin_http_requests_total",
        "HTTP requests answered, by method and status"
    );
    metrics::describe_counter!(
        "bulletin_messages_sent_total",
        "Messages accepted by the transport, by kind"
    );
    metrics::describe_counter!(
        "bulletin_messages_deferred_total",
        "Temporary send failures, by kind"
    );
    metrics::describe_counter!(
        "bulletin_messages_failed_total",
        "Messages given up, by kind"
    );
    metrics::describe_counter!(
        "bulletin_messages_suppressed_total",
        "Messages not sent to ineligible recipients, by kind"
    );
    metrics::describe_counter!("bulletin_signups_total", "Signup form submissions accepted");
}
