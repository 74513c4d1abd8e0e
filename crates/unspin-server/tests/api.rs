//! The JSON API over real HTTP: a server on an ephemeral loopback port.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use unspin_server::{Config, LogTarget};

/// What the library gives for `text` with default options, as the CLI writes it.
fn expected_restore(text: &str) -> serde_json::Value {
    let r = engine().restore(text, &Default::default()).unwrap();
    roundtrip(unspin::render::restoration_json(&r, None, None))
}

/// Through JSON text and back, as the response went (float parsing is not
/// exact, so compare like with like).
fn roundtrip(v: serde_json::Value) -> serde_json::Value {
    serde_json::from_str(&v.to_string()).unwrap()
}

#[test]
fn restore_plain_text_gives_the_cli_json() {
    let s = start(config());
    let text = sample();
    let r = post(
        s.addr,
        "/v1/restore",
        "text/plain; charset=utf-8",
        text.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v, expected_restore(&text));
    // The restore really happened: the sample's spun words are back.
    let restored = v["text"].as_str().unwrap();
    assert!(restored
        .starts_with("The government said on Tuesday that the new rules would be published"));
    let changes = v["changes"].as_array().unwrap();
    assert!(changes.len() >= 15, "{} changes", changes.len());
    for c in changes {
        let (a, b) = (
            c["start"].as_u64().unwrap() as usize,
            c["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[a..b], c["spun"].as_str().unwrap());
    }
    assert!(r.header("x-request-id").is_some());
}

#[test]
fn restore_json_and_form_with_id_and_options() {
    let s = start(config());
    let text = sample();
    let v = post_json(
        s.addr,
        "/v1/restore",
        &json!({"text": text, "id": {"doc": 7}, "min_confidence": 0.99}),
    )
    .json();
    assert_eq!(v["id"], json!({"doc": 7}));
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["applied"] == false),
        "some change is below 0.99"
    );
    for c in changes {
        let applied = c["confidence"].as_f64().unwrap() >= 0.99;
        assert_eq!(c["applied"].as_bool().unwrap(), applied);
    }
    let f = post(
        s.addr,
        "/v1/restore",
        "application/x-www-form-urlencoded",
        &form(&[("text", &text), ("id", "a1")]),
    );
    assert_eq!(f.status, 200, "{}", f.text());
    let mut expected = expected_restore(&text);
    expected["id"] = json!("a1");
    assert_eq!(f.json(), expected);
    // Options for a text/plain body go in the query string.
    let q = post(
        s.addr,
        "/v1/restore?min_confidence=0.99",
        "text/plain",
        text.as_bytes(),
    )
    .json();
    assert_eq!(q["changes"], v["changes"]);
}

#[test]
fn unicode_text_keeps_every_byte() {
    let s = start(config());
    let text = "Café «quote» 😀 — the caller rules would beryllium published connected Monday, arsenic planned.\r\n\tEnd.";
    let v = post(s.addr, "/v1/restore", "text/plain", text.as_bytes()).json();
    assert_eq!(v, expected_restore(text));
    let out = v["text"].as_str().unwrap();
    assert!(out.starts_with("Café «quote» 😀 — "), "{out}");
    assert!(out.ends_with(".\r\n\tEnd."), "{out}");
}

