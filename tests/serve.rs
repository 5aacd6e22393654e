//! The HTTP server every role uses (`takedown::serve`): a client that sends half a request and
//! then nothing is disconnected within the limits, while ordinary requests still work.

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use takedown::serve::{Limits, serve_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: Limits = Limits {
    header_read: Duration::from_millis(300),
    body_read: Duration::from_millis(300),
};

async fn start() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let app = Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route("/echo", post(|body: String| async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_with(
        listener,
        app,
        async move {
            let _ = stopped.await;
        },
        LIMITS,
    ));
    (addr, stop)
}

/// Reads until the server closes the connection (or 5 s pass: then the test fails); returns
/// what was read and how long it took.
async fn read_to_close(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept a stalled connection open for 5 s"
    );
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_half_sent_request_line_is_disconnected_within_the_header_timeout() {
    let (addr, _stop) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /livez HT").await.unwrap();
    let (_, took) = read_to_close(&mut stream).await;
    assert!(took < Duration::from_secs(2), "closed only after {took:?}");

    // An ordinary request on a new connection still works.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");

    // Handlers see the peer's address, as with `into_make_service_with_connect_info`.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_to_close(&mut stream).await;
    assert!(answer.ends_with("127.0.0.1"), "{answer}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_cut_off_within_the_body_timeout() {
    let (addr, _stop) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
        .await
        .unwrap();
    let (answer, took) = read_to_close(&mut stream).await;
    assert!(took < Duration::from_secs(2), "closed only after {took:?}");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        .await
        .unwrap();
    let (answer, _) = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_within_the_header_timeout() {
    let (addr, _stop) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (_, took) = read_to_close(&mut stream).await;
    assert!(took < Duration::from_secs(2), "closed only after {took:?}");
}
