//! The one way every role serves HTTP: the review API and UI, and each role's `/metrics`.
//!
//! `axum::serve` sets no timer, so hyper never times out a client that sends half a request
//! line and then nothing (slowloris): each such connection holds a socket and a task forever.
//! [`serve`] reads a request's head within [`Limits::header_read`] and its body within
//! [`Limits::body_read`], and otherwise behaves like `axum::serve` with graceful shutdown and
//! `into_make_service_with_connect_info::<SocketAddr>` (every request carries its peer's
//! `ConnectInfo<SocketAddr>`).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_service::Service;

/// How long a client may take to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From the connection's first byte (or the end of the previous response) to the end of
    /// the request head; the connection is closed after it.
    pub header_read: Duration,
    /// From the end of the request head to the end of its body; reading the body then fails
    /// (the handler answers 400) and the connection is closed.
    pub body_read: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` with the default [`Limits`] until `shutdown` completes, then
/// lets the requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, Limits::default()).await
}

/// [`serve`] with explicit limits (tests use short ones).
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    // Every connection watches `stop` and, once it flips, finishes its request in flight and
    // closes; `connections` lets shutdown wait for them, as `axum::serve` does.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the connections
                    // we have, and try again shortly.
                    tracing::warn!(error = %e, "Accepting a connection failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let body_read = limits.body_read;
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut router = router.clone();
            let mut request = request.map(|body| Body::new(TimedBody::new(body, body_read)));
            // Handlers that need the client's address (the login throttle) extract it.
            request.extensions_mut().insert(ConnectInfo(peer));
            async move { router.call(request).await }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                // The value only ever changes once, to true (or the sender is gone).
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A request body that must arrive within a time limit, counted from the end of the head.
struct TimedBody {
    inner: Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl TimedBody {
    fn new(inner: Incoming, limit: Duration) -> Self {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            limit,
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        let this = self.get_mut();
        if let Poll::Ready(frame) = std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            let limit = this.limit;
            return Poll::Ready(Some(Err(format!(
                "request body not received within {limit:?}"
            )
            .into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
