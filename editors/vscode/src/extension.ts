/**
 * The Roost extension: starts `roost serve --stdio`, keeps it running, and connects VS Code to it.
 *
 * Inline completions and code actions come from vscode-languageclient's standard features; what is
 * Roost-specific is the settings mapping, the `roost/status` status-bar item with its menu, the on/off
 * switch (global, per language, snooze), the "explain" view, the fix-up commands, the restart policy and
 * `roost/cursorIdle` (where the cursor rests, so the server can prepare the prompt there before the user types).
 */

import * as vscode from "vscode";
import {
  CloseAction,
  CloseHandlerResult,
  DidChangeConfigurationNotification,
  ErrorAction,
  ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
} from "vscode-languageclient/node";

import {
  CURSOR_IDLE_NOTIFICATION,
  CursorIdleParams,
  cursorIdleDelay,
  cursorIdleParams,
  DEFAULT_CURSOR_IDLE_DELAY_MS,
  IdleDebouncer,
  serverTakesCursorIdle,
} from "./cursorIdle";
import { explanationMarkdown, parseExplanation } from "./explain";
import { FixUpController, PROPOSAL_SCHEME, ProposalContentProvider } from "./fixup";
import {
  CHOOSE_MOVE_TARGET_COMMAND,
  MoveChoice,
  moveSymbolParams,
  MoveTargetItem,
  moveTargetItems,
  parseMoveChoice,
} from "./moveTarget";
import { RestartPolicy } from "./restart";
import { affectsLaunch, affectsServer, roostSection, serverLaunch, SettingReader } from "./settings";
import { parseStatus, presentStatus, StatusParams } from "./status";
import { ALL_LANGUAGES, enableSettingTarget, inlineCompletionGate, SuggestionSwitch } from "./toggle";

const LANGUAGES = ["python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust", "java"];
const SCHEMES = ["file", "untitled", "vscode-notebook-cell"];
const ACCEPTED_COMMAND = "roost.accepted";
const EXPLAIN_REQUEST = "roost/explainCompletion";
const SNOOZE_CHOICES_MINUTES = [5, 15, 30, 60];

let extension: RoostExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extension = new RoostExtension(context);
  await extension.launch();
}

export async function deactivate(): Promise<void> {
  await extension?.dispose();
  extension = undefined;
}

function readSetting(): SettingReader {
  const configuration = vscode.workspace.getConfiguration("roost");
  return (key) => configuration.get(key);
}

class RoostExtension {
  private client: LanguageClient | undefined;
  private readonly log: vscode.LogOutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly fixUps: FixUpController;
  private readonly restarts = new RestartPolicy();
  /** Set once the server has reported a state; until then a started server is shown as ready. */
  private serverReportedStatus = false;
  /** Forwards `roost.accepted` when the server does not advertise it (then the client does not register it). */
  private acceptedForwarder: vscode.Disposable | undefined;
  /** On/off: `roost.enable` (global, per language) and snooze; the middleware consults it. */
  private readonly suggestions = new SuggestionSwitch();
  private lastStatus: StatusParams = { state: "starting", message: "", percentage: null };
  private snoozeTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Documents the language client serves (its documentSelector), also for `roost/cursorIdle`: files, a new file
   * not saved yet (`untitled:`) and a notebook's code cells (`vscode-notebook-cell:`), which the server completes
   * as it does files (judged by the names in their URI); served as files only, they never had a suggestion. Not
   * other schemes: a diff's old side (`git:`) or a read-only view is not where the user types.
   */
  private readonly documentSelector: { scheme: string; language: string }[] = SCHEMES.flatMap((scheme) =>
    LANGUAGES.map((language) => ({ scheme, language })),
  );
  /** `roost/cursorIdle` goes out once the cursor has rested; undefined delay: turned off by the settings. */
  private cursorIdleDelayMs: number | undefined = cursorIdleDelay(readSetting());
  private readonly cursorIdle = new IdleDebouncer<CursorIdleParams>(
    this.cursorIdleDelayMs ?? DEFAULT_CURSOR_IDLE_DELAY_MS,
    (params) => this.sendCursorIdle(params),
  );
  /**
   * The start, each restart and the final stop, one after another. Run side by side (two launch settings
   * changed in a row: the Settings editor writes as the user types a path), both restarts stopped the same
   * server and each started one: two servers ran, and the first was never stopped, not even on deactivate.
   */
  private lifecycle: Promise<void> = Promise.resolve();
  private disposed = false;

