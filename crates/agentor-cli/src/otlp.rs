//! OTLP export of `serve`'s spans and metrics (the `otlp` feature): a
//! `tracing-opentelemetry` layer over an OpenTelemetry tracer whose batch
//! exporter posts protobuf over HTTP, and a meter whose periodic reader
//! posts the metrics the server records (through [`OtelRecorder`], fanned
//! out beside the Prometheus recorder), both to the collector that the
//! standard `OTEL_EXPORTER_OTLP_*` variables name.
//!
//! It lives in the command line, not in a library: the binary owns the
//! process's subscriber and recorder, and an application embedding the
//! server composes its own. The HTTP client is the workspace's reqwest (no
//! second HTTP stack, no gRPC); its requests run on the server's tokio
//! runtime, while the SDK's batch processor and periodic reader wait for
//! them on their own threads, so a slow collector never holds up a request
//! handler.

use std::env;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::otel_recorder::OtelRecorder;

/// How long shutting down may take to flush the spans and metrics still
/// queued: a dead collector delays the server's exit by this much at most.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The export timeout when `OTEL_EXPORTER_OTLP_TIMEOUT` does not say (the
/// specification's default).
const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// The time between metric exports when `OTEL_METRIC_EXPORT_INTERVAL` does
/// not say (the specification's default).
const DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_secs(60);
/// The most of a collector's answer read; its body is only a status.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The service name when neither `OTEL_SERVICE_NAME` nor
/// `OTEL_RESOURCE_ATTRIBUTES` gives one.
const DEFAULT_SERVICE_NAME: &str = "agentor";
/// The instrumentation scope of the tracer and the meter.
const SCOPE: &str = "agentor";

/// What is exported, each configured by its own variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Traces,
    Metrics,
}

impl Signal {
    /// The signal's part of the variables' names (`OTEL_EXPORTER_OTLP_{}_ENDPOINT`).
    fn infix(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
        }
    }
}

/// The providers exporting spans and metrics; [`Otlp::shutdown`] flushes them.
#[derive(Debug)]
pub(crate) struct Otlp {
    traces: Option<SdkTracerProvider>,
    metrics: Option<SdkMeterProvider>,
}

impl Otlp {
    /// The exporters the environment asks for: `None` when no
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or signal's endpoint
    /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `…_METRICS_ENDPOINT`) is set,
    /// or `OTEL_SDK_DISABLED=true`; a signal is left out with
    /// `OTEL_TRACES_EXPORTER=none` / `OTEL_METRICS_EXPORTER=none`. An error
    /// for a configuration that cannot work.
    pub(crate) fn from_env() -> Result<Option<Otlp>, String> {
        let var = |name: &str| env::var(name).ok();
        let traces = wanted(var, Signal::Traces);
        let metrics = wanted(var, Signal::Metrics);
        if !traces && !metrics {
            return Ok(None);
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "OTLP export needs a tokio runtime".to_owned())?;
        let client = |timeout| {
            reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map(|client| OnRuntime {
                    client,
                    runtime: runtime.clone(),
                })
                .map_err(|err| format!("OTLP: cannot build the HTTP client: {err}"))
        };
        let mut resource = Resource::builder();
        if !names_service(var) {
            resource = resource.with_service_name(DEFAULT_SERVICE_NAME);
        }
        let resource = resource.build();
        let traces = if traces {
            let timeout = export_timeout(var, Signal::Traces)?;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_timeout(timeout)
                .with_http_client(client(timeout)?)
                .build()
                .map_err(|err| format!("OTLP: {err}"))?;
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(resource.clone())
                    .build(),
            )
        } else {
            None
        };
        let metrics = if metrics {
            let timeout = export_timeout(var, Signal::Metrics)?;
            let interval = export_interval(var)?;
            let exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_timeout(timeout)
                .with_http_client(client(timeout)?)
                .build()
                .map_err(|err| format!("OTLP: {err}"))?;
            let reader = PeriodicReader::builder(exporter)
                .with_interval(interval)
                .build();
            Some(
                SdkMeterProvider::builder()
                    .with_reader(reader)
                    .with_resource(resource)
                    .build(),
            )
        } else {
            None
        };
        Ok(Some(Otlp { traces, metrics }))
    }

    /// The subscriber layer that turns spans into OpenTelemetry spans, when
    /// spans are exported. It takes `INFO` and above whatever `RUST_LOG`
    /// says, so the log's verbosity and the export are set apart.
    pub(crate) fn layer<S>(&self) -> Option<impl Layer<S> + Send + Sync + 'static>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let provider = self.traces.as_ref()?;
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer(SCOPE))
                .with_filter(LevelFilter::INFO),
        )
    }

    /// The `metrics` recorder that feeds the meter, when metrics are
    /// exported; install it beside the Prometheus recorder.
    pub(crate) fn metrics_recorder(&self) -> Option<OtelRecorder> {
        let provider = self.metrics.as_ref()?;
        Some(OtelRecorder::new(
            provider.meter(SCOPE),
            agentor::telemetry::HISTOGRAM_BUCKETS,
        ))
    }

    /// Exports the last metrics, flushes the queued spans and stops both
    /// exporters, side by side, waiting [`SHUTDOWN_TIMEOUT`] at most.
    pub(crate) async fn shutdown(self) -> Result<(), String> {
        // The SDK's shutdowns block their caller until the export is done.
        let traces = self.traces.map(|provider| {
            bounded(
                "spans",
                tokio::task::spawn_blocking(move || {
                    provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
                }),
            )
        });
        let metrics = self.metrics.map(|provider| {
            bounded(
                "metrics",
                tokio::task::spawn_blocking(move || {
                    provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
                }),
            )
        });
        let (traces, metrics) = tokio::join!(
            async move {
                match traces {
                    Some(flush) => flush.await,
                    None => Ok(()),
                }
            },
            async move {
                match metrics {
                    Some(flush) => flush.await,
                    None => Ok(()),
                }
            }
        );
        match (traces, metrics) {
            (Err(a), Err(b)) => Err(format!("{a}; {b}")),
            (Err(err), Ok(())) | (Ok(()), Err(err)) => Err(err),
            (Ok(()), Ok(())) => Ok(()),
        }
    }
}

