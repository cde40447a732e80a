//! The CLI's commands, without the command line: each finds its files ([`crate::inputs`]),
//! compiles, compares or validates through the library, and records what it shows, in order,
//! in a [`Transcript`] that the binary prints.
//!
//! Nothing here prints or reads arguments or the environment; `build` and `init` change the
//! file system through [`crate::writer`] only. Every command ends in an [`Outcome`].

use crate::diag::Diagnostic;
use crate::emit::Output;
use crate::project::{DirProject, GitProject, Project};
use crate::report::{self, Checked};
use crate::source::SourceFile;
use crate::{Compiled, compile, diff, graph, inputs, validate, writer};
use std::path::{Path, PathBuf};

/// How a command ends: `Ok(true)` all good (exit 0); `Ok(false)` it found problems: an invalid
/// spec, a stale tree, differences (exit 1); `Err` a usage or I/O error (exit 2).
pub type Outcome = Result<bool, String>;

/// Where a piece of a command's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a command shows, in the order it shows it.
#[derive(Debug, Default)]
pub struct Transcript {
    /// Whether diagnostics (on stderr) take colour.
    pub color_stderr: bool,
    /// Whether the diff (on stdout) takes colour.
    pub color_stdout: bool,
    pub chunks: Vec<(Stream, String)>,
}

impl Transcript {
    pub fn new(color_stderr: bool, color_stdout: bool) -> Self {
        Self {
            color_stderr,
            color_stdout,
            chunks: Vec::new(),
        }
    }

    /// Text for stdout.
    pub fn out(&mut self, text: impl Into<String>) {
        self.push(Stream::Stdout, text.into());
    }

    /// Text for stderr.
    pub fn err(&mut self, text: impl Into<String>) {
        self.push(Stream::Stderr, text.into());
    }

    fn push(&mut self, stream: Stream, text: String) {
        if !text.is_empty() {
            self.chunks.push((stream, text));
        }
    }

    /// Everything one stream got.
    pub fn text(&self, stream: Stream) -> String {
        self.chunks
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    /// A spec's diagnostics: JSON lines on stdout, or rendered for people on stderr.
    fn diagnostics(&mut self, diags: &[Diagnostic], file: &SourceFile, json: bool) {
        if json {
            self.out(report::json::diagnostics(diags, file));
        } else {
            self.err(report::text::diagnostics(diags, file, self.color_stderr));
        }
    }
}

/// Formats of `validate --manifests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    Human,
    Json,
    Junit,
}

/// Formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckFormat {
    Human,
    Json,
    Github,
    Sarif,
}

/// Formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Human,
    Json,
    Markdown,
}

/// Compile a spec file on disk; the files it names are read from its folder, behind the
/// symlink guard.
pub fn compile_file(path: &Path) -> Result<Compiled, String> {
    let bytes = inputs::read_spec(path)?;
    let project = DirProject::new(inputs::spec_dir(path));
    Ok(compile(&path.display().to_string(), &bytes, &project))
}

/// Compile a spec as it was at a git revision, reading every file through git. Its file is
/// named `path@rev`.
pub fn compile_at(path: &Path, rev: &str) -> Result<Compiled, String> {
    let project = GitProject::open(&inputs::spec_dir(path), rev)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = project
        .read(&name)
        .map_err(|e| format!("{} at {rev}: {e}", path.display()))?;
    Ok(compile(&format!("{}@{rev}", path.display()), &bytes, &project))
}

/// Environment names given on the command line, against the ones a compiled tree has.
fn check_envs(output: &Output, envs: &[String], path: &Path) -> Result<(), String> {
    let known: std::collections::BTreeSet<&str> = output.files.keys().filter_map(|k| crate::emit::env_of(k)).collect();
    match envs.iter().find(|e| !known.contains(e.as_str())) {
        Some(bad) => Err(format!(
            "{}: no environment `{bad}`; the spec has {}",
            path.display(),
            known.into_iter().collect::<Vec<_>>().join(", ")
        )),
        None => Ok(()),
    }
}

fn spec_or_default(spec: Option<PathBuf>) -> Result<PathBuf, String> {
    spec.map_or_else(inputs::default_spec, Ok)
}