  private readonly extensionId: string;

  constructor(context: vscode.ExtensionContext) {
    this.extensionId = context.extension.id;
    this.log = vscode.window.createOutputChannel("Roost", { log: true });
    this.statusItem = vscode.window.createStatusBarItem("roost.status", vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = "Roost";
    this.statusItem.command = "roost.showMenu";
    this.suggestions.setEnableMap(vscode.workspace.getConfiguration("roost").get("enable"));
    this.showStatus({ state: "starting", message: "", percentage: null });
    this.statusItem.show();

    const proposals = new ProposalContentProvider();
    this.fixUps = new FixUpController(() => this.client, proposals, this.log);
    context.subscriptions.push(
      this.log,
      this.statusItem,
      proposals,
      this.fixUps,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, proposals),
      vscode.commands.registerCommand("roost.fixUpSelection", () => this.fixUps.start()),
      vscode.commands.registerCommand("roost.replyToFixUp", () => this.fixUps.reply()),
      vscode.commands.registerCommand("roost.acceptFixUp", () => this.fixUps.accept()),
      vscode.commands.registerCommand("roost.rejectFixUp", () => this.fixUps.reject()),
      vscode.commands.registerCommand("roost.undoFixUp", () => this.fixUps.undo()),
      vscode.commands.registerCommand("roost.showLog", () => this.log.show(true)),
      vscode.commands.registerCommand("roost.restartServer", () => this.restart()),
      vscode.commands.registerCommand("roost.toggle", () => this.toggle(ALL_LANGUAGES)),
      vscode.commands.registerCommand("roost.toggleLanguage", () => this.toggle(this.activeLanguage())),
      vscode.commands.registerCommand("roost.snooze", (minutes?: number) => this.snooze(minutes)),
      vscode.commands.registerCommand("roost.explain", () => this.explain()),
      vscode.commands.registerCommand("roost.showMenu", () => this.showMenu()),
      // The server's "Move to another module…" code action runs this; the user picks or types the target.
      vscode.commands.registerCommand(CHOOSE_MOVE_TARGET_COMMAND, (argument: unknown) => this.moveToModule(argument)),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        this.showStatus(this.lastStatus);
        this.noteCursor(editor);
      }),
      vscode.window.onDidChangeTextEditorSelection((event) => this.noteCursor(event.textEditor)),
      this.cursorIdle,
      { dispose: () => clearTimeout(this.snoozeTimer) },
      vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)),
      // The server read the workspace's file without its restricted keys: read it again, trusted.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart()),
      { dispose: () => this.acceptedForwarder?.dispose() },
    );
  }

  /** Starts the server (after any start, restart or stop in progress). */
  launch(): Promise<void> {
    return this.inTurn(() => this.start());
  }

  /** Stops the server for good (after any start or restart in progress): nothing starts one again. */
  dispose(): Promise<void> {
    this.disposed = true;
    return this.inTurn(() => this.stop());
  }

  private inTurn(step: () => Promise<void>): Promise<void> {
    const run = this.lifecycle.then(step);
    this.lifecycle = run.catch((error: unknown) => this.log.error(`the server's start or stop failed: ${String(error)}`));
    return run;
  }

  private async start(): Promise<void> {
    if (this.disposed) {
      return;
    }
    const launch = serverLaunch(readSetting());
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      // No `transport`: the client would append its own `--stdio`; the args already say how to talk.
      options: { env: { ...process.env, ...launch.env } },
    };
    // What `initialize` carried: a setting changed after it, while the server started, is sent once it runs
    // (onConfigurationChanged sends nothing to a server that is not running yet).
    let sentSettings: string | undefined;
    const clientOptions: LanguageClientOptions = {
      documentSelector: this.documentSelector,
      initializationOptions: () => {
        sentSettings = JSON.stringify(roostSection(readSetting()));
        // In a workspace the user has not trusted, the server must not let the workspace's own roost.toml
        // choose the backend, the model, the gate or the exclusions (`restrictedConfigurations` only
        // guards .vscode/settings.json; the server reads roost.toml itself). Granting trust restarts it.
        const untrusted = vscode.workspace.isTrusted ? {} : { roostWorkspaceTrusted: false };
        return { ...(JSON.parse(sentSettings) as object), ...untrusted };
      },
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // While suggestions are off (toggled, or snoozed) the server is not asked at all.
      middleware: { provideInlineCompletionItems: inlineCompletionGate(this.suggestions) },
      errorHandler: {
        error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
        closed: (): CloseHandlerResult => this.onServerClosed(),
      },
    };
    this.log.info(`starting ${launch.command} ${launch.args.join(" ")}`);
    this.showStatus({ state: "starting", message: `${launch.command} ${launch.args.join(" ")}`, percentage: null });
    // vscode-languageclient 11 has inline completion built in (10 needed registerProposedFeatures()).
    const client = new LanguageClient("roost", "Roost", serverOptions, clientOptions);
    client.onNotification("roost/status", (params: unknown) => {
      this.serverReportedStatus = true;
      this.showStatus(parseStatus(params));
    });
    this.serverReportedStatus = false;
    this.client = client;
    this.acceptedForwarder?.dispose();
    this.acceptedForwarder = undefined;
    try {
      await client.start();
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.log.error(`the server did not start: ${text}`);
      this.showStatus({ state: "error", message: `The server did not start: ${text}`, percentage: null });
      void this.offerHelp(
        `Roost: could not start “${launch.command}”: ${text}. Set roost.server.command or roost.server.pythonPath.`,
      );
      return;
    }
    this.registerAcceptedForwarder(client);
    const settings = roostSection(readSetting());
    if (sentSettings !== undefined && JSON.stringify(settings) !== sentSettings) {
      await client.sendNotification(DidChangeConfigurationNotification.type, { settings });
    }
    if (!this.serverReportedStatus) {
      this.showStatus({ state: "ready", message: "Connected to the server.", percentage: null });
    }
    // The editor that was active before the server started gets its cursor reported too.
    this.noteCursor(vscode.window.activeTextEditor);
  }

  /**
   * The cursor moved, or an editor became active: once it rests, tell the server where (`roost/cursorIdle`).
   * Only for documents this client serves, with nothing selected, while suggestions are on there.
   */
  private noteCursor(editor: vscode.TextEditor | undefined): void {
    if (!editor || editor !== vscode.window.activeTextEditor) {
      return; // a background editor's selection (e.g. a diff's other side) is not where the user is
    }
    const document = editor.document;
    const params = cursorIdleParams(document.uri.toString(), editor.selections);
    if (
      params === undefined ||
      this.cursorIdleDelayMs === undefined ||
      vscode.languages.match(this.documentSelector, document) === 0 ||
      !this.suggestions.allows(document.languageId, Date.now())
    ) {
      this.cursorIdle.cancel(); // a rest noted before this (selection, other document) is stale now
      return;
    }
    this.cursorIdle.note(params);
  }

  private sendCursorIdle(params: CursorIdleParams): void {
    const client = this.client;
    if (!client?.isRunning() || !serverTakesCursorIdle(this.lastStatus.state)) {
      return;
    }
    // A hint for the server's cache: losing one costs only speed, so failures are logged, never shown.
    client.sendNotification(CURSOR_IDLE_NOTIFICATION, params).catch((error: unknown) => {
      this.log.warn(`${CURSOR_IDLE_NOTIFICATION}: ${String(error)}`);
    });
  }

  private async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.log.warn(`stopping the server: ${String(error)}`);
      }
    }
  }

  restart(): Promise<void> {
    this.restarts.reset();
    return this.inTurn(async () => {
      await this.stop();
      await this.start();
    });
  }

  private registerAcceptedForwarder(client: LanguageClient): void {
    const advertised = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (advertised.includes(ACCEPTED_COMMAND)) {
      return; // the client registered a VS Code command that forwards it already
    }
    this.acceptedForwarder = vscode.commands.registerCommand(ACCEPTED_COMMAND, async (...args: unknown[]) => {
      try {
        await client.sendRequest(ExecuteCommandRequest.type, { command: ACCEPTED_COMMAND, arguments: args });
      } catch (error) {
        // Accept tracking is best effort: a failure must never get in the way of the user's edit.
        this.log.warn(`${ACCEPTED_COMMAND}: ${String(error)}`);
      }
    });
  }

  private onServerClosed(): CloseHandlerResult {
    if (!this.restarts.shouldRestart(Date.now())) {
      const message = `The Roost server stopped ${this.restarts.recentStops} times in 3 minutes and will not be restarted. See the log, then run “Roost: Restart server”.`;
      this.showStatus({ state: "error", message, percentage: null });
      void this.offerHelp(message);
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.log.warn(`the server stopped; restarting it (${this.restarts.recentStops}/${this.restarts.maxRestarts})`);
    this.showStatus({ state: "starting", message: "Restarting after the server stopped.", percentage: null });
    return { action: CloseAction.Restart, handled: true };
  }

  private async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    const affects = (section: string): boolean => event.affectsConfiguration(section);
    if (affects("roost.cursorIdle.delay_ms") || affects("roost.completion.prefetch")) {
      this.cursorIdleDelayMs = cursorIdleDelay(readSetting());
      this.cursorIdle.cancel();
      this.cursorIdle.setDelay(this.cursorIdleDelayMs ?? DEFAULT_CURSOR_IDLE_DELAY_MS);
    }
    if (affects("roost.enable")) {
      this.suggestions.setEnableMap(vscode.workspace.getConfiguration("roost").get("enable"));
      this.showStatus(this.lastStatus);
    }
    if (affectsLaunch(affects)) {
      this.log.info("server launch settings changed; restarting the server");
      await this.restart();
      return;
    }
    const client = this.client;
    if (affectsServer(affects) && client?.isRunning()) {
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: roostSection(readSetting()),
      });
    }
  }

  private showStatus(status: StatusParams): void {
    const becameReady = status.state === "ready" && this.lastStatus.state !== "ready";
    this.lastStatus = status;
    if (becameReady) {
      // The cursor may have come to rest while the server was busy: it is where the user is.
      this.noteCursor(vscode.window.activeTextEditor);
    }
    const presentation = presentStatus(status);
    const language = this.activeLanguage();
    const off = !this.suggestions.allows(language, Date.now());
    this.statusItem.text = off ? presentation.text.replace(/^\$\([^)]*\)/, "$(circle-slash)") : presentation.text;
    this.statusItem.tooltip = off
      ? `${this.suggestions.describe(language, Date.now())}\n${presentation.tooltip}`
      : presentation.tooltip;
    this.statusItem.backgroundColor = presentation.isError
      ? new vscode.ThemeColor("statusBarItem.errorBackground")
      : presentation.isWarning
        ? new vscode.ThemeColor("statusBarItem.warningBackground")
        : undefined;
    if (status.state === "error" && status.message) {
      this.log.error(status.message);
    } else if (status.state === "degraded" && status.message) {
      this.log.warn(status.message);
    }
  }

  private activeLanguage(): string {
    return vscode.window.activeTextEditor?.document.languageId ?? ALL_LANGUAGES;
  }

  /** Flips suggestions for a language ("*": every language) in the settings scope that decides it. */
  private async toggle(language: string): Promise<void> {
    const on =
      language === ALL_LANGUAGES ? this.suggestions.isGloballyOn() : this.suggestions.isLanguageOn(language);
    const value = this.suggestions.withLanguage(language, !on);
    this.suggestions.setEnableMap(value);
    if (!on) {
      this.suggestions.wake(); // turning on ends a snooze too
    }
    this.showStatus(this.lastStatus);
    // Written where the value in force comes from: a workspace's roost.enable wins over the user's.
    const settings = vscode.workspace.getConfiguration("roost", vscode.window.activeTextEditor?.document.uri);
    const targets = {
      workspaceFolder: vscode.ConfigurationTarget.WorkspaceFolder,
      workspace: vscode.ConfigurationTarget.Workspace,
      global: vscode.ConfigurationTarget.Global,
    };
    await settings.update("enable", value, targets[enableSettingTarget(settings.inspect("enable"))]);
    const where = language === ALL_LANGUAGES ? "" : ` for ${language}`;
    void vscode.window.setStatusBarMessage(`Roost: suggestions ${on ? "off" : "on"}${where}`, 3000);
  }

  private async snooze(minutes?: number): Promise<void> {
    let chosen = minutes;
    if (chosen === undefined) {
      const pick = await vscode.window.showQuickPick(
        SNOOZE_CHOICES_MINUTES.map((value) => ({ label: `${value} minutes`, value })),
        { placeHolder: "Snooze inline suggestions for…" },
      );
      chosen = pick?.value;
    }
    if (chosen === undefined) {
      return;
    }
    try {
      this.suggestions.snooze(chosen, Date.now());
    } catch (error) {
      void vscode.window.showErrorMessage(`Roost: ${String(error)}`);
      return;
    }
    clearTimeout(this.snoozeTimer);
    this.snoozeTimer = setTimeout(() => this.showStatus(this.lastStatus), chosen * 60_000 + 100);
    this.showStatus(this.lastStatus);
  }

  /** Why no suggestion / what the last one used, for the active editor's document. */
  private async explain(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage("Roost: open a file to see why it has (no) suggestions.");
      return;
    }
    const language = editor.document.languageId;
    const now = Date.now();
    const switchNote = this.suggestions.allows(language, now) ? undefined : this.suggestions.describe(language, now);
    const client = this.client;
    let answer: unknown;
    if (client?.isRunning()) {
      try {
        answer = await client.sendRequest(EXPLAIN_REQUEST, { uri: editor.document.uri.toString() });
      } catch (error) {
        answer = { verdict: "error", reason: `the server could not explain: ${String(error)}`, state: this.lastStatus.state, state_message: "", last: null };
      }
    } else {
      answer = { verdict: "backend_down", reason: "the Roost server is not running (see the log)", state: this.lastStatus.state, state_message: this.lastStatus.message ?? "", last: null };
    }
    const content = explanationMarkdown(parseExplanation(answer), switchNote);
    const document = await vscode.workspace.openTextDocument({ language: "markdown", content });
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  private async moveToModule(argument: unknown): Promise<void> {
    let choice: MoveChoice;
    try {
      choice = parseMoveChoice(argument);
    } catch (error) {
      void vscode.window.showErrorMessage(`Roost: ${String(error)}`);
      return;
    }
    const picked = await this.pickMoveTarget(choice);
    const client = this.client;
    if (!picked || !client?.isRunning()) {
      return;
    }
    try {
      const result = (await client.sendRequest(ExecuteCommandRequest.type, moveSymbolParams(choice, picked.target))) as
        | { applied?: boolean; message?: string }
        | undefined;
      if (result && result.applied === false) {
        void vscode.window.showWarningMessage(`Roost: the move was not applied: ${result.message ?? ""}`);
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(`Roost: ${text}`);
    }
  }

  /** A quick pick over the workspace's modules (suggested first) that also takes a new module's name. */
  private pickMoveTarget(choice: MoveChoice): Promise<MoveTargetItem | undefined> {
    return new Promise((resolve) => {
      const pick = vscode.window.createQuickPick<MoveTargetItem>();
      pick.title = `Move \`${choice.symbol}\` to module…`;
      pick.placeholder = "Pick a module, or type the path of a new one";
      pick.items = moveTargetItems(choice, "");
      pick.onDidChangeValue((typed) => {
        pick.items = moveTargetItems(choice, typed);
      });
      let chosen: MoveTargetItem | undefined;
      pick.onDidAccept(() => {
        chosen = pick.selectedItems[0];
        pick.hide();
      });
      pick.onDidHide(() => {
        pick.dispose();
        resolve(chosen);
      });
      pick.show();
    });
  }

  /** The status-bar item's menu. */
  private async showMenu(): Promise<void> {
    const language = this.activeLanguage();
    const now = Date.now();
    const items: { label: string; detail?: string; run: () => unknown }[] = [
      {
        label: this.suggestions.isGloballyOn() ? "$(circle-slash) Turn suggestions off" : "$(check) Turn suggestions on",
        detail: this.suggestions.describe(language, now),
        run: () => this.toggle(ALL_LANGUAGES),
      },
    ];
    if (language !== ALL_LANGUAGES) {
      items.push({
        label: `${this.suggestions.isLanguageOn(language) ? "Turn off" : "Turn on"} for ${language}`,
        run: () => this.toggle(language),
      });
    }
    items.push(
      this.suggestions.snoozeLeft(now) > 0
        ? { label: "$(bell) End the snooze", run: () => { this.suggestions.wake(); this.showStatus(this.lastStatus); } }
        : { label: "$(bell-slash) Snooze…", run: () => this.snooze() },
      { label: "$(question) Why no suggestion / what did it use?", run: () => this.explain() },
      { label: "$(output) Show server log", run: () => this.log.show(true) },
      { label: "$(debug-restart) Restart server", run: () => this.restart() },
    );
    const pick = await vscode.window.showQuickPick(items, { placeHolder: "Roost" });
    await pick?.run();
  }

  private async offerHelp(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, "Show log", "Open settings");
    if (choice === "Show log") {
      this.log.show(true);
    } else if (choice === "Open settings") {
      // The id is publisher.name, and the publisher is changed to publish (README): never a fixed string.
      await vscode.commands.executeCommand("workbench.action.openSettings", `@ext:${this.extensionId}`);
    }
  }
}
