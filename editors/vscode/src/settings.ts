/**
 * The mapping from VS Code settings to what the server reads.
 *
 * Pure (no `vscode` import) so the node tests can check it without VS Code. The server gets the same
 * `{"roost": {...}}` object in `initializationOptions` and in `workspace/didChangeConfiguration`, with
 * dotted setting names turned into nested objects (`roost.context.budget` -> `{context: {budget}}`),
 * which is also the shape VS Code answers `workspace/configuration` with.
 */

import { SERVER_SETTING_KEYS } from "./serverSettings";

// Generated from the server's schema (scripts/generate_settings.py), as package.json's settings are.
export { SERVER_SETTING_KEYS };

export type ServerSettingKey = (typeof SERVER_SETTING_KEYS)[number];

/** Settings only the extension reads (how to start the server); changing one restarts the server. */
export const CLIENT_SETTING_KEYS = ["server.command", "server.args", "server.pythonPath", "server.env"] as const;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type RoostSettings = { [key: string]: JsonValue };

/** Reads one setting by its name under `roost.`; `undefined` when it is not set at all. */
export type SettingReader = (key: string) => unknown;

function isUnset(value: unknown): boolean {
  // `null` and "" are the contributed defaults meaning "the server's default": leave the key out so
  // the server's own default applies instead of a value the user never chose.
  return value === undefined || value === null || value === "";
}

function toJson(key: string, value: unknown): JsonValue {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => toJson(`${key}[${index}]`, item));
  }
  if (value !== null && typeof value === "object") {
    const out: RoostSettings = {};
    for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
      out[name] = toJson(`${key}.${name}`, item);
    }
    return out;
  }
  throw new TypeError(`roost.${key}: a setting must be JSON data, got ${typeof value}`);
}

function setNested(target: RoostSettings, dottedKey: string, value: JsonValue): void {
  const parts = dottedKey.split(".");
  let node: RoostSettings = target;
  for (const part of parts.slice(0, -1)) {
    const existing = node[part];
    if (existing === undefined || existing === null || typeof existing !== "object" || Array.isArray(existing)) {
      node[part] = {};
    }
    node = node[part] as RoostSettings;
  }
  node[parts[parts.length - 1]] = value;
}

/** The server's settings (`roost` section, nested), leaving out those left at "server default". */
export function buildServerSettings(read: SettingReader): RoostSettings {
  const settings: RoostSettings = {};
  for (const key of SERVER_SETTING_KEYS) {
    const value = read(key);
    if (isUnset(value)) {
      continue;
    }
    setNested(settings, key, toJson(key, value));
  }
  return settings;
}

/** `initializationOptions` and `didChangeConfiguration` params both carry this. */
export function roostSection(read: SettingReader): { roost: RoostSettings } {
  return { roost: buildServerSettings(read) };
}

export interface ServerLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** How to start the server: `roost serve --stdio`, or `<python> -P -m roost.lsp.cli serve --stdio`.
 * `-P` (Python 3.11+) keeps the working directory, often the untrusted workspace, off `sys.path`: without it
 * the interpreter would import a workspace folder named `roost/` before any Roost code could prevent it. */
export function serverLaunch(read: SettingReader): ServerLaunch {
  const pythonPath = read("server.pythonPath");
  const command = read("server.command");
  const args = read("server.args");
  const env = read("server.env");
  const serverArgs =
    Array.isArray(args) && args.every((item) => typeof item === "string") && args.length > 0
      ? (args as string[])
      : ["serve", "--stdio"];
  const extraEnv: Record<string, string> = {};
  if (env !== null && typeof env === "object" && !Array.isArray(env)) {
    for (const [name, value] of Object.entries(env as Record<string, unknown>)) {
      if (typeof value === "string") {
        extraEnv[name] = value;
      }
    }
  }
  if (typeof pythonPath === "string" && pythonPath.trim() !== "") {
    return { command: pythonPath.trim(), args: ["-P", "-m", "roost.lsp.cli", ...serverArgs], env: extraEnv };
  }
  const executable = typeof command === "string" && command.trim() !== "" ? command.trim() : "roost";
  return { command: executable, args: serverArgs, env: extraEnv };
}

/** Whether a configuration change touches the way the server is started (then it is restarted). */
export function affectsLaunch(affects: (section: string) => boolean): boolean {
  return CLIENT_SETTING_KEYS.some((key) => affects(`roost.${key}`));
}

/** Whether a configuration change touches a setting the server reads. */
export function affectsServer(affects: (section: string) => boolean): boolean {
  return SERVER_SETTING_KEYS.some((key) => affects(`roost.${key}`));
}