/// `mlship validate`: every spec's diagnostics and verdict.
pub fn validate(t: &mut Transcript, files: Vec<PathBuf>, json: bool) -> Outcome {
    let files = if files.is_empty() {
        vec![inputs::default_spec()?]
    } else {
        files
    };
    let mut ok = true;
    for path in files {
        let c = compile_file(&path)?;
        t.diagnostics(&c.diagnostics, &c.file, json);
        ok &= c.output.is_some();
        if !json {
            t.err(report::text::validated(
                &c.file.name,
                c.output.is_some(),
                &c.diagnostics,
            ));
        }
    }
    Ok(ok)
}

/// `mlship validate --manifests`: a strict, offline kubeconform for any manifests.
pub fn validate_manifests(t: &mut Transcript, paths: &[PathBuf], version: &str, format: ManifestFormat) -> Outcome {
    if paths.is_empty() {
        return Err("name the manifest files or folders to validate".into());
    }
    let schemas = validate::schemas(version).map_err(|e| e.to_string())?;
    let files = inputs::manifests(paths)?;
    let mut docs = Vec::new();
    for (name, text) in &files {
        match text {
            Ok(text) => docs.extend(schemas.validate_yaml(name, text)),
            Err(why) => docs.push(validate::Document::unreadable(name, why.clone())),
        }
    }
    validate::mark_duplicates(&mut docs);
    t.out(match format {
        ManifestFormat::Human => report::text::manifests(&docs, files.len(), version),
        ManifestFormat::Json => report::json::manifests(&docs),
        ManifestFormat::Junit => report::junit(&docs, version),
    });
    Ok(validate::summary(&docs).invalid == 0)
}

/// `mlship build`: compile and write the tree (only `envs`' files, when named).
pub fn build(t: &mut Transcript, spec: Option<PathBuf>, out: Option<PathBuf>, envs: &[String], json: bool) -> Outcome {
    let path = spec_or_default(spec)?;
    let c = compile_file(&path)?;
    t.diagnostics(&c.diagnostics, &c.file, json);
    let Some(mut output) = c.output else {
        t.err(format!(
            "{}: nothing written ({})\n",
            path.display(),
            report::text::summary(&c.diagnostics)
        ));
        return Ok(false);
    };
    let out = out.unwrap_or_else(|| inputs::spec_dir(&path).join("deploy"));
    if !envs.is_empty() {
        check_envs(&output, envs, &path)?;
    }
    // Every writer error names its file. The lock is held from reading the previous tree to
    // writing the new one.
    let locked = writer::lock(&out).map_err(|e| e.to_string())?;
    if !envs.is_empty() {
        output.restrict(envs, &locked.previous());
    }
    let r = locked.write(&output).map_err(|e| e.to_string())?;
    if json {
        t.out(report::json::written(&r));
    } else {
        t.err(report::text::written(&path.display().to_string(), &r, &out));
        let shown = c.access.iter().filter(|(env, _)| envs.is_empty() || envs.contains(env));
        for (env, line) in shown {
            t.err(format!("  {env}: {line}\n"));
        }
    }
    Ok(true)
}

/// One spec as `check` found it.
struct CheckedSpec {
    compiled: Compiled,
    /// Its output folder.
    out: PathBuf,
    stale: Vec<(String, &'static str)>,
}

impl CheckedSpec {
    fn report(&self) -> Checked<'_> {
        Checked {
            file: &self.compiled.file,
            diagnostics: &self.compiled.diagnostics,
            stale: &self.stale,
            out: &self.out,
            valid: self.compiled.output.is_some(),
        }
    }
}

