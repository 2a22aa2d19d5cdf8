//! `agentor serve --redis`: a real `redis-server`, real server processes.
//! A producer killed with `kill -9` is noticed by readers on another
//! instance within the lease; Redis unreachable at start exits 1 with one
//! line; the URL comes from the flag, `AGENTOR_REDIS_URL` or `agentor.toml`.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "../../agentor-redis/tests/support/redis_server.rs"]
mod redis_server;

use std::io::{BufRead, BufReader};

use common::{agentor, spawn_serving};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use redis_server::RedisServer;
use serde_json::{json, Value};

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agentor-cli-redis-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary in `dir`, with no `AGENTOR_*` or `OPENAI_*` variable.
/// `agentor serve --provider demo` on a free loopback port; killed on drop.
struct Served {
    child: Child,
    url: String,
    /// Kept open: the server's later lines go somewhere.
    _stderr: BufReader<std::process::ChildStderr>,
}

impl Served {
    fn start(dir: &Path, extra: &[&str]) -> Served {
        let spawned = spawn_serving(
            agentor(dir)
                .args([
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--provider",
                    "demo",
                ])
                .args(extra),
        );
        Served {
            child: spawned.child,
            url: spawned.url,
            _stderr: spawned.stderr,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_exits_1_with_one_line_when_redis_is_unreachable() {
    let dir = workdir("unreachable");
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let by_flag = agentor(&dir)
        .args([
            "serve",
            "--port",
            "0",
            "--provider",
            "demo",
            "--redis",
            &url,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let by_env = agentor(&dir)
        .args(["serve", "--port", "0", "--provider", "demo"])
        .env("AGENTOR_REDIS_URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    for output in [by_flag, by_env] {
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("cannot reach Redis at {url}")),
            "{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_url_in_agentor_toml_shares_runs_between_instances() {
    let redis = RedisServer::start();
    let dir = workdir("toml");
    std::fs::write(
        dir.join("agentor.toml"),
        format!("[serve]\nredis = \"{}\"\n", redis.url()),
    )
    .unwrap();
    let a = Served::start(&dir, &[]);
    let b = Served::start(&dir, &[]);
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/chat", a.url))
        .json(&json!({"input": "Hi there", "stream": true}))
        .send()
        .await
        .unwrap();
    let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let original = response.text().await.unwrap();
    let again = client
        .get(format!("{}/runs/{run_id}/events", b.url))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.unwrap(), original);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_producer_ends_its_readers_failed_within_the_lease() {
    use eventsource_stream::Eventsource;
    let redis = RedisServer::start();
    let dir = workdir("kill");
    let lease = Duration::from_secs(1);
    let args = ["--redis", &redis.url(), "--redis-lease", "1"];
    let mut producer = Served::start(&dir, &args);
    let reader = Served::start(&dir, &args);
    let client = reqwest::Client::new();
    // A long answer: the demo streams the input back word by word.
    let input = "word ".repeat(2000);
    let response = client
        .post(format!("{}/chat", producer.url))
        .json(&json!({"input": input, "stream": true}))
        .send()
        .await
        .unwrap();
    let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let mut own = response.bytes_stream().eventsource();
    for _ in 0..5 {
        own.next().await.unwrap().unwrap();
    }
    let follower = client
        .get(format!("{}/runs/{run_id}/events?format=native", reader.url))
        .send()
        .await
        .unwrap();
    assert_eq!(follower.status(), 200);
    let mut frames = follower.bytes_stream().eventsource();
    frames.next().await.unwrap().unwrap();

    producer.child.kill().unwrap(); // SIGKILL: no goodbye, no run end
    producer.child.wait().unwrap();
    let killed_at = Instant::now();
    let rest: Vec<_> = tokio::time::timeout(Duration::from_secs(10), frames.collect::<Vec<_>>())
        .await
        .expect("the reader hung after its producer died");
    let noticed = killed_at.elapsed();
    eprintln!("a killed producer was noticed after {noticed:?} (lease {lease:?})");
    let rest: Vec<_> = rest.into_iter().map(Result::unwrap).collect();
    let [.., error, done] = rest.as_slice() else {
        panic!("{rest:?}")
    };
    assert_eq!(error.event, "error");
    let error: Value = serde_json::from_str(&error.data).unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("interrupted"),
        "{error}"
    );
    assert_eq!(done.event, "done");
    assert_eq!(
        serde_json::from_str::<Value>(&done.data).unwrap()["status"],
        "failed"
    );
    // Within the lease, a fifth of it for the reader's block, and slack
    // for a loaded machine.
    assert!(
        noticed < lease + lease / 5 + Duration::from_millis(800),
        "{noticed:?}"
    );
    // Ids stay contiguous through the synthesized end.
    let ids: Vec<u64> = rest.iter().map(|f| f.id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    // Another reader, later, reads the same end: it is in the stream.
    let again = client
        .get(format!(
            "{}/runs/{run_id}/events?after={}",
            reader.url,
            ids[ids.len() - 3]
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        again.contains("event: error") && again.contains("\"failed\""),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_shut_down_gracefully_ends_its_readers_cancelled() {
    use eventsource_stream::Eventsource;
    let redis = RedisServer::start();
    let dir = workdir("sigterm");
    let args = ["--redis", &redis.url()];
    let producer = Served::start(&dir, &args);
    let reader = Served::start(&dir, &args);
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/chat?format=native", producer.url))
        .json(&json!({"input": "word ".repeat(2000), "stream": true}))
        .send()
        .await
        .unwrap();
    let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let own = tokio::spawn(response.text());
    let follower = client
        .get(format!("{}/runs/{run_id}/events?format=native", reader.url))
        .send()
        .await
        .unwrap();
    let mut frames = follower.bytes_stream().eventsource();
    frames.next().await.unwrap().unwrap();
    let pid = producer.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    // Well within the 5 s lease: the run end reached Redis before the
    // process exited, so nobody waits for the lease.
    let rest: Vec<_> = tokio::time::timeout(Duration::from_secs(3), frames.collect::<Vec<_>>())
        .await
        .expect("the reader did not get the run end the producer wrote");
    let done = rest.last().unwrap().as_ref().unwrap();
    assert_eq!(done.event, "done");
    assert_eq!(
        serde_json::from_str::<Value>(&done.data).unwrap()["status"],
        "cancelled"
    );
    assert!(own.await.unwrap().unwrap().contains("\"cancelled\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_a_run_served_elsewhere_live_to_its_end() {
    use eventsource_stream::Eventsource;
    let redis = RedisServer::start();
    let dir = workdir("tail");
    let served = Served::start(&dir, &["--redis", &redis.url()]);
    let response = reqwest::Client::new()
        .post(format!("{}/chat?format=native", served.url))
        .json(&json!({"input": "word ".repeat(100), "stream": true}))
        .send()
        .await
        .unwrap();
    let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let mut frames = response.bytes_stream().eventsource();
    // The run is live when tail starts: it prints the start, then follows.
    let first = frames.next().await.unwrap().unwrap();
    let tail = agentor(&dir)
        .args([
            "tail",
            "--redis",
            &redis.url(),
            "--run",
            &run_id,
            "--format",
            "native",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sent = vec![first.data];
    while let Some(frame) = frames.next().await {
        sent.push(frame.unwrap().data);
    }
    let output = tokio::task::spawn_blocking(|| tail.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let printed: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sent: Vec<Value> = sent
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(printed, sent);
    assert_eq!(printed.last().unwrap()["status"], "completed");

    let unknown = agentor(&dir)
        .args(["tail", "--redis", &redis.url(), "--run", "run_nope"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    let stderr = String::from_utf8(unknown.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("run `run_nope` is not in the log"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_all_merges_the_runs_of_two_instances_each_whole_and_in_order() {
    let redis = RedisServer::start();
    let dir = workdir("tail-all");
    let a = Served::start(&dir, &["--redis", &redis.url()]);
    let b = Served::start(&dir, &["--redis", &redis.url()]);
    let mut tail = agentor(&dir)
        .args([
            "tail",
            "--redis",
            &redis.url(),
            "--all",
            "--format",
            "native",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(tail.stdout.take().unwrap());
    // Lines until two run ends, read on a thread of its own.
    let lines = std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut ends = 0;
        for line in stdout.lines() {
            let line: Value = serde_json::from_str(&line.unwrap()).unwrap();
            ends += usize::from(line["type"] == "run_end");
            lines.push(line);
            if ends == 2 {
                break;
            }
        }
        lines
    });
    // `--all` follows the runs that start after it subscribed.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let client = reqwest::Client::new();
    let post = |url: String| {
        let client = client.clone();
        async move {
            let response = client
                .post(format!("{url}/chat?format=native"))
                .json(&json!({"input": "word ".repeat(50), "stream": true}))
                .send()
                .await
                .unwrap();
            let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
            let body = response.text().await.unwrap();
            (run_id, body)
        }
    };
    let ((run_a, body_a), (run_b, body_b)) = tokio::join!(post(a.url.clone()), post(b.url.clone()));
    let lines = tokio::task::spawn_blocking(move || lines.join().unwrap());
    let lines = tokio::time::timeout(Duration::from_secs(10), lines)
        .await
        .expect("tail --all did not print both runs")
        .unwrap();
    let _ = tail.kill();
    let _ = tail.wait();
    for (run_id, body) in [(run_a, body_a), (run_b, body_b)] {
        let printed: Vec<&Value> = lines
            .iter()
            .filter(|l| l["run_id"] == run_id.as_str())
            .collect();
        let sent = body.lines().filter(|l| l.starts_with("data: ")).count();
        assert_eq!(printed.len(), sent, "{run_id}");
        let seqs: Vec<u64> = printed.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (0..sent as u64).collect::<Vec<_>>());
        assert_eq!(printed.last().unwrap()["status"], "completed");
    }
}
