//! The router: routes, the per-request middleware (log line, metrics,
//! timeout) and the JSON API handlers.
//!
//! Adding an endpoint: write an `async fn(State<Arc<App>>, Request) ->
//! Result<Response, ApiError>` that reads its input with
//! [`crate::input::parse_text_input`] (or its own parser), does its CPU work
//! through [`App::work`] with the request's [`request_cancel`] token (handed
//! to the engine, so that a timeout stops the work), and register it in
//! [`router`] with its route name in [`ROUTES`] (the metrics label).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use unspin::Cancel;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::engine::{DetectParams, Engine, RestoreParams, TraceError, TraceParams, Validate};
use crate::error::{ApiError, ErrorCode};
use crate::input::{body_kind, parse_text_input, read_body, BodyKind, TextInput};
use crate::json_doc::ExactId;
use crate::limits::Pool;
use crate::metrics::Metrics;
use crate::Config;

/// Route patterns, the only values of the metrics' `route` label.
pub const ROUTES: &[&str] = &[
    "/",
    "/app.js",
    "/healthz",
    "/metrics",
    "/v1/restore",
    "/v1/detect",
    "/v1/trace",
    "/v2/check",
    "/v2/languages",
];

/// Shared state of one server.
pub struct App {
    /// The model and the work done with it.
    pub engine: Arc<Engine>,
    /// Limits and options.
    pub config: Config,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Cancelled when shutdown gives up waiting: every request's token
    /// ([`request_cancel`]) is its child, so cancelling it stops all work.
    pub shutdown: Cancel,
    pool: Pool,
    next_id: AtomicU64,
    /// Host names served (see [`Config::allowed_hosts`]), normalized.
    hosts: HashSet<String>,
}

/// The local address a connection was accepted on (a request extension).
#[derive(Clone, Copy, Debug)]
pub struct LocalAddr(pub SocketAddr);

impl App {
    /// State for a server over `engine`.
    pub fn new(engine: Arc<Engine>, config: Config) -> Self {
        let hosts = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .chain(config.allowed_hosts.iter().map(String::as_str))
            .map(|h| normalize_host(host_name(h)))
            .collect();
        Self {
            engine,
            metrics: Arc::new(Metrics::new(config.workers, config.queue)),
            shutdown: Cancel::new(),
            pool: Pool::new(config.workers, config.queue),
            config,
            next_id: AtomicU64::new(1),
            hosts,
        }
    }

    /// Whether a request naming `host` (a Host header: name and optional
    /// port; any port is fine) over a connection accepted on `local` is
    /// for this server.
    pub fn host_allowed(&self, host: &str, local: Option<SocketAddr>) -> bool {
        let name = normalize_host(host_name(host));
        if self.hosts.contains("*") || self.hosts.contains(&name) {
            return true;
        }
        // The address the client connected to names this server whatever
        // it is (0.0.0.0 binds, containers); a rebinding attack needs a
        // domain name of its own.
        let ip = name.trim_start_matches('[').trim_end_matches(']');
        local.is_some_and(|l| ip.parse::<std::net::IpAddr>().is_ok_and(|ip| ip == l.ip()))
    }

    /// Runs CPU-bound work on the worker pool (503 when full) and counts
    /// the words it reports under `route`. The job gets `cancel` (the
    /// request's token, see [`request_cancel`]) to hand to the engine: once
    /// the request times out, its client goes away or shutdown gives up,
    /// the engine stops within a fraction of a second and frees the worker.
    /// A job whose token is cancelled before it starts does not run.
    pub async fn work<T, F>(
        &self,
        route: &'static str,
        cancel: &Cancel,
        job: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Engine, &Cancel) -> (T, usize) + Send + 'static,
    {
        let engine = self.engine.clone();
        let metrics = self.metrics.clone();
        let cancel = cancel.clone();
        let run = move || {
            if cancel.is_cancelled() {
                metrics.count_cancelled();
                return Err(cancelled_error(&cancel));
            }
            let out = job(&engine, &cancel);
            if cancel.is_cancelled() {
                metrics.count_cancelled();
            }
            Ok(out)
        };
        match self.pool.run(run).await.and_then(|r| r) {
            Ok((v, words)) => {
                self.metrics.add_words(route, words);
                Ok(v)
            }
            Err(e) => {
                if e.code == "busy" {
                    self.metrics.count_busy();
                }
                Err(e)
            }
        }
    }

    /// Reads a text request for an endpoint taking text/plain, JSON or a form.
    pub async fn text_input<P: DeserializeOwned + Validate>(
        &self,
        req: Request,
    ) -> Result<TextInput<P>, ApiError> {
        let (parts, body) = req.into_parts();
        let kind = body_kind(
            &parts.headers,
            &[BodyKind::Text, BodyKind::Json, BodyKind::Form],
        )?;
        let bytes = read_body(body, &parts.headers, self.config.max_body_bytes).await?;
        parse_text_input(kind, bytes, parts.uri.query().unwrap_or(""))
    }
}

