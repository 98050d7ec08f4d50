// @ts-check
// Test doubles for the two modules the compiled extension (out/extension.js) needs from VS Code: `vscode` and
// `vscode-languageclient/node` (whose LanguageClient drives VS Code's editor). They record what the extension
// does (clients started and stopped, notifications sent, messages shown) so its own logic (settings changes,
// restarts, the on/off switch) runs under node. `loadExtension()` loads out/extension.js against them.
import Module from "node:module";
import { createRequire } from "node:module";

/** A promise that settles after `ms` milliseconds. @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @typedef {{ dispose(): void }} Disposable */

/** @returns {Disposable} */
function disposable() {
  return { dispose() {} };
}

/** @template T */
class EventEmitter {
  constructor() {
    /** @type {((value: T) => unknown)[]} */
    this.listeners = [];
    /** @param {(value: T) => unknown} listener */
    this.event = (listener) => {
      this.listeners.push(listener);
      return disposable();
    };
  }

  /** @param {T} value */
  fire(value) {
    for (const listener of this.listeners) {
      void listener(value);
    }
  }

  dispose() {}
}

/** What the extension did, for the tests to check. */
export const recorded = {
  /** @type {FakeLanguageClient[]} */
  clients: [],
  /** @type {string[]} */
  errors: [],
  /** @type {string[]} */
  statusBarMessages: [],
  /** @type {unknown[][]} */
  executedCommands: [],
};

/** The button the user presses on the next error or warning message (undefined: closes it). */
/** @type {{ nextMessageChoice: string | undefined }} */
export const answers = { nextMessageChoice: undefined };

/** How the fake server behaves: start and stop take this long; these commands fail to start. */
export const behaviour = { startMs: 20, stopMs: 20, /** @type {Set<string>} */ missingCommands: new Set() };

/** Settings under `roost.` in the user's settings, as `getConfiguration("roost").get(key)` answers them
 * where the workspace does not set them. */
/** @type {Map<string, unknown>} */
export const settings = new Map();
/** Settings under `roost.` in the workspace's settings: they win over the user's, as in VS Code. */
/** @type {Map<string, unknown>} */
export const workspaceSettings = new Map();
/** @type {EventEmitter<{ affectsConfiguration(section: string): boolean }>} */
const configurationChanged = new EventEmitter();

/** Workspace trust: `vscode.workspace.isTrusted`, and onDidGrantWorkspaceTrust fired by grantWorkspaceTrust(). */
export const trust = { isTrusted: true };
/** @type {EventEmitter<void>} */
const trustGranted = new EventEmitter();

/** The user trusts the workspace (VS Code never takes trust back in a running window). */
export function grantWorkspaceTrust() {
  trust.isTrusted = true;
  trustGranted.fire(undefined);
}

/** Changes settings (key without `roost.`; undefined: unset) and fires onDidChangeConfiguration, as VS Code does. */
/** @param {Record<string, unknown>} changes */
export function changeSettings(changes) {
  changeScope(settings, changes);
}

/** The same for the workspace's settings. @param {Record<string, unknown>} changes */
export function changeWorkspaceSettings(changes) {
  changeScope(workspaceSettings, changes);
}

/** @param {Map<string, unknown>} scope @param {Record<string, unknown>} changes */
function changeScope(scope, changes) {
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) {
      scope.delete(key);
    } else {
      scope.set(key, value);
    }
  }
  const changed = Object.keys(changes).map((key) => `roost.${key}`);
  configurationChanged.fire({
    affectsConfiguration: (section) =>
      changed.some((key) => key === section || key.startsWith(`${section}.`) || section.startsWith(`${key}.`)),
  });
}

export class FakeLanguageClient {
  /**
   * @param {string} id
   * @param {string} name
   * @param {any} serverOptions
   * @param {any} clientOptions
   */
  constructor(id, name, serverOptions, clientOptions) {
    this.id = id;
    this.name = name;
    this.serverOptions = serverOptions;
    this.clientOptions = clientOptions;
    /** "stopped" (new), "starting", "running", "startFailed", "stopping", "stopped" */
    this.state = "new";
    /** @type {{ method: string, params: unknown }[]} */
    this.notifications = [];
    /** @type {Map<string, (params: unknown) => void>} */
    this.handlers = new Map();
    /** @type {any} */
    this.initializeResult = undefined;
    /** @type {unknown} */
    this.initializationOptions = undefined;
    recorded.clients.push(this);
  }

  async start() {
    this.state = "starting";
    // The real client evaluates them as it sends `initialize`, right after spawning the server.
    const options = this.clientOptions.initializationOptions;
    this.initializationOptions = typeof options === "function" ? options() : options;
    await sleep(behaviour.startMs);
    if (behaviour.missingCommands.has(this.serverOptions.command)) {
      this.state = "startFailed";
      throw new Error(`Launching server using command ${this.serverOptions.command} failed. Error: spawn ${this.serverOptions.command} ENOENT`);
    }
    this.initializeResult = { capabilities: {} };
    this.state = "running";
  }

  /** @param {number} [_timeout] */
  async stop(_timeout) {
    if (this.state !== "running" && this.state !== "starting") {
      throw new Error(`Client is not running and can't be stopped. It's current state is: ${this.state}`);
    }
    this.state = "stopping";
    await sleep(behaviour.stopMs);
    this.state = "stopped";
  }

