/**
 * Where the cursor rests: `roost/cursorIdle` tells the server once the cursor has stayed put for a moment,
 * so it can prefill the completion prompt for that cursor into the model's cache at the lowest priority
 * (on a CPU the first suggestion at a new cursor is bound by that prefill: seconds). A user who reads
 * before typing then gets the first suggestion there without waiting for it.
 *
 * Pure (no `vscode` import) so the node tests can check it; `extension.ts` wires it to VS Code's selection
 * and active-editor events and to the language client.
 */

import { SettingReader } from "./settings";

export const CURSOR_IDLE_NOTIFICATION = "roost/cursorIdle";

/** How long the cursor must rest before the server is told; typing faster than this sends nothing. */
export const DEFAULT_CURSOR_IDLE_DELAY_MS = 300;
/** The setting's lower bound: below it every keystroke would be a notification. */
export const MIN_CURSOR_IDLE_DELAY_MS = 50;

export interface CursorPosition {
  line: number;
  /** UTF-16 code units, as both VS Code and LSP count them. */
  character: number;
}

export interface CursorIdleParams {
  textDocument: { uri: string };
  position: CursorPosition;
}

/** The part of a VS Code selection this needs (`vscode.Selection` has these fields). */
export interface SelectionLike {
  isEmpty: boolean;
  active: CursorPosition;
}

/** The notification for a cursor, or undefined when text is selected (the user is not about to type there). */
export function cursorIdleParams(uri: string, selections: readonly SelectionLike[]): CursorIdleParams | undefined {
  // Several cursors: only a single one is a place where one suggestion will be asked for.
  if (selections.length !== 1 || !selections[0].isEmpty) {
    return undefined;
  }
  const { line, character } = selections[0].active;
  return { textDocument: { uri }, position: { line, character } };
}

/**
 * The delay setting (`roost.cursorIdle.delay_ms`) and the off switch: the server setting
 * `roost.completion.prefetch` set to false means the server would build nothing, so nothing is sent.
 * Returns undefined when notifications are off.
 */
export function cursorIdleDelay(read: SettingReader): number | undefined {
  if (read("completion.prefetch") === false) {
    return undefined;
  }
  const delay = read("cursorIdle.delay_ms");
  if (typeof delay !== "number" || !Number.isFinite(delay)) {
    return DEFAULT_CURSOR_IDLE_DELAY_MS;
  }
  return Math.max(delay, MIN_CURSOR_IDLE_DELAY_MS);
}

/**
 * Whether the server takes `roost/cursorIdle` now: ready, degraded (serving with a failing backend), or
 * loading the model (which the first prefetch starts: holding notifications until the load ends would leave
 * the cursors rested on meanwhile unprepared). Not while it starts or indexes: its index is not complete and
 * a prompt prefilled then would differ from the one a request builds a moment later; the extension reports
 * the resting cursor again when the server becomes ready.
 */
export function serverTakesCursorIdle(state: string): boolean {
  return state === "ready" || state === "degraded" || state === "loading_model";
}

/** setTimeout/clearTimeout, injectable so the tests drive time themselves. */
export interface Timers<Handle> {
  set(callback: () => void, delayMs: number): Handle;
  clear(handle: Handle): void;
}

export const REAL_TIMERS: Timers<ReturnType<typeof setTimeout>> = {
  set: (callback, delayMs) => setTimeout(callback, delayMs),
  clear: (handle) => clearTimeout(handle),
};

/**
 * Sends the last value noted once nothing new has been noted for `delayMs`: a burst of cursor moves
 * (typing, holding an arrow key) becomes one notification for where the cursor came to rest.
 */
export class IdleDebouncer<Value, Handle = ReturnType<typeof setTimeout>> {
  private pending: Handle | undefined;

  constructor(
    private delayMs: number,
    private readonly fire: (value: Value) => void,
    private readonly timers: Timers<Handle> = REAL_TIMERS as unknown as Timers<Handle>,
  ) {}

  /** The cursor moved (or an editor became active) to `value`: restart the wait. */
  note(value: Value): void {
    this.cancel();
    const handle = this.timers.set(() => {
      if (this.pending === handle) {
        this.pending = undefined;
        this.fire(value);
      }
    }, this.delayMs);
    this.pending = handle;
  }

  /** Drops what is waiting (a selection was made, the client stopped, the setting changed). */
  cancel(): void {
    if (this.pending !== undefined) {
      this.timers.clear(this.pending);
      this.pending = undefined;
    }
  }

  setDelay(delayMs: number): void {
    this.delayMs = delayMs;
  }

  get isWaiting(): boolean {
    return this.pending !== undefined;
  }

  dispose(): void {
    this.cancel();
  }
}
