//! No plaintext secret reaches the output, by any path: one table of adversarial projects,
//! each named after the leak it reproduces, with the refusal it must now get (its message and
//! where it points), and harmless projects the credential rules once refused, which must build.
//!
//! A refused row fails when the project builds (a leak), when the refusal does not say what
//! it should, or when it is not located. A building row fails when it is refused.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use mlship::project::MemProject;

/// A GitHub token's shape (not a real token), built in pieces so that no scanner mistakes
/// this file for a leak.
const GH: &str = concat!("gh", "p_", "R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXy");

/// Well-formed SOPS values: base64 data, a 32-byte IV and a 16-byte tag.
const ENC: &str = "ENC[AES256_GCM,data:1dwwYRY7M7UeQ3uvuUezW9IBR/6lWocj,iv:WoQFF1JwQQnrkU23IubcAE2FO8EVZKJ2H720eBAAjZQ=,tag:P3ZUaw4nrsdMTRbu8okuYw==,type:str]";
const MAC: &str = "ENC[AES256_GCM,data:aH+m3/YsRHKN/wEq+wBGq4oUSq9IOaR2DluyN9G/kz0=,iv:WoQFF1JwQQnrkU23IubcAE2FO8EVZKJ2H720eBAAjZQ=,tag:P3ZUaw4nrsdMTRbu8okuYw==,type:str]";
/// Sealed ciphertext: base64 of 120 random bytes.
const SEALED: &str = "qeeKjOjgTBYHaY0jtbSydJnUVw8sbSAf+9SCW5ldRsIG6xHvSRL4aOH5a2tlceosiNA5XtTo1gU4ECtC9VsdKAUTb1/aId0lTWe6xMjKH2QK40TrlOkSrHNK4fI8hoQuCLw2KB5EjnOCmOHkdFs3urwsBVW3VfnL";

const HEAD: &str = "apiVersion: mlship/v1\nproject: demo\nregistry: ghcr.io/acme/demo\ntag: \"1.0.0\"\n";
const IMAGES: &str = "images:\n  server: {stack: fastapi}\n";
const API: &str = "services:\n  api: {image: server, port: 8080}\n";

fn sops_meta(mac: bool, keys: bool) -> String {
    let mut s = String::from("sops:\n");
    if keys {
        s.push_str("  age:\n    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBleGFtcGxlZXhhbXBsZQpl\n        -----END AGE ENCRYPTED FILE-----\n");
    }
    s.push_str("  lastmodified: \"2026-01-01T00:00:00Z\"\n");
    if mac {
        s.push_str(&format!("  mac: {MAC}\n"));
    }
    s.push_str("  version: 3.9.1\n");
    s
}

/// A SOPS-encrypted Secret for namespace `demo` with the given data section and metadata.
fn sops_file(data: &str, meta: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-db\n  namespace: demo\ntype: Opaque\n{data}{meta}")
}

fn good_sops() -> String {
    sops_file(&format!("data:\n  DB_PASSWORD: {ENC}\n"), &sops_meta(true, true))
}

fn sealed_file(encrypted: &str, template_extra: &str) -> String {
    format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: demo-db\n  namespace: demo\nspec:\n  encryptedData:\n    DB_PASSWORD: {encrypted}\n  template:\n    metadata: {{name: demo-db}}\n{template_extra}"
    )
}

const SOPS_SECRET: &str = "secrets:\n  db: {provider: sops, file: db.sops.yaml}\n";
const SEALED_SECRET: &str = "secrets:\n  db: {provider: sealed-secrets, file: db.sealed.yaml}\n";
const EXTERNAL_SECRET: &str =
    "secrets:\n  db: {provider: external-secrets, store: vault, keys: {DB_PASSWORD: demo/db#password}}\n";
const FLUX: &str = "gitops: {engine: flux, repo: \"https://git.example.com/acme/demo.git\"}\n";
const ARGOCD: &str = "gitops: {engine: argocd, repo: \"https://git.example.com/acme/demo.git\"}\n";
const EXTRA: &str = "manifests: [extra.yaml]\n";

