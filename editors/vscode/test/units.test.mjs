// @ts-check
// The extension's pure parts (compiled to out/ by `npm run compile`), checked without VS Code.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyTextEdits, editsByUri } from "../out/edits.js";
import { buildServerSettings, roostSection, serverLaunch, affectsLaunch, affectsServer } from "../out/settings.js";
import { RestartPolicy } from "../out/restart.js";
import { parseStatus, presentStatus } from "../out/status.js";

/** @param {Record<string, unknown>} values */
function reader(values) {
  return (/** @type {string} */ key) => values[key];
}

test("settings: dotted names become nested objects, unset values are left to the server", () => {
  const settings = buildServerSettings(
    reader({
      "model.name": "/models/codestral",
      "backend.kind": "openai",
      "backend.endpoint": "",
      "context.budget": 2048,
      "gate.block_severity": null,
      "index.exclude": ["build/**", "*.min.js"],
      "completion.debounce_ms": 0,
      "server.command": "never-sent",
    }),
  );
  assert.deepEqual(settings, {
    model: { name: "/models/codestral" },
    backend: { kind: "openai" },
    context: { budget: 2048 },
    index: { exclude: ["build/**", "*.min.js"] },
    completion: { debounce_ms: 0 },
  });
  assert.deepEqual(roostSection(reader({ "gate.block_severity": "medium" })), {
    roost: { gate: { block_severity: "medium" } },
  });
});

test("settings: a value that is not JSON data is a clear error", () => {
  assert.throws(() => buildServerSettings(reader({ "model.name": () => 1 })), /roost\.model\.name: a setting must be JSON data/);
});

test("launch: roost serve --stdio by default, python -m when an interpreter is set", () => {
  assert.deepEqual(serverLaunch(reader({})), { command: "roost", args: ["serve", "--stdio"], env: {} });
  assert.deepEqual(
    serverLaunch(reader({ "server.command": " /opt/venv/bin/roost ", "server.env": { ROOST_LOG: "debug", BAD: 3 } })),
    { command: "/opt/venv/bin/roost", args: ["serve", "--stdio"], env: { ROOST_LOG: "debug" } },
  );
  assert.deepEqual(serverLaunch(reader({ "server.pythonPath": "/usr/bin/python3", "server.command": "x" })), {
    command: "/usr/bin/python3",
    args: ["-m", "roost.lsp.cli", "serve", "--stdio"],
    env: {},
  });
  assert.equal(affectsLaunch((s) => s === "roost.server.pythonPath"), true);
  assert.equal(affectsLaunch((s) => s === "roost.model.name"), false);
  assert.equal(affectsServer((s) => s === "roost.context.budget"), true);
});

test("status: each server state has its own text; errors are flagged", () => {
  assert.equal(presentStatus(parseStatus({ state: "indexing", message: "12/40 files", percentage: 41.6 })).text,
    "$(sync~spin) Roost: indexing 42%");
  assert.equal(presentStatus(parseStatus({ state: "indexing", message: "", percentage: null })).text,
    "$(sync~spin) Roost: indexing");
  assert.match(presentStatus(parseStatus({ state: "loading_model", message: "", percentage: null })).text, /loading model/);
  const ready = presentStatus(parseStatus({ state: "ready", message: "", percentage: null }));
  assert.equal(ready.isError, false);
  const error = presentStatus(parseStatus({ state: "error", message: "no model: pip install 'roost[demo]'", percentage: null }));
  assert.equal(error.isError, true);
  assert.match(error.tooltip, /pip install/);
  assert.match(error.tooltip, /Click to show the Roost log/);
  const degraded = presentStatus(parseStatus({ state: "degraded", message: "backend answered HTTP 500", percentage: null }));
  assert.match(degraded.text, /degraded/);
  assert.equal(degraded.isError, false);
  assert.equal(degraded.isWarning, true);
  assert.match(degraded.tooltip, /HTTP 500/);
  assert.equal(parseStatus({ state: "sleeping" }).state, "error");
  assert.equal(parseStatus("nonsense").state, "error");
});

test("edits: applied in any order, positions clamp to the line, overlaps refused", () => {
  const text = "def f(x):\n    return x\n";
  const edits = [
    { range: { start: { line: 1, character: 11 }, end: { line: 1, character: 12 } }, newText: "x + 1" },
    { range: { start: { line: 0, character: 6 }, end: { line: 0, character: 7 } }, newText: "x: int" },
    { range: { start: { line: 0, character: 8 }, end: { line: 0, character: 99 } }, newText: " -> int:" },
  ];
  assert.equal(applyTextEdits(text, edits), "def f(x: int) -> int:\n    return x + 1\n");
  assert.throws(
    () =>
      applyTextEdits(text, [
        { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } }, newText: "" },
        { range: { start: { line: 0, character: 3 }, end: { line: 0, character: 4 } }, newText: "" },
      ]),
    /overlapping/,
  );
  const grouped = editsByUri({
    changes: { "file:///a.py": [edits[0]] },
    documentChanges: [{ textDocument: { uri: "file:///b.py", version: 3 }, edits: [edits[1]] }, { kind: "create" }],
  });
  assert.deepEqual([...grouped.keys()].sort(), ["file:///a.py", "file:///b.py"]);
});

test("restart: a stopped server restarts, unless it stopped more than 5 times in 3 minutes", () => {
  const policy = new RestartPolicy(5, 180_000);
  for (let stop = 0; stop < 5; stop++) {
    assert.equal(policy.shouldRestart(stop * 1000), true);
  }
  assert.equal(policy.shouldRestart(5000), false);
  assert.equal(policy.recentStops, 6);
  // Stops older than the window no longer count.
  assert.equal(policy.shouldRestart(5000 + 180_001), true);
  policy.reset();
  assert.equal(policy.recentStops, 0);
});
