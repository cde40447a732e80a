//! The CLI's commands, without the command line: each finds its files ([`crate::inputs`]),
//! compiles, compares or validates through the library, and records what it shows, in order,
//! in a [`Transcript`] that the binary prints.
//!
//! Nothing here prints or reads arguments or the environment; `build` and `init` change the
//! file system through [`crate::writer`] only. Every command ends in an [`Outcome`].

use crate::diag::Diagnostic;
use crate::emit::Output;
use crate::imagelock::{self, Lock, Pin};
use crate::project::{DirProject, GitProject, Project};
use crate::report::{self, Checked};
use crate::source::SourceFile;
use crate::{Compiled, compile, diff, graph, inputs, validate, writer};
use std::collections::BTreeMap;
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

/// `mlship validate --manifests`: a strict, offline kubeconform for any manifests; objects of
/// the kinds the CRD files in `crds` define (`--crd`) are validated against their schemas.
pub fn validate_manifests(
    t: &mut Transcript,
    paths: &[PathBuf],
    crds: &[PathBuf],
    version: &str,
    format: ManifestFormat,
) -> Outcome {
    if paths.is_empty() {
        return Err("name the manifest files or folders to validate".into());
    }
    let schemas = validate::schemas(version).map_err(|e| e.to_string())?;
    let user = read_crds(schemas, crds)?;
    let files = inputs::manifests(paths)?;
    let mut docs = Vec::new();
    for (name, text) in &files {
        match text {
            Ok(text) => docs.extend(schemas.validate_yaml_with(name, text, &user)),
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

/// The CustomResourceDefinitions of `--crd` files and folders. A CRD that is not valid, or a
/// named file without one, is an error naming every problem at its line and column.
fn read_crds(schemas: &validate::Schemas, paths: &[PathBuf]) -> Result<validate::UserCrds, String> {
    let mut user = validate::UserCrds::default();
    let mut problems = Vec::new();
    for file in inputs::crd_files(paths)? {
        match user.read(schemas, &file.name, &file.text) {
            Ok(0) if file.named => problems.push(format!(
                "{}: no CustomResourceDefinition (`apiextensions.k8s.io/v1`) in this file",
                file.name
            )),
            Ok(_) => {}
            Err(docs) => problems.extend(docs.iter().map(ToString::to_string)),
        }
    }
    if problems.is_empty() {
        Ok(user)
    } else {
        Err(format!(
            "{}\n(--crd takes valid CustomResourceDefinition files for Kubernetes {}; nothing was validated)",
            problems.join("\n"),
            schemas.version()
        ))
    }
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

/// `f` of every item, on as many threads as the machine has (each takes the next item left),
/// in the order of `items`. A process checks hundreds of specs at a monorepo's root; the
/// schemas' validators are compiled once and shared by every thread.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                // The main thread's stack size: compiling recurses as deep on any thread.
                std::thread::Builder::new().stack_size(8 << 20).spawn_scoped(scope, || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break mine };
                        mine.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w {
                Ok(w) => w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => Vec::new(),
            })
            .collect()
    });
    // No thread to be had: this one does what is left.
    let left = next.into_inner();
    done.extend(items.iter().enumerate().skip(left).map(|(i, item)| (i, f(item))));
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Compile one spec and compare it with its tree in `out` (beside the spec).
fn check_one(path: &Path, out: &Path) -> Result<CheckedSpec, String> {
    let compiled = compile_file(path)?;
    let dir = inputs::spec_dir(path).join(out);
    let stale = compiled
        .output
        .as_ref()
        .map(|o| writer::stale(&dir, o))
        .unwrap_or_default();
    Ok(CheckedSpec {
        compiled,
        out: dir,
        stale,
    })
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
    // Specs are checked in parallel, and reported in the order given.
    for spec in parallel_map(&files, |path| check_one(path, out)) {
        let spec = spec?;
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
    // The lock as the compile read it: a lock that does not parse made the compile fail.
    let lock = DirProject::new(inputs::spec_dir(&path))
        .read(imagelock::FILE)
        .ok()
        .and_then(|bytes| imagelock::parse(&String::from_utf8_lossy(&bytes)).ok())
        .unwrap_or_default();
    t.out(crate::explain::explain(&c.file, &lock, &output, env, file, field)?);
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

/// The images a spec's environments build, with the spec's diagnostics shown when it does
/// not lower; and the lock beside it (empty when there is none).
fn lock_inputs(t: &mut Transcript, path: &Path) -> Result<Option<(crate::BuiltImages, Lock)>, String> {
    let bytes = inputs::read_spec(path)?;
    let project = DirProject::new(inputs::spec_dir(path));
    let built = match crate::built_images(&path.display().to_string(), &bytes, &project) {
        Ok(built) => built,
        Err(c) => {
            let c = *c;
            t.diagnostics(&c.diagnostics, &c.file, false);
            t.err(format!(
                "{}: the lock is unchanged ({})\n",
                path.display(),
                report::text::summary(&c.diagnostics)
            ));
            return Ok(None);
        }
    };
    let lock_path = inputs::spec_dir(path).join(imagelock::FILE);
    let lock = match project.read(imagelock::FILE) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lock::default(),
        Err(e) => return Err(format!("cannot read {}: {e}", lock_path.display())),
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8", lock_path.display()))?;
            imagelock::parse(&text).map_err(|problems| {
                let lines: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}:{}:{}: {}", lock_path.display(), p.line, p.column, p.message))
                    .collect();
                format!("{}\nhelp: {}", lines.join("\n"), imagelock::Problem::HELP)
            })?
        }
    };
    Ok(Some((built, lock)))
}

