//! The web page at `/` and its script at `/app.js`: two files compiled into
//! the binary, no external resources. The script is served apart from the
//! page so that the Content-Security-Policy can forbid inline script: an
//! injected `<script>` or `onclick=` never runs.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page's source.
pub const PAGE: &str = include_str!("page.html");

/// The page's script.
pub const SCRIPT: &str = include_str!("app.js");

/// The page's Content-Security-Policy: scripts only from `/app.js`, styles
/// inline, requests only to this server, and no framing (clickjacking).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; \
     connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// `GET /`.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // For browsers that predate frame-ancestors.
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /app.js`.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        SCRIPT,
    )
        .into_response()
}