/// `mlship check`: validate and compile every spec (by default every one under the current
/// folder that git does not ignore) and compare it with its committed tree in `out`.
pub fn check(t: &mut Transcript, files: Vec<PathBuf>, out: &Path, format: CheckFormat) -> Outcome {
    let files = if files.is_empty() {
        inputs::discover(Path::new("."))?
    } else {
        files
    };
    let mut specs = Vec::new();
    for path in &files {
        let compiled = compile_file(path)?;
        let dir = inputs::spec_dir(path).join(out);
        let stale = compiled
            .output
            .as_ref()
            .map(|o| writer::stale(&dir, o))
            .unwrap_or_default();
        let spec = CheckedSpec {
            compiled,
            out: dir,
            stale,
        };
        let c = spec.report();
        match format {
            CheckFormat::Human => {
                t.diagnostics(c.diagnostics, c.file, false);
                t.err(report::text::check(&c));
            }
            CheckFormat::Json => {
                t.diagnostics(c.diagnostics, c.file, true);
                t.out(report::json::stale(&c));
            }
            CheckFormat::Github | CheckFormat::Sarif => {}
        }
        specs.push(spec);
    }
    let checked: Vec<Checked> = specs.iter().map(CheckedSpec::report).collect();
    match format {
        CheckFormat::Github => t.out(report::github(&checked)),
        CheckFormat::Sarif => t.out(report::sarif(&checked)),
        CheckFormat::Human | CheckFormat::Json => {}
    }
    Ok(checked.iter().all(Checked::ok))
}

/// `mlship diff`: what the spec does to the tree on disk in `out`, or (with `against`) to the
/// tree the spec compiled to at that git revision; only `envs`' objects when named.
pub fn diff(
    t: &mut Transcript,
    spec: Option<PathBuf>,
    against: Option<&str>,
    envs: &[String],
    out: Option<PathBuf>,
    unified: bool,
    format: DiffFormat,
) -> Outcome {
    let path = spec_or_default(spec)?;
    let c = compile_file(&path)?;
    t.diagnostics(&c.diagnostics, &c.file, false);
    let Some(new) = c.output else {
        t.err(report::text::validated(
            &path.display().to_string(),
            false,
            &c.diagnostics,
        ));
        // An invalid spec is exit 1, as for validate and check; there is nothing to compare.
        return Ok(false);
    };
    let old = match against {
        // The tree on disk as the last build wrote it (the files its lock lists).
        None => Output {
            files: writer::read_previous(&out.unwrap_or_else(|| inputs::spec_dir(&path).join("deploy"))),
        },
        Some(rev) => {
            let c = compile_at(&path, rev)?;
            t.diagnostics(&c.diagnostics, &c.file, false);
            c.output
                .ok_or_else(|| format!("{} does not compile at {rev}", path.display()))?
        }
    };
    if !envs.is_empty() {
        check_envs(&new, envs, &path)?;
    }
    let r = diff::diff(&old, &new, (!envs.is_empty()).then_some(envs));
    t.out(match format {
        DiffFormat::Json => format!("{}\n", serde_json::to_string_pretty(&r).expect("report serializes")),
        DiffFormat::Markdown => diff::render(&r, diff::Style::Markdown, unified),
        DiffFormat::Human if t.color_stdout => diff::render(&r, diff::Style::Color, unified),
        DiffFormat::Human => diff::render(&r, diff::Style::Plain, unified),
    });
    Ok(r.is_empty())
}

/// `mlship explain`: where the value of `field` in the rendered `file` (`FILE#N` or
/// `FILE#name` for one object of several) came from, in environment `env` (default: the
/// file's own).
pub fn explain(t: &mut Transcript, spec: Option<PathBuf>, env: Option<&str>, file: &str, field: &str) -> Outcome {
    let path = spec_or_default(spec)?;
    let c = compile_file(&path)?;
    let Some(output) = c.output else {
        t.diagnostics(&c.diagnostics, &c.file, false);
        t.err(report::text::validated(
            &path.display().to_string(),
            false,
            &c.diagnostics,
        ));
        // An invalid spec renders nothing to explain: exit 1, as for validate and diff.
        return Ok(false);
    };
    t.out(crate::explain::explain(&c.file, &output, env, file, field)?);
    Ok(true)
}

/// `mlship graph`: the spec's pipelines and services as Mermaid or DOT.
pub fn graph(t: &mut Transcript, spec: Option<PathBuf>, kind: graph::Kind) -> Outcome {
    let path = spec_or_default(spec)?;
    let bytes = inputs::read_spec(&path)?;
    let (file, loaded, diags) = crate::load::load(&path.display().to_string(), &bytes);
    t.diagnostics(&diags, &file, false);
    let Some(loaded) = loaded else { return Ok(false) };
    t.out(graph::render(&loaded, kind));
    Ok(true)
}

