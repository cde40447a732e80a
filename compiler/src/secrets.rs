//! Credential detection, and the shapes of the encrypted forms mlship passes through.
//!
//! Takes: names, values, texts and whole Kubernetes objects (as JSON). Gives: why something
//! looks like secret material, if it does. Three kinds of rule:
//!
//! - Names: split into words (`_`, `-`, `.`, `/`, camelCase and digits), so `TOKENIZER` is fine
//!   and `HF_TOKEN`, `DB_PASS`, `dbPassword` and `PASSWORD1` are not. A name whose last word
//!   says it names something *about* a credential (`PASSWORD_MIN_LENGTH`, `SECRET_NAME`,
//!   `API_KEY_HEADER`, `DB_PASSWORD_FILE`) is fine.
//! - Values and texts: known key formats, private keys and URLs with a password, anywhere in
//!   the text; `NAME=value` pairs whose name is a credential's; long high-entropy tokens.
//! - Objects ([`scan`]): a plain Secret carries no data; a SOPS Secret carries only
//!   well-formed `ENC[AES256_GCM,...]` values and real SOPS metadata; a SealedSecret only
//!   sealed ciphertext in `spec.encryptedData` and no plaintext template data; an
//!   ExternalSecret's template holds no literal data; every other string passes the rules
//!   above (ConfigMap data and container env by name and value).
//!
//! Name and entropy rules are heuristics: what they find may be waived with a reason. Key
//! formats, private keys, URL passwords and the provider forms are never waived.

use serde_json::Value;

/// Words in a variable name that mark a credential.
const NAME_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "TOKEN",
    "SECRET",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "PRIVATEKEY",
    "SECRETKEY",
    "ACCESSKEY",
];
/// Words that mark one when a longer word ends with them (`DBPASSWORD`, `AUTHTOKEN`).
const NAME_SUFFIXES: &[&str] = &["PASSWORD", "PASSWD", "TOKEN", "SECRET", "APIKEY"];
/// Pairs of consecutive words that mark one.
const NAME_PAIRS: &[(&str, &str)] = &[
    ("API", "KEY"),
    ("PRIVATE", "KEY"),
    ("ACCESS", "KEY"),
    ("SECRET", "KEY"),
    ("AUTH", "KEY"),
    ("ACCOUNT", "KEY"),
    ("SIGNING", "KEY"),
    ("ENCRYPTION", "KEY"),
    ("MASTER", "KEY"),
    ("SESSION", "KEY"),
    ("LICENSE", "KEY"),
];
/// Last words that make a name one of a credential's settings, not the credential:
/// `PASSWORD_MIN_LENGTH`, `SECRET_NAME`, `API_KEY_HEADER`, `TOKEN_URL`, `DB_PASSWORD_FILE`.
const SETTING_WORDS: &[&str] = &[
    "NAME",
    "NAMES",
    "HEADER",
    "LENGTH",
    "LEN",
    "MIN",
    "MAX",
    "FILE",
    "PATH",
    "DIR",
    "MOUNT",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "PORT",
    "TTL",
    "TIMEOUT",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "LIFETIME",
    "DURATION",
    "INTERVAL",
    "ROTATION",
    "SIZE",
    "COUNT",
    "LIMIT",
    "RATE",
    "THRESHOLD",
    "POLICY",
    "MODE",
    "TYPE",
    "KIND",
    "FORMAT",
    "ALGORITHM",
    "ENABLED",
    "DISABLED",
    "REQUIRED",
    "ID",
    "VERSION",
    "REF",
    "ARN",
    "STORE",
    "PROVIDER",
    "FIELD",
    "PREFIX",
    "SUFFIX",
    "REGION",
    "ISSUER",
    "AUDIENCE",
    "SCOPE",
    "SCOPES",
];
/// Words before `TOKEN` that make it a tokenizer's special token (`EOS_TOKEN: "</s>"`).
const SPECIAL_TOKENS: &[&str] = &[
    "PAD", "EOS", "BOS", "UNK", "SEP", "CLS", "MASK", "START", "END", "STOP", "SPECIAL",
];

