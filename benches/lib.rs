//! Shared inputs and baselines for the benchmarks: the workload of
//! `agentor bench` ([`agentor_workload`]), re-exported so the criterion
//! benches and the command line measure the same input against the same
//! hand-written loop.

pub use agentor_workload::*;

/// A criterion group's measurement time: `default`, unless
/// `AGENTOR_BENCH_SECS` asks for another (`scripts/bench-check.sh` sets it
/// for its short runs; criterion's own `--measurement-time` does not
/// override a time set in code).
pub fn measurement_time(default: std::time::Duration) -> std::time::Duration {
    std::env::var("AGENTOR_BENCH_SECS")
        .ok()
        .and_then(|secs| secs.parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .map_or(default, std::time::Duration::from_secs_f64)
}

/// A realistic Chat Completions turn, shared by the provider and SSE benches
/// so both measure the same bytes.
pub mod chat_completions {
    use bytes::Bytes;

    const WORDS: &[&str] = &[
        " the",
        " agent",
        " streams",
        " tok",
        "ens",
        " to",
        " a",
        " client",
        " while",
        " tools",
        " run",
        " in",
        " parallel,",
        " and",
        " every",
        " delta",
        " arrives",
        " quickly.",
        "\n\n",
        " \"quoted\"",
        " café",
        " 中文",
    ];

    /// The `data:` payloads of a turn of `deltas` content deltas: a role
    /// chunk, the deltas shaped as OpenAI sends them (about 250 bytes each),
    /// the finish chunk and the usage chunk.
    pub fn payloads(deltas: usize) -> Vec<String> {
        let head = r#"{"id":"chatcmpl-AZ9xk2LmQw7pX","object":"chat.completion.chunk","created":1733764000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_0aa8d3e20b","choices":[{"index":0,"delta":"#;
        let mut payloads = Vec::with_capacity(deltas + 3);
        payloads.push(format!(
            r#"{head}{{"role":"assistant","content":"","refusal":null}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#
        ));
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..deltas {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let word = WORDS[(state >> 33) as usize % WORDS.len()];
            let content = serde_json::to_string(word).expect("a string");
            payloads.push(format!(
                r#"{head}{{"content":{content}}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#
            ));
        }
        payloads.push(format!(
            r#"{head}{{}},"logprobs":null,"finish_reason":"stop"}}],"usage":null}}"#
        ));
        payloads.push(format!(r#"{{"id":"chatcmpl-AZ9xk2LmQw7pX","object":"chat.completion.chunk","created":1733764000,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{{"prompt_tokens":19,"completion_tokens":{deltas},"total_tokens":{}}}}}"#, deltas + 19));
        payloads
    }

    /// The SSE body of `payloads`, `[DONE]` last.
    pub fn body(payloads: &[String]) -> Bytes {
        let mut body = String::new();
        for payload in payloads {
            body.push_str("data: ");
            body.push_str(payload);
            body.push_str("\n\n");
        }
        body.push_str("data: [DONE]\n\n");
        Bytes::from(body)
    }

    /// `body` in pieces of `size` bytes, sharing its allocation.
    pub fn chunks(body: &Bytes, size: usize) -> Vec<Bytes> {
        (0..body.len())
            .step_by(size)
            .map(|start| body.slice(start..(start + size).min(body.len())))
            .collect()
    }
}
