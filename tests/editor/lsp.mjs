// Drives yaml-language-server over stdio, as an editor would: opens each YAML file given on
// the command line, waits for the diagnostics the server publishes for it, and prints one
// JSON line per file: {"file": ..., "diagnostics": [{"line", "character", "message"}]}.
// Lines and characters are 1-based, as mlship reports them. The schema comes only from each
// file's `# yaml-language-server: $schema=...` modeline: no schema store, no network.
//
// Usage: node tests/editor/lsp.mjs <server.js> <file.yaml>...
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [server, ...files] = process.argv.slice(2);
const child = spawn(process.execPath, [server, "--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
let buffer = Buffer.alloc(0);
let nextId = 1;
const pending = new Map();
const published = new Map();
const waiting = new Map();

function send(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }));
  child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  child.stdin.write(body);
}

function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((ok) => pending.set(id, ok));
}

const settings = { yaml: { validate: true, schemaStore: { enable: false }, schemas: {}, format: { enable: false } } };

function handle(msg) {
  if (msg.id !== undefined && pending.has(msg.id) && msg.method === undefined) {
    pending.get(msg.id)(msg.result);
    pending.delete(msg.id);
  } else if (msg.method === "workspace/configuration") {
    send({ id: msg.id, result: msg.params.items.map((i) => (i.section === "yaml" ? settings.yaml : null)) });
  } else if (msg.id !== undefined && msg.method !== undefined) {
    send({ id: msg.id, result: null }); // client/registerCapability and the like
  } else if (msg.method === "textDocument/publishDiagnostics") {
    published.set(msg.params.uri, msg.params.diagnostics);
    const done = waiting.get(msg.params.uri);
    if (done) done();
  }
}

child.stdout.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
    if (buffer.length < end + 4 + length) return;
    handle(JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString()));
    buffer = buffer.subarray(end + 4 + length);
  }
});

const root = pathToFileURL(process.cwd()).href;
await request("initialize", {
  processId: process.pid,
  rootUri: root,
  capabilities: { workspace: { configuration: true }, textDocument: { publishDiagnostics: {} } },
  workspaceFolders: [{ uri: root, name: "root" }],
});
send({ method: "initialized", params: {} });
send({ method: "workspace/didChangeConfiguration", params: { settings } });

let failed = false;
for (const file of files) {
  const uri = pathToFileURL(resolve(file)).href;
  // The server publishes once after validating; wait for it (a timeout is a failure).
  const got = new Promise((ok) => waiting.set(uri, ok));
  send({ method: "textDocument/didOpen", params: { textDocument: { uri, languageId: "yaml", version: 1, text: readFileSync(file, "utf8") } } });
  const timedOut = await Promise.race([got.then(() => false), new Promise((ok) => setTimeout(() => ok(true), 20000))]);
  if (timedOut) failed = true;
  const diagnostics = (published.get(uri) || []).map((d) => ({
    line: d.range.start.line + 1,
    character: d.range.start.character + 1,
    message: d.message,
  }));
  console.log(JSON.stringify({ file, timedOut, diagnostics }));
}
await request("shutdown", null);
send({ method: "exit" });
process.exit(failed ? 1 : 0);