/// Prefixes of well-known key formats, with the minimum length of what follows and whether
/// what follows must mix lowercase, uppercase and digits (for prefixes ordinary words share).
const VALUE_PREFIXES: &[(&str, usize, bool, &str)] = &[
    ("AKIA", 16, false, "an AWS access key id"),
    ("ASIA", 16, false, "an AWS temporary key id"),
    ("ghp_", 30, false, "a GitHub token"),
    ("gho_", 30, false, "a GitHub token"),
    ("ghs_", 30, false, "a GitHub token"),
    ("ghu_", 30, false, "a GitHub token"),
    ("ghr_", 30, false, "a GitHub token"),
    ("github_pat_", 30, false, "a GitHub token"),
    ("glpat-", 20, false, "a GitLab token"),
    ("xoxb-", 20, false, "a Slack token"),
    ("xoxp-", 20, false, "a Slack token"),
    ("xoxa-", 20, false, "a Slack token"),
    ("xapp-", 20, false, "a Slack token"),
    ("sk-", 32, true, "an API secret key"),
    ("sk_live_", 20, false, "a Stripe secret key"),
    ("sk_test_", 20, false, "a Stripe secret key"),
    ("rk_live_", 20, false, "a Stripe secret key"),
    ("hf_", 30, false, "a Hugging Face token"),
    ("npm_", 30, false, "an npm token"),
    ("pypi-", 50, false, "a PyPI token"),
    ("AIza", 35, false, "a Google API key"),
    ("eyJ", 40, false, "a JSON Web Token"),
    ("AGE-SECRET-KEY-1", 50, false, "an age private key"),
];

/// The shortest known key format, prefix included.
const SHORTEST_KEY: usize = {
    let mut min = usize::MAX;
    let mut i = 0;
    while i < VALUE_PREFIXES.len() {
        let (prefix, rest, ..) = VALUE_PREFIXES[i];
        if prefix.len() + rest < min {
            min = prefix.len() + rest;
        }
        i += 1;
    }
    min
};

/// The shortest text a rule of [`in_text`] can take for a credential without a `=` or a
/// `://` in it: the shortest known key format, a long random-looking token (24), the PuTTY
/// key header (19). Most values mlship sees are shorter: names, ports, paths.
const SHORTEST_CREDENTIAL: usize = if SHORTEST_KEY < 19 { SHORTEST_KEY } else { 19 };

/// Why something looks like a credential, and whether a waiver may cover it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub why: String,
    /// Name and entropy rules are heuristics; key formats and passwords in URLs are not.
    pub waivable: bool,
}

impl Finding {
    fn heuristic(why: String) -> Finding {
        Finding { why, waivable: true }
    }
    fn certain(why: String) -> Finding {
        Finding { why, waivable: false }
    }
}

/// A variable and its value: the name rules, then the value rules.
pub fn looks_like_credential(name: &str, value: &str) -> Option<String> {
    credential(name, value).map(|f| f.why)
}

/// [`looks_like_credential`] with whether a waiver may cover what it found: what the value
/// certainly is comes first, so that a waiver for a name never covers a key format. A value
/// that is only a reference to another variable (`$(DB_PASSWORD)`) holds nothing, whatever
/// its name.
pub fn credential(name: &str, value: &str) -> Option<Finding> {
    let by_value = in_text(value);
    if by_value.as_ref().is_some_and(|f| !f.waivable) {
        return by_value;
    }
    if !is_reference(value)
        && let Some(why) = credential_name(name)
    {
        return Some(Finding::heuristic(why));
    }
    by_value
}

/// The words of a name: split at `_ - . /` and other punctuation, between a lowercase letter
/// and an uppercase one, before the last capital of an acronym (`APIKey`), and around
/// digits, which are left out. Uppercase.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut flush = |w: &mut String| {
        if !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()) {
            out.push(std::mem::take(w));
        }
        w.clear();
    };
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            flush(&mut word);
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|j| chars.get(j))
            && prev.is_ascii_alphanumeric()
        {
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let boundary = (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                || (prev.is_ascii_digit() != c.is_ascii_digit())
                || (prev.is_ascii_uppercase() && c.is_ascii_uppercase() && next_lower);
            if boundary {
                flush(&mut word);
            }
        }
        word.push(c.to_ascii_uppercase());
    }
    flush(&mut word);
    out
}