/// Each named environment must be one the spec has.
fn known_envs(built: &crate::BuiltImages, envs: &[&str]) -> Result<(), String> {
    for env in envs {
        if !built.contains_key(*env) {
            let have: Vec<&str> = built.keys().map(String::as_str).collect();
            return Err(format!(
                "the spec has no environment `{env}` (it has: {})",
                have.join(", ")
            ));
        }
    }
    Ok(())
}

/// Refuse what does not fit (`wrong`, with `help`), else print what changes (`lines`) and
/// write the lock when it changed (environments without pins dropped), and say so.
fn save_lock(
    t: &mut Transcript,
    spec: &Path,
    before: &Lock,
    mut after: Lock,
    lines: &[String],
    wrong: &[String],
    help: &str,
) -> Outcome {
    if !wrong.is_empty() {
        return Err(format!("{}\nhelp: {help}; nothing was written", wrong.join("\n")));
    }
    for line in lines {
        t.out(line);
    }
    after.envs.retain(|_, pins| !pins.is_empty());
    let dir = inputs::spec_dir(spec);
    let path = if dir == Path::new(".") {
        PathBuf::from(imagelock::FILE)
    } else {
        dir.join(imagelock::FILE)
    };
    if imagelock::render(before) == imagelock::render(&after) && path.exists() {
        t.err(format!("{}: up to date\n", path.display()));
        return Ok(true);
    }
    writer::write_file(&path, imagelock::render(&after).as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    t.err(format!(
        "wrote {}; run `mlship build` to render the pins, and commit both\n",
        path.display()
    ));
    Ok(true)
}

/// One line of what a lock command did to a pin.
fn pin_change(env: &str, image: &str, before: Option<&Pin>, after: Option<&str>) -> String {
    match (before.map(|p| p.reference.as_str()), after) {
        (Some(b), Some(a)) if a == b => format!("{env}: {image}: unchanged {a}\n"),
        (Some(b), Some(a)) => format!("{env}: {image}: {b} -> {a}\n"),
        (None, Some(a)) => format!("{env}: {image}: pinned {a}\n"),
        (Some(b), None) => format!("{env}: {image}: removed {b} (no longer built)\n"),
        (None, None) => String::new(),
    }
}

/// `mlship lock fill`: pin each named environment's images to the digests a `docker buildx
/// bake --metadata-file` file records, after checking that each target was built as the
/// reference the environment deploys. Images the file does not name keep their pin.
pub fn lock_fill(t: &mut Transcript, spec: Option<PathBuf>, metadata: &Path, envs: &[String]) -> Outcome {
    let path = spec_or_default(spec)?;
    let Some((built, before)) = lock_inputs(t, &path)? else {
        return Ok(false);
    };
    known_envs(&built, &envs.iter().map(String::as_str).collect::<Vec<_>>())?;
    let text = std::fs::read_to_string(metadata).map_err(|e| format!("cannot read {}: {e}", metadata.display()))?;
    let targets = imagelock::bake_metadata(&text).map_err(|e| format!("{}: {e}", metadata.display()))?;
    let mut after = before.clone();
    let mut wrong = Vec::new();
    // What changes, printed once the whole metadata is known to fit.
    let mut lines = Vec::new();
    for env in envs {
        let old = before.envs.get(env).cloned().unwrap_or_default();
        let mut pins = BTreeMap::new();
        for (image, reference) in &built[env] {
            let Some(target) = targets.get(image) else {
                match old.get(image) {
                    Some(pin) => {
                        lines.push(format!(
                            "{env}: {image}: not in the metadata, keeps {}\n",
                            pin.reference
                        ));
                        pins.insert(image.clone(), pin.clone());
                    }
                    None => lines.push(format!("{env}: {image}: not in the metadata, not pinned\n")),
                }
                continue;
            };
            if !target.names.contains(reference) {
                wrong.push(format!(
                    "bake target `{image}` was built as {}, but environment `{env}` deploys {reference}",
                    if target.names.is_empty() {
                        "no image name".to_string()
                    } else {
                        target.names.join(", ")
                    }
                ));
                continue;
            }
            let pinned = format!("{reference}@{}", target.digest);
            lines.push(pin_change(env, image, old.get(image), Some(&pinned)));
            pins.insert(image.clone(), Pin::new(pinned));
        }
        for (image, pin) in &old {
            if !built[env].contains_key(image) {
                lines.push(pin_change(env, image, Some(pin), None));
            }
        }
        after.envs.insert(env.clone(), pins);
    }
    let help = "build with the bake file of this spec's tree (`mlship build`, then `docker buildx bake -f deploy/docker-bake.hcl --push --metadata-file <file>`)";
    save_lock(t, &path, &before, after, &lines, &wrong, help)
}

/// `mlship lock promote`: give environment `to` the exact builds `from` runs (all its
/// images, or the named ones), printing each pin that changes.
pub fn lock_promote(t: &mut Transcript, spec: Option<PathBuf>, from: &str, to: &str, images: &[String]) -> Outcome {
    let path = spec_or_default(spec)?;
    let Some((built, before)) = lock_inputs(t, &path)? else {
        return Ok(false);
    };
    known_envs(&built, &[from, to])?;
    if from == to {
        return Err(format!("promote from `{from}` to another environment"));
    }
    for image in images {
        if !built[to].contains_key(image) {
            let have: Vec<&str> = built[to].keys().map(String::as_str).collect();
            return Err(format!(
                "environment `{to}` builds no image `{image}` (it builds: {})",
                have.join(", ")
            ));
        }
    }
    let source = before.envs.get(from).cloned().unwrap_or_default();
    let mut pins = before.envs.get(to).cloned().unwrap_or_default();
    let mut wrong = Vec::new();
    let mut lines = Vec::new();
    for (image, reference) in &built[to] {
        if !images.is_empty() && !images.contains(image) {
            continue;
        }
        let Some(pin) = source.get(image) else {
            lines.push(format!("{to}: {image}: `{from}` pins no build of it, left as it is\n"));
            continue;
        };
        if imagelock::repository(&pin.reference) != imagelock::repository(reference) {
            wrong.push(format!(
                "`{from}` runs {image} from {}, `{to}` pulls it from {}",
                imagelock::repository(&pin.reference),
                imagelock::repository(reference)
            ));
            continue;
        }
        lines.push(pin_change(to, image, pins.get(image), Some(&pin.reference)));
        pins.insert(image.clone(), Pin::new(pin.reference.clone()));
    }
    let mut after = before.clone();
    after.envs.insert(to.to_string(), pins);
    let help = format!(
        "a digest lives in one registry: copy the image (such as `crane copy`), then fill `{to}` from the copy"
    );
    save_lock(t, &path, &before, after, &lines, &wrong, &help)
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