enum Expect {
    /// Refused with a message containing the first string, at the document path of the
    /// second (as `Path` displays it).
    Refused(&'static str, &'static str),
    Builds,
}
use Expect::{Builds, Refused};

struct Case {
    name: &'static str,
    spec: String,
    files: Vec<(&'static str, String)>,
    expect: Expect,
}

fn case(name: &'static str, parts: &[&str], files: Vec<(&'static str, String)>, expect: Expect) -> Case {
    Case {
        name,
        spec: format!("{HEAD}{}", parts.concat()),
        files,
        expect,
    }
}

fn extra(text: String) -> Vec<(&'static str, String)> {
    vec![("extra.yaml", text)]
}

fn cases() -> Vec<Case> {
    let patch = |p: &str| format!("patches:\n  - {p}\n");
    let gh_config = format!("config: {{GITHUB_TOKEN: {GH}}}\n");
    vec![
        // Plain Secrets in extra manifests.
        case(
            "extra_manifest_plain_secret_with_string_data",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: v1\nkind: Secret\nmetadata: {name: leak}\nstringData: {API_URL: \"https://x.example.com\"}\n".into()),
            Refused("a plain Secret", "manifests[0]"),
        ),
        case(
            "extra_manifest_plain_secret_with_data",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: v1\nkind: Secret\nmetadata: {name: leak}\ndata: {PASSWORD: aHVudGVyMg==}\n".into()),
            Refused("a plain Secret", "manifests[0]"),
        ),
        case(
            "extra_manifest_docker_config_secret",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: v1\nkind: Secret\nmetadata: {name: pull}\ntype: kubernetes.io/dockerconfigjson\ndata: {.dockerconfigjson: e30=}\n".into()),
            Refused("a plain Secret", "manifests[0]"),
        ),
        // Patches that add plaintext to the provider forms.
        case(
            "patch_adds_string_data_to_sops_secret",
            &[IMAGES, API, SOPS_SECRET, FLUX, &patch("{kind: Secret, name: demo-db, patch: {stringData: {DB_PASSWORD: hunter2}}}")],
            vec![("db.sops.yaml", good_sops())],
            Refused("SOPS", "patches[0].patch"),
        ),
        case(
            "patch_removes_sops_metadata",
            &[IMAGES, API, SOPS_SECRET, FLUX, &patch("{kind: Secret, name: demo-db, patch: {sops: null}}")],
            vec![("db.sops.yaml", good_sops())],
            Refused("SOPS", "patches[0].patch"),
        ),
        case(
            "patch_adds_literal_data_to_external_secret_template",
            &[IMAGES, API, EXTERNAL_SECRET, &patch("{kind: ExternalSecret, name: demo-db, patch: {spec: {target: {template: {data: {DB_PASSWORD: hunter2}}}}}}")],
            vec![],
            Refused("literal", "patches[0].patch.spec.target.template.data.DB_PASSWORD"),
        ),
        case(
            "patch_adds_template_data_to_sealed_secret",
            &[IMAGES, API, SEALED_SECRET, &patch("{kind: SealedSecret, name: demo-db, patch: {spec: {template: {data: {DB_USER: admin}}}}}")],
            vec![("db.sealed.yaml", sealed_file(SEALED, ""))],
            Refused("plaintext", "patches[0].patch.spec.template.data.DB_USER"),
        ),
        case(
            "patch_adds_container_env_token",
            &[IMAGES, API, &patch(&format!("{{kind: Deployment, name: demo-api, patch: {{spec: {{template: {{spec: {{containers: [{{name: server, env: [{{name: GIT_AUTH, value: {GH}}}]}}]}}}}}}}}}}"))],
            vec![],
            Refused("GitHub token", "patches[0].patch.spec.template.spec.containers[0].env[0].value"),
        ),
        case(
            "patch_adds_container_args_token",
            &[IMAGES, API, &patch(&format!("{{kind: Deployment, name: demo-api, patch: {{spec: {{template: {{spec: {{containers: [{{name: server, args: [--token, {GH}]}}]}}}}}}}}}}"))],
            vec![],
            Refused("GitHub token", "patches[0].patch.spec.template.spec.containers[0].args[1]"),
        ),
        case(
            "patch_adds_annotation_token",
            &[IMAGES, API, &patch(&format!("{{kind: Deployment, name: demo-api, patch: {{metadata: {{annotations: {{ci-token: {GH}}}}}}}}}"))],
            vec![],
            Refused("GitHub token", "patches[0].patch.metadata.annotations.ci-token"),
        ),
        case(
            "patch_adds_node_selector_token",
            &[IMAGES, API, &patch(&format!("{{kind: Deployment, name: demo-api, patch: {{spec: {{template: {{spec: {{nodeSelector: {{pool: {GH}}}}}}}}}}}}}"))],
            vec![],
            Refused("GitHub token", "patches[0].patch.spec.template.spec.nodeSelector.pool"),
        ),
        // Encrypted files that carry plaintext.
        case(
            "sealed_secret_template_data_holds_plaintext",
            &[IMAGES, API, SEALED_SECRET],
            vec![("db.sealed.yaml", sealed_file(SEALED, "    data: {DB_USER: admin}\n"))],
            Refused("spec.template.data", "secrets.db.file"),
        ),
        case(
            "sealed_secret_encrypted_data_in_plaintext",
            &[IMAGES, API, SEALED_SECRET],
            vec![("db.sealed.yaml", sealed_file("hunter2", ""))],
            Refused("sealed ciphertext", "secrets.db.file"),
        ),
        case(
            "sealed_secret_encrypted_data_is_base64_of_plaintext",
            &[IMAGES, API, SEALED_SECRET],
            vec![(
                "db.sealed.yaml",
                sealed_file("dGhpcyBpcyB0aGUgcHJvZHVjdGlvbiBkYXRhYmFzZSBwYXNzd29yZCwgcmVhbGx5", ""),
            )],
            Refused("sealed ciphertext", "secrets.db.file"),
        ),
        case(
            "sealed_secret_encrypted_data_too_short",
            &[IMAGES, API, SEALED_SECRET],
            vec![("db.sealed.yaml", sealed_file("AgBy3i4OJSWK+PiTySYZZA==", ""))],
            Refused("sealed ciphertext", "secrets.db.file"),
        ),
        case(
            "sops_enc_around_plaintext_with_empty_metadata",
            &[IMAGES, API, SOPS_SECRET, FLUX],
            vec![("db.sops.yaml", sops_file("data:\n  DB_PASSWORD: ENC[hunter2]\n", "sops: {}\n"))],
            Refused("ENC[AES256_GCM", "secrets.db.file"),
        ),
        case(
            "sops_value_without_iv_and_tag",
            &[IMAGES, API, SOPS_SECRET, FLUX],
            vec![(
                "db.sops.yaml",
                sops_file("data:\n  DB_PASSWORD: ENC[AES256_GCM,data:aHVudGVyMg==,type:str]\n", &sops_meta(true, true)),
            )],
            Refused("ENC[AES256_GCM", "secrets.db.file"),
        ),
        case(
            "sops_value_holds_base64_of_plaintext",
            &[IMAGES, API, SOPS_SECRET, FLUX],
            vec![(
                "db.sops.yaml",
                sops_file(
                    "data:\n  DB_PASSWORD: ENC[AES256_GCM,data:dGhpcyBpcyB0aGUgcHJvZHVjdGlvbiBwYXNzd29yZA==,iv:WoQFF1JwQQnrkU23IubcAE2FO8EVZKJ2H720eBAAjZQ=,tag:P3ZUaw4nrsdMTRbu8okuYw==,type:str]\n",
                    &sops_meta(true, true),
                ),
            )],
            Refused("readable text, not ciphertext", "secrets.db.file"),
        ),
        case(
            "sops_metadata_without_mac",
            &[IMAGES, API, SOPS_SECRET, FLUX],
            vec![("db.sops.yaml", sops_file(&format!("data:\n  DB_PASSWORD: {ENC}\n"), &sops_meta(false, true)))],
            Refused("MAC", "secrets.db.file"),
        ),
        case(
            "sops_metadata_without_key_entries",
            &[IMAGES, API, SOPS_SECRET, FLUX],
            vec![("db.sops.yaml", sops_file(&format!("data:\n  DB_PASSWORD: {ENC}\n"), &sops_meta(true, false)))],
            Refused("key", "secrets.db.file"),
        ),
        case(
            "sops_file_with_plaintext_annotation",
            &[IMAGES, API, SOPS_SECRET, FLUX],
            vec![(
                "db.sops.yaml",
                format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-db\n  namespace: demo\n  annotations: {{deploy-token: {GH}}}\ntype: Opaque\ndata:\n  DB_PASSWORD: {ENC}\n{}",
                    sops_meta(true, true)
                ),
            )],
            Refused("metadata.annotations", "secrets.db.file"),
        ),
        case(
            "argocd_sops_secret_is_never_decrypted",
            &[IMAGES, API, SOPS_SECRET, ARGOCD],
            vec![("db.sops.yaml", good_sops())],
            Refused("KSOPS", "secrets.db.provider"),
        ),
        // Extra manifests of the provider kinds.
        case(
            "extra_manifest_sealed_secret_template_plaintext",
            &[IMAGES, API, EXTRA],
            extra(sealed_file(SEALED, "    data: {DB_USER: admin}\n")),
            Refused("spec.template.data", "manifests[0]"),
        ),
        case(
            "extra_manifest_external_secret_literal_template",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: x}\nspec:\n  secretStoreRef: {name: vault, kind: ClusterSecretStore}\n  target:\n    name: x\n    template:\n      data: {DB_PASSWORD: hunter2}\n  data:\n    - {secretKey: a, remoteRef: {key: demo/a}}\n".into()),
            Refused("literal", "manifests[0]"),
        ),
        case(
            "extra_manifest_sops_secret_without_mac",
            &[IMAGES, API, FLUX, EXTRA],
            extra(sops_file(&format!("data:\n  DB_PASSWORD: {ENC}\n"), &sops_meta(false, true))),
            Refused("MAC", "manifests[0]"),
        ),
        case(
            "extra_manifest_sops_secret_under_argocd",
            &[IMAGES, API, ARGOCD, EXTRA],
            extra(good_sops()),
            Refused("KSOPS", "manifests[0]"),
        ),
        // Credentials in plain places.
        case(
            "extra_manifest_configmap_with_github_token",
            &[IMAGES, API, EXTRA],
            extra(format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ci}}\ndata: {{GITHUB_TOKEN: {GH}}}\n")),
            Refused("GITHUB_TOKEN", "manifests[0]"),
        ),
        case(
            "extra_manifest_configmap_with_password_name",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\ndata: {DB_PASSWORD: hunter2}\n".into()),
            Refused("DB_PASSWORD", "manifests[0]"),
        ),
        case(
            "extra_manifest_configmap_with_url_password",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\ndata: {DATABASE_URL: \"postgres://app:hunter2@db:5432/app\"}\n".into()),
            Refused("password", "manifests[0]"),
        ),
        case(
            "service_command_argument_token",
            &[IMAGES, &format!("services:\n  api: {{image: server, port: 8080, command: [uvicorn, app:app, --token, {GH}]}}\n")],
            vec![],
            Refused("GitHub token", "services.api.command[3]"),
        ),
        case(
            "image_command_token_reaches_dockerfile_cmd",
            &[&format!("images:\n  server: {{stack: fastapi, command: [serve, {GH}]}}\n"), API],
            vec![],
            Refused("GitHub token", "images.server.command[1]"),
        ),
        case(
            "step_run_token",
            &[IMAGES, &format!("pipelines:\n  train:\n    steps:\n      fit: {{image: server, run: [python, fit.py, {GH}]}}\n")],
            vec![],
            Refused("GitHub token", "pipelines.train.steps.fit.run[2]"),
        ),
        case(
            "step_run_password_flag",
            &[IMAGES, "pipelines:\n  train:\n    steps:\n      fit: {image: server, run: [python, fit.py, --db-password=hunter2]}\n"],
            vec![],
            Refused("db-password", "pipelines.train.steps.fit.run[2]"),
        ),
        case(
            "node_selector_value_token",
            &[IMAGES, &format!("services:\n  api: {{image: server, port: 8080, node_selector: {{pool: {GH}}}}}\n")],
            vec![],
            Refused("GitHub token", "services.api.node_selector.pool"),
        ),
        case(
            "dockerfile_template_bakes_a_token",
            &["images:\n  server: {stack: fastapi, template: t.j2}\n", API],
            vec![(
                "t.j2",
                format!("{{% extends \"Dockerfile\" %}}\n{{% block final %}}\nENV GITHUB_TOKEN={GH}\n{{% endblock %}}\n"),
            )],
            Refused("GitHub token", "images.server.template"),
        ),
        case(
            "gitops_repo_password_reaches_gitops_and_image_label",
            &[IMAGES, API, "gitops: {engine: flux, repo: \"https://deploy:hunter2@git.example.com/acme/demo.git\"}\n"],
            vec![],
            Refused("password", "gitops.repo"),
        ),
        case(
            "gitops_repo_token_as_user",
            &[IMAGES, API, &format!("gitops: {{engine: argocd, repo: \"https://{GH}@github.com/acme/demo.git\"}}\n")],
            vec![],
            Refused("GitHub token", "gitops.repo"),
        ),
        case(
            "external_secret_remote_reference_token",
            &[IMAGES, API, &format!("secrets:\n  db: {{provider: external-secrets, store: vault, keys: {{DB_PASSWORD: {GH}}}}}\n")],
            vec![],
            Refused("GitHub token", "secrets.db.keys.DB_PASSWORD"),
        ),
        case(
            "name_rule_misses_db_pass",
            &[IMAGES, API, "config: {DB_PASS: hunter2}\n"],
            vec![],
            Refused("DB_PASS", "config.DB_PASS"),
        ),
        case(
            "name_rule_misses_camel_case_db_password",
            &[IMAGES, API, "config: {dbPassword: hunter2}\n"],
            vec![],
            Refused("dbPassword", "config.dbPassword"),
        ),
        case(
            "name_rule_misses_password1",
            &[IMAGES, API, "config: {PASSWORD1: hunter2}\n"],
            vec![],
            Refused("PASSWORD1", "config.PASSWORD1"),
        ),
        case(
            "environment_config_override_db_pass",
            &[IMAGES, API, "config: {MODE: x}\nenvironments:\n  prod:\n    config: {DB_PASS: hunter2}\n"],
            vec![],
            Refused("DB_PASS", "config.DB_PASS"),
        ),
        case(
            "high_entropy_value_without_waiver",
            &[IMAGES, API, "config: {BUILD_ID: q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE}\n"],
            vec![],
            Refused("no-plaintext-secrets", "config.BUILD_ID"),
        ),
        case(
            "github_token_in_config_is_never_waived",
            &[IMAGES, API, &gh_config, "waivers:\n  - {policy: no-plaintext-secrets, object: ConfigMap/demo-config, key: GITHUB_TOKEN, reason: test}\n"],
            vec![],
            Refused("GitHub token", "config.GITHUB_TOKEN"),
        ),
        // docs/security.md, "Waivers": what a waiver never covers.
        case(
            "private_key_in_config_is_never_waived",
            &[IMAGES, API, "config: {SSH_IDENTITY: \"-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA -----END OPENSSH PRIVATE KEY-----\"}\n", "waivers:\n  - {policy: no-plaintext-secrets, object: ConfigMap/demo-config, key: SSH_IDENTITY, reason: test}\n"],
            vec![],
            Refused("private key", "config.SSH_IDENTITY"),
        ),
        case(
            "url_password_in_config_is_never_waived",
            &[IMAGES, API, "config: {DATABASE_URL: \"postgres://app:hunter2@db:5432/app\"}\n", "waivers:\n  - {policy: no-plaintext-secrets, object: ConfigMap/demo-config, key: DATABASE_URL, reason: test}\n"],
            vec![],
            Refused("password", "config.DATABASE_URL"),
        ),
        case(
            "image_env_value_is_never_waived",
            &["images:\n  server: {stack: fastapi, env: {BUILD_ID: q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE}}\n", API, "waivers:\n  - {policy: no-plaintext-secrets, object: Deployment/demo-api, key: BUILD_ID, reason: test}\n"],
            vec![],
            Refused("`BUILD_ID` looks like a credential", "images.server.env.BUILD_ID"),
        ),
        case(
            "sops_file_plaintext_is_never_waived",
            &[IMAGES, API, SOPS_SECRET, FLUX, "waivers:\n  - {policy: no-plaintext-secrets, object: Secret/demo-db, reason: test}\n"],
            vec![(
                "db.sops.yaml",
                format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-db\n  namespace: demo\n  annotations: {{build: q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE}}\ntype: Opaque\ndata:\n  DB_PASSWORD: {ENC}\n{}",
                    sops_meta(true, true)
                ),
            )],
            Refused("metadata.annotations.build looks like a credential", "secrets.db.file"),
        ),
        case(
            "plain_secret_is_never_waived",
            &[IMAGES, API, EXTRA, "waivers:\n  - {policy: no-plaintext-secrets, object: Secret/leak, reason: test}\n"],
            extra("apiVersion: v1\nkind: Secret\nmetadata: {name: leak}\nstringData: {API_URL: \"https://x.example.com\"}\n".into()),
            Refused("plain Secret", "manifests[0]"),
        ),
        case(
            "waiver_key_for_another_policy",
            &[IMAGES, API, "waivers:\n  - {policy: seccomp, object: Deployment/demo-api, key: X, reason: test}\n"],
            vec![],
            Refused("only for waivers of `no-plaintext-secrets`", "waivers[0].key"),
        ),
        // Harmless projects, which must build.
        case("password_min_length_is_config", &[IMAGES, API, "config: {PASSWORD_MIN_LENGTH: \"12\"}\n"], vec![], Builds),
        case("secret_name_is_config", &[IMAGES, API, "config: {SECRET_NAME: demo-db}\n"], vec![], Builds),
        case("api_key_header_is_config", &[IMAGES, API, "config: {API_KEY_HEADER: X-Api-Key}\n"], vec![], Builds),
        case("password_file_is_a_path", &[IMAGES, API, "config: {DB_PASSWORD_FILE: /run/secrets/db/password}\n"], vec![], Builds),
        case("tokenizer_special_tokens", &[IMAGES, API, "config: {EOS_TOKEN: \"</s>\", PAD_TOKEN: \"<pad>\", MAX_NEW_TOKENS: \"256\"}\n"], vec![], Builds),
        case(
            "url_password_from_an_env_reference",
            &[IMAGES, "services:\n  api: {image: server, port: 8080, env: {DATABASE_URL: \"postgres://app:$(DB_PASSWORD)@db:5432/app\"}}\n"],
            vec![],
            Builds,
        ),
        case(
            "waived_high_entropy_value",
            &[IMAGES, API, "config: {BUILD_ID: q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE}\nwaivers:\n  - {policy: no-plaintext-secrets, object: ConfigMap/demo-config, key: BUILD_ID, reason: a public build identifier}\n"],
            vec![],
            Builds,
        ),
        case(
            "waived_service_env_name",
            &[IMAGES, "services:\n  api: {image: server, port: 8080, env: {SECRET_SAUCE_LEVEL: \"3\"}}\nwaivers:\n  - {policy: no-plaintext-secrets, object: Deployment/demo-api, key: SECRET_SAUCE_LEVEL, reason: a feature level}\n"],
            vec![],
            Builds,
        ),
        case(
            "waived_step_argument",
            &[IMAGES, "pipelines:\n  train:\n    steps:\n      fit: {image: server, run: [python, fit.py, q8Zr2LmT9vXk4WbN7cYp3JdF6hGs1QaE]}\nwaivers:\n  - {policy: no-plaintext-secrets, object: Job/demo-train-fit, reason: a public dataset id}\n"],
            vec![],
            Builds,
        ),
        case(
            "extra_manifest_secret_without_data",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: v1\nkind: Secret\nmetadata:\n  name: robot\n  annotations: {kubernetes.io/service-account.name: robot}\ntype: kubernetes.io/service-account-token\n".into()),
            Builds,
        ),
        case(
            "extra_manifest_external_secret_template_with_references",
            &[IMAGES, API, EXTRA],
            extra("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: x}\nspec:\n  secretStoreRef: {name: vault, kind: ClusterSecretStore}\n  target:\n    name: x\n    template:\n      data: {DATABASE_URL: \"postgres://app:{{ .password }}@db/app\"}\n  data:\n    - {secretKey: password, remoteRef: {key: demo/db}}\n".into()),
            Builds,
        ),
        case("sops_secret_with_flux", &[IMAGES, API, SOPS_SECRET, FLUX], vec![("db.sops.yaml", good_sops())], Builds),
        case("sealed_secret", &[IMAGES, API, SEALED_SECRET], vec![("db.sealed.yaml", sealed_file(SEALED, ""))], Builds),
    ]
}