/// Why a variable, data key or flag name marks a credential, if it does.
pub fn credential_name(name: &str) -> Option<String> {
    let words = words(name);
    if words == ["PWD"] {
        return None; // the shell's working directory
    }
    let mut hit = None;
    for (i, w) in words.iter().enumerate() {
        let special = w == "TOKEN" && i > 0 && SPECIAL_TOKENS.contains(&words[i - 1].as_str());
        if special {
            continue;
        }
        if NAME_WORDS.contains(&w.as_str()) {
            hit = Some(w.clone());
        } else if let Some(s) = NAME_SUFFIXES.iter().find(|s| w.len() > s.len() && w.ends_with(*s)) {
            hit = Some((*s).to_string());
        }
        if i > 0
            && let Some((a, b)) = NAME_PAIRS.iter().find(|(a, b)| words[i - 1] == *a && w == b)
        {
            hit = Some(format!("{a}_{b}"));
        }
    }
    let last = words.last()?;
    if SETTING_WORDS.contains(&last.as_str()) {
        return None;
    }
    hit.map(|w| format!("its name contains `{w}`"))
}

/// `$(NAME)`, `${NAME}` or `$NAME`: a reference to another variable, not a value.
fn is_reference(value: &str) -> bool {
    let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(rest) = value.strip_prefix("$(") {
        return rest.strip_suffix(')').is_some_and(name);
    }
    if let Some(rest) = value.strip_prefix("${") {
        return rest.strip_suffix('}').is_some_and(name);
    }
    value.strip_prefix('$').is_some_and(name)
}

/// Why a text (a value, an argument, a command line, a Dockerfile line) carries a credential:
/// a private key, a URL with a password, a known key format anywhere in it, a `NAME=value`
/// pair (or `--name=value` flag) whose name is a credential's, or a long random-looking token.
pub fn in_text(text: &str) -> Option<Finding> {
    if text.len() < SHORTEST_CREDENTIAL && !text.contains('=') && !text.contains("://") {
        return None;
    }
    if (text.contains("-----BEGIN") && text.contains("PRIVATE KEY")) || text.contains("PuTTY-User-Key-File") {
        return Some(Finding::certain("the value is a private key".into()));
    }
    if url_password(text) {
        return Some(Finding::certain("the URL carries a password".into()));
    }
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        if token.len() >= SHORTEST_KEY
            && let Some(what) = key_format(token)
        {
            return Some(Finding::certain(format!("the value looks like {what}")));
        }
    }
    let words = text
        .split(|c: char| c.is_whitespace() || ",;|&()[]{}`".contains(c))
        .map(|w| w.trim_matches(['"', '\'']))
        .filter(|w| !w.is_empty());
    for word in words {
        if let Some((name, value)) = word.split_once('=') {
            let name = name.trim_start_matches('-');
            let value = value.trim_matches(['"', '\'', '\\']);
            let literal = !value.is_empty() && !value.starts_with('$') && !value.starts_with("{{");
            if literal
                && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && let Some(why) = credential_name(name)
            {
                return Some(Finding::heuristic(format!("`{name}=...` sets a credential: {why}")));
            }
        }
        if word.split('=').any(high_entropy) {
            return Some(Finding::heuristic("the value is a long random-looking string".into()));
        }
    }
    None
}

/// A known key format: its prefix, enough characters after it, and only the characters
/// such keys are made of.
fn key_format(token: &str) -> Option<&'static str> {
    VALUE_PREFIXES.iter().find_map(|(prefix, min, mixed, what)| {
        let rest = token.strip_prefix(prefix)?;
        let mixes = || {
            rest.chars().any(|c| c.is_ascii_lowercase())
                && rest.chars().any(|c| c.is_ascii_uppercase())
                && rest.chars().any(|c| c.is_ascii_digit())
        };
        (rest.len() >= *min && (!mixed || mixes())).then_some(*what)
    })
}

/// Whether a URL in the text has a password in its userinfo (`scheme://user:password@host`).
/// A password that is a variable reference (`$(DB_PASSWORD)`) or a template is none.
fn url_password(text: &str) -> bool {
    text.match_indices("://").any(|(at, _)| {
        let rest = &text[at + 3..];
        let end = rest
            .find(|c: char| "/?#\"'`".contains(c) || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let Some((userinfo, _)) = authority.rsplit_once('@') else {
            return false;
        };
        let Some((_, password)) = userinfo.split_once(':') else {
            return false;
        };
        !password.is_empty() && !is_reference(password) && !password.starts_with("{{")
    })
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
    // Shannon entropy of the characters: counted in an array for ASCII (nearly every value).
    let mut ascii = [0usize; 128];
    let mut other = std::collections::BTreeMap::new();
    for c in value.chars() {
        match ascii.get_mut(c as usize) {
            Some(k) => *k += 1,
            None => *other.entry(c).or_insert(0usize) += 1,
        }
    }
    let n = value.chars().count() as f64;
    let entropy: f64 = ascii
        .iter()
        .chain(other.values())
        .filter(|&&k| k > 0)
        .map(|&k| -(k as f64 / n) * (k as f64 / n).log2())
        .sum();
    entropy > 4.3
}

/// Standard base64, decoded; `None` if it is not base64. SOPS writes it padded (`padded`);
/// sealed values are read with or without padding.
fn base64(text: &str, padded: bool) -> Option<Vec<u8>> {
    let body = text.trim_end_matches('=');
    if (padded && !text.len().is_multiple_of(4))
        || text.len() - body.len() > 2
        || body.len() % 4 == 1
        || (text.len() != body.len() && !text.len().is_multiple_of(4))
    {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = ((acc << 6) | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or_default());
        }
    }
    Some(out)
}

