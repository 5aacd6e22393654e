//! The media fetcher against a local HTTP server: the SSRF guard at the start and at every
//! redirect hop, timeouts for slow hosts, the byte cap, and retries of transient failures only.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use takedown_ingest::fetch::{Cidr, FetchError, FetchPolicy, Fetcher};

#[derive(Clone, Default)]
struct Hits(Arc<AtomicUsize>);

async fn serve() -> (String, Hits) {
    let hits = Hits::default();
    let app = Router::new()
        .route("/ok", get(|| async { "image bytes" }))
        .route("/big", get(|| async { vec![7u8; 2 * 1024 * 1024] }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        )
        .route(
            "/missing",
            get(|State(h): State<Hits>| async move {
                h.0.fetch_add(1, Ordering::SeqCst);
                StatusCode::NOT_FOUND
            }),
        )
        .route(
            "/flaky",
            get(|State(h): State<Hits>| async move {
                if h.0.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::SERVICE_UNAVAILABLE.into_response()
                } else {
                    "second time lucky".into_response()
                }
            }),
        )
        .route(
            "/to-metadata",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://169.254.169.254/latest/meta-data/")],
                )
            }),
        )
        .route(
            "/to-ok",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ok")]) }),
        )
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), hits)
}

fn local_allowed() -> FetchPolicy {
    FetchPolicy {
        allow: vec![Cidr::parse("127.0.0.1/32").unwrap()],
        read_timeout: Duration::from_millis(500),
        total_timeout: Duration::from_secs(2),
        max_bytes: 1024 * 1024,
        attempts: 2,
        ..FetchPolicy::default()
    }
}

#[tokio::test]
async fn the_guard_refuses_private_addresses_everywhere() {
    let (base, _) = serve().await;
    let port = base.rsplit(':').next().unwrap().to_string();
    let strict = Fetcher::new(FetchPolicy::default()).unwrap();
    for url in [
        format!("{base}/ok"),                  // IP literal, loopback
        format!("http://localhost:{port}/ok"), // a name resolving to loopback
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]/".to_string(),
        "file:///etc/passwd".to_string(),
    ] {
        let err = strict.fetch(&url).await.unwrap_err();
        assert!(matches!(err, FetchError::Forbidden(_)), "{url}: {err:?}");
    }
    // Allowed for tests, loopback works, and a redirect to the metadata service is refused.
    let fetcher = Fetcher::new(local_allowed()).unwrap();
    assert_eq!(
        fetcher.fetch(&format!("{base}/ok")).await.unwrap(),
        b"image bytes"
    );
    assert_eq!(
        fetcher.fetch(&format!("{base}/to-ok")).await.unwrap(),
        b"image bytes"
    );
    let err = fetcher
        .fetch(&format!("{base}/to-metadata"))
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Forbidden(_)), "{err:?}");
}

#[tokio::test]
async fn slow_big_missing_and_flaky_hosts() {
    let (base, hits) = serve().await;
    let fetcher = Fetcher::new(local_allowed()).unwrap();

    let started = std::time::Instant::now();
    let err = fetcher.fetch(&format!("{base}/slow")).await.unwrap_err();
    assert!(matches!(err, FetchError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "timeouts bound the wait"
    );

    let err = fetcher.fetch(&format!("{base}/big")).await.unwrap_err();
    assert_eq!(err, FetchError::TooLarge(1024 * 1024));

    let err = fetcher.fetch(&format!("{base}/missing")).await.unwrap_err();
    assert!(matches!(err, FetchError::Failed(_)), "{err:?}");
    assert_eq!(hits.0.swap(0, Ordering::SeqCst), 1, "a 404 is not retried");

    assert_eq!(
        fetcher.fetch(&format!("{base}/flaky")).await.unwrap(),
        b"second time lucky"
    );
    assert_eq!(hits.0.load(Ordering::SeqCst), 2, "a 503 is retried");
}
