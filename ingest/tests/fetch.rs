//! The media fetcher against a local HTTP server: the SSRF guard at the start and at every
//! redirect hop (scheme, address and port), timeouts and the whole-fetch deadline for slow
//! hosts, the byte cap, and retries of transient failures only.

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
        allow: vec![Cidr::parse("127.0.0.1/32:*").unwrap()],
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

#[tokio::test]
async fn a_redirect_to_another_scheme_is_refused_by_name() {
    let app = Router::new().route(
        "/to-file",
        get(|| async {
            (
                StatusCode::FOUND,
                [(header::LOCATION, "file:///etc/passwd")],
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let fetcher = Fetcher::new(FetchPolicy {
        allow: vec![Cidr::parse(&format!("127.0.0.1/32:{}", addr.port())).unwrap()],
        ..local_allowed()
    })
    .unwrap();
    let err = fetcher
        .fetch(&format!("http://{addr}/to-file"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        takedown_core::ErrorCode::FetchForbidden,
        "{err:?}"
    );
    assert!(err.to_string().contains("\"file\""), "{err}");
}

#[tokio::test]
async fn allowed_ranges_are_allowed_on_their_ports_only_at_every_hop() {
    let (base, _) = serve().await;
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    // A second local service on another port, which a redirect tries to reach.
    let (other, _) = serve().await;
    let target = format!("{other}/ok");
    let app = Router::new().route(
        "/hop",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hop = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let with = |rules: &[String]| {
        Fetcher::new(FetchPolicy {
            allow: rules.iter().map(|r| Cidr::parse(r).unwrap()).collect(),
            allow_ip_literals: true,
            ..local_allowed()
        })
        .unwrap()
    };
    // No port given: only 80 and 443, so a local service on another port stays out of reach,
    // by IP literal and by a name resolving into the range.
    let range_only = with(&["127.0.0.0/8".to_string()]);
    for url in [format!("{base}/ok"), format!("http://localhost:{port}/ok")] {
        let err = range_only.fetch(&url).await.unwrap_err();
        assert!(matches!(err, FetchError::Forbidden(_)), "{url}: {err:?}");
    }
    // With its port it is reachable, by address and by name.
    let one_port = with(&[
        format!("127.0.0.0/8:{port}"),
        format!("127.0.0.1:{}", hop.port()),
    ]);
    for url in [format!("{base}/ok"), format!("http://localhost:{port}/ok")] {
        assert_eq!(one_port.fetch(&url).await.unwrap(), b"image bytes", "{url}");
    }
    // A redirect to another port of the allowed range is refused at that hop.
    let err = one_port
        .fetch(&format!("http://{hop}/hop"))
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Forbidden(_)), "{err:?}");
    // Parsing: IPv6 in brackets with a port, `*` for any port, bad ports refused.
    assert!(Cidr::parse("[fd00::]/8:443").is_ok());
    assert!(Cidr::parse("[::1]:8080").is_ok());
    assert!(Cidr::parse("10.0.0.0/8:*").is_ok());
    assert!(Cidr::parse("10.0.0.0/8:99999").is_err());
}

#[tokio::test]
async fn a_server_trickling_its_body_is_cut_off_at_the_fetch_deadline() {
    // One byte every 100 ms: never idle long enough for the read timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                for _ in 0..1000 {
                    tick.tick().await;
                    if stream.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let fetcher = Fetcher::new(FetchPolicy {
        allow: vec![Cidr::parse(&format!("127.0.0.1/32:{}", addr.port())).unwrap()],
        read_timeout: Duration::from_millis(500),
        total_timeout: Duration::from_secs(1),
        attempts: 3,
        ..FetchPolicy::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let err = fetcher
        .fetch(&format!("http://{addr}/trickle"))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), takedown_core::ErrorCode::FetchFailed, "{err:?}");
    assert!(
        took < Duration::from_millis(1800),
        "the fetch held its slot for {took:?}, past its 1 s deadline: {err}"
    );
}

/// A video container's first bytes followed by `len` bytes in all: sniffs as a video.
fn video_of(len: usize) -> Vec<u8> {
    let mut v = std::fs::read(format!(
        "{}/../testdata/vpdq/videos/doorknob-hd-no-bar.mp4",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    v.resize(len, 0);
    v
}

#[tokio::test]
async fn a_video_is_bounded_by_the_video_cap_and_anything_else_by_the_image_cap() {
    const MIB: usize = 1024 * 1024;
    let app = Router::new()
        .route("/video-3m", get(|| async { video_of(3 * MIB) }))
        .route("/video-5m", get(|| async { video_of(5 * MIB) }))
        .route("/image-2m", get(|| async { vec![0xffu8; 2 * MIB] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let fetcher = Fetcher::new(FetchPolicy {
        max_bytes: MIB,
        max_video_bytes: 4 * MIB,
        total_timeout: Duration::from_secs(10),
        ..local_allowed()
    })
    .unwrap();
    assert_eq!(
        fetcher
            .fetch(&format!("{base}/video-3m"))
            .await
            .unwrap()
            .len(),
        3 * MIB
    );
    let err = fetcher
        .fetch(&format!("{base}/video-5m"))
        .await
        .unwrap_err();
    assert_eq!(err, FetchError::VideoTooLarge(4 * MIB));
    assert_eq!(err.code(), takedown_core::ErrorCode::TooLarge);
    let err = fetcher
        .fetch(&format!("{base}/image-2m"))
        .await
        .unwrap_err();
    assert_eq!(err, FetchError::TooLarge(MIB));
}

#[tokio::test]
async fn a_video_body_has_its_own_whole_fetch_deadline() {
    // Each body is sent as 20 chunks 100 ms apart (about 2 s in all), its first chunk whole.
    const CHUNK: usize = 4096;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let body = if request.starts_with("GET /video") {
                    video_of(20 * CHUNK)
                } else {
                    vec![0xffu8; 20 * CHUNK]
                };
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for chunk in body.chunks(CHUNK) {
                    if stream.write_all(chunk).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
    });
    let fetcher = Fetcher::new(FetchPolicy {
        allow: vec![Cidr::parse(&format!("127.0.0.1/32:{}", addr.port())).unwrap()],
        total_timeout: Duration::from_secs(1),
        video_total_timeout: Duration::from_secs(10),
        ..FetchPolicy::default()
    })
    .unwrap();
    // The video runs past the 1 s deadline and is read whole within its own.
    let body = fetcher
        .fetch(&format!("http://{addr}/video"))
        .await
        .unwrap();
    assert_eq!(body, video_of(20 * CHUNK));
    // Anything else is cut off at 1 s.
    let started = std::time::Instant::now();
    let err = fetcher
        .fetch(&format!("http://{addr}/image"))
        .await
        .unwrap_err();
    assert_eq!(err, FetchError::TimedOut(Duration::from_secs(1)));
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
}
