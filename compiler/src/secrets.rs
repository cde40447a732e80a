//! Credential detection for plain config and env values.
//!
//! Takes: a variable name and value. Gives: why it looks like a credential, if it does.
//! Names are split into words, so `TOKENIZER` is fine and `HF_TOKEN` is not.

/// Words in a variable name that mark a credential.
const NAME_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PWD",
    "TOKEN",
    "SECRET",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "PRIVATEKEY",
];
/// Pairs of consecutive words that mark one.
const NAME_PAIRS: &[(&str, &str)] = &[
    ("API", "KEY"),
    ("PRIVATE", "KEY"),
    ("ACCESS", "KEY"),
    ("SECRET", "KEY"),
    ("AUTH", "KEY"),
];

/// Prefixes of well-known key formats, with the minimum length of what follows.
const VALUE_PREFIXES: &[(&str, usize, &str)] = &[
    ("AKIA", 16, "an AWS access key id"),
    ("ASIA", 16, "an AWS temporary key id"),
    ("ghp_", 30, "a GitHub token"),
    ("gho_", 30, "a GitHub token"),
    ("ghs_", 30, "a GitHub token"),
    ("github_pat_", 30, "a GitHub token"),
    ("glpat-", 20, "a GitLab token"),
    ("xoxb-", 20, "a Slack token"),
    ("xoxp-", 20, "a Slack token"),
    ("sk-", 32, "an API secret key"),
    ("sk_live_", 20, "a Stripe secret key"),
    ("hf_", 30, "a Hugging Face token"),
    ("AIza", 35, "a Google API key"),
    ("eyJ", 40, "a JSON Web Token"),
];

pub fn looks_like_credential(name: &str, value: &str) -> Option<String> {
    let words: Vec<String> = name.split(['_', '-', '.']).map(str::to_ascii_uppercase).collect();
    if let Some(w) = words.iter().find(|w| NAME_WORDS.contains(&w.as_str())) {
        return Some(format!("its name contains `{w}`"));
    }
    if let Some((a, b)) = NAME_PAIRS
        .iter()
        .find(|(a, b)| words.windows(2).any(|p| p[0] == *a && p[1] == *b))
    {
        return Some(format!("its name contains `{a}_{b}`"));
    }
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("the value is a private key".into());
    }
    for (prefix, min, what) in VALUE_PREFIXES {
        if let Some(rest) = value.strip_prefix(prefix)
            && rest.len() >= *min
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Some(format!("the value looks like {what}"));
        }
    }
    if let Some((_, rest)) = value.split_once("://")
        && let Some((userinfo, _)) = rest.split_once('@')
        && userinfo.contains(':')
        && !userinfo.contains('/')
    {
        return Some("the URL carries a password".into());
    }
    if high_entropy(value) {
        return Some("the value is a long random-looking string".into());
    }
    None
}

/// Long tokens of mixed letters and digits whose characters are close to uniformly random:
/// API keys and passwords, not paths, URLs, model names or hex digests (hex carries at most
/// 4 bits per character, under the threshold).
fn high_entropy(value: &str) -> bool {
    if value.len() < 24
        || value.len() > 512
        || value.contains(char::is_whitespace)
        || value.contains("://")
        || value.starts_with('/')
    {
        return false;
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = value.chars().count() as f64;
    let entropy: f64 = counts.values().map(|&k| -(k as f64 / n) * (k as f64 / n).log2()).sum();
    entropy > 4.3
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        assert!(looks_like_credential("DB_PASSWORD", "x").is_some());
        assert!(looks_like_credential("HF_TOKEN", "").is_some());
        assert!(looks_like_credential("OPENAI_API_KEY", "x").is_some());
        assert!(looks_like_credential("TOKENIZER", "bert-base").is_none());
        assert!(looks_like_credential("MODEL_NAME", "fraud-xgb").is_none());
        assert!(looks_like_credential("X", &format!("AKIA{}", "A".repeat(16))).is_some());
        assert!(looks_like_credential("DB_URL", "postgres://u:p@db:5432/x").is_some());
        assert!(looks_like_credential("DB_URL", "postgres://db:5432/x").is_none());
    }

    #[test]
    fn high_entropy_values() {
        assert!(looks_like_credential("X", "q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE").is_some());
        for fine in [
            "Qwen/Qwen2.5-0.5B-Instruct",
            "sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b5f1a3e0f8c2d1e0a9b8c7d6",
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "meta-llama/Llama-3.1-8B-Instruct",
            "s3://bucket/path/to/Data2024",
            "/artifacts/model.json",
            "fraud-detection-config-d0f705ff",
            "FeatureStoreV2ClientTimeout30Seconds",
        ] {
            assert!(looks_like_credential("X", fine).is_none(), "{fine}");
        }
    }
}
