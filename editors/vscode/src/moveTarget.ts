/**
 * "Move to another module…": the server's code action carries the ranked targets and the other modules of
 * the workspace (`roost.chooseMoveTarget`); the user picks one, or types the name of a module that does not
 * exist yet, and the extension runs the server's `roost.moveSymbol` with it.
 *
 * Pure (no `vscode` import) so the node tests can check it; `extension.ts` shows the quick pick.
 */

export const CHOOSE_MOVE_TARGET_COMMAND = "roost.chooseMoveTarget";
export const MOVE_SYMBOL_COMMAND = "roost.moveSymbol";

export interface MoveChoice {
  uri: string;
  symbol: string;
  /** Ranked by relation to the symbol (importers, modules it uses, siblings, recent edits). */
  suggested: string[];
  modules: string[];
  extension: string;
}

export interface MoveTargetItem {
  label: string;
  description?: string;
  /** What `roost.moveSymbol` gets as `target`. */
  target: string;
  isNew: boolean;
}

/** Validates the code action's argument; throws a TypeError naming what is missing. */
export function parseMoveChoice(value: unknown): MoveChoice {
  const raw = (value ?? {}) as Record<string, unknown>;
  const strings = (key: string): string[] =>
    Array.isArray(raw[key]) ? (raw[key] as unknown[]).filter((item): item is string => typeof item === "string") : [];
  if (typeof raw.uri !== "string" || typeof raw.symbol !== "string") {
    throw new TypeError(`${CHOOSE_MOVE_TARGET_COMMAND}: the code action has no {uri, symbol}`);
  }
  return {
    uri: raw.uri,
    symbol: raw.symbol,
    suggested: strings("suggested"),
    modules: strings("modules"),
    extension: typeof raw.extension === "string" ? raw.extension : "",
  };
}

/**
 * The quick pick's items for what the user has typed so far: the suggested targets first, then every other
 * module, and — when the typed text names no listed module — "Create <name>" as the first item.
 */
export function moveTargetItems(choice: MoveChoice, typed: string): MoveTargetItem[] {
  const items: MoveTargetItem[] = [
    ...choice.suggested.map((path) => ({ label: path, description: "suggested", target: path, isNew: false })),
    ...choice.modules.map((path) => ({ label: path, target: path, isNew: false })),
  ];
  const name = typed.trim();
  if (name === "") {
    return items;
  }
  const withExtension = choice.extension && !name.endsWith(`.${choice.extension}`) ? `${name}.${choice.extension}` : name;
  const known = items.some((item) => item.target === name || item.target === withExtension);
  return known
    ? items
    : [{ label: `$(new-file) Create ${withExtension}`, description: "new module", target: name, isNew: true }, ...items];
}

/** The `workspace/executeCommand` params that move the symbol to the chosen target. */
export function moveSymbolParams(choice: MoveChoice, target: string): { command: string; arguments: unknown[] } {
  return { command: MOVE_SYMBOL_COMMAND, arguments: [{ uri: choice.uri, symbol: choice.symbol, target }] };
}
