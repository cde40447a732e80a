//! The `mlship` command line: the clap definitions, dispatch, and printing. The only place
//! that reads arguments and the environment, and prints; the commands themselves are in
//! `mlship::commands`.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the binary is the one place that prints"
)]

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use mlship::commands::{self, Outcome, Stream, Transcript};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
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
        /// Kubernetes version for --manifests (default 1.33). A spec names its own, in
        /// `kubernetes:`.
        #[arg(long, value_name = "VERSION")]
        kubernetes: Option<String>,
        /// With --manifests: a CustomResourceDefinition file, or a folder of them (every
        /// *.yaml, *.yml), whose kinds are validated too instead of skipped. Repeatable. A
        /// spec lists its own in `crds:`.
        #[arg(long = "crd", value_name = "FILE|DIR")]
        crds: Vec<PathBuf>,
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
        /// The files are changed files of any kind (as a pre-commit hook passes them): check
        /// the specs of the projects they are in, and nothing when they are in none.
        #[arg(long)]
        changed: bool,
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
    /// Say where a value of the rendered tree came from: the spec line (base or environment
    /// override), the patch, or the default and its rule.
    #[command(
        long_about = "Say where a value of the rendered tree came from: the spec value that set it, in the base spec or in an \
environment's override, as file:line:col and its path in the spec; the patch that set it; or the default and the rule that \
chose it.\n\n\
FILE is a file of the rendered tree (envs/prod/deployment-x-api.yaml, or the same under the output folder, or the file's name \
with --env); FILE#N or FILE#<name> picks one object of a file that holds several. FIELD is a path in the object: \
spec.template.spec.containers[0].resources.limits.memory, containers[name=server].image, metadata.labels[\"app.kubernetes.io/name\"].\n\n\
Example: mlship explain mlship.yaml envs/prod/deployment-fraud-detection-api.yaml spec.template.spec.containers[0].image"
    )]
    Explain {
        /// The spec file, then FILE; or FILE alone, with the spec mlship.yaml or mlship.kdl in
        /// the current folder.
        #[arg(value_name = "SPEC|FILE")]
        first: String,
        /// FILE after a spec, else FIELD.
        #[arg(value_name = "FILE|FIELD")]
        second: String,
        /// FIELD, after a spec and FILE.
        #[arg(value_name = "FIELD")]
        third: Option<String>,
        /// The environment (default: the one the file is in).
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// Draw the pipelines and services as Mermaid or Graphviz DOT.
    Graph {
        spec: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Print the spec's JSON Schema, or write it to a file (`--out mlship.schema.json`, which
    /// the `$schema` modeline of `mlship init`'s spec names).
    Schema {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a commented starter spec (mlship.yaml) into a folder.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Project name. Default: the folder's name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Pin each environment's images by digest in images.lock.yaml, beside the spec: fill it
    /// from a bake metadata file, or promote one environment's builds to another. `build`
    /// renders the pins (docs/ci.md).
    Lock {
        #[command(subcommand)]
        action: LockAction,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man,
}

#[derive(Subcommand)]
enum LockAction {
    /// Pin the named environments' images to the digests that `docker buildx bake
    /// --metadata-file` recorded; images the file does not name keep their pin.
    Fill {
        /// The spec file. Default: mlship.yaml or mlship.kdl in the current folder.
        spec: Option<PathBuf>,
        /// The file `docker buildx bake --metadata-file FILE` wrote.
        #[arg(long, value_name = "FILE")]
        metadata: PathBuf,
        /// Environments the build is for (repeat for several).
        #[arg(long = "env", value_name = "NAME", required = true)]
        envs: Vec<String>,
    },
    /// Give one environment the exact builds (digests) another runs, printing each change.
    Promote {
        /// The spec file. Default: mlship.yaml or mlship.kdl in the current folder.
        spec: Option<PathBuf>,
        #[arg(long, value_name = "ENV")]
        from: String,
        #[arg(long, value_name = "ENV")]
        to: String,
        /// Only these images (repeat for several). Default: every image `--to` builds.
        #[arg(long = "image", value_name = "NAME")]
        images: Vec<String>,
    },
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
    let color = |terminal: bool| std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal;
    let mut t = Transcript::new(
        color(std::io::stderr().is_terminal()),
        color(std::io::stdout().is_terminal()),
    );
    let result = run(Cli::parse().command, &mut t);
    let mut stderr = Stderr { open: true };
    for (stream, text) in &t.chunks {
        match stream {
            Stream::Stdout => print(text),
            Stream::Stderr => stderr.write(text),
        }
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            stderr.write(&format!("error: {e}\n"));
            ExitCode::from(2)
        }
    }
}

/// Writes diagnostics to stderr. A reader that closed the pipe gets no more of them, and the
/// exit code stays what the command decided; a full device leaves nowhere to report
/// anything: exit 2.
struct Stderr {
    open: bool,
}

impl Stderr {
    fn write(&mut self, text: &str) {
        if !self.open {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        if let Err(e) = stderr.write_all(text.as_bytes()).and_then(|()| stderr.flush()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                std::process::exit(2);
            }
            self.open = false;
        }
    }
}

/// Writes to stdout. A reader that closed the pipe (`| head`) wants no more: exit 0. Any
/// other failure (a full disk) is an error: exit 2.
fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Said once if stderr can take it; the exit code says it either way.
        let _ = writeln!(std::io::stderr(), "error: writing to stdout: {e}");
        std::process::exit(2);
    }
}

