//! OTLP export of `serve`'s spans (the `otlp` feature): a
//! `tracing-opentelemetry` layer over an OpenTelemetry tracer whose batch
//! exporter posts protobuf over HTTP to the collector that the standard
//! `OTEL_EXPORTER_OTLP_*` variables name.
//!
//! It lives in the command line, not in a library: the binary owns the
//! process's subscriber, and an application embedding the server composes its
//! own. The HTTP client is the workspace's reqwest (no second HTTP stack, no
//! gRPC); its requests run on the server's tokio runtime, while the SDK's
//! batch processor waits for them on its own thread, so a slow collector never
//! holds up a request handler.

use std::env;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// How long shutting down may take to flush the spans still queued: a dead
/// collector delays the server's exit by this much at most.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The export timeout when `OTEL_EXPORTER_OTLP_TIMEOUT` does not say (the
/// specification's default).
const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a collector's answer read; its body is only a status.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The service name when neither `OTEL_SERVICE_NAME` nor
/// `OTEL_RESOURCE_ATTRIBUTES` gives one.
const DEFAULT_SERVICE_NAME: &str = "agentor";

/// The tracer provider exporting spans; [`Otlp::shutdown`] flushes it.
#[derive(Debug)]
pub(crate) struct Otlp {
    provider: SdkTracerProvider,
}

impl Otlp {
    /// The exporter the environment asks for: `None` when no
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` is
    /// set (or `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`), an
    /// error for a configuration that cannot work.
    pub(crate) fn from_env() -> Result<Option<Otlp>, String> {
        if !wanted(|name| env::var(name).ok()) {
            return Ok(None);
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "OTLP export needs a tokio runtime".to_owned())?;
        let timeout = export_timeout(|name| env::var(name).ok())?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|err| format!("OTLP: cannot build the HTTP client: {err}"))?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_timeout(timeout)
            .with_http_client(OnRuntime { client, runtime })
            .build()
            .map_err(|err| format!("OTLP: {err}"))?;
        let mut resource = Resource::builder();
        if !names_service(|name| env::var(name).ok()) {
            resource = resource.with_service_name(DEFAULT_SERVICE_NAME);
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        Ok(Some(Otlp { provider }))
    }

    /// The subscriber layer that turns spans into OpenTelemetry spans. It
    /// takes `INFO` and above whatever `RUST_LOG` says, so the log's
    /// verbosity and the export are set apart.
    pub(crate) fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("agentor"))
            .with_filter(LevelFilter::INFO)
    }

    /// Flushes what is queued and stops the exporter, waiting
    /// [`SHUTDOWN_TIMEOUT`] at most.
    pub(crate) async fn shutdown(self) -> Result<(), String> {
        let provider = self.provider;
        // The SDK's shutdown blocks its caller until the batch thread is done.
        let flush =
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT));
        match tokio::time::timeout(SHUTDOWN_TIMEOUT + Duration::from_secs(1), flush).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(err))) => Err(format!("OTLP: flushing spans failed: {err}")),
            Ok(Err(err)) => Err(format!("OTLP: flushing spans failed: {err}")),
            Err(_) => Err("OTLP: the collector did not take the last spans in time".to_owned()),
        }
    }
}

/// Whether the environment asks for span export.
fn wanted(var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let no_traces = var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim() == "none");
    !disabled
        && !no_traces
        && (set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || set("OTEL_EXPORTER_OTLP_ENDPOINT"))
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

/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or `OTEL_EXPORTER_OTLP_TIMEOUT`, in
/// milliseconds, as the specification has it.
fn export_timeout(var: impl Fn(&str) -> Option<String>) -> Result<Duration, String> {
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ] {
        if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
            return match value.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                _ => Err(format!(
                    "{name}: expected a positive number of milliseconds, got `{value}`"
                )),
            };
        }
    }
    Ok(DEFAULT_EXPORT_TIMEOUT)
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
        assert!(!wanted(vars(&[])));
        assert!(!wanted(vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])));
        assert!(wanted(vars(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector:4318"
        )])));
        assert!(wanted(vars(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://collector:4318/v1/traces"
        )])));
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert!(!wanted(vars(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")])));
        assert!(!wanted(vars(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")])));
        assert!(wanted(vars(&[endpoint, ("OTEL_TRACES_EXPORTER", "otlp")])));
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
        assert_eq!(export_timeout(vars(&[])), Ok(DEFAULT_EXPORT_TIMEOUT));
        assert_eq!(
            export_timeout(vars(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")])),
            Ok(Duration::from_millis(2500))
        );
        assert_eq!(
            export_timeout(vars(&[
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "100")
            ])),
            Ok(Duration::from_millis(100))
        );
        let err = export_timeout(vars(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")])).unwrap_err();
        assert!(err.contains("OTEL_EXPORTER_OTLP_TIMEOUT"), "{err}");
        assert!(export_timeout(vars(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "0")])).is_err());
    }
}