/// Waits for one provider's shutdown a little longer than it allows itself.
async fn bounded(
    what: &str,
    flush: tokio::task::JoinHandle<opentelemetry_sdk::error::OTelSdkResult>,
) -> Result<(), String> {
    match tokio::time::timeout(SHUTDOWN_TIMEOUT + Duration::from_secs(1), flush).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(err))) => Err(format!("OTLP: flushing {what} failed: {err}")),
        Ok(Err(err)) => Err(format!("OTLP: flushing {what} failed: {err}")),
        Err(_) => Err(format!(
            "OTLP: the collector did not take the last {what} in time"
        )),
    }
}

/// Whether the environment asks for `signal`'s export.
fn wanted(var: impl Fn(&str) -> Option<String>, signal: Signal) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let off = var(&format!("OTEL_{}_EXPORTER", signal.infix())).is_some_and(|v| v.trim() == "none");
    !disabled
        && !off
        && (set(&format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", signal.infix()))
            || set("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

/// Whether the environment names the service itself.
fn names_service(var: impl Fn(&str) -> Option<String>) -> bool {
    var("OTEL_SERVICE_NAME").is_some_and(|v| !v.trim().is_empty())
        || var("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|attributes| {
            attributes
                .split(',')
                .any(|pair| pair.trim_start().starts_with("service.name="))
        })
}

/// The first of `names` that is set, as a positive number of milliseconds
/// (how the specification gives durations); `default` when none is set.
fn millis(
    var: impl Fn(&str) -> Option<String>,
    names: &[&str],
    default: Duration,
) -> Result<Duration, String> {
    for name in names {
        if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
            return match value.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                _ => Err(format!(
                    "{name}: expected a positive number of milliseconds, got `{value}`"
                )),
            };
        }
    }
    Ok(default)
}

/// `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_TIMEOUT` or `OTEL_EXPORTER_OTLP_TIMEOUT`.
fn export_timeout(
    var: impl Fn(&str) -> Option<String>,
    signal: Signal,
) -> Result<Duration, String> {
    let own = format!("OTEL_EXPORTER_OTLP_{}_TIMEOUT", signal.infix());
    millis(
        var,
        &[&own, "OTEL_EXPORTER_OTLP_TIMEOUT"],
        DEFAULT_EXPORT_TIMEOUT,
    )
}

