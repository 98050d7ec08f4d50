/**
 * Multi-turn fix-ups: the editor side of `roost.fixup.start/reply/accept/reject/undo`.
 *
 * The server owns the sessions (they survive a server restart); the extension only remembers which
 * session is on screen, previews the proposed WorkspaceEdit as diffs, and forwards the user's choice.
 * The server applies an accepted edit itself through `workspace/applyEdit`, so the editor's undo
 * history and dirty state behave as for any other edit.
 */

import * as path from "node:path";
import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient } from "vscode-languageclient/node";

import { applyTextEdits, editsByUri, WorkspaceEditLike } from "./edits";

export const PROPOSAL_SCHEME = "roost-proposal";

export interface FixUpResult {
  session: string;
  edit: WorkspaceEditLike | null;
  message: string;
}

/** Checks the server's answer; a malformed one is an error the user sees, not a silent no-op. */
export function parseFixUpResult(value: unknown): FixUpResult {
  if (value === null || typeof value !== "object") {
    throw new Error(`the server answered the fix-up with ${JSON.stringify(value)}`);
  }
  const raw = value as Record<string, unknown>;
  if (typeof raw.session !== "string" || raw.session === "") {
    throw new Error("the server's fix-up answer has no session id");
  }
  const edit = raw.edit !== null && typeof raw.edit === "object" ? (raw.edit as WorkspaceEditLike) : null;
  const message = typeof raw.message === "string" ? raw.message : "";
  return { session: raw.session, edit, message };
}

