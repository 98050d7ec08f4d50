// @ts-check
// The compiled extension (out/extension.js) itself, run under node with test doubles for `vscode` and
// `vscode-languageclient/node` (test/fakeVscode.mjs): what happens to the server as settings change.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  answers,
  behaviour,
  changeSettings,
  changeWorkspaceSettings,
  commands,
  grantWorkspaceTrust,
  loadExtension,
  recorded,
  runningClients,
  settings,
  sleep,
  trust,
  workspaceSettings,
} from "./fakeVscode.mjs";

const extension = loadExtension();
const PUBLISHED_ID = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).publisher + ".roost";

/** The ExtensionContext VS Code passes to activate(), as far as the extension reads it. */
function context() {
  return { subscriptions: [], extension: { id: PUBLISHED_ID } };
}

/** Waits until `check()` holds. @param {() => boolean} check */
async function until(check) {
  for (let round = 0; round < 500 && !check(); round++) {
    await sleep(1);
  }
  assert.ok(check(), "timed out");
}

/** Waits until no server is starting or stopping. */
async function settled() {
  for (let round = 0; round < 200; round++) {
    await sleep(10);
    if (recorded.clients.every((client) => client.state !== "starting" && client.state !== "stopping")) {
      await sleep(50);
      if (recorded.clients.every((client) => client.state !== "starting" && client.state !== "stopping")) {
        return;
      }
    }
  }
  throw new Error("the servers did not settle");
}

test("launch settings changed twice in a row: one server runs, the last one asked for; none after deactivate", async () => {
  await extension.activate(context());
  assert.deepEqual(runningClients().map((client) => client.serverOptions.command), ["roost"]);
  // The Settings editor writes as the user types: the second change comes while the first restart runs.
  changeSettings({ "server.command": "/opt/a/roost" });
  await sleep(5);
  changeSettings({ "server.command": "/opt/b/roost" });
  await settled();
  assert.deepEqual(runningClients().map((client) => client.serverOptions.command), ["/opt/b/roost"]);
  await extension.deactivate();
  await settled();
  assert.deepEqual(runningClients(), [], "a server is left running after deactivate");
});

test("a server setting changed while the server starts reaches it", async () => {
  await extension.activate(context());
  await settled();
  changeSettings({ "server.env": { ROOST_LOG: "debug" } }); // restarts the server
  await until(() => recorded.clients.at(-1)?.state === "starting");
  changeSettings({ "context.budget": 4096 }); // while the new one starts: it has had its initializationOptions
  await settled();
  const [client] = runningClients();
  const changes = client.notifications.filter((notification) => notification.method === "workspace/didChangeConfiguration");
  const received = [client.initializationOptions, ...changes.map((change) => /** @type {any} */ (change.params).settings)];
  const last = /** @type {any} */ (received.at(-1));
  assert.deepEqual(last, { roost: { context: { budget: 4096 } } }, JSON.stringify(received));
  await extension.deactivate();
  await settled();
});

test("a server command that cannot start: an error with a button that opens the extension's settings", async () => {
  behaviour.missingCommands.add("/no/such/roost");
  changeSettings({ "server.command": "/no/such/roost" });
  try {
    answers.nextMessageChoice = "Open settings";
    await extension.activate(context());
    await settled();
    assert.match(recorded.errors.at(-1) ?? "", /could not start “\/no\/such\/roost”.*roost\.server\.command/);
    await until(() => recorded.executedCommands.length > 0);
    assert.deepEqual(recorded.executedCommands.at(-1), ["workbench.action.openSettings", `@ext:${PUBLISHED_ID}`]);
  } finally {
    changeSettings({ "server.command": undefined });
    await extension.deactivate();
    await settled();
  }
});

test("the toggle turns suggestions on where the workspace turned them off (it writes the scope in force)", async () => {
  await extension.activate(context());
  await settled();
  changeWorkspaceSettings({ enable: { "*": false } });
  const toggle = commands.get("roost.toggle");
  assert.ok(toggle, "roost.toggle is registered");
  await toggle();
  // Written to the user's settings, the workspace's value would still win and suggestions stay off.
  assert.deepEqual(workspaceSettings.get("enable"), { "*": true });
  assert.equal(settings.get("enable"), undefined);
  assert.match(recorded.statusBarMessages.at(-1) ?? "", /suggestions on/);
  changeWorkspaceSettings({ enable: undefined });
  await toggle(); // nothing set anywhere: the user's settings
  assert.deepEqual(settings.get("enable"), { "*": false });
  changeSettings({ enable: undefined });
  await extension.deactivate();
  await settled();
});

/** Whether a document filter list takes a document, as VS Code's languages.match does for scheme and language.
 * @param {{ scheme?: string, language?: string }[]} selector @param {string} uri @param {string} languageId */
function serves(selector, uri, languageId) {
  const scheme = uri.slice(0, uri.indexOf(":"));
  return selector.some((filter) => (filter.scheme ?? scheme) === scheme && (filter.language ?? languageId) === languageId);
}

test("the server gets new unsaved files and notebook cells too, not a diff's old side", async () => {
  await extension.activate(context());
  await settled();
  const selector = runningClients()[0].clientOptions.documentSelector;
  assert.ok(serves(selector, "file:///ws/app.py", "python"));
  assert.ok(serves(selector, "untitled:Untitled-1", "python"), "a new file not saved yet");
  assert.ok(serves(selector, "vscode-notebook-cell:/ws/analysis.ipynb#W0sZmlsZQ%3D%3D", "python"), "a notebook cell");
  assert.ok(!serves(selector, "git:/ws/app.py?%7B%7D", "python"), "a diff's old side");
  assert.ok(!serves(selector, "untitled:Untitled-2", "markdown"), "a language Roost does not complete");
  await extension.deactivate();
  await settled();
});

test("an untrusted workspace: the server is told so, and is restarted trusted when the user grants trust", async () => {
  trust.isTrusted = false;
  try {
    await extension.activate(context());
    await settled();
    const [untrusted] = runningClients();
    assert.equal(/** @type {any} */ (untrusted.initializationOptions).roostWorkspaceTrusted, false);
    grantWorkspaceTrust();
    await until(() => runningClients().length === 1 && runningClients()[0] !== untrusted);
    await settled();
    const [trusted] = runningClients();
    assert.ok(!("roostWorkspaceTrusted" in /** @type {any} */ (trusted.initializationOptions)));
  } finally {
    trust.isTrusted = true;
    await extension.deactivate();
    await settled();
  }
});
