/**
 * Applying LSP text edits to a string, to preview a fix-up proposal as a diff before it is accepted.
 *
 * Pure (no `vscode` import) so the node tests can check it. Positions are LSP positions (UTF-16 code
 * units, which is also how JavaScript strings index).
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface WorkspaceEditLike {
  changes?: { [uri: string]: TextEdit[] };
  documentChanges?: Array<{ textDocument?: { uri: string; version?: number | null }; edits?: TextEdit[]; kind?: string }>;
}

/** Offsets of the start of every line, so positions convert to offsets without re-scanning. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) === 10) {
      starts.push(index + 1);
    }
  }
  return starts;
}

export function offsetAt(text: string, starts: number[], position: Position): number {
  if (position.line < 0 || position.character < 0) {
    throw new RangeError(`negative position ${position.line}:${position.character}`);
  }
  if (position.line >= starts.length) {
    return text.length;
  }
  const lineStart = starts[position.line];
  const nextLineStart = position.line + 1 < starts.length ? starts[position.line + 1] - 1 : text.length;
  // LSP clamps a character past the end of the line to the line's end.
  return Math.min(lineStart + position.character, nextLineStart);
}

/** Applies non-overlapping edits (in any order) and returns the new text; overlapping edits are an error. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const starts = lineStarts(text);
  const spans = edits
    .map((edit, order) => ({
      start: offsetAt(text, starts, edit.range.start),
      end: offsetAt(text, starts, edit.range.end),
      newText: edit.newText,
      order,
    }))
    .sort((a, b) => a.start - b.start || a.end - b.end || a.order - b.order);
  let result = "";
  let cursor = 0;
  for (const span of spans) {
    if (span.end < span.start) {
      throw new RangeError(`edit range ends before it starts (offsets ${span.start}..${span.end})`);
    }
    if (span.start < cursor) {
      throw new RangeError(`overlapping edits at offset ${span.start}`);
    }
    result += text.slice(cursor, span.start) + span.newText;
    cursor = span.end;
  }
  return result + text.slice(cursor);
}

/** The text edits of a WorkspaceEdit grouped by document URI (file create/rename/delete operations are skipped). */
export function editsByUri(edit: WorkspaceEditLike | null | undefined): Map<string, TextEdit[]> {
  const grouped = new Map<string, TextEdit[]>();
  if (!edit) {
    return grouped;
  }
  const add = (uri: string, edits: readonly TextEdit[]): void => {
    grouped.set(uri, [...(grouped.get(uri) ?? []), ...edits]);
  };
  for (const change of edit.documentChanges ?? []) {
    if (change.textDocument && Array.isArray(change.edits)) {
      add(change.textDocument.uri, change.edits);
    }
  }
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    add(uri, edits);
  }
  return grouped;
}