/// `OTEL_METRIC_EXPORT_INTERVAL`: the time between metric exports.
fn export_interval(var: impl Fn(&str) -> Option<String>) -> Result<Duration, String> {
    millis(
        var,
        &["OTEL_METRIC_EXPORT_INTERVAL"],
        DEFAULT_EXPORT_INTERVAL,
    )
}

/// The exporter's HTTP client: reqwest, its requests spawned on the
/// server's runtime (the SDK's batch thread has no reactor of its own).
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        self.runtime
            .spawn(async move {
                let mut response = client.execute(request).await?;
                let mut answer = http::Response::builder().status(response.status());
                if let Some(headers) = answer.headers_mut() {
                    *headers = std::mem::take(response.headers_mut());
                }
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await? {
                    let room = MAX_RESPONSE_BYTES - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() == MAX_RESPONSE_BYTES {
                        break;
                    }
                }
                Ok::<_, HttpError>(answer.body(Bytes::from(body))?)
            })
            .await?
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn an_endpoint_turns_export_on_and_the_switches_turn_it_off() {
        use Signal::{Metrics, Traces};
        for signal in [Traces, Metrics] {
            assert!(!wanted(vars(&[]), signal));
            assert!(!wanted(
                vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]),
                signal
            ));
            assert!(wanted(
                vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]),
                signal
            ));
        }
        let traces_only = vars(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://collector:4318/v1/traces",
        )]);
        assert!(wanted(&traces_only, Traces));
        assert!(!wanted(&traces_only, Metrics));
        let metrics_only = vars(&[(
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "http://collector:4318/v1/metrics",
        )]);
        assert!(wanted(&metrics_only, Metrics));
        assert!(!wanted(&metrics_only, Traces));
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        for signal in [Traces, Metrics] {
            assert!(!wanted(
                vars(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")]),
                signal
            ));
        }
        let no_traces = vars(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")]);
        assert!(!wanted(&no_traces, Traces));
        assert!(wanted(&no_traces, Metrics));
        let no_metrics = vars(&[endpoint, ("OTEL_METRICS_EXPORTER", "none")]);
        assert!(wanted(&no_metrics, Traces));
        assert!(!wanted(&no_metrics, Metrics));
        assert!(wanted(
            vars(&[endpoint, ("OTEL_TRACES_EXPORTER", "otlp")]),
            Traces
        ));
    }

    #[test]
    fn the_service_name_comes_from_either_variable() {
        assert!(!names_service(vars(&[])));
        assert!(names_service(vars(&[("OTEL_SERVICE_NAME", "chat-api")])));
        assert!(names_service(vars(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=prod, service.name=chat-api"
        )])));
        assert!(!names_service(vars(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.namespace=ai"
        )])));
    }

    #[test]
    fn the_timeout_is_milliseconds_and_bad_values_are_refused() {
        use Signal::{Metrics, Traces};
        assert_eq!(
            export_timeout(vars(&[]), Traces),
            Ok(DEFAULT_EXPORT_TIMEOUT)
        );
        assert_eq!(
            export_timeout(vars(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")]), Metrics),
            Ok(Duration::from_millis(2500))
        );
        let both = vars(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "100"),
        ]);
        assert_eq!(
            export_timeout(&both, Traces),
            Ok(Duration::from_millis(100))
        );
        assert_eq!(
            export_timeout(&both, Metrics),
            Ok(Duration::from_millis(2500))
        );
        let err =
            export_timeout(vars(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]), Traces).unwrap_err();
        assert!(err.contains("OTEL_EXPORTER_OTLP_TIMEOUT"), "{err}");
        assert!(export_timeout(vars(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "0")]), Traces).is_err());
    }

    #[test]
    fn the_metric_interval_defaults_to_a_minute_and_bad_values_are_refused() {
        assert_eq!(export_interval(vars(&[])), Ok(DEFAULT_EXPORT_INTERVAL));
        assert_eq!(
            export_interval(vars(&[("OTEL_METRIC_EXPORT_INTERVAL", "250")])),
            Ok(Duration::from_millis(250))
        );
        let err = export_interval(vars(&[("OTEL_METRIC_EXPORT_INTERVAL", "1m")])).unwrap_err();
        assert!(
            err.contains("OTEL_METRIC_EXPORT_INTERVAL") && err.contains("1m"),
            "{err}"
        );
    }
}