/** Serves the proposed text of each file so `vscode.diff` can show it next to the current text. */
export class ProposalContentProvider implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, content: string): void {
    this.contents.set(uri.toString(), content);
    this.changed.fire(uri);
  }

  clear(): void {
    this.contents.clear();
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class FixUpController implements vscode.Disposable {
  /** The session whose proposal is on screen (accept/reject/reply act on it). */
  private current: FixUpResult | undefined;
  /** The last accepted session, which "undo" reverts. */
  private lastAccepted: string | undefined;

  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly proposals: ProposalContentProvider,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    this.proposals.clear();
  }

  async start(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showWarningMessage("Roost: open a file and select the code to fix up.");
      return;
    }
    // An empty selection means "this line": the common case of fixing the line under the cursor.
    const selection = editor.selection.isEmpty
      ? editor.document.lineAt(editor.selection.active.line).range
      : new vscode.Range(editor.selection.start, editor.selection.end);
    const instruction = await vscode.window.showInputBox({
      title: "Roost: Fix up selection",
      prompt: "What should change in the selected code?",
      placeHolder: "e.g. add type hints, make it async, convert to a dataclass",
      ignoreFocusOut: true,
    });
    if (!instruction || instruction.trim() === "") {
      return;
    }
    const args = {
      uri: editor.document.uri.toString(),
      range: {
        start: { line: selection.start.line, character: selection.start.character },
        end: { line: selection.end.line, character: selection.end.character },
      },
      instruction: instruction.trim(),
    };
    const result = await this.execute("roost.fixup.start", args, "Roost is working on the fix-up…");
    if (result !== undefined) {
      await this.present(parseFixUpResult(result));
    }
  }

  async reply(): Promise<void> {
    const session = this.current;
    if (!session) {
      void vscode.window.showWarningMessage("Roost: there is no fix-up to reply to; start one with “Roost: Fix up selection…”.");
      return;
    }
    const message = await vscode.window.showInputBox({
      title: "Roost: Reply to fix-up",
      prompt: "What should change in the proposal?",
      placeHolder: "e.g. keep the old name, also handle None",
      ignoreFocusOut: true,
    });
    if (!message || message.trim() === "") {
      return;
    }
    const result = await this.execute(
      "roost.fixup.reply",
      { session: session.session, message: message.trim() },
      "Roost is revising the fix-up…",
    );
    if (result !== undefined) {
      await this.present(parseFixUpResult(result));
    }
  }

  async accept(): Promise<void> {
    const session = this.current;
    if (!session) {
      void vscode.window.showWarningMessage("Roost: there is no fix-up proposal to accept.");
      return;
    }
    const result = await this.execute("roost.fixup.accept", { session: session.session }, "Applying the fix-up…");
    if (result === undefined) {
      return;
    }
    this.lastAccepted = session.session;
    await this.finish();
    void vscode.window.setStatusBarMessage("Roost: fix-up applied (Roost: Undo last accepted fix-up reverts it)", 5000);
  }

  async reject(): Promise<void> {
    const session = this.current;
    if (!session) {
      return;
    }
    await this.execute("roost.fixup.reject", { session: session.session }, "Rejecting the fix-up…");
    await this.finish();
  }

  async undo(): Promise<void> {
    const session = this.lastAccepted;
    if (!session) {
      void vscode.window.showWarningMessage("Roost: no accepted fix-up to undo.");
      return;
    }
    const result = await this.execute("roost.fixup.undo", { session }, "Reverting the fix-up…");
    if (result !== undefined) {
      this.lastAccepted = undefined;
      const message = parseOptionalMessage(result);
      void vscode.window.setStatusBarMessage(message || "Roost: fix-up reverted", 5000);
    }
  }

  private async finish(): Promise<void> {
    this.current = undefined;
    this.proposals.clear();
    await vscode.commands.executeCommand("setContext", "roost.fixUpActive", false);
  }

  /** Shows each changed file as a diff (current ↔ proposed) and asks what to do next. */
  private async present(result: FixUpResult): Promise<void> {
    this.current = result;
    await vscode.commands.executeCommand("setContext", "roost.fixUpActive", true);
    this.proposals.clear();
    const grouped = editsByUri(result.edit);
    let shown = 0;
    for (const [uri, edits] of grouped) {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
      let proposed: string;
      try {
        proposed = applyTextEdits(document.getText(), edits);
      } catch (error) {
        this.log.error(`fix-up ${result.session}: cannot preview the edit of ${uri}: ${String(error)}`);
        continue;
      }
      const name = path.basename(document.uri.path);
      const proposalUri = vscode.Uri.from({
        scheme: PROPOSAL_SCHEME,
        path: `/${result.session}/${shown}/${name}`,
      });
      this.proposals.set(proposalUri, proposed);
      await vscode.commands.executeCommand(
        "vscode.diff",
        document.uri,
        proposalUri,
        `${name} ↔ Roost fix-up`,
        { preview: true, preserveFocus: shown > 0 },
      );
      shown++;
    }
    const files = grouped.size === 1 ? "1 file" : `${grouped.size} files`;
    const summary = result.message || (grouped.size === 0 ? "Roost proposes no change." : `Roost proposes a change to ${files}.`);
    const choice = await vscode.window.showInformationMessage(summary, "Accept", "Reply…", "Reject");
    if (this.current?.session !== result.session) {
      return; // a newer proposal replaced this one while the message was open
    }
    if (choice === "Accept") {
      await this.accept();
    } else if (choice === "Reply…") {
      await this.reply();
    } else if (choice === "Reject") {
      await this.reject();
    }
  }

  private async execute(command: string, argument: object, title: string): Promise<unknown> {
    const client = this.client();
    if (!client || !client.isRunning()) {
      void vscode.window.showErrorMessage("Roost: the server is not running (see Roost: Show server log).");
      return undefined;
    }
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        (_progress, token) =>
          client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] }, token),
      );
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.log.error(`${command} failed: ${text}`);
      void vscode.window.showErrorMessage(`Roost: ${command} failed: ${text}`);
      return undefined;
    }
  }
}

function parseOptionalMessage(value: unknown): string {
  if (value !== null && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
    return (value as { message: string }).message;
  }
  return "";
}
