// @ts-check
// Drives the real `roost serve --stdio` with vscode-languageserver-protocol, the library VS Code's
// language client is built on, and with the same initializationOptions the extension sends.
//
// Server command: $ROOST_SERVER_COMMAND (a JSON array, e.g. '["/repo/.venv/bin/roost", "serve", "--stdio"]'),
// else <repo>/.venv/bin/roost serve --stdio, else `roost serve --stdio` from PATH.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import protocol from "vscode-languageserver-protocol/node";

import { CURSOR_IDLE_NOTIFICATION, cursorIdleParams, IdleDebouncer } from "../out/cursorIdle.js";
import { applyTextEdits, editsByUri } from "../out/edits.js";
import { explanationMarkdown, parseExplanation } from "../out/explain.js";
import { roostSection } from "../out/settings.js";
import { parseStatus } from "../out/status.js";

/**
 * Server features of the lsp issue that are still being built. A test for a feature listed here runs
 * and reports its result as TODO (it cannot fail the run); remove the name once the server has it.
 * $ROOST_PENDING_FEATURES (comma-separated, may be empty) overrides the list, e.g. to hold the scripted
 * test server of tests/editors to every test.
 * @type {Set<string>}
 */
const PENDING_SERVER_FEATURES = new Set(
  process.env.ROOST_PENDING_FEATURES !== undefined
    ? process.env.ROOST_PENDING_FEATURES.split(",").filter((name) => name.trim() !== "")
    : [], // all passed against the real server (cursorIdle: 2026-12-06)
);

/** @param {string} feature */
function pending(feature) {
  return PENDING_SERVER_FEATURES.has(feature) ? { todo: `waits for the server's ${feature} (lsp issue)` } : {};
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..", "..");
const REQUEST_TIMEOUT_MS = 30_000;
// The first completion may load the model (the embedded default converts once, ~45 s, then ~2 s).
const MODEL_TIMEOUT_MS = Number(process.env.ROOST_MODEL_TIMEOUT_MS ?? 240_000);

function serverCommand() {
  const fromEnv = process.env.ROOST_SERVER_COMMAND;
  if (fromEnv) {
    const parsed = JSON.parse(fromEnv);
    assert.ok(Array.isArray(parsed) && parsed.length > 0, "ROOST_SERVER_COMMAND must be a JSON array");
    return /** @type {string[]} */ (parsed);
  }
  const venvRoost = path.join(repo, ".venv", "bin", "roost");
  return [fs.existsSync(venvRoost) ? venvRoost : "roost", "serve", "--stdio"];
}

const SHAPES = `"""Shapes used by the editor tests."""


def rectangle_area(width: float, height: float) -> float:
    return width * height
`;
// Uses rectangle_area without importing it: "Add missing import" has to find it in the other file.
const USES_SHAPES = `def report(width, height):
    print(rectangle_area(width, height))
`;
const FIXUP_TARGET = `def total(prices):
    result = 0
    for price in prices:
        result = result + price
    return result
`;

/** A copy of examples/ (when there is one) plus three small files, so the repo is never touched. */
function makeWorkspace() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "roost-vscode-test-"));
  const examples = path.join(repo, "examples");
  if (fs.existsSync(examples) && fs.readdirSync(examples).length > 0) {
    fs.cpSync(examples, root, { recursive: true });
  }
  fs.writeFileSync(path.join(root, "editor_test_shapes.py"), SHAPES);
  fs.writeFileSync(path.join(root, "editor_test_report.py"), USES_SHAPES);
  fs.writeFileSync(path.join(root, "editor_test_fixup.py"), FIXUP_TARGET);
  return root;
}

/**
 * A minimal editor: the documents it has open, and the server's requests it answers like VS Code.
 */
