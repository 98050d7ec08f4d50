#!/usr/bin/env node
// Labels JavaScript/TypeScript retrieval cases with the TypeScript compiler's language service, independently
// of Roost's own resolver (what jedi does for the Python cases of bench/retrieval_bench.py).
//
//   node bench/ts_definitions.js --typescript DIR/node_modules/typescript --root PROJECT --count 150 [--seed 7]
//
// Candidate cursors: the name of a call's callee (`f(`, `obj.f(`), of a `new` (`new C(`, `new ns.C(`) and of
// any other member access (`obj.prop`), whose definition (getDefinitionAtPosition) lies in another source
// file of PROJECT: not in node_modules, not in a .d.ts. Files are taken in a seeded random order, up to 80
// candidate sites tried and 15 cases kept per file, as the Python bench does. Prints a JSON list of cases:
// file, line (0-based), col (UTF-16 units, the start of the name), name, gold_path, gold_line (0-based
// first line of the declaration, modifiers included, leading comments not), gold_text (that line,
// stripped), site (call, new, member) and kind (the language service's kind of the definition).
"use strict";

const fs = require("fs");
const path = require("path");

function parseArgs(argv) {
  const args = { seed: 7, count: 150 };
  for (let i = 2; i < argv.length; i += 2) {
    args[argv[i].replace(/^--/, "")] = argv[i + 1];
  }
  if (!args.typescript || !args.root) {
    throw new Error("usage: --typescript PATH_TO_typescript --root PROJECT [--count N] [--seed S]");
  }
  args.count = Number(args.count);
  args.seed = Number(args.seed);
  return args;
}

// mulberry32: a small seeded generator, so that the same seed picks the same cases on any machine.
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const SOURCE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

function sourceFiles(root) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (SOURCE.test(entry.name) && !/\.d\.(ts|mts|cts)$/.test(entry.name)) found.push(full);
    }
  };
  walk(root);
  return found.sort();
}

// Definitions a completion would need to see: not parameters, locals or type-only aliases.
const KINDS = new Set([
  "function", "class", "method", "property", "getter", "setter", "const", "let", "var", "enum",
  "local function", "constructor",
]);

function candidateSites(ts, sourceFile) {
  const sites = [];
  const visit = (node) => {
    let name = null;
    let site = null;
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = node.expression;
      site = ts.isNewExpression(node) ? "new" : "call";
      if (ts.isIdentifier(callee)) name = callee;
      else if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.name)) name = callee.name;
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.name)) {
      const parent = node.parent;
      const isCallee = parent && (ts.isCallExpression(parent) || ts.isNewExpression(parent)) && parent.expression === node;
      if (!isCallee) {
        name = node.name;
        site = "member";
      }
    }
    if (name !== null) sites.push({ node: name, site });
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return sites;
}

function main() {
  const args = parseArgs(process.argv);
  const ts = require(path.resolve(args.typescript));
  const root = path.resolve(args.root);
  const files = sourceFiles(root);
  const inProject = new Set(files);
  const options = {
    allowJs: true,
    checkJs: false,
    noEmit: true,
    target: ts.ScriptTarget.ESNext,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    jsx: ts.JsxEmit.Preserve,
    skipLibCheck: true,
    types: [],
  };
  const texts = new Map();
  const read = (file) => {
    if (!texts.has(file)) texts.set(file, fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined);
    return texts.get(file);
  };
  const host = {
    getScriptFileNames: () => files,
    getScriptVersion: () => "0",
    getScriptSnapshot: (file) => {
      const text = read(file);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => root,
    getCompilationSettings: () => options,
    getDefaultLibFileName: (opts) => ts.getDefaultLibFilePath(opts),
    fileExists: (file) => fs.existsSync(file),
    readFile: (file) => read(file),
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  const service = ts.createLanguageService(host, ts.createDocumentRegistry());
  const program = service.getProgram();
  const random = seededRandom(args.seed);
  const cases = [];
  for (const file of shuffle(files.slice(), random)) {
    if (cases.length >= args.count) break;
    const sourceFile = program.getSourceFile(file);
    if (!sourceFile) continue;
    const sites = shuffle(candidateSites(ts, sourceFile), random).slice(0, 80);
    let taken = 0;
    for (const { node, site } of sites) {
      if (taken >= 15 || cases.length >= args.count) break;
      const start = node.getStart(sourceFile);
      let found;
      try {
        found = service.getDefinitionAtPosition(file, start) || [];
      } catch (error) {
        continue;
      }
      for (const definition of found) {
        const target = definition.fileName;
        if (target === file || !inProject.has(target) || !KINDS.has(definition.kind)) continue;
        const targetFile = program.getSourceFile(target);
        if (!targetFile) continue;
        const span = definition.contextSpan || definition.textSpan;
        const goldLine = targetFile.getLineAndCharacterOfPosition(span.start).line;
        const position = sourceFile.getLineAndCharacterOfPosition(start);
        cases.push({
          file: path.relative(root, file).split(path.sep).join("/"),
          line: position.line,
          col: position.character,
          name: node.text,
          gold_path: path.relative(root, target).split(path.sep).join("/"),
          gold_line: goldLine,
          gold_text: targetFile.text.split("\n")[goldLine].trim(),
          site,
          kind: definition.kind,
        });
        taken += 1;
        break;
      }
    }
  }
  process.stdout.write(JSON.stringify(cases));
}

main();