/// Bytes that read as text (printable ASCII and whitespace): plaintext, not ciphertext. The
/// chance that 16 random bytes are all printable is about one in ten million.
fn readable(bytes: &[u8]) -> bool {
    bytes.len() >= 16 && bytes.iter().all(|b| (0x20..0x7f).contains(b) || b"\t\n\r".contains(b))
}

/// The types SOPS records for an encrypted value.
const SOPS_TYPES: &[&str] = &["str", "int", "float", "bool", "bytes", "comment"];

/// Why a value is not a well-formed SOPS value
/// (`ENC[AES256_GCM,data:<base64>,iv:<base64>,tag:<base64 of 16 bytes>,type:<type>]`).
pub fn sops_value_problem(value: &str) -> Option<String> {
    let malformed = || Some("is not a SOPS value `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`".to_string());
    let Some(inner) = value.strip_prefix("ENC[").and_then(|v| v.strip_suffix(']')) else {
        return Some("is not encrypted; run `sops --encrypt` on the file".into());
    };
    let fields: Vec<&str> = inner.split(',').collect();
    let [cipher, data, iv, tag, kind] = fields.as_slice() else {
        return malformed();
    };
    let field = |f: &str, key: &str| {
        f.strip_prefix(key)
            .and_then(|v| v.strip_prefix(':'))
            .map(str::to_string)
    };
    let (Some(data), Some(iv), Some(tag), Some(kind)) = (
        field(data, "data"),
        field(iv, "iv"),
        field(tag, "tag"),
        field(kind, "type"),
    ) else {
        return malformed();
    };
    let iv_ok = base64(&iv, true).is_some_and(|b| b.len() >= 12);
    let tag_ok = base64(&tag, true).is_some_and(|b| b.len() == 16);
    if *cipher != "AES256_GCM" || !iv_ok || !tag_ok || !SOPS_TYPES.contains(&kind.as_str()) {
        return malformed();
    }
    match base64(&data, true) {
        None => malformed(),
        Some(bytes) if readable(&bytes) => Some("holds base64 of readable text, not ciphertext".into()),
        Some(_) => None,
    }
}

/// The key entries SOPS can record, each with the field that names its key.
const SOPS_KEYS: &[(&str, &str)] = &[
    ("age", "recipient"),
    ("pgp", "fp"),
    ("kms", "arn"),
    ("gcp_kms", "resource_id"),
    ("azure_kv", "vault_url"),
    ("hc_vault", "vault_address"),
];

/// Why a `sops:` metadata block is not one SOPS wrote: it needs its MAC and at least one key
/// entry (age, pgp, kms, gcp_kms, azure_kv or hc_vault, or in `key_groups`) holding the
/// encrypted data key.
pub fn sops_metadata_problem(sops: &Value) -> Option<String> {
    let well_formed = |v: &Value| {
        v.as_str()
            .is_some_and(|m| m.starts_with("ENC[") && sops_value_problem(m).is_none_or(|p| p.contains("readable")))
    };
    if !well_formed(&sops["mac"]) {
        return Some("its `sops` metadata has no well-formed MAC; encrypt the file with `sops --encrypt`".into());
    }
    let entries = |group: &Value| -> usize {
        SOPS_KEYS
            .iter()
            .flat_map(|(kind, id)| group[*kind].as_array().into_iter().flatten().map(move |e| (e, *id)))
            .filter(|(e, id)| {
                let set = |k: &str| e[k].as_str().is_some_and(|s| !s.trim().is_empty());
                set(id) && set("enc")
            })
            .count()
    };
    let groups: usize = sops["key_groups"].as_array().into_iter().flatten().map(entries).sum();
    if entries(sops) + groups == 0 {
        return Some(
            "its `sops` metadata names no key that can decrypt it (an age, pgp, kms, gcp_kms, azure_kv or hc_vault entry with its `enc`)"
                .into(),
        );
    }
    None
}

