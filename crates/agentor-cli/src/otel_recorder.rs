//! A `metrics` recorder that hands every metric to an OpenTelemetry meter,
//! so `serve` exports over OTLP what `GET /metrics` shows (the server fans
//! each metric out to both; see `agentor_server::install_metrics_recorder`).
//!
//! Counters and gauges keep their value here, in one atomic per series, and
//! are reported by observable instruments when the reader collects: an
//! increment costs one atomic add, as in the Prometheus recorder, and a
//! `metrics` gauge's increments and decrements (which OpenTelemetry gauges
//! lack) add up before anything is reported. Histograms go straight to an
//! OpenTelemetry histogram with the same bucket bounds as `/metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use opentelemetry::metrics::{AsyncInstrument, Meter};
use opentelemetry::KeyValue;

/// The most series (a name with one set of labels) exported; later ones
/// are left to `/metrics` alone, with one warning.
const MAX_SERIES: usize = 10_000;
/// The most bytes of names and label text those series may hold.
const MAX_SERIES_BYTES: usize = 1024 * 1024;

/// The recorder; build it over the meter of the provider that exports.
pub(crate) struct OtelRecorder {
    meter: Meter,
    buckets: &'static [(&'static str, &'static [f64])],
    state: Mutex<State>,
    warned: AtomicBool,
}

impl std::fmt::Debug for OtelRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelRecorder").finish_non_exhaustive()
    }
}

/// The series one observable instrument reports, shared with its callback.
type Family = Arc<Mutex<Vec<(Vec<KeyValue>, Arc<AtomicU64>)>>>;

#[derive(Default)]
struct State {
    /// Unit and help text by metric name, from the `describe_*` calls.
    descriptions: HashMap<String, (Option<Unit>, SharedString)>,
    counters: HashMap<Key, Arc<AtomicU64>>,
    gauges: HashMap<Key, Arc<AtomicU64>>,
    histograms: HashMap<Key, Arc<Recorded>>,
    counter_families: HashMap<String, Family>,
    gauge_families: HashMap<String, Family>,
    histogram_instruments: HashMap<String, opentelemetry::metrics::Histogram<f64>>,
    series: usize,
    series_bytes: usize,
}

impl OtelRecorder {
    /// A recorder over `meter`; a histogram named in `buckets` gets those
    /// bounds (the same ones `/metrics` uses), others the SDK's default.
    pub(crate) fn new(meter: Meter, buckets: &'static [(&'static str, &'static [f64])]) -> Self {
        OtelRecorder {
            meter,
            buckets,
            state: Mutex::new(State::default()),
            warned: AtomicBool::new(false),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn describe(&self, name: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state()
            .descriptions
            .insert(name.as_str().to_owned(), (unit, description));
    }

    /// Counts a new series against the bounds; `false` (and a warning, once)
    /// past them.
    fn admit(&self, state: &mut State, key: &Key) -> bool {
        let bytes = key.name().len()
            + key
                .labels()
                .map(|l| l.key().len() + l.value().len())
                .sum::<usize>();
        if state.series < MAX_SERIES && state.series_bytes + bytes <= MAX_SERIES_BYTES {
            state.series += 1;
            state.series_bytes += bytes;
            return true;
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "agentor",
                metric = key.name(),
                "OTLP: too many metric series ({MAX_SERIES} or {MAX_SERIES_BYTES} bytes of labels); \
                 new ones are only on /metrics"
            );
        }
        false
    }
}

fn attributes(key: &Key) -> Vec<KeyValue> {
    key.labels()
        .map(|label| KeyValue::new(label.key().to_owned(), label.value().to_owned()))
        .collect()
}

/// The unit in the UCUM form OpenTelemetry uses, for the units `metrics` has.
fn ucum(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "s",
        Unit::Milliseconds => "ms",
        Unit::Microseconds => "us",
        Unit::Nanoseconds => "ns",
        Unit::Bytes => "By",
        Unit::Kibibytes => "KiBy",
        Unit::Mebibytes => "MiBy",
        Unit::Gibibytes => "GiBy",
        Unit::Tebibytes => "TiBy",
        Unit::Percent => "%",
        Unit::Count => "1",
        Unit::BitsPerSecond => "bit/s",
        Unit::KilobitsPerSecond => "kbit/s",
        Unit::MegabitsPerSecond => "Mbit/s",
        Unit::GigabitsPerSecond => "Gbit/s",
        Unit::TerabitsPerSecond => "Tbit/s",
        Unit::CountPerSecond => "1/s",
    }
}

/// The series of `key` in `families`, creating the name's instrument with
/// `build` the first time.
fn join(
    families: &mut HashMap<String, Family>,
    key: &Key,
    value: &Arc<AtomicU64>,
    build: impl FnOnce(Family),
) {
    let family = families.entry(key.name().to_owned()).or_insert_with(|| {
        let family = Family::default();
        build(Arc::clone(&family));
        family
    });
    family
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((attributes(key), Arc::clone(value)));
}

/// Reports each series of `family` through `observer`.
fn observe<T>(family: &Family, observer: &dyn AsyncInstrument<T>, read: impl Fn(u64) -> T) {
    for (attributes, value) in family.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        observer.observe(read(value.load(Ordering::Relaxed)), attributes);
    }
}

/// One histogram series: the instrument and its attributes.
struct Recorded {
    histogram: opentelemetry::metrics::Histogram<f64>,
    attributes: Vec<KeyValue>,
}

