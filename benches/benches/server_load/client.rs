//! The streams client: one `POST /chat` per TCP connection, written and read
//! by hand, one task and one read per wake-up.
//!
//! An HTTP client library costs more per event than the server does (hyper's
//! client hands each body chunk from the connection's task to the reader's
//! over a channel: two tasks and a wake-up per chunk). With both processes on
//! the same cores, that cost is taken from the server. This client does the
//! least a client can: it reads what arrives into one buffer and counts the
//! frames, which is all the bench needs of it.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// Bytes read at once; a paced frame is about 100 bytes, a coalesced chunk
/// up to 64 KiB.
const READ_BUFFER: usize = 16 * 1024;
/// What marks a frame. A read may end inside one, so the last
/// `MARKER.len() - 1` bytes of a read are scanned again with the next.
const MARKER: &[u8] = b"event: ";
/// How long a connect or a write of the request may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One stream as the client saw it.
pub(crate) struct Seen {
    /// The frames read.
    pub(crate) frames: usize,
    /// Microseconds between two reads that brought frames; frames that came
    /// in the same read count 0 after the first.
    pub(crate) delays: Vec<u64>,
    /// Still open (idle mode): the connection, held so the server keeps it.
    pub(crate) open: Option<TcpStream>,
}

/// The request, `Connection: close` so the end of the response is the end of
/// the connection.
fn request(addr: SocketAddr) -> Vec<u8> {
    let body = r#"{"input":"go","stream":true}"#;
    format!(
        "POST /chat?format=native HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    let request = request(addr);
    let mut written = 0;
    while written < request.len() {
        tokio::time::timeout(CONNECT_TIMEOUT, stream.writable())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "write timed out"))??;
        match stream.try_write(&request[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stream)
}

/// Reads one stream to its end (or, with `idle`, to its second frame).
pub(crate) async fn stream_once(addr: SocketAddr, idle: bool, events: usize) -> io::Result<Seen> {
    // A connect storm may see a reset; try again like a client would.
    let mut attempt = 0;
    let stream = loop {
        match connect(addr).await {
            Ok(stream) => break stream,
            Err(_) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(err) => return Err(err),
        }
    };
    let mut buf = vec![0u8; READ_BUFFER];
    let carry = MARKER.len() - 1;
    // Bytes at the start of `buf` kept from the last read.
    let mut kept = 0;
    let mut status_checked = false;
    let mut seen = Seen {
        frames: 0,
        delays: Vec::with_capacity(events + 4),
        open: None,
    };
    let mut last: Option<Instant> = None;
    loop {
        stream.readable().await?;
        let n = match stream.try_read(&mut buf[kept..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        let now = Instant::now();
        let filled = kept + n;
        if !status_checked {
            status_checked = true;
            if !buf[..filled].starts_with(b"HTTP/1.1 200 ") {
                let head = String::from_utf8_lossy(&buf[..filled.min(200)]).into_owned();
                return Err(io::Error::other(format!("not a 200: {head}")));
            }
        }
        let frames = memchr::memmem::find_iter(&buf[..filled], MARKER).count();
        seen.frames += frames;
        if idle && seen.frames >= 2 {
            // run start and the first delta: the stream is open and idle.
            seen.open = Some(stream);
            return Ok(seen);
        }
        for k in 0..frames {
            match (last, k) {
                (Some(at), 0) => seen.delays.push(now.duration_since(at).as_micros() as u64),
                (_, k) if k > 0 => seen.delays.push(0),
                _ => {}
            }
        }
        if frames > 0 {
            last = Some(now);
        }
        // Keep the tail that could be the start of a marker (too short to
        // hold a whole one, so nothing is counted twice).
        let tail = filled.saturating_sub(carry);
        buf.copy_within(tail..filled, 0);
        kept = filled - tail;
    }
    Ok(seen)
}
