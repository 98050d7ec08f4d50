"""Security rules for Rust. Ids RRS1xx; bandit's scale (HIGH severity at MEDIUM confidence blocks under the
default policy; MEDIUM warns). Rust has no eval and its usual deserialisers do not run code, so injection
here is a shell command, SQL text, or a decision made on what the caller of the program controls."""

from __future__ import annotations

import re

import tree_sitter

from roost.context.checks.rules import (
    HIGH,
    LOW,
    MEDIUM,
    Check,
    Rule,
    Site,
    Syntax,
    calls,
    first_arg_built,
    first_arg_not_literal,
    hard_coded_secret,
    node_text,
    string_value,
)

SYNTAX = Syntax(
    call_types=frozenset({"call_expression", "macro_invocation"}),
    new_types=frozenset(),
    string_types=frozenset({"string_literal", "raw_string_literal"}),
    interpolation_types=frozenset(),
    literal_types=frozenset({"integer_literal", "float_literal", "boolean_literal", "char_literal"}),
    binary_types=frozenset({"binary_expression"}),
    comment_types=frozenset({"line_comment", "block_comment"}),
    format_callee=re.compile(r"^(std::)?format!$|(^|\.)(to_owned|to_string|push_str|concat|join)$"),
    user_input=re.compile(r"env::args|args_os|env::var|stdin\(\)|Query<|Form<|Path<|req\.(param|query|uri)"),
    binding_types=frozenset({"let_declaration", "assignment_expression", "const_item", "static_item"}),
)
TERMINATOR = ";"
# A ``'`` starts a lifetime as often as a char literal: only ``"`` opens a string when cut-off code is closed.
QUOTES = '"'
# Heads that make a bare suggestion parse (a statement in a body, an arm in a match, a field, a variant).
WRAPPERS = ("fn _() {", "fn _() { match a {", "struct _ {", "enum _ {")

CALLS = frozenset({"call_expression"})
SHELL = re.compile(r"^(/bin/|/usr/bin/)?(sh|bash|zsh|dash|cmd(\.exe)?|powershell(\.exe)?|pwsh)$")


def _statement_text(node: tree_sitter.Node) -> str:
    """The text of the whole method chain a call belongs to (``Command::new("sh").arg("-c").arg(x)``)."""
    top = node
    while top.parent is not None and top.parent.type in ("call_expression", "field_expression", "arguments"):
        if top.parent.type == "arguments":
            break
        top = top.parent
    return node_text(top)


