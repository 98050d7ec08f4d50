"""Security rules for Go. Ids RGO1xx; bandit's scale (HIGH severity at MEDIUM confidence blocks under the
default policy; MEDIUM warns). CyberSecEval has no Go cases: the positives and negatives here and the Go set of
bench/gate_bench.py are written from gosec's rules (G101-G505)."""

from __future__ import annotations

import re

import tree_sitter

from roost.context.checks.rules import (
    HIGH,
    LOW,
    MEDIUM,
    TOKEN_NAME,
    Rule,
    Site,
    Syntax,
    any_arg_user_input,
    calls,
    first_arg_built,
    first_arg_not_literal,
    hard_coded_secret,
    node_text,
    string_value,
)

SYNTAX = Syntax(
    call_types=frozenset({"call_expression"}),
    new_types=frozenset(),
    string_types=frozenset({"interpreted_string_literal", "raw_string_literal"}),
    interpolation_types=frozenset(),
    literal_types=frozenset({"int_literal", "float_literal", "true", "false", "nil", "rune_literal"}),
    binary_types=frozenset({"binary_expression"}),
    comment_types=frozenset({"comment"}),
    format_callee=re.compile(r"^fmt\.Sprint(f|ln)?$|^strings\.(Join|Replace|ReplaceAll)$"),
    user_input=re.compile(
        r"\br\.(URL\.Query\(\)|FormValue|PostFormValue|Form\b|PostForm|URL\.Path|Header\.Get|Body)|"
        r"\.(Query|Param|PostForm|FormValue|DefaultQuery)\(|os\.Args|mux\.Vars\("
    ),
    binding_types=frozenset({"short_var_declaration", "assignment_statement", "var_spec", "const_spec"}),
)
# Heads that make a bare suggestion parse (a statement in a body, a member in a class, a case in a switch).
WRAPPERS = ("func _() {", "var _ = struct{}{", "func _() { switch {")

CALLS = frozenset({"call_expression"})
SQL_TEXT = re.compile(r"(?i)\b(select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|where\s)")
SHELL = re.compile(r"^(/bin/|/usr/bin/)?(sh|bash|zsh|dash|cmd(\.exe)?|powershell(\.exe)?)$")


def _sql_built(site: Site) -> tree_sitter.Node | None:
    # The query is the first argument, or the second after a context (QueryContext(ctx, q, ...)).
    for node in site.args[:2]:
        if site.is_built_string(node) and SQL_TEXT.search(node_text(node)):
            return node
    return None


def _shell_with_variable(site: Site) -> tree_sitter.Node | None:
    offset = 1 if site.callee.endswith("CommandContext") else 0
    program = site.arg(offset)
    if program is None or not SHELL.match(string_value(program)):
        return None
    return next((a for a in site.args[offset + 1 :] if not site.is_literal(a)), None)


def _variable_program(site: Site) -> tree_sitter.Node | None:
    offset = 1 if site.callee.endswith("CommandContext") else 0
    program = site.arg(offset)
    return program if program is not None and not site.is_literal(program) else None


def _skip_verify(site: Site) -> tree_sitter.Node | None:
    key = site.node.child(0)
    value = site.node.named_children[-1] if site.node.named_child_count else None
    if node_text(key) == "InsecureSkipVerify" and node_text(value) == "true":
        return value
    return None


def _old_tls(site: Site) -> tree_sitter.Node | None:
    key = site.node.child(0)
    value = site.node.named_children[-1] if site.node.named_child_count else None
    if node_text(key) == "MinVersion" and re.search(r"tls\.Version(SSL30|TLS10|TLS11)$", node_text(value)):
        return value
    return None


def _math_rand(site: Site) -> tree_sitter.Node | None:
    # crypto/rand shares the package name; its Read, Int (with arguments) and Prime are the secure ones.
    name = site.callee.removeprefix("rand.")
    if name in (
        "Intn",
        "Int63",
        "Int63n",
        "Int31",
        "Int31n",
        "Float64",
        "Float32",
        "Perm",
        "Shuffle",
        "Uint32",
        "Uint64",
        "Seed",
        "NewSource",
        "ExpFloat64",
        "NormFloat64",
        "IntN",
        "N",
        "Int64",
        "Int32",
        "Int64N",
        "Int32N",
        "Uint32N",
        "Uint64N",
        "UintN",
    ):
        return site.arguments_node()
    if name == "Int" and not site.args:
        return site.arguments_node()
    return None


