/**
 * Inline suggestions on or off: globally and per language (the `roost.enable` setting, as
 * `{"*": true, "markdown": false}`), and snoozed until a time. While off, the inline-completion middleware
 * does not call the language client at all, so the server receives no request.
 *
 * Pure (no `vscode` import) so the node tests can check it; `extension.ts` wires it to the setting, the
 * status-bar item and the commands.
 */

/** `roost.enable`: language id (or "*") → on. */
export type EnableMap = Record<string, boolean>;

export const ALL_LANGUAGES = "*";

/** Reads `roost.enable` leniently: `true`/`false` is every language's switch (`"roost.enable": false` is how
 * many extensions are turned off, and it turned nothing off), and anything else but an object of booleans
 * counts as "on everywhere". */
export function parseEnableMap(value: unknown): EnableMap {
  if (typeof value === "boolean") {
    return { [ALL_LANGUAGES]: value };
  }
  const map: EnableMap = {};
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [language, on] of Object.entries(value as Record<string, unknown>)) {
      if (typeof on === "boolean") {
        map[language] = on;
      }
    }
  }
  return map;
}

/** Why suggestions are off for a language, or undefined when they are on. */
export type OffReason = "snoozed" | "language" | "global";

export class SuggestionSwitch {
  private enableMap: EnableMap = {};
  /** Epoch milliseconds until which suggestions are snoozed; 0: not snoozed. */
  private snoozedUntil = 0;

  constructor(enable: unknown = undefined) {
    this.setEnableMap(enable);
  }

  setEnableMap(enable: unknown): void {
    this.enableMap = parseEnableMap(enable);
  }

  get enableSetting(): EnableMap {
    return { ...this.enableMap };
  }

  /** The setting's value after turning the language (or "*") on or off. */
  withLanguage(language: string, on: boolean): EnableMap {
    return { ...this.enableMap, [language]: on };
  }

  isGloballyOn(): boolean {
    return this.enableMap[ALL_LANGUAGES] !== false;
  }

  /** A language's own entry wins over "*". */
  isLanguageOn(language: string): boolean {
    const own = this.enableMap[language];
    return own !== undefined ? own : this.isGloballyOn();
  }

  snooze(minutes: number, now: number): void {
    if (!Number.isFinite(minutes) || minutes <= 0) {
      throw new RangeError(`snooze needs a positive number of minutes, got ${minutes}`);
    }
    this.snoozedUntil = now + minutes * 60_000;
  }

  wake(): void {
    this.snoozedUntil = 0;
  }

  /** Remaining snooze in milliseconds (0 when not snoozed). */
  snoozeLeft(now: number): number {
    return Math.max(0, this.snoozedUntil - now);
  }

  offReason(language: string, now: number): OffReason | undefined {
    if (this.snoozeLeft(now) > 0) {
      return "snoozed";
    }
    if (this.enableMap[language] === false) {
      return "language";
    }
    if (!this.isLanguageOn(language)) {
      return "global";
    }
    return undefined;
  }

  allows(language: string, now: number): boolean {
    return this.offReason(language, now) === undefined;
  }

  /** A sentence for the explain view and the status-bar tooltip. */
  describe(language: string, now: number): string {
    switch (this.offReason(language, now)) {
      case "snoozed":
        return `Suggestions are snoozed for ${Math.ceil(this.snoozeLeft(now) / 60_000)} more minute(s).`;
      case "language":
        return `Suggestions are turned off for ${language}.`;
      case "global":
        return "Suggestions are turned off.";
      default:
        return "Suggestions are on.";
    }
  }
}

/** The language client's inline-completion middleware signature, reduced to what the switch needs. */
export type InlineNext<D, P, C, T, R> = (document: D, position: P, context: C, token: T) => R;

/**
 * The middleware that keeps requests from the server while suggestions are off for the document's language:
 * `next` (which sends `textDocument/inlineCompletion`) is not called, and the editor shows nothing.
 */
export function inlineCompletionGate(
  suggestions: SuggestionSwitch,
  now: () => number = Date.now,
): <D extends { languageId: string }, P, C, T, R>(
  document: D,
  position: P,
  context: C,
  token: T,
  next: InlineNext<D, P, C, T, R>,
) => R | undefined {
  return (document, position, context, token, next) =>
    suggestions.allows(document.languageId, now()) ? next(document, position, context, token) : undefined;
}

/** Where a setting's value comes from, as `WorkspaceConfiguration.inspect` tells it (the fields used here). */
export interface SettingScopes {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** The settings scope a toggle must write `roost.enable` to for it to take effect: the most specific one
 * that sets it (a workspace's value wins over the user's, so writing the user's would change nothing the
 * user sees), else the user's settings. */
export function enableSettingTarget(scopes: SettingScopes | undefined): "workspaceFolder" | "workspace" | "global" {
  if (scopes?.workspaceFolderValue !== undefined) {
    return "workspaceFolder";
  }
  if (scopes?.workspaceValue !== undefined) {
    return "workspace";
  }
  return "global";
}