#[test]
fn detect_spun_and_clean() {
    let s = start(config());
    let spun = post(s.addr, "/v1/detect", "text/plain", sample().as_bytes());
    assert_eq!(spun.status, 200, "{}", spun.text());
    let v = spun.json();
    for k in [
        "prob",
        "spun",
        "threshold",
        "words",
        "sections",
        "evidence",
        "flagged",
        "sums",
        "word_threshold",
    ] {
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
    assert_eq!(v["spun"], true);
    assert!(v["prob"].as_f64().unwrap() >= v["threshold"].as_f64().unwrap());
    assert!(!v["evidence"].as_array().unwrap().is_empty());
    let clean = "The government said on Tuesday that the new rules would be published in March, as planned. \
                 Officials said they expected the changes to cut costs for small businesses, which have \
                 complained for years that the current system is too complex.";
    let c = post_json(
        s.addr,
        "/v1/detect",
        &json!({"text": clean, "id": 3, "evidence": 2}),
    )
    .json();
    assert_eq!(c["spun"], false, "{c}");
    assert_eq!(c["id"], 3);
    // Same result as the library with the same options.
    let (det, wt) = engine()
        .detect(
            clean,
            &unspin_server::engine::DetectParams {
                evidence: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        c,
        roundtrip(unspin::render::detection_json(
            &det,
            wt,
            None,
            Some(&json!(3))
        ))
    );
    // restore=true refines the words with the full restorer.
    let r = post_json(
        s.addr,
        "/v1/detect",
        &json!({"text": sample(), "restore": true}),
    )
    .json();
    assert_eq!(r["spun"], true);
}

#[test]
fn malformed_requests_get_clear_json_errors() {
    let s = start(Config {
        max_body_bytes: 4096,
        ..config()
    });
    let a = s.addr;
    let cases: Vec<(&str, common::Resp, u16, &str)> = vec![
        (
            "bad JSON",
            post(a, "/v1/restore", "application/json", b"{\"text\": \"a"),
            400,
            "malformed_json",
        ),
        (
            "JSON array",
            post(a, "/v1/restore", "application/json", b"[\"text\"]"),
            400,
            "malformed_json",
        ),
        (
            "no text field",
            post(a, "/v1/detect", "application/json", b"{\"txt\": \"a\"}"),
            400,
            "missing_text",
        ),
        (
            "text not a string",
            post(a, "/v1/restore", "application/json", b"{\"text\": [1]}"),
            400,
            "bad_field",
        ),
        (
            "unknown option",
            post(
                a,
                "/v1/restore",
                "application/json",
                b"{\"text\": \"a\", \"speed\": 9}",
            ),
            400,
            "bad_option",
        ),
        (
            "option out of range",
            post(
                a,
                "/v1/detect",
                "application/json",
                b"{\"text\": \"a\", \"threshold\": 7}",
            ),
            400,
            "bad_option",
        ),
        (
            "bad query option",
            post(a, "/v1/restore?min_confidence=high", "text/plain", b"a"),
            400,
            "bad_option",
        ),
        (
            "empty body",
            post(a, "/v1/restore", "text/plain", b""),
            400,
            "invalid_text",
        ),
        (
            "invalid UTF-8",
            post(a, "/v1/restore", "text/plain", b"caller \xc3\x28 rules"),
            400,
            "invalid_text",
        ),
        (
            "binary",
            post(
                a,
                "/v1/detect",
                "text/plain",
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            ),
            400,
            "invalid_text",
        ),
        (
            "NUL in JSON",
            post(
                a,
                "/v1/restore",
                "application/json",
                b"{\"text\": \"a\\u0000b\"}",
            ),
            400,
            "invalid_text",
        ),
        (
            "wrong content type",
            post(a, "/v1/restore", "image/png", b"abc"),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            request(a, "POST", "/v1/restore", &[], b"abc"),
            415,
            "unsupported_media_type",
        ),
        (
            "latin-1",
            post(a, "/v1/restore", "text/plain; charset=iso-8859-1", b"abc"),
            415,
            "unsupported_media_type",
        ),
        (
            "too large",
            post(a, "/v1/restore", "text/plain", &vec![b'a'; 5000]),
            413,
            "body_too_large",
        ),
        (
            "wrong method",
            get(a, "/v1/restore"),
            405,
            "method_not_allowed",
        ),
        ("unknown path", get(a, "/v1/nothing"), 404, "not_found"),
        (
            "form without text",
            post(
                a,
                "/v1/restore",
                "application/x-www-form-urlencoded",
                b"he said the",
            ),
            400,
            "missing_text",
        ),
    ];
    for (what, r, status, code) in cases {
        assert_eq!(r.status, status, "{what}: {}", r.text());
        let v = r.json();
        assert_eq!(v["error"], code, "{what}: {v}");
        assert_eq!(v["status"], status, "{what}");
        assert!(!v["message"].as_str().unwrap().is_empty(), "{what}");
    }
    // A chunked upload with no Content-Length is cut off at the limit too.
    let mut chunked = b"POST /v1/restore HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .to_vec();
    for _ in 0..10 {
        chunked.extend_from_slice(b"3e8\r\n");
        chunked.extend_from_slice(&[b'a'; 1000]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = raw(a, &chunked);
    assert_eq!(r.status, 413, "{}", r.text());
    // Garbage that is not HTTP at all: hyper answers 400 and the server lives on.
    let r = raw(
        a,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n",
    );
    assert_eq!(r.status, 400);
    let h = get(a, "/healthz");
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
}

#[test]
fn full_server_answers_503_and_recovers() {
    let s = start(Config {
        workers: 1,
        queue: 0,
        max_body_bytes: 8 << 20,
        ..config()
    });
    let addr = s.addr;
    // About a second of work for the only worker.
    let big = sample().repeat(1500);
    let worker =
        std::thread::spawn(move || post(addr, "/v1/restore", "text/plain", big.as_bytes()));
    wait_running(addr, 1);
    let r = post(addr, "/v1/restore", "text/plain", b"the caller rules");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "busy");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(worker.join().unwrap().status, 200);
    let ok = post(addr, "/v1/restore", "text/plain", b"the caller rules");
    assert_eq!(ok.status, 200);
    let m = get(addr, "/metrics").text();
    assert_eq!(
        metric(&m, "unspin_http_rejected_total{reason=\"busy\"}"),
        Some(1.0),
        "{m}"
    );
}

/// Waits until `n` jobs run on the worker pool.
fn wait_running(addr: std::net::SocketAddr, n: usize) {
    let t = Instant::now();
    loop {
        let m = get(addr, "/metrics").text();
        if metric(&m, "unspin_jobs_running").unwrap_or(0.0) >= n as f64 {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no request in flight: {m}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn slow_requests_time_out_with_503() {
    let s = start(Config {
        timeout: Duration::from_millis(150),
        max_body_bytes: 8 << 20,
        ..config()
    });
    let big = sample().repeat(1500);
    // A 503 "timeout" means the answer came at the limit, before the work
    // was done (it would be a 200 after); how long that took is the
    // benchmarks' business, not an assertion on a possibly loaded machine.
    let r = post(s.addr, "/v1/restore", "text/plain", big.as_bytes());
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "timeout");
    // A small one still fits in the limit.
    assert_eq!(
        post(s.addr, "/v1/restore", "text/plain", b"the caller rules").status,
        200
    );
}

#[test]
fn shutdown_finishes_requests_in_flight() {
    let s = start(Config {
        max_body_bytes: 8 << 20,
        ..config()
    });
    let addr = s.addr;
    let one = post(addr, "/v1/restore", "text/plain", sample().as_bytes()).json();
    let big = sample().repeat(1000);
    let client =
        std::thread::spawn(move || post(addr, "/v1/restore", "text/plain", big.as_bytes()));
    wait_running(addr, 1);
    s.shutdown().unwrap();
    let r = client.join().unwrap();
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["words"], one["words"].as_u64().unwrap() * 1000);
    assert!(v["changes"].as_array().unwrap().len() >= 15_000);
    // Nobody listens any more.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn health_metrics_and_one_log_line_per_request() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let s = start(Config {
        log: LogTarget::Buffer(lines.clone()),
        ..config()
    });
    let h = get(s.addr, "/healthz").json();
    assert_eq!(h["status"], "ok");
    assert!(h["model"].as_str().unwrap().contains("3-gram"));
    post(
        s.addr,
        "/v1/restore",
        "text/plain",
        b"the caller rules would beryllium published",
    );
    post(s.addr, "/v1/restore", "application/json", b"{oops");
    post(s.addr, "/v1/detect", "text/plain", sample().as_bytes());
    let m = get(s.addr, "/metrics");
    assert_eq!(m.status, 200);
    assert!(m
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let t = m.text();
    assert_eq!(
        metric(
            &t,
            "unspin_http_requests_total{route=\"/v1/restore\",status=\"200\"}"
        ),
        Some(1.0),
        "{t}"
    );
    assert_eq!(
        metric(
            &t,
            "unspin_http_requests_total{route=\"/v1/restore\",status=\"400\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &t,
            "unspin_http_requests_total{route=\"/v1/detect\",status=\"200\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &t,
            "unspin_http_request_duration_seconds_count{route=\"/v1/restore\"}"
        ),
        Some(2.0)
    );
    assert!(metric(&t, "unspin_words_processed_total{route=\"/v1/detect\"}").unwrap() > 50.0);
    assert!(t.contains("# TYPE unspin_http_request_duration_seconds histogram"));
    let lines = lines.lock().unwrap().clone();
    // healthz, restore, restore (400), detect; the metrics request is logged after it answers.
    let requests: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|v| v["msg"] == "request")
        .collect();
    assert!(requests.len() >= 4, "{lines:?}");
    let statuses: Vec<u64> = requests
        .iter()
        .take(4)
        .map(|v| v["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![200, 200, 400, 200]);
    assert_eq!(requests[2]["error"], "malformed_json");
    for v in &requests {
        for k in [
            "ts", "level", "id", "method", "path", "route", "status", "ms", "remote",
        ] {
            assert!(v.get(k).is_some(), "missing {k} in {v}");
        }
    }
}

#[test]
fn the_page_is_self_contained() {
    let s = start(config());
    let r = get(s.addr, "/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"));
    let html = r.text();
    let script = get(s.addr, "/app.js").text();
    assert!(html.contains("<textarea"));
    assert!(script.contains("/v1/restore") && script.contains("/v1/detect"));
    // No external resources of any kind: the one script is this server's.
    let html = html.replace("<script src=\"/app.js\"></script>", "");
    for bad in [
        "http://", "https://", "//cdn", "<link", "src=\"", "@import", "url(",
    ] {
        assert!(!html.contains(bad), "page refers to {bad}");
        assert!(!script.contains(bad), "script refers to {bad}");
    }
}

#[test]
fn a_reused_restorer_answers_like_a_fresh_one() {
    let e = engine();
    let texts = [
        sample(),
        "helium said the caller rules would beryllium published connected Monday, arsenic planned."
            .to_string(),
        "The government said on Tuesday that the new rules would be published in March."
            .to_string(),
        sample().repeat(3),
    ];
    for round in 0..2 {
        for (i, t) in texts.iter().enumerate() {
            let m = if (i + round) % 2 == 0 {
                None
            } else {
                Some(0.9)
            };
            let reused = e
                .restore(
                    t,
                    &unspin_server::engine::RestoreParams {
                        min_confidence: m,
                        ..Default::default()
                    },
                )
                .unwrap();
            let opts = unspin::restore::Options {
                min_confidence: m.unwrap_or(0.0),
                ..Default::default()
            };
            let fresh = unspin::restore::Restorer::new(e.model(), opts).restore_document(t);
            assert_eq!(
                serde_json::to_string(&reused).unwrap(),
                serde_json::to_string(&fresh).unwrap(),
                "text {i}, round {round}"
            );
        }
    }
}

/// `quality: "best"` without the neural model: a 400 that says how to install it.
#[test]
fn quality_best_without_the_model_is_a_400_with_the_install_command() {
    // An engine of its own: the shared one may have loaded the model.
    let model = unspin::restore::Model::new(
        unspin::models::embedded_lm().unwrap(),
        unspin::models::embedded_lexicon().unwrap(),
    );
    let core = unspin::Engine::new(model, unspin::models::embedded_calibration().unwrap())
        .with_scorer_loader(unspin_neural::scorer_loader(Some(
            "/nonexistent/SmolLM2.gguf".into(),
        )));
    let engine = unspin_server::Engine::new(Arc::new(core));
    let s = unspin_server::spawn("127.0.0.1:0", Arc::new(engine), config()).unwrap();
    for path in ["/v1/restore", "/v1/detect"] {
        let r = post_json(s.addr, path, &json!({"text": sample(), "quality": "best"}));
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let v = r.json();
        assert_eq!(v["error"], "quality_unavailable", "{v}");
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains("install-neural-model.sh"), "{msg}");
    }
    // The default mode on the same server does not need it.
    let r = post_json(s.addr, "/v1/restore", &json!({"text": sample()}));
    assert_eq!(r.status, 200, "{}", r.text());
    // An unknown quality is a 400 too.
    let r = post_json(
        s.addr,
        "/v1/restore",
        &json!({"text": sample(), "quality": "fast"}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
}

/// `quality: "best"` with the installed model gives the library's
/// `restore_document_best` result (skipped, with the reason, when the
/// model is absent; CI installs it).
#[test]
fn quality_best_restores_with_the_neural_model() {
    let Some(path) = common::neural_model() else {
        return;
    };
    let s = start(config());
    let text = sample();
    let r = post_json(
        s.addr,
        "/v1/restore",
        &json!({"text": text, "quality": "best"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let neural = unspin_neural::NeuralLm::load(&path).unwrap();
    let want = unspin::restore::Restorer::new(engine().model(), Default::default())
        .restore_document_best(&text, &neural)
        .unwrap();
    assert_eq!(v["text"].as_str().unwrap(), want.text);
    let r = post(
        s.addr,
        "/v1/detect?quality=best",
        "text/plain; charset=utf-8",
        text.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["spun"], true);
}