/// Why a SealedSecret value is not sealed ciphertext: base64 of at least 64 bytes that do
/// not read as text (a sealed value holds an encrypted session key of 256 bytes or more).
pub fn sealed_value_problem(value: &str) -> Option<String> {
    match base64(value, false) {
        None => Some("is not sealed ciphertext (not base64); seal it with `kubeseal`".into()),
        Some(b) if b.len() < 64 => Some("is not sealed ciphertext (too short); seal it with `kubeseal`".into()),
        Some(b) if readable(&b) => {
            Some("is not sealed ciphertext (base64 of readable text); seal it with `kubeseal`".into())
        }
        Some(_) => None,
    }
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Key(String),
    Index(usize),
}

/// A field path as text: `spec.template.spec.containers[0].env[1].value`, `data[".a"]`.
pub fn path_text(at: &[Part]) -> String {
    let mut out = String::new();
    for part in at {
        match part {
            Part::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Part::Key(k) => out.push_str(&format!("[{}]", Value::String(k.clone()))),
            Part::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn keys(keys: &[&str]) -> Vec<Part> {
    keys.iter().map(|k| Part::Key((*k).to_string())).collect()
}

/// Secret material in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The field that holds it.
    pub at: Vec<Part>,
    /// The variable, data key, annotation or other map key it is under, if any: what a
    /// waiver names.
    pub key: Option<String>,
    /// What is wrong, naming the field: `stringData.DB_PASSWORD is not encrypted; ...`.
    pub message: String,
    pub waivable: bool,
}

impl Leak {
    pub fn path(&self) -> String {
        path_text(&self.at)
    }
}

/// Every piece of secret material an object carries outside the provider forms mlship knows
/// (module docs). Objects with `sops:` metadata are checked as SOPS files.
pub fn scan(obj: &Value) -> Vec<Leak> {
    let mut s = Scan { out: Vec::new() };
    let group = obj["apiVersion"]
        .as_str()
        .and_then(|a| a.rsplit_once('/'))
        .map_or("", |(g, _)| g);
    let kind = obj["kind"].as_str().unwrap_or_default();
    let sops = !obj["sops"].is_null();
    // Subtrees the provider rules below judge instead of the text rules.
    let mut judged: Vec<Vec<Part>> = Vec::new();
    match (group, kind) {
        ("", "Secret") if sops => {
            for section in ["data", "stringData"] {
                judged.push(keys(&[section]));
                for (k, v) in entries(&obj[section]) {
                    let problem = match v.as_str() {
                        Some(text) => sops_value_problem(text),
                        None => Some("is not encrypted; run `sops --encrypt` on the file".into()),
                    };
                    if let Some(why) = problem {
                        s.certain(keys(&[section, k]), Some(k), format!("{section}.{k} {why}"));
                    }
                }
            }
        }
        ("", "Secret") => {
            for section in ["data", "stringData"] {
                judged.push(keys(&[section]));
                if !entries(&obj[section]).is_empty() {
                    s.certain(
                        keys(&[section]),
                        None,
                        if section == "data" {
                            "a plain Secret carries its values in `data` (base64 is not encryption)".to_string()
                        } else {
                            "a plain Secret carries its values in `stringData`, in plain text".to_string()
                        },
                    );
                }
            }
        }
        ("bitnami.com", "SealedSecret") => {
            judged.push(keys(&["spec", "encryptedData"]));
            for (k, v) in entries(&obj["spec"]["encryptedData"]) {
                let problem = v
                    .as_str()
                    .map_or(Some("is not sealed ciphertext".into()), sealed_value_problem);
                if let Some(why) = problem {
                    s.certain(
                        keys(&["spec", "encryptedData", k]),
                        Some(k),
                        format!("spec.encryptedData.{k} {why}"),
                    );
                }
            }
            for base in [&["spec", "template"][..], &[]] {
                let mut section = obj;
                for k in base {
                    section = &section[*k];
                }
                for field in ["data", "stringData"] {
                    let mut at = keys(base);
                    at.push(Part::Key(field.into()));
                    judged.push(at.clone());
                    for (k, _) in entries(&section[field]) {
                        let mut here = at.clone();
                        here.push(Part::Key(k.clone()));
                        let message = format!(
                            "{} holds plaintext; only spec.encryptedData may hold values",
                            path_text(&at)
                        );
                        s.certain(here, Some(k), message);
                    }
                }
            }
        }
        ("external-secrets.io", "ExternalSecret") => {
            judged.push(keys(&["spec", "target", "template", "data"]));
            for (k, v) in entries(&obj["spec"]["target"]["template"]["data"]) {
                let at = keys(&["spec", "target", "template", "data", k]);
                let text = v.as_str().unwrap_or_default();
                if !text.contains("{{") {
                    let message = format!(
                        "{} is literal data, not a template of the fetched values",
                        path_text(&at)
                    );
                    s.certain(at, Some(k), message);
                } else if let Some(f) = in_text(&strip_templates(text)) {
                    s.found(at, Some(k), f);
                }
            }
        }
        ("", "ConfigMap") => {
            judged.push(keys(&["data"]));
            judged.push(keys(&["binaryData"]));
            for (k, v) in entries(&obj["data"]) {
                if let Some(f) = credential(k, v.as_str().unwrap_or_default()) {
                    s.found(keys(&["data", k]), Some(k), f);
                }
            }
            for (k, _) in entries(&obj["binaryData"]) {
                if let Some(why) = credential_name(k) {
                    s.found(keys(&["binaryData", k]), Some(k), Finding::heuristic(why));
                }
            }
        }
        _ => {}
    }
    if sops {
        judged.push(keys(&["sops"]));
        if let Some(why) = sops_metadata_problem(&obj["sops"]) {
            s.certain(keys(&["sops"]), None, why);
        }
    }
    s.walk(obj, &mut Vec::new(), &judged);
    s.out
}

/// The entries of a mapping (none for anything else).
fn entries(v: &Value) -> Vec<(&String, &Value)> {
    v.as_object().map(|m| m.iter().collect()).unwrap_or_default()
}

/// A template's literal text: what is left with every `{{ ... }}` taken out.
fn strip_templates(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => rest = &rest[start + end + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

struct Scan {
    out: Vec<Leak>,
}

impl Scan {
    /// A provider rule broken: `message` names the field itself.
    fn certain(&mut self, at: Vec<Part>, key: Option<&str>, message: String) {
        self.out.push(Leak {
            at,
            key: key.map(str::to_string),
            message,
            waivable: false,
        });
    }

    /// A credential where plain values go.
    fn found(&mut self, at: Vec<Part>, key: Option<&str>, f: Finding) {
        self.out.push(Leak {
            message: format!("{} looks like a credential ({})", path_text(&at), f.why),
            at,
            key: key.map(str::to_string),
            waivable: f.waivable,
        });
    }

    fn walk(&mut self, v: &Value, at: &mut Vec<Part>, judged: &[Vec<Part>]) {
        if judged.iter().any(|j| j == at) {
            return;
        }
        fn parent_key(at: &[Part], back: usize) -> Option<&str> {
            match at.iter().rev().nth(back) {
                Some(Part::Key(k)) => Some(k),
                _ => None,
            }
        }
        match v {
            Value::Object(m) => {
                // A container's variable: judged by name and value together.
                if matches!(at.last(), Some(Part::Index(_)))
                    && parent_key(at, 1) == Some("env")
                    && let (Some(name), Some(value)) = (
                        m.get("name").and_then(Value::as_str),
                        m.get("value").and_then(Value::as_str),
                    )
                {
                    if let Some(f) = credential(name, value) {
                        let mut here = at.clone();
                        here.push(Part::Key("value".into()));
                        self.found(here, Some(name), f);
                    }
                    return;
                }
                for (k, child) in m {
                    at.push(Part::Key(k.clone()));
                    self.walk(child, at, judged);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(Part::Index(i));
                    self.walk(item, at, judged);
                    at.pop();
                }
            }
            Value::String(text) => {
                if text.starts_with("ENC[") && sops_value_problem(text).is_none() {
                    return; // SOPS ciphertext
                }
                let key = parent_key(at, 0);
                // Unprefixed annotations are the user's own variables; prefixed ones belong
                // to tools (`vault.hashicorp.com/agent-inject-secret-db` names a path).
                let annotation = parent_key(at, 1) == Some("annotations");
                let found = match key {
                    Some(k) if annotation && !k.contains('/') => credential(k, text),
                    _ => in_text(text),
                };
                if let Some(f) = found {
                    self.found(at.clone(), key, f);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use serde_json::json;

    const GH: &str = concat!("gh", "p_", "R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXy");

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
    fn name_rules_catch_short_camel_case_and_numbered_names() {
        for name in [
            "DB_PASS",
            "dbPassword",
            "PASSWORD1",
            "SMTP_PASSWD",
            "dbpassword",
            "githubAuthToken",
            "APIKey",
            "AWS_SECRET_ACCESS_KEY",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "SECRET_KEY_BASE",
            "DB_PASSWORD_PROD",
            "API_KEY_HEADER_VALUE",
            "CLIENT_SECRET",
            "OAuth2Token",
        ] {
            assert!(credential_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn name_rules_pass_settings_about_credentials() {
        for name in [
            "PASSWORD_MIN_LENGTH",
            "SECRET_NAME",
            "API_KEY_HEADER",
            "DB_PASSWORD_FILE",
            "TOKEN_URL",
            "PASSWORD_POLICY",
            "TOKEN_TTL",
            "ACCESS_KEY_ID",
            "EOS_TOKEN",
            "PAD_TOKEN_ID",
            "MAX_NEW_TOKENS",
            "TOKENIZERS_PARALLELISM",
            "PWD",
            "BYPASS_CACHE",
            "PASS_RATE",
        ] {
            assert_eq!(credential_name(name), None, "{name}");
        }
    }

    #[test]
    fn texts_carry_tokens_pairs_and_url_passwords_anywhere() {
        for text in [
            format!("--token={GH}"),
            format!("Bearer {GH}"),
            format!("[\"serve\",\"{GH}\"]"),
            "export DB_PASSWORD=hunter2 && run".to_string(),
            "--db-password=hunter2".to_string(),
            "-Dtrust.password=changeit".to_string(),
            "connect postgres://app:hunter2@db:5432/app now".to_string(),
            format!("https://{GH}@github.com/acme/x.git"),
            "-----BEGIN RSA PRIVATE KEY-----".to_string(),
        ] {
            assert!(in_text(&text).is_some(), "{text}");
        }
        for text in [
            "--password-file=/run/secrets/db",
            "DB_PASSWORD=$(DB_PASSWORD)",
            "postgres://app:$(DB_PASSWORD)@db:5432/app",
            "postgres://app@db:5432/app",
            "--mount=type=secret,id=netrc,target=/root/.netrc,required=false",
            "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)",
            "sk-learn-pipeline-config-for-the-fraud-model",
            "task-runner",
        ] {
            assert_eq!(in_text(text), None, "{text}");
        }
    }

    #[test]
    fn the_shortest_key_of_every_format_is_still_found() {
        for (prefix, rest, ..) in VALUE_PREFIXES {
            let token: String = format!("{prefix}{}", "aB3".repeat(*rest).get(..*rest).unwrap());
            assert!(in_text(&token).is_some_and(|f| !f.waivable), "{token}");
            assert!(token.len() >= SHORTEST_CREDENTIAL, "{token}");
        }
        assert!(in_text("a://u:pw@h").is_some(), "a short URL with a password");
        assert!(in_text("PASSWORD=Zx9Qw8").is_some(), "a short credential pair");
        assert_eq!(in_text("fraud-detection-api"), None);
    }

    #[test]
    fn high_entropy_values() {
        assert!(looks_like_credential("X", "q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE").is_some());
        assert!(credential("X", "q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE").is_some_and(|f| f.waivable));
        assert!(credential("X", GH).is_some_and(|f| !f.waivable));
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

    #[test]
    fn base64_decodes_padded_and_unpadded() {
        assert_eq!(base64("aHVudGVyMg==", true).as_deref(), Some(&b"hunter2"[..]));
        assert_eq!(base64("aHVudGVyMg", false).as_deref(), Some(&b"hunter2"[..]));
        assert_eq!(base64("aHVudGVyMg", true), None);
        assert_eq!(base64("aHVudGVyMg=", false), None);
        assert_eq!(base64("hunter2!", false), None);
        assert_eq!(base64("a", false), None);
    }

    #[test]
    fn sops_values_and_metadata() {
        let iv = "WoQFF1JwQQnrkU23IubcAE2FO8EVZKJ2H720eBAAjZQ=";
        let tag = "P3ZUaw4nrsdMTRbu8okuYw==";
        let good = format!("ENC[AES256_GCM,data:1dwwYRY7M7UeQ3uvuUezW9IBR/6lWocj,iv:{iv},tag:{tag},type:str]");
        assert_eq!(sops_value_problem(&good), None);
        assert_eq!(
            sops_value_problem(&format!("ENC[AES256_GCM,data:,iv:{iv},tag:{tag},type:str]")),
            None
        );
        for bad in [
            "hunter2".to_string(),
            "ENC[hunter2]".to_string(),
            "ENC[AES256_GCM,data:aHVudGVyMg==,type:str]".to_string(),
            format!("ENC[AES256_GCM,data:hunter2,iv:{iv},tag:{tag},type:str]"),
            format!("ENC[AES256_GCM,data:aGk=,iv:{iv},tag:aGk=,type:str]"),
            format!("ENC[AES256_GCM,data:aGk=,iv:{iv},tag:{tag},type:secret]"),
            format!("ENC[AES256_GCM,data:dGhpcyBpcyB0aGUgcHJvZHVjdGlvbiBwYXNzd29yZA==,iv:{iv},tag:{tag},type:str]"),
        ] {
            assert!(sops_value_problem(&bad).is_some(), "{bad}");
        }
        let age = json!([{"recipient": "age1xyz", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\n..."}]);
        assert_eq!(sops_metadata_problem(&json!({"mac": good, "age": age})), None);
        assert_eq!(
            sops_metadata_problem(&json!({"mac": good, "key_groups": [{"age": age}]})),
            None
        );
        assert!(sops_metadata_problem(&json!({})).is_some_and(|p| p.contains("MAC")));
        assert!(sops_metadata_problem(&json!({"age": age})).is_some_and(|p| p.contains("MAC")));
        assert!(sops_metadata_problem(&json!({"mac": good})).is_some_and(|p| p.contains("no key")));
        assert!(sops_metadata_problem(&json!({"mac": good, "age": [{"recipient": "age1xyz"}]})).is_some());
    }

    #[test]
    fn sealed_values() {
        let sealed = "qeeKjOjgTBYHaY0jtbSydJnUVw8sbSAf+9SCW5ldRsIG6xHvSRL4aOH5a2tlceosiNA5XtTo1gU4ECtC9VsdKAUTb1/aId0lTWe6xMjKH2QK40TrlOkSrHNK4fI8hoQuCLw2KB5EjnOCmOHkdFs3urwsBVW3VfnL";
        assert_eq!(sealed_value_problem(sealed), None);
        assert!(sealed_value_problem("hunter2").is_some());
        assert!(sealed_value_problem("AgBy3i4OJSWK+PiTySYZZA==").is_some());
        let text = "dGhpcyBpcyB0aGUgcHJvZHVjdGlvbiBkYXRhYmFzZSBwYXNzd29yZCBhbmQgaXQgaXMgbG9uZyBlbm91Z2ggdG8gcGFzcw==";
        assert!(sealed_value_problem(text).is_some_and(|p| p.contains("readable")));
    }

    #[test]
    fn scan_finds_material_outside_the_provider_forms() {
        let paths = |v: Value| scan(&v).iter().map(Leak::path).collect::<Vec<_>>();
        assert_eq!(
            paths(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {".a": "eA=="}})),
            ["data"]
        );
        assert_eq!(
            paths(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "type": "kubernetes.io/service-account-token"})
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            paths(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"annotations": {"note": GH}},
                "spec": {"template": {"spec": {"nodeSelector": {"pool": GH}, "containers": [
                    {"name": "c", "args": ["--x", GH], "env": [{"name": "DB_PASS", "value": "hunter2"}, {"name": "A", "valueFrom": {}}]}]}}}})
            ),
            [
                "metadata.annotations.note",
                "spec.template.spec.nodeSelector.pool",
                "spec.template.spec.containers[0].args[1]",
                "spec.template.spec.containers[0].env[0].value"
            ]
        );
        assert_eq!(
            paths(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"x.PASSWORD": "a", "MODE": "b"}})),
            ["data[\"x.PASSWORD\"]"]
        );
        assert_eq!(
            paths(
                json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "spec": {"target": {"template": {"data": {
                "a": "literal", "b": "{{ .b }}", "c": "postgres://u:{{ .p }}@db", "d": format!("{{{{ .d }}}} {GH}")}}}}})
            ),
            ["spec.target.template.data.a", "spec.target.template.data.d"]
        );
        let annotated = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"annotations": {
            "vault.hashicorp.com/agent-inject-secret-db": "kv/db", "db-password": "hunter2"}}});
        assert_eq!(paths(annotated), ["metadata.annotations.db-password"]);
    }
}