class Session {
  /** @param {string} workspace */
  constructor(workspace) {
    this.workspace = workspace;
    /** @type {Map<string, {text: string, version: number}>} */
    this.documents = new Map();
    /** @type {any[]} */
    this.appliedEdits = [];
    /** @type {any[]} */
    this.statuses = [];
    this.stderr = "";
    const [command, ...args] = serverCommand();
    this.process = spawn(command, args, { cwd: workspace, stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.process.on("exit", (code, signal) => resolve({ code, signal })));
    this.process.stderr.on("data", (chunk) => {
      this.stderr += chunk.toString();
    });
    this.connection = protocol.createProtocolConnection(
      new protocol.StreamMessageReader(this.process.stdout),
      new protocol.StreamMessageWriter(this.process.stdin),
    );
    this.connection.onNotification("roost/status", (/** @type {any} */ params) => {
      this.statuses.push(params);
    });
    this.connection.onNotification(protocol.LogMessageNotification.type, () => {});
    this.connection.onNotification(protocol.ShowMessageNotification.type, () => {});
    this.connection.onNotification(protocol.PublishDiagnosticsNotification.type, () => {});
    this.connection.onProgress(protocol.WorkDoneProgress.type, "", () => {});
    this.connection.onRequest(protocol.WorkDoneProgressCreateRequest.type, () => undefined);
    this.connection.onRequest(protocol.RegistrationRequest.type, () => undefined);
    this.connection.onRequest(protocol.ConfigurationRequest.type, (/** @type {any} */ params) =>
      params.items.map((/** @type {any} */ item) => (item.section === "roost" ? roostSection(() => undefined).roost : null)),
    );
    this.connection.onRequest(protocol.ApplyWorkspaceEditRequest.type, (/** @type {any} */ params) => {
      // Like VS Code: apply to the open documents and tell the server the new text.
      this.appliedEdits.push(params.edit);
      for (const [uri, edits] of editsByUri(params.edit)) {
        const document = this.documents.get(uri);
        if (!document) {
          return { applied: false, failureReason: `${uri} is not open` };
        }
        this.change(uri, applyTextEdits(document.text, edits));
      }
      return { applied: true };
    });
    this.connection.listen();
  }

  /** @param {string} name */
  uri(name) {
    return pathToFileURL(path.join(this.workspace, name)).toString();
  }

  /** @param {string} uri @param {string} text */
  open(uri, text) {
    this.documents.set(uri, { text, version: 1 });
    return this.connection.sendNotification(protocol.DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "python", version: 1, text },
    });
  }

  /** @param {string} uri @param {string} text */
  change(uri, text) {
    const document = this.documents.get(uri);
    assert.ok(document, `${uri} is not open`);
    document.text = text;
    document.version += 1;
    return this.connection.sendNotification(protocol.DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: document.version },
      contentChanges: [{ text }],
    });
  }

  /**
   * @template T
   * @param {string} method @param {unknown} params @param {number} [timeoutMs]
   * @returns {Promise<T>}
   */
  async request(method, params, timeoutMs = REQUEST_TIMEOUT_MS) {
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${method} got no answer in ${timeoutMs} ms\n${this.stderr.slice(-3000)}`)), timeoutMs);
    });
    try {
      return /** @type {T} */ (await Promise.race([this.connection.sendRequest(method, params), timeout]));
    } finally {
      clearTimeout(timer);
    }
  }

  /** @param {string} command @param {unknown} argument @param {number} [timeoutMs] */
  execute(command, argument, timeoutMs = MODEL_TIMEOUT_MS) {
    return this.request("workspace/executeCommand", { command, arguments: [argument] }, timeoutMs);
  }

  async close() {
    try {
      await this.request("shutdown", null, 10_000);
      await this.connection.sendNotification(protocol.ExitNotification.type);
    } catch {
      // a server that does not answer shutdown is killed below
    }
    const exited = await Promise.race([this.exited, new Promise((resolve) => setTimeout(() => resolve(null), 5000))]);
    if (exited === null) {
      this.process.kill("SIGKILL");
    }
    this.connection.dispose();
  }
}

describe("roost serve --stdio driven like VS Code", () => {
  /** @type {Session} */
  let session;
  /** @type {any} */
  let capabilities;
  /** @type {string} */
  let workspace;

  before(async () => {
    workspace = makeWorkspace();
    session = new Session(workspace);
    /** @type {any} */
    const result = await session.request("initialize", {
      processId: process.pid,
      clientInfo: { name: "roost-vscode-test", version: "0.1.0" },
      rootUri: pathToFileURL(workspace).toString(),
      workspaceFolders: [{ uri: pathToFileURL(workspace).toString(), name: "workspace" }],
      initializationOptions: roostSection(() => undefined),
      capabilities: {
        workspace: { applyEdit: true, configuration: true, workspaceEdit: { documentChanges: true } },
        window: { workDoneProgress: true },
        textDocument: {
          synchronization: { dynamicRegistration: false },
          inlineCompletion: { dynamicRegistration: false },
          completion: { completionItem: { snippetSupport: false } },
          codeAction: {
            codeActionLiteralSupport: {
              codeActionKind: { valueSet: ["", "quickfix", "refactor", "refactor.move", "refactor.rewrite", "source"] },
            },
            resolveSupport: { properties: ["edit"] },
            dataSupport: true,
          },
        },
      },
    });
    capabilities = result.capabilities;
    await session.connection.sendNotification(protocol.InitializedNotification.type, {});
    await session.connection.sendNotification(protocol.DidChangeConfigurationNotification.type, {
      settings: roostSection(() => undefined),
    });
  });

  after(async () => {
    await session?.close();
    if (workspace) {
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });

  test("initialize answers with the capabilities the extension relies on", () => {
    assert.ok(capabilities, "initialize returned no capabilities");
    assert.ok(capabilities.textDocumentSync !== undefined, "the server must take document changes");
    assert.ok(capabilities.executeCommandProvider, "the server must advertise executeCommand");
  });

  test("roost/status notifications carry a known state", async () => {
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    while (session.statuses.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(session.statuses.length > 0, "no roost/status notification after initialize");
    for (const status of session.statuses) {
      assert.notEqual(parseStatus(status).message?.startsWith("unknown server state"), true, JSON.stringify(status));
    }
  });

  test("inline completion: items with insertText and the roost.accepted command", pending("inlineCompletion"), async () => {
    assert.ok(capabilities.inlineCompletionProvider, "inlineCompletionProvider is not advertised");
    const uri = session.uri("editor_test_inline.py");
    const text = `from editor_test_shapes import rectangle_area\n\n\ndef square_area(side: float) -> float:\n    return `;
    await session.open(uri, text);
    const lines = text.split("\n");
    /** @type {any} */
    const answer = await session.request(
      "textDocument/inlineCompletion",
      {
        textDocument: { uri },
        position: { line: lines.length - 1, character: lines[lines.length - 1].length },
        context: { triggerKind: 1 },
      },
      MODEL_TIMEOUT_MS,
    );
    const items = Array.isArray(answer) ? answer : answer?.items;
    assert.ok(Array.isArray(items) && items.length > 0, `no inline completion items: ${JSON.stringify(answer)}`);
    for (const item of items) {
      const insertText = typeof item.insertText === "string" ? item.insertText : item.insertText?.value;
      assert.equal(typeof insertText, "string");
      assert.ok(insertText.trim().length > 0, "an empty suggestion must not be sent");
    }
    const command = items[0].command;
    assert.equal(command?.command, "roost.accepted");
    assert.ok(capabilities.executeCommandProvider.commands.includes("roost.accepted"));
    await session.request("workspace/executeCommand", { command: command.command, arguments: command.arguments ?? [] });
    // "Why no suggestion / what did it use?" explains this suggestion, as the extension shows it.
    const explanation = parseExplanation(await session.request("roost/explainCompletion", { uri }));
    assert.equal(explanation.verdict, "offered", JSON.stringify(explanation));
    assert.ok((explanation.last?.texts ?? []).length > 0 && explanation.last?.timings_ms?.total !== undefined);
    assert.match(explanationMarkdown(explanation), /^# Roost: Suggestion offered/);
  });

  test("code action: Add missing import across files, resolved lazily", pending("codeAction"), async () => {
    assert.ok(capabilities.codeActionProvider, "codeActionProvider is not advertised");
    const uri = session.uri("editor_test_report.py");
    await session.open(uri, USES_SHAPES);
    const range = { start: { line: 1, character: 10 }, end: { line: 1, character: 24 } };
    /** @type {any[]} */
    const actions = await session.request("textDocument/codeAction", {
      textDocument: { uri },
      range,
      context: { diagnostics: [], triggerKind: 1 },
    });
    assert.ok(Array.isArray(actions), `codeAction answered ${JSON.stringify(actions)}`);
    const addImport = actions.find((action) => /import/i.test(action.title ?? ""));
    assert.ok(addImport, `no import action among ${JSON.stringify(actions.map((a) => a.title))}`);
    const resolved = addImport.edit ? addImport : await session.request("codeAction/resolve", addImport, MODEL_TIMEOUT_MS);
    const edits = editsByUri(/** @type {any} */ (resolved).edit).get(uri);
    assert.ok(edits && edits.length > 0, `the action has no edit for ${uri}`);
    const after = applyTextEdits(USES_SHAPES, edits);
    assert.match(after, /from editor_test_shapes import rectangle_area|import editor_test_shapes/);
    assert.ok(after.includes("print(rectangle_area(width, height))"), "the rest of the file must stay");
  });

  test("fix-up: start, reply, accept (workspace/applyEdit), undo", pending("fixup"), async () => {
    const commands = capabilities.executeCommandProvider?.commands ?? [];
    for (const name of ["roost.fixup.start", "roost.fixup.reply", "roost.fixup.accept", "roost.fixup.reject", "roost.fixup.undo"]) {
      assert.ok(commands.includes(name), `${name} is not advertised`);
    }
    const uri = session.uri("editor_test_fixup.py");
    await session.open(uri, FIXUP_TARGET);
    const range = { start: { line: 0, character: 0 }, end: { line: 4, character: 17 } };
    /** @type {any} */
    const started = await session.execute("roost.fixup.start", { uri, range, instruction: "add type hints" });
    assert.equal(typeof started?.session, "string", JSON.stringify(started));
    assert.ok(editsByUri(started.edit).get(uri)?.length, `the proposal has no edit for ${uri}`);
    /** @type {any} */
    const replied = await session.execute("roost.fixup.reply", {
      session: started.session,
      message: "also add a one-line docstring",
    });
    assert.equal(replied?.session, started.session);
    const proposal = editsByUri(replied.edit).get(uri);
    assert.ok(proposal?.length, "the revised proposal has no edit");
    const expected = applyTextEdits(FIXUP_TARGET, proposal);
    assert.notEqual(expected, FIXUP_TARGET);

    await session.execute("roost.fixup.accept", { session: started.session });
    assert.ok(session.appliedEdits.length >= 1, "accept did not send workspace/applyEdit");
    assert.equal(session.documents.get(uri)?.text, expected, "the accepted edit differs from the proposal");

    await session.execute("roost.fixup.undo", { session: started.session });
    assert.equal(session.documents.get(uri)?.text, FIXUP_TARGET, "undo did not restore the text");
  });

  test("cursor idle: a burst of cursor moves reaches the server as one roost/cursorIdle", pending("cursorIdle"), async () => {
    const uri = session.uri("editor_test_idle.py");
    const text = `def perimeter(width: float, height: float) -> float:\n    return \n`;
    await session.open(uri, text);
    const notifications = async () => {
      /** @type {any} */
      const stats = await session.request("roost/debugStats", null);
      return Number(stats?.prefetch?.notifications ?? 0);
    };
    const before = await notifications();
    // The extension's own debounce and params, with the transport VS Code's client uses.
    let sent = 0;
    const idle = new IdleDebouncer(300, (/** @type {any} */ params) => {
      sent += 1;
      void session.connection.sendNotification(CURSOR_IDLE_NOTIFICATION, params);
    });
    for (let character = 0; character <= 11; character++) {
      const params = cursorIdleParams(uri, [{ isEmpty: true, active: { line: 1, character } }]);
      assert.ok(params);
      idle.note(params); // typing along the line: faster than the debounce, so only the last one is sent
    }
    assert.equal(cursorIdleParams(uri, [{ isEmpty: false, active: { line: 0, character: 3 } }]), undefined);
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    let received = await notifications();
    while (received < before + 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      received = await notifications();
    }
    assert.equal(sent, 1, "the burst must become one notification");
    assert.equal(received, before + sent, `roost/debugStats counted ${received - before} roost/cursorIdle`);
  });
});

// A multi-root window (VS Code with two folders): one server serves both, each folder with its own index.
describe("roost serve --stdio in a two-folder window", () => {
  /** @type {Session} */
  let session;
  /** @type {string[]} */
  let folders = [];

  before(async () => {
    folders = [makeWorkspace(), makeWorkspace()];
    session = new Session(folders[0]);
    await session.request("initialize", {
      processId: process.pid,
      clientInfo: { name: "roost-vscode-test", version: "0.1.0" },
      rootUri: pathToFileURL(folders[0]).toString(),
      workspaceFolders: folders.map((folder, index) => ({ uri: pathToFileURL(folder).toString(), name: `folder${index}` })),
      initializationOptions: roostSection(() => undefined),
      capabilities: { textDocument: { inlineCompletion: { dynamicRegistration: false } } },
    });
    await session.connection.sendNotification(protocol.InitializedNotification.type, {});
  });

  after(async () => {
    await session?.close();
    for (const folder of folders) {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  test("inline completion answers in both folders", pending("multiRoot"), async () => {
    const text = `from editor_test_shapes import rectangle_area\n\n\ndef square_area(side: float) -> float:\n    return `;
    const lines = text.split("\n");
    for (const folder of folders) {
      const uri = pathToFileURL(path.join(folder, "editor_test_inline.py")).toString();
      await session.open(uri, text);
      /** @type {any} */
      const answer = await session.request(
        "textDocument/inlineCompletion",
        {
          textDocument: { uri },
          position: { line: lines.length - 1, character: lines[lines.length - 1].length },
          context: { triggerKind: 1 },
        },
        MODEL_TIMEOUT_MS,
      );
      const items = Array.isArray(answer) ? answer : answer?.items;
      assert.ok(Array.isArray(items) && items.length > 0, `no inline completion in ${folder}: ${JSON.stringify(answer)}`);
    }
  });
});