#[test]
fn no_plaintext_secret_reaches_the_output() {
    let cases = cases();
    let mut failures = Vec::new();
    let (mut leaks, mut refusals, mut wrongly_refused, mut harmless) = (0, 0, 0, 0);
    for c in &cases {
        let project = MemProject(
            c.files
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.as_bytes().to_vec()))
                .collect(),
        );
        let compiled = mlship::compile("mlship.yaml", c.spec.as_bytes(), &project);
        let text: String = compiled
            .diagnostics
            .iter()
            .map(|d| mlship::diag::render(d, &compiled.file, false))
            .collect();
        match c.expect {
            Refused(needle, at) => {
                refusals += 1;
                if compiled.output.is_some() {
                    leaks += 1;
                    failures.push(format!("{}: built (a leak)", c.name));
                    continue;
                }
                let errors: Vec<_> = compiled.diagnostics.iter().filter(|d| d.is_error()).collect();
                let hit = errors.iter().find(|d| {
                    d.path.as_ref().map(ToString::to_string).as_deref() == Some(at)
                        && mlship::diag::render(d, &compiled.file, false).contains(needle)
                });
                match hit {
                    None => failures.push(format!("{}: no error at `{at}` saying `{needle}`:\n{text}", c.name)),
                    Some(d) if d.span.is_none() => {
                        failures.push(format!("{}: the error is not located:\n{text}", c.name))
                    }
                    Some(_) => {}
                }
            }
            Builds => {
                harmless += 1;
                if compiled.output.is_none() {
                    wrongly_refused += 1;
                    failures.push(format!("{}: refused:\n{text}", c.name));
                } else if !compiled.diagnostics.is_empty() {
                    // A waiver that the final check did not see as used would warn here.
                    failures.push(format!("{}: built with warnings:\n{text}", c.name));
                }
            }
        }
    }
    println!(
        "{leaks} of {refusals} adversarial cases leaked; {wrongly_refused} of {harmless} harmless ones were refused"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