/// `mlship schema`: the spec's JSON Schema, printed or written to `out`.
pub fn schema(t: &mut Transcript, out: Option<&Path>) -> Outcome {
    let text = crate::schema::schema_text();
    match out {
        None => t.out(text),
        Some(path) => {
            writer::write_file(path, text.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))?;
            t.err(format!("wrote {}\n", path.display()));
        }
    }
    Ok(true)
}

/// `mlship init`: the starter files in `dir`, each created unless the folder has it already.
pub fn init(t: &mut Transcript, dir: &Path, name: Option<String>) -> Outcome {
    let starter = crate::init::starter(dir, name)?;
    for (path, text) in &starter.files {
        if writer::create_new(path, text.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))? {
            t.err(format!("wrote {}\n", path.display()));
        }
    }
    let spec = starter.spec.display();
    t.err(format!("next: edit {spec}, then run `mlship build {spec}`\n"));
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn a_new_project_is_created_built_and_checked_in_process() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let spec = dir.join("mlship.yaml");
        let mut t = Transcript::default();
        assert_eq!(init(&mut t, dir, Some("demo".into())), Ok(true));
        let d = dir.display();
        assert_eq!(
            t.text(Stream::Stderr),
            format!(
                "wrote {d}/mlship.yaml\nwrote {d}/requirements.txt\nwrote {d}/app/main.py\n\
                 wrote {d}/mlship.schema.json\nnext: edit {d}/mlship.yaml, then run `mlship build {d}/mlship.yaml`\n"
            )
        );
        assert_eq!(
            init(&mut Transcript::default(), dir, None),
            Err(format!("{d}/mlship.yaml already exists; not overwriting it"))
        );

        // Never built: every file is missing, one JSON line each.
        let mut t = Transcript::default();
        assert_eq!(
            check(&mut t, vec![spec.clone()], Path::new("deploy"), CheckFormat::Json),
            Ok(false)
        );
        let lines = t.text(Stream::Stdout);
        assert!(lines.lines().count() > 1, "{lines}");
        assert!(lines.lines().all(|l| l.ends_with(r#","stale":"missing"}"#)), "{lines}");

        let mut t = Transcript::default();
        assert_eq!(
            build(&mut t, Some(spec.clone()), None, &["staging".into()], false),
            Err(format!(
                "{d}/mlship.yaml: no environment `staging`; the spec has dev, prod"
            ))
        );
        assert_eq!(build(&mut t, Some(spec.clone()), None, &[], true), Ok(true));
        let mut t = Transcript::default();
        assert_eq!(
            check(&mut t, vec![spec.clone()], Path::new("deploy"), CheckFormat::Human),
            Ok(true)
        );
        assert_eq!(t.chunks, [(Stream::Stderr, format!("{d}/mlship.yaml: up to date\n"))]);
        let mut t = Transcript::default();
        assert_eq!(
            diff(&mut t, Some(spec), None, &[], None, false, DiffFormat::Json),
            Ok(true)
        );
        assert!(t.text(Stream::Stderr).is_empty());
    }

    #[test]
    fn an_invalid_spec_shows_its_diagnostics_then_its_verdict() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = tmp.path().join("mlship.yaml");
        std::fs::write(&spec, "project: [\n").unwrap();
        let mut t = Transcript::default();
        assert_eq!(validate(&mut t, vec![spec.clone()], false), Ok(false));
        let [(Stream::Stderr, diags), (Stream::Stderr, verdict)] = t.chunks.as_slice() else {
            panic!("{:?}", t.chunks)
        };
        assert!(diags.starts_with("error[E001]: invalid YAML"), "{diags}");
        assert_eq!(verdict, &format!("{}: invalid (1 error, 0 warnings)\n", spec.display()));
        let mut t = Transcript::default();
        assert_eq!(validate(&mut t, vec![spec], true), Ok(false));
        assert!(matches!(t.chunks.as_slice(), [(Stream::Stdout, json)] if json.starts_with('{')));
    }
}
