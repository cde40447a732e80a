//! The `mlship` command line. The only place that prints, reads arguments, or
//! calls the writer.

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use mlship::diag::Diagnostic;
use mlship::emit::Output;
use mlship::inputs;
use mlship::project::{DirProject, GitProject, Project};
use mlship::source::SourceFile;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc: the compiler allocates many small JSON values; this cuts whole-build time
/// measurably (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mlship",
    version,
    about = "Compile an ML project spec into Dockerfiles and a GitOps-ready Kubernetes tree"
)]
#[command(
    long_about = "mlship compiles one spec file per ML project (mlship.yaml or mlship.kdl) into Dockerfiles and a \
rendered Kubernetes tree per environment, with the kustomization and the Argo CD or Flux objects that apply it from git.\n\n\
Exit codes: 0 ok, 1 invalid spec, stale tree or differences found, 2 usage or I/O error. NO_COLOR turns colour off."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a spec and write its tree (default: deploy/ beside the spec).
    Build {
        /// The spec file. Default: mlship.yaml or mlship.kdl in the current folder.
        spec: Option<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Build only these environments; the others' files stay as they are.
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Validate spec files, or (with --manifests) any Kubernetes manifests, and print every
    /// problem with its location.
    Validate {
        /// Spec files; with --manifests, manifest files and folders (walked for *.yaml,
        /// *.yml). Default: mlship.yaml or mlship.kdl in the current folder.
        files: Vec<PathBuf>,
        /// Validate Kubernetes manifests against the schemas of --kubernetes, strictly.
        #[arg(long)]
        manifests: bool,
        /// Kubernetes version for --manifests.
        #[arg(long, default_value = "1.33", value_name = "VERSION")]
        kubernetes: String,
        #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
        format: ValidateFormat,
    },
    /// Validate specs, compile them, and fail when the committed tree is stale (CI, pre-commit).
    Check {
        /// Spec files. Default: every mlship.yaml / mlship.kdl under the current folder
        /// that git does not ignore.
        files: Vec<PathBuf>,
        /// Output folder, relative to each spec's folder.
        #[arg(long, default_value = "deploy")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
    },
    /// Show what a spec change does to the rendered tree, object by object.
    Diff {
        /// The spec file. Default: mlship.yaml or mlship.kdl in the current folder.
        spec: Option<PathBuf>,
        /// Compare with the spec as it was at this git revision instead of the tree on disk.
        #[arg(long, value_name = "REF")]
        against: Option<String>,
        /// Only these environments.
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Output folder (when comparing with the tree on disk).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Show a unified YAML diff under each object.
        #[arg(long)]
        unified: bool,
        #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
        format: DiffFormat,
    },
    /// Draw the pipelines and services as Mermaid or Graphviz DOT.
    Graph {
        spec: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Print the spec's JSON Schema.
    Schema,
    /// Write a commented starter spec (mlship.yaml) into a folder.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Project name. Default: the folder's name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ValidateFormat {
    Human,
    Json,
    /// JUnit XML (with --manifests), for CI test reports.
    Junit,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
    /// GitHub Actions annotations.
    Github,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Human,
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build {
            spec,
            out,
            envs,
            format,
        } => build(spec, out, &envs, format),
        Command::Validate {
            files,
            manifests: true,
            kubernetes,
            format,
        } => validate_manifests(&files, &kubernetes, format),
        Command::Validate { files, format, .. } => validate(
            files,
            if format == ValidateFormat::Json {
                Format::Json
            } else {
                Format::Human
            },
        ),
        Command::Check { files, out, format } => check(files, &out, format),
        Command::Diff {
            spec,
            against,
            envs,
            out,
            unified,
            format,
        } => diff(spec, against, &envs, out, unified, format),
        Command::Graph { spec, format } => graph(spec, format),
        Command::Schema => {
            print!("{}", mlship::schema::schema_text());
            Ok(true)
        }
        Command::Init { dir, name } => init(&dir, name),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mlship", &mut std::io::stdout());
            Ok(true)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map(|_| true)
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn report(diags: &[Diagnostic], file: &SourceFile, json: bool) {
    if json {
        print!("{}", mlship::report::json::diagnostics(diags, file));
    } else {
        eprint!("{}", mlship::report::text::diagnostics(diags, file, color()));
    }
}

fn spec_or_default(spec: Option<PathBuf>) -> Result<PathBuf, String> {
    spec.map_or_else(inputs::default_spec, Ok)
}

fn compile_path(path: &Path) -> Result<mlship::Compiled, String> {
    let bytes = inputs::read_spec(path)?;
    Ok(mlship::compile(
        &path.display().to_string(),
        &bytes,
        &DirProject::new(inputs::spec_dir(path)),
    ))
}

fn validate(files: Vec<PathBuf>, format: Format) -> Result<bool, String> {
    let files = if files.is_empty() {
        vec![inputs::default_spec()?]
    } else {
        files
    };
    let mut ok = true;
    for path in files {
        let c = compile_path(&path)?;
        report(&c.diagnostics, &c.file, format == Format::Json);
        let valid = c.output.is_some();
        ok &= valid;
        if format == Format::Human {
            eprint!(
                "{}",
                mlship::report::text::validated(&c.file.name, valid, &c.diagnostics)
            );
        }
    }
    Ok(ok)
}

/// `mlship validate --manifests`: a strict, offline kubeconform for any manifests.
fn validate_manifests(paths: &[PathBuf], version: &str, format: ValidateFormat) -> Result<bool, String> {
    if paths.is_empty() {
        return Err("name the manifest files or folders to validate".into());
    }
    let schemas = mlship::validate::schemas(version)
        .map_err(|e| format!("{e}; supported: {}", mlship::validate::SUPPORTED.join(", ")))?;
    let files = inputs::manifests(paths)?;
    let docs = schemas.validate_files(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    match format {
        ValidateFormat::Human => print!("{}", mlship::report::text::manifests(&docs, files.len(), version)),
        ValidateFormat::Json => print!("{}", mlship::report::json::manifests(&docs)),
        ValidateFormat::Junit => print!("{}", mlship::report::junit(&docs, version)),
    }
    Ok(mlship::validate::summary(&docs).invalid == 0)
}

fn build(spec: Option<PathBuf>, out: Option<PathBuf>, envs: &[String], format: Format) -> Result<bool, String> {
    let path = spec_or_default(spec)?;
    let c = compile_path(&path)?;
    report(&c.diagnostics, &c.file, format == Format::Json);
    let Some(mut output) = c.output else {
        eprintln!(
            "{}: nothing written ({})",
            path.display(),
            mlship::report::text::summary(&c.diagnostics)
        );
        return Ok(false);
    };
    let out = out.unwrap_or_else(|| inputs::spec_dir(&path).join("deploy"));
    if !envs.is_empty() {
        check_envs(&output, envs, &path)?;
        output.restrict(envs, &mlship::writer::read_previous(&out));
    }
    let r = mlship::writer::write(&out, &output).map_err(|e| format!("writing {}: {e}", out.display()))?;
    if format == Format::Human {
        eprint!("{}", mlship::report::text::written(&c.file.name, &r, &out));
    } else {
        print!("{}", mlship::report::json::written(&r));
    }
    Ok(true)
}

fn check_envs(output: &Output, envs: &[String], path: &Path) -> Result<(), String> {
    let known: std::collections::BTreeSet<&str> = output.files.keys().filter_map(|k| mlship::emit::env_of(k)).collect();
    match envs.iter().find(|e| !known.contains(e.as_str())) {
        Some(bad) => {
            let known: Vec<&str> = known.into_iter().collect();
            Err(format!(
                "{}: no environment `{bad}`; the spec has {}",
                path.display(),
                known.join(", ")
            ))
        }
        None => Ok(()),
    }
}

fn check(files: Vec<PathBuf>, out: &Path, format: CheckFormat) -> Result<bool, String> {
    let files = if files.is_empty() {
        inputs::discover(Path::new("."))?
    } else {
        files
    };
    let mut results = Vec::new();
    for path in &files {
        let c = compile_path(path)?;
        let dir = inputs::spec_dir(path).join(out);
        let stale = c
            .output
            .as_ref()
            .map(|o| mlship::writer::stale(&dir, o))
            .unwrap_or_default();
        results.push((c, dir, stale));
        let c = checked(results.last().expect("just pushed"));
        match format {
            CheckFormat::Human => {
                report(c.diagnostics, c.file, false);
                eprint!("{}", mlship::report::text::check(&c));
            }
            CheckFormat::Json => {
                report(c.diagnostics, c.file, true);
                print!("{}", mlship::report::json::stale(&c));
            }
            CheckFormat::Github | CheckFormat::Sarif => {}
        }
    }
    let checked: Vec<mlship::report::Checked> = results.iter().map(checked).collect();
    match format {
        CheckFormat::Github => print!("{}", mlship::report::github(&checked)),
        CheckFormat::Sarif => print!("{}", mlship::report::sarif(&checked)),
        _ => {}
    }
    Ok(checked.iter().all(mlship::report::Checked::ok))
}

/// A checked spec: compiled, its output folder, its stale files.
type CheckResult = (mlship::Compiled, PathBuf, Vec<(String, &'static str)>);

fn checked((c, out, stale): &CheckResult) -> mlship::report::Checked<'_> {
    mlship::report::Checked {
        file: &c.file,
        diagnostics: &c.diagnostics,
        stale,
        out,
        valid: c.output.is_some(),
    }
}

/// The tree on disk as the last build wrote it (the files its lock lists).
fn tree_on_disk(out: &Path) -> Output {
    Output {
        files: mlship::writer::read_previous(out),
    }
}

fn diff(
    spec: Option<PathBuf>,
    against: Option<String>,
    envs: &[String],
    out: Option<PathBuf>,
    unified: bool,
    format: DiffFormat,
) -> Result<bool, String> {
    let path = spec_or_default(spec)?;
    let c = compile_path(&path)?;
    report(&c.diagnostics, &c.file, false);
    let Some(new) = c.output else {
        eprint!(
            "{}",
            mlship::report::text::validated(&c.file.name, false, &c.diagnostics)
        );
        return Err("the spec does not compile; fix it first".into());
    };
    let old = match &against {
        None => tree_on_disk(&out.unwrap_or_else(|| inputs::spec_dir(&path).join("deploy"))),
        Some(rev) => compile_at(&path, rev)?,
    };
    if !envs.is_empty() {
        check_envs(&new, envs, &path)?;
    }
    let only = (!envs.is_empty()).then_some(envs);
    let r = mlship::diff::diff(&old, &new, only);
    match format {
        DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&r).expect("report serializes")),
        DiffFormat::Markdown => print!("{}", mlship::diff::render(&r, mlship::diff::Style::Markdown, unified)),
        DiffFormat::Human => {
            let style = if std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
            {
                mlship::diff::Style::Color
            } else {
                mlship::diff::Style::Plain
            };
            print!("{}", mlship::diff::render(&r, style, unified));
        }
    }
    Ok(r.is_empty())
}

/// Compile the spec as it was at a git revision, reading every file through git.
fn compile_at(path: &Path, rev: &str) -> Result<Output, String> {
    let project = GitProject::open(&inputs::spec_dir(path), rev)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = project
        .read(&name)
        .map_err(|e| format!("{} at {rev}: {e}", path.display()))?;
    let c = mlship::compile(&format!("{}@{rev}", path.display()), &bytes, &project);
    report(&c.diagnostics, &c.file, false);
    c.output
        .ok_or_else(|| format!("{} does not compile at {rev}", path.display()))
}

fn graph(spec: Option<PathBuf>, format: GraphFormat) -> Result<bool, String> {
    let path = spec_or_default(spec)?;
    let bytes = inputs::read_spec(&path)?;
    let (file, loaded, diags) = mlship::load::load(&path.display().to_string(), &bytes);
    report(&diags, &file, false);
    let Some(loaded) = loaded else { return Ok(false) };
    let kind = match format {
        GraphFormat::Mermaid => mlship::graph::Kind::Mermaid,
        GraphFormat::Dot => mlship::graph::Kind::Dot,
    };
    print!("{}", mlship::graph::render(&loaded, kind));
    Ok(true)
}

/// `mlship init`: the starter files, each created unless the folder has it already.
fn init(dir: &Path, name: Option<String>) -> Result<bool, String> {
    let starter = mlship::init::starter(dir, name)?;
    for (path, text) in &starter.files {
        if mlship::writer::create_new(path, text.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))? {
            eprintln!("wrote {}", path.display());
        }
    }
    let spec = starter.spec.display();
    eprintln!("next: edit {spec}, then run `mlship build {spec}`");
    Ok(true)
}