/// The host part of `HOST[:PORT]` (an IPv6 address keeps its brackets).
pub fn host_name(host_port: &str) -> &str {
    if host_port.starts_with('[') {
        return match host_port.find(']') {
            Some(end) => &host_port[..=end],
            None => host_port,
        };
    }
    match host_port.split_once(':') {
        Some((name, port)) if !port.contains(':') => name,
        _ => host_port,
    }
}

/// Host names compare without case and without a final dot.
fn normalize_host(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The router with every route and middleware.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(crate::page::page))
        .route("/app.js", get(crate::page::script))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/restore", post(restore))
        .route("/v1/detect", post(detect))
        .route("/v1/trace", post(trace))
        .route(
            "/v2/check",
            post(crate::languagetool::check).get(crate::languagetool::check),
        )
        .route("/v2/languages", get(crate::languagetool::languages))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), check_host))
        .layer(middleware::from_fn_with_state(app.clone(), timeout))
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// JSON bytes as a response.
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// An answer's JSON, with the request's id exactly as it was given.
fn exact_json(v: &serde_json::Value, id: Option<&ExactId>) -> Vec<u8> {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    match id {
        Some(id) => id.finish(bytes),
        None => bytes,
    }
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let v = serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "model": app.engine.model().lm.stats().to_string(),
        "spinners": app.engine.spinner_names(),
    });
    json_bytes(StatusCode::OK, v.to_string().into_bytes())
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(app.pool.running(), app.pool.admitted()),
    )
        .into_response()
}

/// The cancellation token of a request: made by the timeout middleware (a
/// child of [`App::shutdown`] with the request's deadline), cancelled when
/// the request times out or its future is dropped.
pub fn request_cancel(req: &Request) -> Cancel {
    req.extensions()
        .get::<Cancel>()
        .cloned()
        .unwrap_or_default()
}

/// The answer to a request whose work was cancelled before it ran.
fn cancelled_error(cancel: &Cancel) -> ApiError {
    ApiError::cancelled(cancel.error().to_string())
}

/// `POST /v1/restore`: the JSON of `unspin restore --format json`.
async fn restore(State(app): State<Arc<App>>, req: Request) -> Result<Response, ApiError> {
    let cancel = request_cancel(&req);
    let input: TextInput<RestoreParams> = app.text_input(req).await?;
    let bytes = app
        .work("/v1/restore", &cancel, move |engine, cancel| {
            match engine.restore_cancellable(&input.text, &input.params, cancel) {
                Ok(r) => {
                    let id = input.id.as_ref();
                    let v = unspin::render::restoration_json(&r, None, id.map(ExactId::value));
                    (Ok(exact_json(&v, id)), r.words)
                }
                Err(e) => (Err(e), 0),
            }
        })
        .await??;
    Ok(json_bytes(StatusCode::OK, bytes))
}

/// `POST /v1/detect`: the JSON of `unspin detect --format json`.
async fn detect(State(app): State<Arc<App>>, req: Request) -> Result<Response, ApiError> {
    let cancel = request_cancel(&req);
    let input: TextInput<DetectParams> = app.text_input(req).await?;
    let bytes = app
        .work("/v1/detect", &cancel, move |engine, cancel| {
            match engine.detect_cancellable(&input.text, &input.params, cancel) {
                Ok((det, word_threshold)) => {
                    let id = input.id.as_ref();
                    let v = unspin::render::detection_json(
                        &det,
                        word_threshold,
                        None,
                        id.map(ExactId::value),
                    );
                    (Ok(exact_json(&v, id)), det.words)
                }
                Err(e) => (Err(e), 0),
            }
        })
        .await??;
    Ok(json_bytes(StatusCode::OK, bytes))
}

