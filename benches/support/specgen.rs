//! A generator of valid specs for benchmarks: `n` services and `n` pipeline steps (in
//! pipelines of ten chained steps), a few images, secrets, volumes and three environments,
//! in YAML and in KDL (the same model).

pub fn yaml(n: usize) -> String {
    let mut s = String::from(
        "apiVersion: mlship/v1\nproject: bench\nregistry: ghcr.io/acme/bench\nkubernetes: \"1.33\"\n\
         images:\n  trainer: {stack: xgboost, copy: [src/]}\n  server: {stack: fastapi, copy: [src/]}\n\
         config: {MODEL_NAME: bench, THRESHOLD: \"0.8\"}\n\
         secrets:\n  db: {provider: external-secrets, store: vault, keys: {DB_USER: bench/db#user, DB_PASSWORD: bench/db#password}}\n\
         volumes:\n  artifacts: {size: 10Gi, access: ReadWriteMany}\npipelines:\n",
    );
    for p in 0..n.div_ceil(10) {
        s.push_str(&format!("  p{p}:\n    steps:\n"));
        for i in 0..10.min(n - p * 10) {
            let needs = if i == 0 {
                String::new()
            } else {
                format!(", needs: [s{}]", i - 1)
            };
            s.push_str(&format!(
                "      s{i}: {{image: trainer, run: [python, -m, bench.step{i}], cpu: \"1\", memory: 2Gi, mounts: {{artifacts: /artifacts}}{needs}}}\n"
            ));
        }
    }
    s.push_str("services:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  svc{i}: {{image: server, port: 8080, cpu: 250m, memory: 512Mi, autoscale: {{min: 2, max: 10, cpu: 70}}, secrets: [db]}}\n"
        ));
    }
    s.push_str("environments:\n  dev: {namespace: bench-dev, tag: dev}\n  staging: {namespace: bench-staging, tag: rc}\n  prod: {tag: \"1.0.0\", images: {trainer: {digest: \"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}, server: {digest: \"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}}\n");
    s.push_str("gitops: {engine: argocd, repo: \"https://git.example.com/acme/bench.git\"}\n");
    s
}

pub fn kdl(n: usize) -> String {
    let mut s = String::from(
        "apiVersion \"mlship/v1\"\nproject \"bench\"\nregistry \"ghcr.io/acme/bench\"\nkubernetes \"1.33\"\n\
         images \"trainer\" stack=\"xgboost\" { copy \"src/\"; }\nimages \"server\" stack=\"fastapi\" { copy \"src/\"; }\n\
         config MODEL_NAME=\"bench\" THRESHOLD=\"0.8\"\n\
         secrets \"db\" provider=\"external-secrets\" store=\"vault\" { keys DB_USER=\"bench/db#user\" DB_PASSWORD=\"bench/db#password\"; }\n\
         volumes \"artifacts\" size=\"10Gi\" access=\"ReadWriteMany\"\n",
    );
    for p in 0..n.div_ceil(10) {
        s.push_str(&format!("pipelines \"p{p}\" {{\n"));
        for i in 0..10.min(n - p * 10) {
            let needs = if i == 0 {
                String::new()
            } else {
                format!(" needs \"s{}\";", i - 1)
            };
            s.push_str(&format!(
                "    steps \"s{i}\" image=\"trainer\" cpu=\"1\" memory=\"2Gi\" {{ run \"python\" \"-m\" \"bench.step{i}\"; mounts artifacts=\"/artifacts\";{needs} }}\n"
            ));
        }
        s.push_str("}\n");
    }
    for i in 0..n {
        s.push_str(&format!(
            "services \"svc{i}\" image=\"server\" port=8080 cpu=\"250m\" memory=\"512Mi\" {{ autoscale min=2 max=10 cpu=70; secrets \"db\"; }}\n"
        ));
    }
    s.push_str("environments \"dev\" namespace=\"bench-dev\" tag=\"dev\"\nenvironments \"staging\" namespace=\"bench-staging\" tag=\"rc\"\nenvironments \"prod\" tag=\"1.0.0\" { images \"trainer\" digest=\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; images \"server\" digest=\"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"; }\n");
    s.push_str("gitops engine=\"argocd\" repo=\"https://git.example.com/acme/bench.git\"\n");
    s
}

/// The project files the generated spec names (used by the criterion benches).
#[allow(dead_code)]
pub fn project() -> mlship::project::MemProject {
    mlship::project::MemProject(
        [("src/bench/__init__.py".to_string(), Vec::new())]
            .into_iter()
            .collect(),
    )
}