impl HistogramFn for Recorded {
    fn record(&self, value: f64) {
        self.histogram.record(value, &self.attributes);
    }
}

impl Recorder for OtelRecorder {
    fn describe_counter(&self, name: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(name, unit, description);
    }

    fn describe_gauge(&self, name: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(name, unit, description);
    }

    fn describe_histogram(&self, name: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(name, unit, description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut state = self.state();
        if let Some(value) = state.counters.get(key) {
            return Counter::from_arc(Arc::clone(value));
        }
        if !self.admit(&mut state, key) {
            return Counter::noop();
        }
        let value = Arc::new(AtomicU64::new(0));
        let (unit, description) = described(&state, key);
        join(&mut state.counter_families, key, &value, |family| {
            let mut builder = self
                .meter
                .u64_observable_counter(key.name().to_owned())
                .with_description(description)
                .with_callback(move |observer| observe(&family, observer, |v| v));
            if let Some(unit) = unit {
                builder = builder.with_unit(unit);
            }
            builder.build();
        });
        state.counters.insert(key.clone(), Arc::clone(&value));
        Counter::from_arc(value)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let mut state = self.state();
        if let Some(value) = state.gauges.get(key) {
            return Gauge::from_arc(Arc::clone(value));
        }
        if !self.admit(&mut state, key) {
            return Gauge::noop();
        }
        // `metrics` keeps a gauge's `f64` as its bits.
        let value = Arc::new(AtomicU64::new(0.0f64.to_bits()));
        let (unit, description) = described(&state, key);
        join(&mut state.gauge_families, key, &value, |family| {
            let mut builder = self
                .meter
                .f64_observable_gauge(key.name().to_owned())
                .with_description(description)
                .with_callback(move |observer| observe(&family, observer, f64::from_bits));
            if let Some(unit) = unit {
                builder = builder.with_unit(unit);
            }
            builder.build();
        });
        state.gauges.insert(key.clone(), Arc::clone(&value));
        Gauge::from_arc(value)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let mut state = self.state();
        if let Some(recorded) = state.histograms.get(key) {
            return Histogram::from_arc(Arc::clone(recorded));
        }
        if !self.admit(&mut state, key) {
            return Histogram::noop();
        }
        let (unit, description) = described(&state, key);
        let histogram = match state.histogram_instruments.get(key.name()) {
            Some(histogram) => histogram.clone(),
            None => {
                let mut builder = self
                    .meter
                    .f64_histogram(key.name().to_owned())
                    .with_description(description);
                if let Some(unit) = unit {
                    builder = builder.with_unit(unit);
                }
                if let Some((_, bounds)) = self.buckets.iter().find(|(n, _)| *n == key.name()) {
                    builder = builder.with_boundaries(bounds.to_vec());
                }
                let histogram = builder.build();
                state
                    .histogram_instruments
                    .insert(key.name().to_owned(), histogram.clone());
                histogram
            }
        };
        let recorded = Arc::new(Recorded {
            histogram,
            attributes: attributes(key),
        });
        state.histograms.insert(key.clone(), Arc::clone(&recorded));
        Histogram::from_arc(recorded)
    }
}

/// The unit (UCUM) and help text described for `key`'s name.
fn described(state: &State, key: &Key) -> (Option<&'static str>, String) {
    match state.descriptions.get(key.name()) {
        Some((unit, description)) => (unit.map(ucum), description.to_string()),
        None => (None, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::SdkMeterProvider;

    use super::*;

    static METADATA: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, None);

    fn recorder() -> OtelRecorder {
        OtelRecorder::new(SdkMeterProvider::builder().build().meter("test"), &[])
    }

    #[test]
    fn a_series_registered_again_shares_its_value() {
        let recorder = recorder();
        let key = Key::from_parts("agentor.runs.started", vec![metrics::Label::new("a", "b")]);
        recorder.register_counter(&key, &METADATA).increment(2);
        recorder.register_counter(&key, &METADATA).increment(3);
        recorder.register_counter(&key, &METADATA).absolute(4);
        let gauge = Key::from_name("agentor.runs.active");
        recorder.register_gauge(&gauge, &METADATA).increment(2.0);
        recorder.register_gauge(&gauge, &METADATA).decrement(0.5);
        let state = recorder.state();
        assert_eq!(state.counters[&key].load(Ordering::Relaxed), 5);
        assert_eq!(
            f64::from_bits(state.gauges[&gauge].load(Ordering::Relaxed)),
            1.5
        );
        assert_eq!(state.series, 2);
        let family = &state.counter_families["agentor.runs.started"];
        let family = family.lock().unwrap();
        assert_eq!(family.len(), 1);
        assert_eq!(family[0].0, vec![KeyValue::new("a", "b")]);
    }

    #[test]
    fn series_past_the_bound_are_not_kept() {
        let recorder = recorder();
        let long = "x".repeat(MAX_SERIES_BYTES / 2);
        for i in 0..3 {
            let key = Key::from_parts(
                "agentor.events.out",
                vec![metrics::Label::new("kind", format!("{i}{long}"))],
            );
            recorder.register_counter(&key, &METADATA).increment(1);
        }
        let state = recorder.state();
        assert_eq!(state.counters.len(), 1);
        assert!(state.series_bytes <= MAX_SERIES_BYTES);
    }
}
