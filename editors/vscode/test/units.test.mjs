// @ts-check
// The extension's pure parts (compiled to out/ by `npm run compile`), checked without VS Code.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cursorIdleDelay,
  cursorIdleParams,
  DEFAULT_CURSOR_IDLE_DELAY_MS,
  IdleDebouncer,
  MIN_CURSOR_IDLE_DELAY_MS,
  serverTakesCursorIdle,
} from "../out/cursorIdle.js";
import { applyTextEdits, editsByUri } from "../out/edits.js";
import { buildServerSettings, roostSection, serverLaunch, affectsLaunch, affectsServer } from "../out/settings.js";
import { RestartPolicy } from "../out/restart.js";
import { parseStatus, presentStatus } from "../out/status.js";
import { inlineCompletionGate, parseEnableMap, SuggestionSwitch } from "../out/toggle.js";
import { explanationMarkdown, HEADLINES, parseExplanation } from "../out/explain.js";
import { moveSymbolParams, moveTargetItems, parseMoveChoice } from "../out/moveTarget.js";

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
    args: ["-P", "-m", "roost.lsp.cli", "serve", "--stdio"],
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

/**
 * The middleware with a `next` that records what would have been sent to the server.
 * @param {SuggestionSwitch} suggestions
 * @param {() => number} clock
 */
function gatedClient(suggestions, clock) {
  /** @type {string[]} */
  const sent = [];
  const gate = inlineCompletionGate(suggestions, clock);
  /** @param {string} languageId */
  const ask = (languageId) =>
    gate({ languageId }, { line: 0, character: 0 }, {}, {}, (document) => {
      sent.push(document.languageId);
      return ["suggestion"];
    });
  return { sent, ask };
}

test("toggle: off globally or for a language, the server receives no inline request", () => {
  const suggestions = new SuggestionSwitch({ "*": true });
  const { sent, ask } = gatedClient(suggestions, () => 0);
  assert.deepEqual(ask("python"), ["suggestion"]);
  suggestions.setEnableMap(suggestions.withLanguage("*", false));
  assert.equal(ask("python"), undefined);
  assert.equal(ask("go"), undefined);
  assert.match(suggestions.describe("go", 0), /turned off/);
  // A language's own entry wins over "*".
  suggestions.setEnableMap({ "*": false, go: true });
  assert.deepEqual(ask("go"), ["suggestion"]);
  suggestions.setEnableMap({ "*": true, python: false });
  assert.equal(ask("python"), undefined);
  assert.equal(suggestions.offReason("python", 0), "language");
  assert.deepEqual(ask("rust"), ["suggestion"]);
  assert.deepEqual(sent, ["python", "go", "rust"]);
});

test("toggle: snooze for N minutes turns every language off until it ends", () => {
  let now = 1_000_000;
  const suggestions = new SuggestionSwitch(undefined);
  const { sent, ask } = gatedClient(suggestions, () => now);
  suggestions.snooze(15, now);
  assert.equal(ask("python"), undefined);
  assert.match(suggestions.describe("python", now), /snoozed for 15 more minute/);
  now += 14 * 60_000;
  assert.equal(ask("typescript"), undefined);
  assert.match(suggestions.describe("python", now), /snoozed for 1 more minute/);
  now += 60_000;
  assert.deepEqual(ask("python"), ["suggestion"]);
  suggestions.snooze(5, now);
  suggestions.wake();
  assert.deepEqual(ask("go"), ["suggestion"]);
  assert.deepEqual(sent, ["python", "go"]);
  assert.throws(() => suggestions.snooze(0, now), /positive number of minutes/);
  assert.throws(() => suggestions.snooze(Number.NaN, now), /positive number of minutes/);
});

test("toggle: a malformed roost.enable counts as on everywhere", () => {
  assert.deepEqual(parseEnableMap("off"), {});
  assert.deepEqual(parseEnableMap({ "*": false, python: "no" }), { "*": false });
  assert.equal(new SuggestionSwitch(["x"]).allows("python", 0), true);
});

test("toggle: roost.enable set to a boolean switches every language", () => {
  assert.deepEqual(parseEnableMap(false), { "*": false });
  assert.equal(new SuggestionSwitch(false).allows("python", 0), false);
  const suggestions = new SuggestionSwitch(true);
  assert.equal(suggestions.allows("python", 0), true);
  assert.deepEqual(suggestions.withLanguage("go", false), { "*": true, go: false }, "the toggle writes an object");
});