def _shell_command(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    return node if node is not None and SHELL.match(string_value(node)) else None


def _shell_command_built(site: Site) -> tree_sitter.Node | None:
    evidence = _shell_command(site)
    if evidence is None:
        return None
    chain = _statement_text(site.node)
    # An argument that is not a string literal: ``.arg(cmd)``, ``.arg(format!(..))``, ``.args(["-c", &cmd])``.
    return evidence if re.search(r"format!|&\s*[a-z_]|\.args?\(\s*[a-z_]", chain) else None


def _true_or_variable(literal: bool) -> Check:
    def check(site: Site) -> tree_sitter.Node | None:
        node = site.arg(0)
        if node is None:
            return None
        is_true = node_text(node) == "true"
        return node if is_true == literal and node_text(node) != "false" else None

    return check


_ENVIRONMENT_CALL = r"(^|::)(env::(args|args_os|current_exe|temp_dir)|os::args|args_os)"
_ENVIRONMENT_CALLEE = re.compile(_ENVIRONMENT_CALL + "$")
# Inside a macro's token tree there are no call nodes: ``println!("{:?}", env::args())`` is read as text.
_ENVIRONMENT_IN_MACRO = re.compile(r"(^|\W)" + _ENVIRONMENT_CALL.removeprefix("(^|::)") + r"\s*\(")


def _untrusted_environment(site: Site) -> tree_sitter.Node | None:
    if site.node.type == "macro_invocation":
        tree = site.arg(0)
        return tree if tree is not None and _ENVIRONMENT_IN_MACRO.search(node_text(tree)) else None
    return site.arguments_node() if _ENVIRONMENT_CALLEE.search(site.callee) else None


RULES: tuple[Rule, ...] = (
    Rule(
        "RRS101",
        78,
        HIGH,
        MEDIUM,
        "a command run through a shell with a built argument (command injection); run the program with .arg()s",
        CALLS,
        calls(r"(^|::)Command::new$", _shell_command_built),
        group="command",
        positives=(
            'Command::new("sh").arg("-c").arg(format!("ls {}", dir)).output();',
            'let out = Command::new("bash").args(["-c", &cmd]).output();',
        ),
        negatives=('Command::new("ls").arg(dir).output();',),
    ),
    Rule(
        "RRS102",
        78,
        MEDIUM,
        MEDIUM,
        "a command run through a shell; run the program directly with .arg()s",
        CALLS,
        calls(r"(^|::)Command::new$", _shell_command),
        group="command",
        positives=('Command::new("sh").arg("-c").arg("make all").status();',),
        negatives=('Command::new("make").arg("all").status();',),
    ),
    Rule(
        "RRS103",
        78,
        MEDIUM,
        LOW,
        "a command whose program is a variable; make sure users cannot choose it",
        CALLS,
        calls(r"(^|::)Command::new$", first_arg_not_literal),
        group="command",
        positives=("let cmd = Arc::new(Command::new(f));", "match Command::new(m).arg(path).status() {}"),
        negatives=('Command::new("git").arg("status");',),
    ),
    Rule(
        "RRS104",
        676,
        MEDIUM,
        LOW,
        "an unsafe block: memory safety is no longer checked here",
        frozenset({"unsafe_block"}),
        lambda s: s.node.child(0) if s.node.child(0) is not None else s.node,
        positives=("unsafe { libc::exit(0); }",),
        negatives=("let safe = 1;",),
    ),
    Rule(
        "RRS105",
        676,
        MEDIUM,
        LOW,
        "an unsafe function: its callers must uphold what the compiler cannot check",
        frozenset({"function_modifiers"}),
        lambda s: s.node if "unsafe" in s.text else None,
        positives=("unsafe fn raw(p: *const u8) -> u8 { *p }",),
        negatives=("fn raw(p: &u8) -> u8 { *p }",),
    ),
    Rule(
        "RRS106",
        807,
        MEDIUM,
        LOW,
        "program arguments, the executable's path and the temp dir are attacker-controlled; validate before a security decision",
        CALLS | frozenset({"macro_invocation"}),
        _untrusted_environment,
        positives=(
            "let args: Vec<String> = env::args().collect();",
            "let mut path = env::current_exe()?;",
            "let dir = std::env::temp_dir();",
            'println!("{:?}", std::env::args().collect::<Vec<_>>());',
            "let mut args = uucore::args_os();",
        ),
        negatives=('let home = env::var("HOME");', "let args = parse_args();", 'println!("{}", args.len());'),
    ),
    Rule(
        "RRS107",
        328,
        MEDIUM,
        HIGH,
        "MD5/SHA-1 are broken hashes; use SHA-256 or better (argon2 for passwords)",
        CALLS,
        calls(
            r"(^|::)(Md5|Md4|Sha1|Sha1Core)::(new|default|digest|new_with_prefix)$|(^|::)(md5|md4|sha1)::"
            r"(compute|digest)$|(^|::)md5$|^Hmac::<(Md5|Sha1)>|MessageDigest::(md5|sha1)$"
        ),
        positives=("let mut hasher = Md5::new();", "let d = md5::compute(data);", "let mut h = Sha1::new();"),
        negatives=("let mut hasher = Sha256::new();",),
    ),
    Rule(
        "RRS108",
        327,
        HIGH,
        HIGH,
        "a broken cipher or ECB mode (DES, 3DES, RC4, ECB); use an AEAD such as AES-GCM or ChaCha20-Poly1305",
        CALLS,
        calls(
            r"(^|::)(Des|TdesEde3|TdesEde2|Rc4|Blowfish)::new(_from_slice)?$|Cipher::(des_\w+|rc4|bf_\w+|"
            r"aes_\d+_ecb)$|(^|::)Ecb(Encryptor|Decryptor)?(::<.*>)?::new$"
        ),
        positives=("let c = Cipher::aes_128_ecb();", "let cipher = Des::new(&key);"),
        negatives=("let c = Cipher::aes_256_gcm();",),
    ),
    Rule(
        "RRS109",
        295,
        HIGH,
        HIGH,
        "TLS certificate or host name verification disabled",
        CALLS,
        calls(
            r"\.(danger_accept_invalid_certs|danger_accept_invalid_hostnames|accept_invalid_certs|"
            r"accept_invalid_hostnames)$",
            _true_or_variable(True),
        ),
        group="tls",
        positives=("builder.danger_accept_invalid_certs(true);",),
        negatives=("builder.danger_accept_invalid_certs(false);",),
    ),
    Rule(
        "RRS110",
        295,
        MEDIUM,
        MEDIUM,
        "TLS verification that a setting can turn off; keep it on outside tests",
        CALLS,
        calls(r"\.(danger_accept_invalid_certs|danger_accept_invalid_hostnames)$", _true_or_variable(False)),
        group="tls",
        positives=("builder.danger_accept_invalid_certs(options.insecure);",),
        negatives=("builder.danger_accept_invalid_certs(false);",),
    ),
    Rule(
        "RRS111",
        295,
        HIGH,
        HIGH,
        "TLS peer verification disabled (SslVerifyMode::NONE)",
        CALLS,
        calls(r"\.set_verify(_callback)?$", lambda s: s.arg(0) if "NONE" in node_text(s.arg(0)) else None),
        positives=("builder.set_verify(SslVerifyMode::NONE);",),
        negatives=("builder.set_verify(SslVerifyMode::PEER);",),
    ),
    Rule(
        "RRS112",
        89,
        HIGH,
        MEDIUM,
        "SQL built with format!/concatenation; bind parameters instead",
        CALLS,
        calls(
            r"(^|::|\.)(sql_query|query|execute|query_as|query_scalar|prepare|query_row|query_map|"
            r"batch_execute|execute_batch|raw_sql)$",
            first_arg_built,
        ),
        positives=(
            'sql_query(format!("SELECT * FROM t WHERE id = {}", id))',
            "conn.execute(&format!(\"DELETE FROM t WHERE name = '{}'\", name), [])?;",
        ),
        negatives=('conn.execute("DELETE FROM t WHERE name = ?1", [name])?;',),
    ),
    Rule(
        "RRS113",
        798,
        MEDIUM,
        MEDIUM,
        "a hard-coded credential; read it from the environment or a secret store",
        frozenset({"let_declaration", "const_item", "static_item", "assignment_expression"}),
        hard_coded_secret,
        positives=('let password = "hunter22";', 'const API_KEY: &str = "abcd1234efgh";'),
        negatives=('let password = env::var("DB_PASSWORD")?;', 'let password_prompt = "Password";'),
    ),
    Rule(
        "RRS114",
        22,
        MEDIUM,
        LOW,
        "a file path built from variables (path traversal); canonicalize it and check its folder",
        CALLS,
        calls(
            r"(^|::)(File::open|File::create|fs::\w+|Path::new|PathBuf::from)$|\.join$",
            lambda s: next((a for a in s.args if s.is_built_string(a) or s.is_user_input(a)), None),
        ),
        positives=('let f = File::open(format!("{}/{}", root, name))?;',),
        negatives=('let f = File::open("config.toml")?;', 'let p = root.join("static");'),
    ),
    Rule(
        "RRS115",
        918,
        MEDIUM,
        LOW,
        "a request to a URL built from variables (SSRF); check it against an allow-list",
        CALLS,
        calls(
            r"(^|::)reqwest::(blocking::)?get$|\.(get|post|put|delete|request)$",
            lambda s: s.arg(0) if s.is_built_string(s.arg(0)) and "http" in node_text(s.arg(0)) else None,
        ),
        positives=('let r = reqwest::get(format!("http://{}/x", host)).await?;',),
        negatives=('let r = reqwest::get("https://example.com").await?;', "let v = map.get(&key);"),
    ),
)
