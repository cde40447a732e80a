//! Names: DNS-1123 rules, the object names mlship derives, content hashes, and project paths.
//!
//! Takes: names and paths from the spec. Gives: validity answers and the derived names, so
//! that the checker and the emitter agree on every object name.

use sha2::{Digest, Sha256};

/// A DNS-1123 label: lowercase alphanumerics and `-`, alphanumeric at both ends, <= 63.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: labels joined by dots, <= 253 (checked by the caller's limit).
pub fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(is_dns_label)
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_` and `.`, starting and
/// ending with a letter or digit.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain of at most 253 characters and
/// the name a non-empty label value.
pub fn is_label_key(s: &str) -> bool {
    let (prefix, name) = s.rsplit_once('/').map_or((None, s), |(p, n)| (Some(p), n));
    !name.is_empty() && is_label_value(name) && prefix.is_none_or(|p| p.len() <= 253 && is_dns_subdomain(p))
}

/// A valid name close to `s`: lowercase, other characters turned into `-`.
pub fn suggest(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-');
    let out = &out[..out.len().min(63)];
    if out.is_empty() {
        "my-name".into()
    } else {
        out.trim_end_matches('-').to_string()
    }
}

/// First 8 hex digits of the SHA-256 of `bytes`: the suffix of content-named objects.
pub fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// A JSON value with every mapping's keys sorted, so that equal values have equal bytes
/// whatever order their keys were written in.
pub fn sorted_json(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            serde_json::Value::Object(keys.into_iter().map(|k| (k.clone(), sorted_json(&m[k]))).collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted_json).collect()),
        other => other.clone(),
    }
}

/// The file at the root of a rendered tree that lists its files and their SHA-256.
pub const TREE_LOCK: &str = "mlship.lock.json";

/// Full hex SHA-256, for the lock file.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// ConfigMap, Job and (run-once) Workflow names end in `-<8 hex>` of their content; this is
/// the name without it, which stays the same across content changes (diffs pair by it,
/// patches match it).
pub fn stable_name(kind: &str, name: &str) -> String {
    if matches!(kind, "ConfigMap" | "Job" | "Workflow" | "Experiment" | "TrainJob")
        && let Some((base, hash)) = name.rsplit_once('-')
        && hash.len() == 8
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return base.to_string();
    }
    name.to_string()
}

pub fn workload(project: &str, name: &str) -> String {
    format!("{project}-{name}")
}

/// A pipeline step's Job: `<project>-<pipeline>-<step>-<hash8>` (Jobs are immutable).
pub fn job(project: &str, pipeline: &str, step: &str, hash: &str) -> String {
    format!("{project}-{pipeline}-{step}-{hash}")
}

/// A scheduled pipeline's CronJob (Kubernetes allows 52 characters).
pub fn cronjob(project: &str, pipeline: &str) -> String {
    format!("{project}-{pipeline}")
}

/// A Debian package name, optionally pinned: `libgomp1`, `libpq5=15.8-0+deb12u1`.
pub fn is_debian_package(s: &str) -> bool {
    let (name, version) = s.split_once('=').map_or((s, None), |(n, v)| (n, Some(v)));
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    name_ok
        && version.is_none_or(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "+-.:~".contains(c)))
}

/// An image repository: `host[:port]/path` in lowercase, no tag.
pub fn is_registry(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-:".contains(c))
        })
        && !s.contains("::")
}

/// No control characters and no Unicode line or paragraph separators.
pub fn is_plain_text(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}'))
}

/// Check a path that must stay inside the project: relative, no `..` escape, no odd bytes.
pub fn check_relative_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Err(format!("`{path}` is absolute; paths are relative to the spec's folder"));
    }
    if !path.chars().all(|c| c.is_ascii_alphanumeric() || "/._-@+".contains(c)) {
        return Err(format!(
            "`{path}` has characters other than letters, digits and / . _ - @ +"
        ));
    }
    let mut depth: i32 = 0;
    for part in path.split('/') {
        match part {
            ".." => depth -= 1,
            "." | "" => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(format!("`{path}` leaves the project folder"));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(is_dns_label("fraud-detection"));
        for bad in ["", "Fraud", "a_b", "-a", "a-", &"a".repeat(64), "a.b"] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert_eq!(suggest("My_Model"), "my-model");
    }

    #[test]
    fn label_keys_and_values() {
        assert!(
            is_label_key("nvidia.com/gpu.product") && is_label_key("gpu") && is_label_value("NVIDIA-A100-SXM4-80GB")
        );
        assert!(
            !is_label_key("a-/b")
                && !is_label_key("/x")
                && !is_label_key("x/")
                && !is_label_value("a-")
                && !is_label_value("-a")
        );
    }

    #[test]
    fn relative_paths() {
        assert!(check_relative_path("src/").is_ok());
        assert!(check_relative_path("a/../b").is_ok());
        for bad in ["/etc/passwd", "../x", "a/../../x", "C:/x", "a\nb", ""] {
            assert!(check_relative_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(short_hash(b"abc"), "ba7816bf");
    }
}
