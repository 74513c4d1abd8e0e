//! The web page at `/`: one self-contained HTML file (inline CSS and
//! JavaScript, no external resources) compiled into the binary.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page's source.
pub const PAGE: &str = include_str!("page.html");

/// `GET /`.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Everything is inline; forbid anything from elsewhere.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
        .into_response()
}
