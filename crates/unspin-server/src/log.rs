//! Structured logs: one JSON object per line.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where log lines go.
#[derive(Clone, Debug, Default)]
pub enum LogTarget {
    /// Standard error, one JSON object per line.
    #[default]
    Stderr,
    /// Nowhere.
    Off,
    /// Kept in memory (for tests).
    Buffer(Arc<Mutex<Vec<String>>>),
}

impl LogTarget {
    /// Writes one event: `fields` is a JSON object; `ts` and `level` are added first.
    pub fn event(&self, level: &str, fields: serde_json::Value) {
        if matches!(self, LogTarget::Off) {
            return;
        }
        let mut line = format!(
            "{{\"ts\":\"{}\",\"level\":\"{level}\"",
            rfc3339_millis(SystemTime::now())
        );
        if let serde_json::Value::Object(map) = fields {
            for (k, v) in map {
                line.push(',');
                line.push_str(&serde_json::Value::String(k).to_string());
                line.push(':');
                line.push_str(&v.to_string());
            }
        }
        line.push('}');
        match self {
            LogTarget::Stderr => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{line}");
            }
            LogTarget::Buffer(b) => b.lock().unwrap_or_else(|e| e.into_inner()).push(line),
            LogTarget::Off => {}
        }
    }
}

/// `2026-11-26T08:30:00.123Z` (UTC, milliseconds). A clock set before
/// 1970 logs the epoch rather than failing.
pub fn rfc3339_millis(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t.max(UNIX_EPOCH)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2026-11-26T08:30:00.123Z
        let t = UNIX_EPOCH + Duration::from_millis(1_795_681_800_123);
        assert_eq!(rfc3339_millis(t), "2026-11-26T08:30:00.123Z");
        // 2024-02-29T23:59:59Z (a leap day)
        let t = UNIX_EPOCH + Duration::from_secs(1_709_251_199);
        assert_eq!(rfc3339_millis(t), "2024-02-29T23:59:59.000Z");
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(rfc3339_millis(before), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn one_json_object_per_line() {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let log = LogTarget::Buffer(buf.clone());
        log.event(
            "info",
            serde_json::json!({"msg": "a \"quoted\"\nline", "n": 3}),
        );
        let lines = buf.lock().unwrap();
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["level"], "info");
        assert_eq!(v["n"], 3);
        assert_eq!(v["msg"], "a \"quoted\"\nline");
    }
}