def _token_math_rand(site: Site) -> tree_sitter.Node | None:
    evidence = _math_rand(site)
    return evidence if evidence is not None and TOKEN_NAME.search(site.bound_name()) else None


RULES: tuple[Rule, ...] = (
    Rule(
        "RGO101",
        78,
        HIGH,
        MEDIUM,
        "a shell runs a command built from variables (command injection); run the program with separate arguments",
        CALLS,
        calls(r"^exec\.Command(Context)?$", _shell_with_variable),
        group="exec",
        positives=(
            'cmd := exec.Command("sh", "-c", "ls " + dir)',
            'exec.Command("bash", "-c", script).Run()',
        ),
        negatives=('exec.Command("ls", "-l", dir).Run()', 'exec.Command("sh", "-c", "make all").Run()'),
    ),
    Rule(
        "RGO102",
        78,
        MEDIUM,
        LOW,
        "a command whose program is a variable; make sure users cannot choose it",
        CALLS,
        calls(r"^exec\.Command(Context)?$", _variable_program),
        group="exec",
        positives=("cmd := exec.Command(name, args...)",),
        negatives=('exec.Command("git", "status")',),
    ),
    Rule(
        "RGO103",
        89,
        HIGH,
        MEDIUM,
        "SQL built with fmt.Sprintf or concatenation; use placeholders and arguments",
        CALLS,
        calls(
            r"\.(Query|QueryRow|Exec|QueryContext|QueryRowContext|ExecContext|Prepare|PrepareContext|Raw|"
            r"Select|Get|MustExec|Queryx|QueryRowx)$",
            _sql_built,
        ),
        positives=(
            'rows, err := db.Query("SELECT * FROM users WHERE name = \'" + name + "\'")',
            'db.Exec(fmt.Sprintf("DELETE FROM t WHERE id = %s", id))',
        ),
        negatives=('rows, err := db.Query("SELECT * FROM users WHERE name = ?", name)',),
    ),
    Rule(
        "RGO104",
        328,
        MEDIUM,
        HIGH,
        "MD5/SHA-1 are broken hashes; use crypto/sha256 or better (bcrypt/argon2 for passwords)",
        CALLS,
        calls(r"^(md5|sha1|md4)\.(New|Sum)$"),
        positives=("h := md5.New()", "sum := sha1.Sum(data)"),
        negatives=("h := sha256.New()",),
    ),
    Rule(
        "RGO105",
        327,
        HIGH,
        HIGH,
        "a broken cipher (DES, 3DES, RC4); use AES-GCM or ChaCha20-Poly1305",
        CALLS,
        calls(r"^(des\.(NewCipher|NewTripleDESCipher)|rc4\.NewCipher|blowfish\.NewCipher)$"),
        positives=("block, err := des.NewCipher(key)", "c, _ := rc4.NewCipher(key)"),
        negatives=("block, err := aes.NewCipher(key)",),
    ),
    Rule(
        "RGO106",
        338,
        HIGH,
        MEDIUM,
        "math/rand for a token or secret is predictable; use crypto/rand",
        CALLS,
        calls(r"^rand\.\w+$", _token_math_rand),
        group="rand",
        positives=("token := rand.Int63()", "sessionID := fmt.Sprint(rand.Intn(1000000))"),
        negatives=("_, err := rand.Read(token)",),
    ),
    Rule(
        "RGO107",
        338,
        MEDIUM,
        LOW,
        "math/rand is not a secure random source (crypto/rand is)",
        CALLS,
        calls(r"^rand\.\w+$", _math_rand),
        group="rand",
        positives=("n := rand.Intn(10)", "rand.Seed(time.Now().UnixNano())"),
        negatives=("_, err := rand.Read(b)", "n, err := rand.Int(rand.Reader, max)"),
    ),
    Rule(
        "RGO108",
        295,
        HIGH,
        HIGH,
        "TLS certificate verification disabled (InsecureSkipVerify: true)",
        frozenset({"keyed_element"}),
        _skip_verify,
        positives=("cfg := &tls.Config{InsecureSkipVerify: true}",),
        negatives=("cfg := &tls.Config{MinVersion: tls.VersionTLS12}",),
    ),
    Rule(
        "RGO109",
        295,
        HIGH,
        HIGH,
        "TLS certificate verification disabled",
        frozenset({"assignment_statement"}),
        lambda s: s.node if re.search(r"\.InsecureSkipVerify\s*=\s*true", s.text) else None,
        positives=("cfg.InsecureSkipVerify = true",),
        negatives=("cfg.InsecureSkipVerify = false",),
    ),
    Rule(
        "RGO110",
        327,
        MEDIUM,
        HIGH,
        "TLS below 1.2 allowed; set MinVersion to tls.VersionTLS12 or later",
        frozenset({"keyed_element"}),
        _old_tls,
        positives=("cfg := &tls.Config{MinVersion: tls.VersionTLS10}",),
        negatives=("cfg := &tls.Config{MinVersion: tls.VersionTLS13}",),
    ),
    Rule(
        "RGO111",
        22,
        HIGH,
        MEDIUM,
        "a file path from request input (path traversal); clean it and check it stays in its folder",
        CALLS,
        calls(
            r"^(os\.(Open|OpenFile|ReadFile|WriteFile|Create|Remove|RemoveAll)|ioutil\.(ReadFile|WriteFile)|"
            r"filepath\.Join|path\.Join|http\.ServeFile)$",
            any_arg_user_input,
        ),
        group="path",
        positives=(
            'data, err := os.ReadFile(filepath.Join(root, r.URL.Query().Get("file")))',
            "http.ServeFile(w, r, r.URL.Path[1:])",
        ),
        negatives=('data, err := os.ReadFile(filepath.Join(root, "index.html"))',),
    ),
    Rule(
        "RGO112",
        22,
        MEDIUM,
        LOW,
        "a file opened at a path built from variables; make sure it cannot leave its folder",
        CALLS,
        calls(r"^(os\.(Open|OpenFile|ReadFile|Create)|ioutil\.ReadFile)$", first_arg_built),
        group="path",
        positives=('f, err := os.Open(dir + "/" + name)',),
        negatives=('f, err := os.Open("config.yaml")',),
    ),
    Rule(
        "RGO113",
        918,
        HIGH,
        MEDIUM,
        "a request to a URL from request input (SSRF); check it against an allow-list",
        CALLS,
        calls(
            r"^http\.(Get|Post|Head|PostForm|NewRequest|NewRequestWithContext)$|\.(Get|Post|Head)$",
            any_arg_user_input,
        ),
        positives=('resp, err := http.Get(r.URL.Query().Get("url"))',),
        negatives=('resp, err := http.Get("https://example.com/api")',),
    ),
    Rule(
        "RGO114",
        79,
        MEDIUM,
        MEDIUM,
        "template.HTML/JS/URL of a non-literal value bypasses html/template's escaping (XSS)",
        CALLS,
        calls(r"^template\.(HTML|JS|URL|HTMLAttr|CSS)$", first_arg_not_literal),
        positives=("out := template.HTML(comment)",),
        negatives=('out := template.HTML("<br>")',),
    ),
    Rule(
        "RGO115",
        79,
        HIGH,
        MEDIUM,
        "request input written to the response unescaped (XSS); use html/template",
        CALLS,
        calls(r"^(fmt\.Fprint(f|ln)?|io\.WriteString)$|^w\.Write$", any_arg_user_input),
        positives=('fmt.Fprintf(w, "<p>%s</p>", r.FormValue("name"))',),
        negatives=('fmt.Fprintf(w, "ok")',),
    ),
    Rule(
        "RGO116",
        798,
        MEDIUM,
        MEDIUM,
        "a hard-coded credential; read it from the environment or a secret store",
        frozenset({"short_var_declaration", "assignment_statement", "var_spec", "const_spec"}),
        hard_coded_secret,
        positives=('password := "hunter22"', 'const apiKey = "abcd1234efgh"'),
        negatives=('password := os.Getenv("DB_PASSWORD")', 'passwordLabel := "Password"'),
    ),
    Rule(
        "RGO117",
        502,
        MEDIUM,
        LOW,
        "gob/yaml decoding into an interface{} from the network accepts any registered type",
        CALLS,
        calls(r"^gob\.NewDecoder$", any_arg_user_input),
        positives=("dec := gob.NewDecoder(r.Body)",),
        negatives=("dec := gob.NewDecoder(file)",),
    ),
)