fn run(command: Command, t: &mut Transcript) -> Outcome {
    match command {
        Command::Build {
            spec,
            out,
            envs,
            format,
        } => commands::build(t, spec, out, &envs, format == Format::Json),
        Command::Validate {
            files,
            manifests: true,
            kubernetes,
            crds,
            format,
        } => {
            let format = match format {
                ValidateFormat::Human => commands::ManifestFormat::Human,
                ValidateFormat::Json => commands::ManifestFormat::Json,
                ValidateFormat::Junit => commands::ManifestFormat::Junit,
            };
            commands::validate_manifests(t, &files, &crds, kubernetes.as_deref().unwrap_or("1.33"), format)
        }
        Command::Validate {
            kubernetes: Some(_), ..
        } => Err("--kubernetes applies to --manifests; a spec names its Kubernetes version in `kubernetes:`".into()),
        Command::Validate { crds, .. } if !crds.is_empty() => {
            Err("--crd applies to --manifests; a spec lists its CRD files in `crds:`".into())
        }
        Command::Validate { files, format, .. } => commands::validate(t, files, format == ValidateFormat::Json),
        Command::Check {
            files,
            out,
            format,
            changed,
        } => {
            let format = match format {
                CheckFormat::Human => commands::CheckFormat::Human,
                CheckFormat::Json => commands::CheckFormat::Json,
                CheckFormat::Github => commands::CheckFormat::Github,
                CheckFormat::Sarif => commands::CheckFormat::Sarif,
            };
            if changed {
                let specs = mlship::inputs::enclosing_specs(&files);
                if specs.is_empty() {
                    return Ok(true);
                }
                return commands::check(t, specs, &out, format);
            }
            commands::check(t, files, &out, format)
        }
        Command::Diff {
            spec,
            against,
            envs,
            out,
            unified,
            format,
        } => {
            let format = match format {
                DiffFormat::Human => commands::DiffFormat::Human,
                DiffFormat::Json => commands::DiffFormat::Json,
                DiffFormat::Markdown => commands::DiffFormat::Markdown,
            };
            commands::diff(t, spec, against.as_deref(), &envs, out, unified, format)
        }
        Command::Explain {
            first,
            second,
            third,
            env,
        } => match third {
            Some(field) => commands::explain(t, Some(PathBuf::from(first)), env.as_deref(), &second, &field),
            None => commands::explain(t, None, env.as_deref(), &first, &second),
        },
        Command::Graph { spec, format } => {
            let kind = match format {
                GraphFormat::Mermaid => mlship::graph::Kind::Mermaid,
                GraphFormat::Dot => mlship::graph::Kind::Dot,
            };
            commands::graph(t, spec, kind)
        }
        Command::Schema { out } => commands::schema(t, out.as_deref()),
        Command::Init { dir, name } => commands::init(t, &dir, name),
        Command::Lock {
            action: LockAction::Fill { spec, metadata, envs },
        } => commands::lock_fill(t, spec, &metadata, &envs),
        Command::Lock {
            action: LockAction::Promote { spec, from, to, images },
        } => commands::lock_promote(t, spec, &from, &to, &images),
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mlship", &mut text);
            t.out(String::from_utf8_lossy(&text));
            Ok(true)
        }
        Command::Man => {
            let mut text = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut text)
                .map_err(|e| e.to_string())?;
            t.out(String::from_utf8_lossy(&text));
            Ok(true)
        }
    }
}