/// `POST /v1/trace`: the sources of the text in the server's trace index,
/// as the `report` of `unspin trace --format json`.
async fn trace(State(app): State<Arc<App>>, req: Request) -> Result<Response, ApiError> {
    if !app.engine.can_trace() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_index",
            "this server has no trace index; start it with `unspin serve --index INDEX`",
        ));
    }
    let cancel = request_cancel(&req);
    let input: TextInput<TraceParams> = app.text_input(req).await?;
    let show_paths = app.config.trace_show_paths;
    let result = app
        .work("/v1/trace", &cancel, move |engine, cancel| {
            let words = input.text.split_whitespace().count();
            let r = engine
                .trace_cancellable(&input.text, &input.params, cancel)
                .map(|mut rep| {
                    if !show_paths {
                        hide_local_files(&mut rep);
                    }
                    let mut v = serde_json::to_value(&rep).unwrap_or_default();
                    if let (Some(id), Some(obj)) = (&input.id, v.as_object_mut()) {
                        obj.insert("id".into(), id.value().clone());
                    }
                    exact_json(&v, input.id.as_ref())
                });
            (r, words)
        })
        .await?;
    // Every other failure of a trace is the index's (a corrupt or
    // unreadable file, read inside the store's containment): 503, and the
    // server goes on answering.
    let bytes = result.map_err(|e| match e {
        TraceError::Cancelled(m) => ApiError::cancelled(m),
        TraceError::Index(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "index_error", m),
    })?;
    Ok(json_bytes(StatusCode::OK, bytes))
}

/// Why source passages carry no text when the server keeps it to itself.
pub const SOURCE_TEXT_HIDDEN: &str =
    "source text not served (the server runs without --trace-show-paths)";

/// Leaves out of a trace report what would expose the server's files: their
/// paths (a document known only by its path gets `doc:N`, its number in the
/// index) and the source passages' text. What the client sent, and the
/// index's own ids and metadata, stay.
fn hide_local_files(rep: &mut unspin_index::report::TraceReport) {
    for s in &mut rep.sources {
        if let Some(loc) = s.location.take() {
            if s.id == loc {
                s.id = format!("doc:{}", s.doc);
            }
        }
        for p in &mut s.passages {
            p.source.text = None;
        }
        // Other reasons name the file ("source changed since indexing: PATH").
        let not_stored = unspin_index::TextUnavailable::NotStored.to_string();
        if s.source_text.as_deref() != Some(not_stored.as_str()) {
            s.source_text = Some(SOURCE_TEXT_HIDDEN.into());
        }
    }
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no endpoint {method} {}; see GET / and docs/SERVER.md",
            truncate(uri.path(), 200)
        ),
    )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take {method}", truncate(uri.path(), 200)),
    )
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Answers only requests whose Host names this server (see
/// [`Config::allowed_hosts`]): a page on another name that resolves here
/// (DNS rebinding) gets 421 and reads nothing. Requests without a Host
/// (HTTP/1.0 tools) pass: browsers always send one.
async fn check_host(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let local = req.extensions().get::<LocalAddr>().map(|l| l.0);
    if let Some(host) = req.headers().get(header::HOST) {
        let host = host.to_str().unwrap_or("");
        if !app.host_allowed(host, local) {
            let shown = truncate(host, 200);
            return ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "host_not_allowed",
                format!(
                    "this server does not answer for the host {shown:?}; \
                     start it with --allow-host {} to allow it",
                    host_name(shown)
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// The per-request time limit: reading the body, waiting for a worker and
/// the work itself all count. The request gets a cancellation token with
/// the same deadline (a child of [`App::shutdown`]; see [`request_cancel`]);
/// it is cancelled when the limit passes or the request's future is
/// dropped (its client went away), so the worker stops and is free for the
/// next request within a fraction of a second.
async fn timeout(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let limit = app.config.timeout;
    let cancel = app.shutdown.child(Some(Instant::now() + limit));
    req.extensions_mut().insert(cancel.clone());
    let _cancel_when_done = CancelOnDrop(cancel);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            app.metrics.count_timeout();
            ApiError::timeout(limit).into_response()
        }
    }
}

/// Cancels its token when dropped: the request is answered, timed out or
/// abandoned, and no work should go on for it.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Metrics and one structured log line per request; adds `x-request-id`.
async fn observe(State(app): State<Arc<App>>, req: Request<Body>, next: Next) -> Response {
    let start = Instant::now();
    let id = app.next_id.fetch_add(1, Ordering::Relaxed);
    let route: &'static str = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| ROUTES.iter().copied().find(|r| *r == m.as_str()))
        .unwrap_or("other");
    let method = req.method().clone();
    let path = truncate(req.uri().path(), 200).to_string();
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string());
    let bytes_in = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    app.metrics.begin();
    let mut resp = next.run(req).await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    app.metrics.end(route, status, elapsed);
    if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let bytes_out = axum::body::HttpBody::size_hint(resp.body()).exact();
    let mut line = serde_json::json!({
        "msg": "request",
        "id": id,
        "method": method.as_str(),
        "path": path,
        "route": route,
        "status": status,
        "ms": (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "remote": remote,
    });
    if let Some(code) = resp.extensions().get::<ErrorCode>() {
        line["error"] = serde_json::Value::String(code.0.to_string());
    }
    let level = if status >= 500 { "warn" } else { "info" };
    app.config.log.event(level, line);
    resp
}
