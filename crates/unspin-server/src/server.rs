//! Accepting connections, serving them with hyper, and shutting down
//! gracefully: stop accepting, let requests in flight finish, cancel the
//! work of those still running shortly before the grace period ends (see
//! [`serve`]), then return; the runtime then waits at most
//! [`RUNTIME_STOP`] for its threads.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::app::{router, App, LocalAddr};
use crate::{Config, Engine};

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let router = router(app.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(app.config.header_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: keep serving.
                        app.config.log.event("warn", serde_json::json!({"msg": "accept failed", "error": e.to_string()}));
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let local = stream.local_addr().ok().map(LocalAddr);
                let router = router.clone();
                let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(remote));
                    if let Some(l) = local {
                        req.extensions_mut().insert(l);
                    }
                    router.clone().oneshot(req.map(axum::body::Body::new))
                });
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), svc));
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    app.config.log.event(
        "info",
        serde_json::json!({"msg": "shutting down: waiting for requests in flight"}),
    );
    // Requests in flight get the grace period less a wind-down (a quarter
    // of it, at most 1 s). Then the work still running is cancelled (its
    // clients get 503 `cancelled`: every engine call stops within a
    // fraction of a second), and the wind-down lets those answers go out.
    let grace = app.config.grace;
    let wind_down = (grace / 4).min(WIND_DOWN);
    let finished = graceful.shutdown();
    tokio::pin!(finished);
    tokio::select! {
        _ = &mut finished => {
            app.config.log.event("info", serde_json::json!({"msg": "stopped"}));
            return Ok(());
        }
        _ = tokio::time::sleep(grace - wind_down) => {}
    }
    app.shutdown.cancel();
    app.config.log.event(
        "warn",
        serde_json::json!({
            "msg": "grace period ending; cancelled the requests still running",
            "grace_s": grace.as_secs_f64(),
        }),
    );
    tokio::select! {
        _ = &mut finished => {
            app.config.log.event("info", serde_json::json!({"msg": "stopped"}));
        }
        _ = tokio::time::sleep(wind_down) => {
            app.config.log.event("warn", serde_json::json!({
                "msg": "grace period over; closing the remaining connections",
                "grace_s": grace.as_secs_f64(),
            }));
        }
    }
    Ok(())
}

/// Most of the grace period kept for cancelled work to stop and answer.
const WIND_DOWN: Duration = Duration::from_secs(1);

/// Longest the runtime waits, once [`serve`] has returned, for blocking
/// threads (cancelled work that has not yet reached a check) before the
/// process goes on without them.
pub const RUNTIME_STOP: Duration = Duration::from_millis(250);

fn runtime(config: &Config) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Workers are bounded by the pool's semaphore; a few more threads
        // serve spawn_blocking calls that are already finishing.
        .max_blocking_threads(config.workers.max(1) + 4)
        .thread_name("unspin-server")
        .enable_all()
        .build()
}

/// Serves `engine` on `addr` until SIGINT or SIGTERM, then shuts down
/// gracefully. Logs one JSON line when listening and one per request.
pub fn run(addr: &str, engine: Arc<Engine>, mut config: Config) -> anyhow::Result<()> {
    // The name the server was started on is one its clients use.
    config
        .allowed_hosts
        .push(crate::app::host_name(addr).to_string());
    let rt = runtime(&config)?;
    let served = rt.block_on(async move {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr()?;
        let log = config.log.clone();
        log.event(
            "info",
            serde_json::json!({
                "msg": "listening",
                "url": format!("http://{local}/"),
                "workers": config.workers,
                "queue": config.queue,
                "max_body_bytes": config.max_body_bytes,
                "timeout_s": config.timeout.as_secs_f64(),
            }),
        );
        let app = Arc::new(App::new(engine, config));
        serve(listener, app, shutdown_signal(log)).await?;
        Ok(())
    });
    // Dropping the runtime would wait for every blocking thread; cancelled
    // work returns within a fraction of a second, and none is waited for
    // longer than this.
    rt.shutdown_timeout(RUNTIME_STOP);
    served
}

async fn shutdown_signal(log: crate::LogTarget) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    let name = tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    };
    log.event(
        "info",
        serde_json::json!({"msg": "signal received", "signal": name}),
    );
}

/// A server running on a background thread (see [`spawn`]).
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its state (metrics, config).
    pub app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Running {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts down gracefully and waits for the server thread.
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> io::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| io::Error::other("the server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// Starts a server on `addr` (port 0: any free port) on a background thread
/// with its own runtime; returns once it is listening.
pub fn spawn(addr: &str, engine: Arc<Engine>, config: Config) -> io::Result<Running> {
    let rt = runtime(&config)?;
    let listener = rt.block_on(TcpListener::bind(addr))?;
    let local = listener.local_addr()?;
    let app = Arc::new(App::new(engine, config));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app2 = app.clone();
    let thread = std::thread::Builder::new()
        .name("unspin-server-main".into())
        .spawn(move || {
            let served = rt.block_on(serve(listener, app2, async {
                let _ = rx.await;
            }));
            rt.shutdown_timeout(RUNTIME_STOP);
            served
        })?;
    Ok(Running {
        addr: local,
        app,
        stop: Some(tx),
        thread: Some(thread),
    })
}
