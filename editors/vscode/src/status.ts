/**
 * What the status-bar item shows for a `roost/status` notification.
 *
 * Pure (no `vscode` import) so the node tests can check it; `extension.ts` puts it on the item.
 */

/** `degraded`: the model backend is loaded but failing (HTTP error, timeout …); it recovers by itself. */
export type ServerState = "starting" | "indexing" | "loading_model" | "ready" | "degraded" | "error";

export interface StatusParams {
  state: ServerState;
  message?: string;
  percentage?: number | null;
}

export interface StatusPresentation {
  /** Status-bar text with codicons, e.g. `$(sync~spin) Roost: indexing 42%`. */
  text: string;
  tooltip: string;
  /** Errors get the error background so they are noticed; clicking opens the log either way. */
  isError: boolean;
  /** A degraded backend gets the warning background: completions fail until it answers again. */
  isWarning?: boolean;
}

const KNOWN_STATES: ReadonlySet<string> = new Set([
  "starting",
  "indexing",
  "loading_model",
  "ready",
  "degraded",
  "error",
]);

/** Validates a notification's params; a malformed one is reported as such rather than dropped. */
export function parseStatus(params: unknown): StatusParams {
  if (params === null || typeof params !== "object") {
    return { state: "error", message: `malformed roost/status notification: ${JSON.stringify(params)}` };
  }
  const raw = params as Record<string, unknown>;
  const state = typeof raw.state === "string" && KNOWN_STATES.has(raw.state) ? (raw.state as ServerState) : undefined;
  if (state === undefined) {
    return { state: "error", message: `unknown server state ${JSON.stringify(raw.state)}` };
  }
  const message = typeof raw.message === "string" ? raw.message : "";
  const percentage =
    typeof raw.percentage === "number" && Number.isFinite(raw.percentage)
      ? Math.max(0, Math.min(100, Math.round(raw.percentage)))
      : null;
  return { state, message, percentage };
}

export function presentStatus(status: StatusParams): StatusPresentation {
  const detail = status.message ? status.message : "";
  const clickHint = "Click to show the Roost log.";
  const tooltip = (headline: string): string => [headline, detail, clickHint].filter((line) => line !== "").join("\n");
  switch (status.state) {
    case "starting":
      return { text: "$(loading~spin) Roost: starting", tooltip: tooltip("Roost server is starting."), isError: false };
    case "indexing": {
      const percent = status.percentage === null || status.percentage === undefined ? "" : ` ${status.percentage}%`;
      return {
        text: `$(sync~spin) Roost: indexing${percent}`,
        tooltip: tooltip("Roost is indexing the workspace."),
        isError: false,
      };
    }
    case "loading_model":
      return {
        text: "$(loading~spin) Roost: loading model",
        tooltip: tooltip("Roost is loading the model."),
        isError: false,
      };
    case "ready":
      return { text: "$(check) Roost", tooltip: tooltip("Roost is ready."), isError: false };
    case "degraded":
      return {
        text: "$(warning) Roost: degraded",
        tooltip: tooltip("The model backend is failing; Roost recovers when it answers again."),
        isError: false,
        isWarning: true,
      };
    case "error":
      return { text: "$(error) Roost: error", tooltip: tooltip("Roost cannot serve completions."), isError: true };
  }
}
