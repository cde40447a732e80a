//! The `mlship` command line. The only place that prints, reads arguments, or calls the writer.

use clap::{Parser, Subcommand, ValueEnum};
use mlship::diag::{self, Diagnostic, JsonDiagnostic};
use mlship::lower::Project;
use mlship::source::SourceFile;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mlship",
    version,
    about = "Compile an ML project spec into Dockerfiles and a GitOps-ready Kubernetes tree"
)]
#[command(
    long_about = "mlship compiles one spec file per ML project (mlship.yaml or mlship.kdl) into a rendered \
Kubernetes tree per environment, with the kustomization and the Argo CD or Flux objects that apply it from git.\n\n\
Exit codes: 0 ok, 1 invalid spec or stale tree, 2 usage or I/O error."
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
    /// Validate spec files and print every problem with its location.
    Validate {
        /// Spec files. Default: mlship.yaml or mlship.kdl in the current folder.
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Validate specs, compile them, and fail when the committed tree is stale.
    Check {
        /// Spec files. Default: mlship.yaml or mlship.kdl in the current folder.
        files: Vec<PathBuf>,
        /// Output folder, relative to each spec's folder.
        #[arg(long, default_value = "deploy")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
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
        Command::Validate { files, format } => validate(files, format),
        Command::Check { files, out, format } => check(files, &out, format),
        Command::Schema => {
            print!("{}", mlship::schema::schema_text());
            Ok(true)
        }
        Command::Init { dir, name } => init(&dir, name),
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

/// Reads files next to the spec, refusing anything (symlinks too) that leads outside.
struct DirProject {
    root: PathBuf,
}

impl Project for DirProject {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        let root = self.root.canonicalize()?;
        let path = root.join(rel).canonicalize()?;
        if !path.starts_with(&root) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the path leads outside the project",
            ));
        }
        std::fs::read(path)
    }
}

fn default_spec() -> Result<PathBuf, String> {
    let found: Vec<PathBuf> = ["mlship.yaml", "mlship.yml", "mlship.kdl"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("no mlship.yaml or mlship.kdl in this folder; name the spec file, or run `mlship init`".into()),
        _ => Err("both mlship.yaml and mlship.kdl are here; name the one to use".into()),
    }
}

fn read_spec(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.len() > mlship::syntax::LIMITS.max_bytes as u64 {
        // Refuse before reading a huge file into memory; the loader words the error.
        return Ok(vec![b' '; mlship::syntax::LIMITS.max_bytes + 1]);
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn report(diags: &[Diagnostic], file: &SourceFile, format: Format) {
    match format {
        Format::Human => {
            let color = color();
            for d in diags {
                eprint!("{}", diag::render(d, file, color));
            }
        }
        Format::Json => {
            for d in diags {
                println!(
                    "{}",
                    serde_json::to_string(&JsonDiagnostic::new(d, file)).expect("diagnostic serializes")
                );
            }
        }
    }
}

fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

fn spec_files(files: Vec<PathBuf>) -> Result<Vec<PathBuf>, String> {
    if files.is_empty() {
        Ok(vec![default_spec()?])
    } else {
        Ok(files)
    }
}

fn compile_path(path: &Path) -> Result<mlship::Compiled, String> {
    let bytes = read_spec(path)?;
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok(mlship::compile(
        &path.display().to_string(),
        &bytes,
        &DirProject { root },
    ))
}

fn validate(files: Vec<PathBuf>, format: Format) -> Result<bool, String> {
    let mut ok = true;
    for path in spec_files(files)? {
        let c = compile_path(&path)?;
        report(&c.diagnostics, &c.file, format);
        let valid = c.output.is_some();
        ok &= valid;
        if format == Format::Human {
            let verdict = if valid { "valid" } else { "invalid" };
            eprintln!("{}: {verdict} ({})", path.display(), summary(&c.diagnostics));
        }
    }
    Ok(ok)
}

fn build(spec: Option<PathBuf>, out: Option<PathBuf>, envs: &[String], format: Format) -> Result<bool, String> {
    let path = match spec {
        Some(p) => p,
        None => default_spec()?,
    };
    let c = compile_path(&path)?;
    report(&c.diagnostics, &c.file, format);
    let Some(mut output) = c.output else {
        eprintln!("{}: nothing written ({})", path.display(), summary(&c.diagnostics));
        return Ok(false);
    };
    let out = out.unwrap_or_else(|| path.parent().unwrap_or(Path::new(".")).join("deploy"));
    if !envs.is_empty() {
        let known: std::collections::BTreeSet<&str> =
            output.files.keys().filter_map(|k| mlship::emit::env_of(k)).collect();
        if let Some(bad) = envs.iter().find(|e| !known.contains(e.as_str())) {
            let known: Vec<&str> = known.into_iter().collect();
            return Err(format!(
                "{}: no environment `{bad}`; the spec has {}",
                path.display(),
                known.join(", ")
            ));
        }
        output.restrict(envs, &mlship::writer::read_previous(&out));
    }
    let r = mlship::writer::write(&out, &output).map_err(|e| format!("writing {}: {e}", out.display()))?;
    if format == Format::Human {
        eprintln!(
            "{}: wrote {} files, removed {}, {} unchanged in {}",
            path.display(),
            r.written.len(),
            r.removed.len(),
            r.unchanged,
            out.display()
        );
    } else {
        println!(
            "{}",
            serde_json::json!({ "written": r.written, "removed": r.removed, "unchanged": r.unchanged })
        );
    }
    Ok(true)
}

fn check(files: Vec<PathBuf>, out: &Path, format: Format) -> Result<bool, String> {
    let mut ok = true;
    for path in spec_files(files)? {
        let c = compile_path(&path)?;
        report(&c.diagnostics, &c.file, format);
        let Some(output) = c.output else {
            eprintln!("{}: invalid ({})", path.display(), summary(&c.diagnostics));
            ok = false;
            continue;
        };
        let dir = path.parent().unwrap_or(Path::new(".")).join(out);
        let stale = mlship::writer::stale(&dir, &output);
        for (file, why) in &stale {
            match format {
                Format::Human => eprintln!("{}: {file} is stale ({why})", dir.display()),
                Format::Json => println!("{}", serde_json::json!({ "file": dir.join(file), "stale": why })),
            }
        }
        if stale.is_empty() {
            if format == Format::Human {
                eprintln!("{}: up to date", path.display());
            }
        } else {
            ok = false;
            if format == Format::Human {
                eprintln!(
                    "{}: {} stale files; run `mlship build {}` to update them",
                    path.display(),
                    stale.len(),
                    path.display()
                );
            }
        }
    }
    Ok(ok)
}

fn init(dir: &Path, name: Option<String>) -> Result<bool, String> {
    let target = dir.join("mlship.yaml");
    if target.exists() {
        return Err(format!("{} already exists; not overwriting it", target.display()));
    }
    let name = match name {
        Some(n) => n,
        None => {
            let abs = std::path::absolute(dir).map_err(|e| e.to_string())?;
            mlship::names::suggest(
                &abs.file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        }
    };
    if !mlship::names::is_dns_label(&name) {
        return Err(format!(
            "`{name}` is not a valid project name; pass --name, e.g. --name {}",
            mlship::names::suggest(&name)
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let text = include_str!("../../stdlib/init/mlship.yaml").replace("{{project}}", &name);
    std::fs::write(&target, text).map_err(|e| format!("writing {}: {e}", target.display()))?;
    eprintln!(
        "wrote {}; next: edit it, then run `mlship build {}`",
        target.display(),
        target.display()
    );
    Ok(true)
}
