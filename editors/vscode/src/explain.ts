/**
 * "Why no suggestion / what it used": renders the server's `roost/explainCompletion` answer as Markdown —
 * the verdict and its reason, the server's state, the context snippets the prompt used and the stage timings.
 *
 * Pure (no `vscode` import) so the node tests can check it; `extension.ts` asks the server and opens the text.
 */

export type Verdict =
  | "offered"
  | "nothing_yet"
  | "loading"
  | "refused"
  | "blocked"
  | "backend_down"
  | "degraded"
  | "empty"
  | "error";

export interface ContextSnippet {
  path: string;
  start_line: number;
  end_line: number;
  kind: string;
  reason: string;
  tokens: number;
}

export interface CompletionExplanation {
  verdict: Verdict | string;
  reason: string;
  state: string;
  state_message: string;
  last: {
    source?: string;
    texts?: string[];
    timings_ms?: Record<string, number>;
    context?: ContextSnippet[];
  } | null;
}

export const HEADLINES: Record<Verdict, string> = {
  offered: "Suggestion offered",
  nothing_yet: "No suggestion asked for yet",
  loading: "Roost is still loading",
  refused: "Roost does not complete in this file",
  blocked: "The security gate blocked the suggestion",
  backend_down: "The model backend is down",
  degraded: "The model backend is failing",
  empty: "The model had nothing to suggest",
  error: "The completion failed",
};

/** Validates the server's answer; a malformed one becomes an "error" explanation saying so. */
export function parseExplanation(value: unknown): CompletionExplanation {
  if (value === null || typeof value !== "object" || typeof (value as { verdict?: unknown }).verdict !== "string") {
    return {
      verdict: "error",
      reason: `the server sent no explanation (${JSON.stringify(value)})`,
      state: "unknown",
      state_message: "",
      last: null,
    };
  }
  const raw = value as Record<string, unknown>;
  const text = (key: string): string => (typeof raw[key] === "string" ? (raw[key] as string) : "");
  const last = raw.last !== null && typeof raw.last === "object" ? (raw.last as CompletionExplanation["last"]) : null;
  return { verdict: text("verdict"), reason: text("reason"), state: text("state"), state_message: text("state_message"), last };
}

/**
 * The Markdown view. `switchNote` is the extension's own reason when it kept the request from the server
 * (toggled off, snoozed): then the server's last answer is older than what the user sees.
 */
export function explanationMarkdown(explanation: CompletionExplanation, switchNote?: string): string {
  const headline = HEADLINES[explanation.verdict as Verdict] ?? explanation.verdict;
  const lines = [`# Roost: ${headline}`, ""];
  if (switchNote) {
    lines.push(`**${switchNote}** The server is not asked while suggestions are off.`, "");
  }
  lines.push(`- Verdict: \`${explanation.verdict}\` — ${explanation.reason}`);
  lines.push(`- Server: \`${explanation.state}\`${explanation.state_message ? ` — ${explanation.state_message}` : ""}`);
  const last = explanation.last;
  if (last?.texts && last.texts.length > 0) {
    lines.push("", `## Suggestions (${last.source ?? "?"})`, "");
    for (const text of last.texts) {
      lines.push("```", text, "```");
    }
  }
  if (last?.context && last.context.length > 0) {
    lines.push("", "## Context used", "", "| file | lines | kind | why | tokens |", "| --- | --- | --- | --- | --- |");
    for (const item of last.context) {
      lines.push(`| ${item.path} | ${item.start_line + 1}–${item.end_line + 1} | ${item.kind} | ${item.reason} | ${item.tokens} |`);
    }
  }
  if (last?.timings_ms && Object.keys(last.timings_ms).length > 0) {
    const stages = Object.keys(last.timings_ms).sort();
    lines.push("", "## Timings", "", stages.map((stage) => `${stage} ${Math.round(last.timings_ms![stage])} ms`).join(", "));
  }
  return lines.join("\n") + "\n";
}