  isRunning() {
    return this.state === "running";
  }

  /** @param {string} method @param {(params: unknown) => void} handler */
  onNotification(method, handler) {
    this.handlers.set(method, handler);
    return disposable();
  }

  /** @param {any} type @param {unknown} params */
  async sendNotification(type, params) {
    if (this.state !== "running") {
      throw new Error("Client is not running");
    }
    this.notifications.push({ method: typeof type === "string" ? type : type.method, params });
  }

  /** @param {any} _type @param {unknown} _params */
  async sendRequest(_type, _params) {
    return null;
  }
}

const outputChannel = {
  /** @type {string[]} */
  lines: [],
  /** @param {string} line */
  info(line) {
    this.lines.push(`info: ${line}`);
  },
  /** @param {string} line */
  warn(line) {
    this.lines.push(`warn: ${line}`);
  },
  /** @param {string} line */
  error(line) {
    this.lines.push(`error: ${line}`);
  },
  show() {},
  dispose() {},
};
export const log = outputChannel;

/** @type {Map<string, (...args: any[]) => unknown>} */
export const commands = new Map();

export const statusItem = {
  text: "",
  tooltip: "",
  name: "",
  command: "",
  /** @type {unknown} */
  backgroundColor: undefined,
  show() {},
  dispose() {},
};

const fakeVscode = {
  EventEmitter,
  ThemeColor: class {
    /** @param {string} id */
    constructor(id) {
      this.id = id;
    }
  },
  StatusBarAlignment: { Left: 1, Right: 2 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  ViewColumn: { Beside: -2 },
  ProgressLocation: { Notification: 15 },
  Uri: { parse: (/** @type {string} */ value) => ({ toString: () => value }) },
  window: {
    activeTextEditor: undefined,
    createOutputChannel: () => outputChannel,
    createStatusBarItem: () => statusItem,
    showErrorMessage: async (/** @type {string} */ message) => {
      recorded.errors.push(message);
      const choice = answers.nextMessageChoice;
      answers.nextMessageChoice = undefined;
      return choice;
    },
    showWarningMessage: async (/** @type {string} */ message) => {
      recorded.errors.push(message);
      return undefined;
    },
    showInformationMessage: async () => undefined,
    setStatusBarMessage: (/** @type {string} */ message) => {
      recorded.statusBarMessages.push(message);
      return disposable();
    },
    onDidChangeActiveTextEditor: () => disposable(),
    onDidChangeTextEditorSelection: () => disposable(),
  },
  workspace: {
    getConfiguration: () => ({
      get: (/** @type {string} */ key) => (workspaceSettings.has(key) ? workspaceSettings.get(key) : settings.get(key)),
      inspect: (/** @type {string} */ key) => ({
        key: `roost.${key}`,
        globalValue: settings.get(key),
        workspaceValue: workspaceSettings.get(key),
      }),
      // ConfigurationTarget.Global (1, also the default) writes the user's settings, Workspace (2) and
      // WorkspaceFolder (3) the workspace's (the fake has one folder).
      update: async (/** @type {string} */ key, /** @type {unknown} */ value, /** @type {number | undefined} */ target) => {
        if (target === 2 || target === 3) {
          changeWorkspaceSettings({ [key]: value });
        } else {
          changeSettings({ [key]: value });
        }
      },
    }),
    onDidChangeConfiguration: configurationChanged.event,
    get isTrusted() {
      return trust.isTrusted;
    },
    onDidGrantWorkspaceTrust: trustGranted.event,
    registerTextDocumentContentProvider: () => disposable(),
  },
  commands: {
    registerCommand: (/** @type {string} */ name, /** @type {(...args: any[]) => unknown} */ run) => {
      commands.set(name, run);
      return { dispose: () => commands.delete(name) };
    },
    executeCommand: async (/** @type {unknown[]} */ ...args) => {
      recorded.executedCommands.push(args);
      return undefined;
    },
  },
  languages: { match: () => 1 },
};

const fakeLanguageClient = {
  LanguageClient: FakeLanguageClient,
  CloseAction: { DoNotRestart: 1, Restart: 2 },
  ErrorAction: { Continue: 1, Shutdown: 2 },
  RevealOutputChannelOn: { Debug: 0, Info: 1, Warn: 2, Error: 3, Never: 4 },
  DidChangeConfigurationNotification: { type: { method: "workspace/didChangeConfiguration" } },
  ExecuteCommandRequest: { type: { method: "workspace/executeCommand" } },
};

/** out/extension.js, loaded with the doubles above standing in for `vscode` and `vscode-languageclient/node`. */
export function loadExtension() {
  const loader = /** @type {any} */ (Module);
  const originalLoad = loader._load;
  loader._load = function (/** @type {string} */ request, /** @type {unknown[]} */ ...rest) {
    if (request === "vscode") {
      return fakeVscode;
    }
    if (request === "vscode-languageclient/node") {
      return fakeLanguageClient;
    }
    return originalLoad.call(this, request, ...rest);
  };
  try {
    return createRequire(import.meta.url)("../out/extension.js");
  } finally {
    loader._load = originalLoad;
  }
}

/** The clients whose server is running now. */
export function runningClients() {
  return recorded.clients.filter((client) => client.isRunning());
}