test("explain: every verdict has its own headline; context, timings and the switch are shown", () => {
  const verdicts = Object.keys(HEADLINES);
  assert.deepEqual(verdicts.sort(), [
    "backend_down", "blocked", "degraded", "empty", "error", "loading", "nothing_yet", "offered", "refused",
  ]);
  const headlines = new Set();
  for (const verdict of verdicts) {
    const text = explanationMarkdown(
      parseExplanation({ verdict, reason: `because ${verdict}`, state: "ready", state_message: "", last: null }),
    );
    headlines.add(text.split("\n")[0]);
    assert.match(text, new RegExp(`Verdict: \`${verdict}\` — because ${verdict}`));
  }
  assert.equal(headlines.size, verdicts.length);
  const offered = explanationMarkdown(
    parseExplanation({
      verdict: "offered",
      reason: "1 suggestion(s) offered (model)",
      state: "ready",
      state_message: "Roost is ready (3 files indexed)",
      last: {
        source: "model",
        texts: ["width * height"],
        timings_ms: { total: 45.4, model: 40.2, retrieval: 2 },
        context: [{ path: "shapes.py", start_line: 3, end_line: 4, kind: "definition", reason: "called near the cursor", tokens: 21 }],
      },
    }),
    "Suggestions are snoozed for 5 more minute(s).",
  );
  assert.match(offered, /^# Roost: Suggestion offered/);
  assert.match(offered, /\*\*Suggestions are snoozed for 5 more minute\(s\)\.\*\* The server is not asked/);
  assert.match(offered, /\| shapes\.py \| 4–5 \| definition \| called near the cursor \| 21 \|/);
  assert.match(offered, /model 40 ms, retrieval 2 ms, total 45 ms/);
  assert.match(offered, /```\nwidth \* height\n```/);
  assert.equal(parseExplanation(null).verdict, "error");
  assert.match(parseExplanation({ nonsense: 1 }).reason, /no explanation/);
});

test("move to another module: suggested targets first, a typed new name becomes 'Create …'", () => {
  const choice = parseMoveChoice({
    uri: "file:///w/app/geometry.py",
    symbol: "circle_area",
    suggested: ["app/units.py", "lib/report.py"],
    modules: ["app/__init__.py", "main.py", 3],
    extension: "py",
  });
  const all = moveTargetItems(choice, "");
  assert.deepEqual(all.map((item) => item.target), ["app/units.py", "lib/report.py", "app/__init__.py", "main.py"]);
  assert.equal(all[0].description, "suggested");
  const typedNew = moveTargetItems(choice, "app/circles");
  assert.equal(typedNew[0].isNew, true);
  assert.equal(typedNew[0].label, "$(new-file) Create app/circles.py");
  assert.equal(typedNew[0].target, "app/circles");
  assert.equal(moveTargetItems(choice, "main").some((item) => item.isNew), false, "an existing module is not new");
  assert.deepEqual(moveSymbolParams(choice, "app/circles"), {
    command: "roost.moveSymbol",
    arguments: [{ uri: "file:///w/app/geometry.py", symbol: "circle_area", target: "app/circles" }],
  });
  assert.throws(() => parseMoveChoice({ symbol: "x" }), /no \{uri, symbol\}/);
});

/** Timers the test advances by hand: `advance(ms)` runs what is due, in order. */
function manualTimers() {
  let now = 0;
  let nextId = 1;
  /** @type {Map<number, {at: number, callback: () => void}>} */
  const waiting = new Map();
  return {
    /** @param {() => void} callback @param {number} delayMs */
    set(callback, delayMs) {
      const id = nextId++;
      waiting.set(id, { at: now + delayMs, callback });
      return id;
    },
    /** @param {number} id */
    clear(id) {
      waiting.delete(id);
    },
    /** @param {number} ms */
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...waiting.entries()].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        waiting.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = until;
    },
  };
}

test("cursor idle: a burst of moves sends one notification, for where the cursor came to rest", () => {
  const timers = manualTimers();
  /** @type {string[]} */
  const sent = [];
  const idle = new IdleDebouncer(300, (/** @type {string} */ value) => sent.push(value), timers);
  for (const position of ["a", "b", "c"]) {
    idle.note(position);
    timers.advance(120); // typing: each move comes before the previous one rested 300 ms
  }
  assert.deepEqual(sent, []);
  timers.advance(180);
  assert.deepEqual(sent, ["c"]);
  timers.advance(10_000);
  assert.deepEqual(sent, ["c"], "one rest, one notification");
  idle.note("d");
  idle.cancel(); // e.g. the user selected text
  timers.advance(1000);
  assert.deepEqual(sent, ["c"]);
  assert.equal(idle.isWaiting, false);
  idle.setDelay(50);
  idle.note("e");
  timers.advance(50);
  assert.deepEqual(sent, ["c", "e"]);
  idle.note("f");
  idle.dispose();
  timers.advance(1000);
  assert.deepEqual(sent, ["c", "e"], "nothing goes out after dispose");
});

test("cursor idle: params only for one empty selection; the delay setting and the prefetch off switch", () => {
  const cursor = (/** @type {number} */ line, /** @type {number} */ character) => ({ isEmpty: true, active: { line, character } });
  // VS Code's positions are UTF-16 code units already, as LSP's are: passed through unchanged.
  assert.deepEqual(cursorIdleParams("file:///w/a.py", [cursor(3, 7)]), {
    textDocument: { uri: "file:///w/a.py" },
    position: { line: 3, character: 7 },
  });
  assert.equal(cursorIdleParams("file:///w/a.py", [{ isEmpty: false, active: { line: 3, character: 7 } }]), undefined);
  assert.equal(cursorIdleParams("file:///w/a.py", [cursor(1, 0), cursor(2, 0)]), undefined, "several cursors");
  assert.equal(cursorIdleDelay(reader({})), DEFAULT_CURSOR_IDLE_DELAY_MS);
  assert.equal(cursorIdleDelay(reader({ "cursorIdle.delay_ms": 800 })), 800);
  assert.equal(cursorIdleDelay(reader({ "cursorIdle.delay_ms": 0 })), MIN_CURSOR_IDLE_DELAY_MS);
  assert.equal(cursorIdleDelay(reader({ "cursorIdle.delay_ms": "soon" })), DEFAULT_CURSOR_IDLE_DELAY_MS);
  assert.equal(cursorIdleDelay(reader({ "completion.prefetch": false, "cursorIdle.delay_ms": 800 })), undefined);
  assert.equal(cursorIdleDelay(reader({ "completion.prefetch": true })), DEFAULT_CURSOR_IDLE_DELAY_MS);
  // Not while it starts or indexes (a prompt built then would lack the finished index); while the model
  // loads, yes (the first prefetch starts the load).
  assert.deepEqual(
    ["starting", "indexing", "loading_model", "ready", "degraded", "error"].filter(serverTakesCursorIdle),
    ["loading_model", "ready", "degraded"],
  );
});
