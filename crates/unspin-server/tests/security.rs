//! The server against a hostile web page (issue 17): only allowed Host
//! names are answered (DNS rebinding), the page runs no inline script and
//! cannot be framed, and ids come back exactly.

mod common;

use common::*;
use unspin_server::Config;

fn with_host(s: &unspin_server::Running, host: &str) -> Resp {
    raw(
        s.addr,
        format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

#[test]
fn only_allowed_hosts_are_answered() {
    let s = start(config());
    let port = s.addr.port();
    for ok in [
        format!("127.0.0.1:{port}"),
        "127.0.0.1".into(),
        format!("localhost:{port}"),
        "LocalHost".into(),
        "localhost.".into(),
        format!("[::1]:{port}"),
        "[::1]".into(),
    ] {
        let r = with_host(&s, &ok);
        assert_eq!(r.status, 200, "Host {ok}: {}", r.text());
    }
    for bad in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        "localhost.evil.example".into(),
        "127.0.0.2".into(),
        "".into(),
    ] {
        let r = with_host(&s, &bad);
        assert_eq!(r.status, 421, "Host {bad:?}: {}", r.text());
        let v = r.json();
        assert_eq!(v["error"], "host_not_allowed");
        assert_eq!(v["status"], 421);
        assert!(v["message"].as_str().unwrap().contains("--allow-host"));
    }
    // Every route, the API included.
    let r = raw(
        s.addr,
        b"POST /v1/restore HTTP/1.1\r\nHost: rebound.example\r\nContent-Type: text/plain\r\n\
          Content-Length: 7\r\nConnection: close\r\n\r\nhe said",
    );
    assert_eq!(r.status, 421);
    drop(s);

    // --allow-host adds names, with or without a port; '*' allows any.
    let s = start(Config {
        allowed_hosts: vec!["unspin.example".into(), "Other.Example:8080".into()],
        ..config()
    });
    for ok in ["unspin.example", "unspin.example:80", "other.example"] {
        assert_eq!(with_host(&s, ok).status, 200, "Host {ok}");
    }
    assert_eq!(with_host(&s, "evil.example").status, 421);
    drop(s);
    let s = start(Config {
        allowed_hosts: vec!["*".into()],
        ..config()
    });
    assert_eq!(with_host(&s, "anything.example").status, 200);
}

#[test]
fn the_page_runs_no_inline_script_and_cannot_be_framed() {
    let s = start(config());
    let r = get(s.addr, "/");
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .expect("a script-src directive");
    assert_eq!(script_src, "script-src 'self'");
    let html = r.text();
    // Every script is the one at /app.js; no inline handlers.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("<script src=\"/app.js\"></script>"));
    assert!(!html.contains(" onclick=") && !html.contains(" onload="));

    let js = get(s.addr, "/app.js");
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(js.header("x-content-type-options"), Some("nosniff"));
    let js = js.text();
    assert!(js.contains("/v1/restore") && js.contains("/v1/detect"));
    assert!(!js.contains("</script>"));
}

#[test]
fn ids_come_back_exactly_and_duplicate_keys_are_refused() {
    let s = start(config());
    let big = "123456789012345678901234567890";
    for path in ["/v1/restore", "/v1/detect"] {
        let body = format!("{{\"text\":\"helium said so.\",\"id\":{big}}}");
        let r = post(s.addr, path, "application/json", body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains(&format!("\"id\":{big}")), "{}", r.text());
        serde_json::from_slice::<serde_json::Value>(&r.body).expect("valid JSON");
    }
    let r = post(
        s.addr,
        "/v1/restore",
        "application/json",
        br#"{"text":"helium said so.","text":"arsenic"}"#,
    );
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["error"], "malformed_json");
    assert!(v["message"].as_str().unwrap().contains("\"text\""));
}
