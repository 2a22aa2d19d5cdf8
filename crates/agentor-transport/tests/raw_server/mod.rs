//! A raw HTTP/1.1 server on 127.0.0.1 for the stalled-server tests of the
//! transport, the OpenAI providers and the A2A client (which include this
//! file by path): it writes exactly the bytes a test scripts, then holds the
//! connection open in silence or closes it — what a real framework's server
//! would never do.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// What the server does once it wrote its bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum After {
    /// Says nothing more, until the client closes the connection.
    Hold,
    /// Closes the connection.
    Close,
    /// Writes an SSE comment every this often (a keep-alive that carries no
    /// event), until the client closes the connection.
    Comments(Duration),
}

/// A request as received: its method, path and body.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

type Respond = dyn Fn(&Request) -> (Vec<u8>, After) + Send + Sync;

pub struct RawServer {
    pub addr: SocketAddr,
    closed_by_client: Arc<AtomicUsize>,
    closed: Arc<Notify>,
}

/// The head of a streamed answer: no length, so the body runs to the close.
pub const SSE_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

/// A whole JSON answer.
pub fn json_answer(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `head` followed by `body`.
pub fn then(head: &[u8], body: &[u8]) -> Vec<u8> {
    [head, body].concat()
}

impl RawServer {
    /// Serves every connection with `respond`'s bytes for its request.
    pub async fn start(
        respond: impl Fn(&Request) -> (Vec<u8>, After) + Send + Sync + 'static,
    ) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let respond: Arc<Respond> = Arc::new(respond);
        let closed_by_client = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(Notify::new());
        let (count, notify) = (closed_by_client.clone(), closed.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (respond, count, notify) = (respond.clone(), count.clone(), notify.clone());
                tokio::spawn(async move {
                    if serve(socket, &*respond).await {
                        count.fetch_add(1, Ordering::SeqCst);
                        notify.notify_waiters();
                    }
                });
            }
        });
        RawServer {
            addr,
            closed_by_client,
            closed,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits (at most 5 s) until the client closed `n` held connections.
    pub async fn wait_closed_by_client(&self, n: usize) {
        let wait = async {
            loop {
                let notified = self.closed.notified();
                if self.closed_by_client.load(Ordering::SeqCst) >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("the client closed the connection");
    }
}

/// Answers one connection; true when it was held and the client closed it.
async fn serve(mut socket: TcpStream, respond: &Respond) -> bool {
    let Some(request) = read_request(&mut socket).await else {
        return false;
    };
    let (bytes, after) = respond(&request);
    if socket.write_all(&bytes).await.is_err() {
        return false;
    }
    let _ = socket.flush().await;
    match after {
        After::Close => false,
        After::Comments(every) => loop {
            tokio::time::sleep(every).await;
            if socket.write_all(b": keep-alive\n\n").await.is_err() {
                return true;
            }
        },
        After::Hold => {
            // Silence: read (and ignore) until the client hangs up.
            let mut sink = [0u8; 1024];
            loop {
                match socket.read(&mut sink).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
        }
    }
}

/// Reads a request head and its `content-length` body (at most 1 MiB).
async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if data.len() > 1 << 20 {
            return None;
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
        .min(1 << 20);
    while data.len() < head_end + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(Request {
        method,
        path,
        body: data[head_end..head_end + length].to_vec(),
    })
}
