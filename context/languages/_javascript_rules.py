"""Security rules for JavaScript, and TypeScript through its grammar (the same node types).

Ids RJS1xx; bandit's scale for severity and confidence. HIGH severity at MEDIUM confidence or more blocks under
the default policy, MEDIUM warns: rules that match idioms also written safely (``Math.random()`` for a
colour, a non-literal ``fs`` path) are MEDIUM/LOW so they warn and never block.
"""

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
    first_arg_matches,
    first_arg_not_literal,
    hard_coded_secret,
    node_text,
    string_value,
)

SYNTAX = Syntax(
    call_types=frozenset({"call_expression", "new_expression"}),
    new_types=frozenset({"new_expression"}),
    string_types=frozenset({"string", "template_string"}),
    interpolation_types=frozenset({"template_substitution"}),
    literal_types=frozenset({"number", "true", "false", "null", "undefined", "regex"}),
    binary_types=frozenset({"binary_expression"}),
    comment_types=frozenset({"comment", "html_comment"}),
    format_callee=re.compile(r"(^|\.)(format|concat|join|replace)$"),
    user_input=re.compile(
        r"\breq(uest)?\.(query|body|params|headers|cookies|url)\b|location\.(search|hash|href)|process\.argv"
    ),
    binding_types=frozenset(
        {"variable_declarator", "assignment_expression", "pair", "public_field_definition"}
    ),
)
# Heads that make a bare suggestion parse (a statement in a body, a member in a class, a case in a switch).
WRAPPERS = ("({", "class _ {", "switch (a) {")

CALLS = frozenset({"call_expression", "new_expression"})
ASSIGN = frozenset({"assignment_expression", "augmented_assignment_expression"})
BINDINGS = frozenset({"variable_declarator", "assignment_expression", "pair", "public_field_definition"})

SQL_TEXT = re.compile(r"(?i)\b(select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|where\s)")
SQL_CALLEE = r"(^|\.)(query|execute|exec|raw|run|all|get|prepare|queryRaw|\$queryRawUnsafe|executeSql)$"


def _sql_built(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    if site.is_built_string(node) and SQL_TEXT.search(node_text(node)):
        return node
    return None


def _token_random(site: Site) -> tree_sitter.Node | None:
    return site.node if TOKEN_NAME.search(site.bound_name()) else None


def _string_timer(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    if node is not None and (node.type in SYNTAX.string_types or site.is_built_string(node)):
        return node
    return None


def _spawn_with_shell(site: Site) -> tree_sitter.Node | None:
    return next((a for a in site.args if re.search(r"shell\s*:\s*true", node_text(a))), None)


def _assigned_html(site: Site) -> tree_sitter.Node | None:
    left = site.node.child_by_field_name("left")
    right = site.node.child_by_field_name("right")
    if left is None or not re.search(r"\.(innerHTML|outerHTML)$", node_text(left)):
        return None
    return None if right is None or site.is_literal(right) else right


def _assigned_built_html(site: Site) -> tree_sitter.Node | None:
    evidence = _assigned_html(site)
    right = site.node.child_by_field_name("right")
    return evidence if site.is_built_string(right) else None


def _assigned_user_html(site: Site) -> tree_sitter.Node | None:
    evidence = _assigned_html(site)
    right = site.node.child_by_field_name("right")
    return evidence if site.is_user_input(right) else None


def _tls_off(site: Site) -> tree_sitter.Node | None:
    key = site.node.child_by_field_name("key") or site.node.child_by_field_name("left")
    value = site.node.child_by_field_name("value") or site.node.child_by_field_name("right")
    name = node_text(key).strip("'\"")
    if name.endswith("rejectUnauthorized") and node_text(value) == "false":
        return value
    if name.endswith("NODE_TLS_REJECT_UNAUTHORIZED") and string_value(value) == "0":
        return value
    return None


def _dangerous_html_prop(site: Site) -> tree_sitter.Node | None:
    return site.node if "dangerouslySetInnerHTML" in node_text(site.node.child(0)) else None


def _wildcard_origin(site: Site) -> tree_sitter.Node | None:
    target = site.arg(1)
    return target if target is not None and string_value(target) == "*" else None


_SECRET_OPERAND = re.compile(r"(?i)(token|secret|passw|hash|signature|digest|hmac|api_?key|nonce|otp)\w*$")


def _secret_comparison(site: Site) -> tree_sitter.Node | None:
    operator = site.node.child_by_field_name("operator")
    if operator is None or operator.type not in ("==", "===", "!=", "!=="):
        return None
    for side in ("left", "right"):
        operand = site.node.child_by_field_name(side)
        named = operand is not None and operand.type in ("identifier", "member_expression")
        if named and _SECRET_OPERAND.search(node_text(operand)):
            return site.node
    return None


_FS = (
    r"(^|\.)(fs|fsp|fse|promises)\.(readFile|readFileSync|writeFile|writeFileSync|appendFile|appendFileSync|"
    r"createReadStream|createWriteStream|existsSync|exists|unlink|unlinkSync|readdir|readdirSync|rmSync|rm|"
    r"stat|statSync|lstat|lstatSync|readlink|open|openSync|mkdirSync|copyFile|copyFileSync|rename|renameSync)$"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "RJS101",
        95,
        HIGH,
        MEDIUM,
        "eval() of a built string runs code an attacker can shape",
        CALLS,
        calls(r"(^|\.)eval$", first_arg_not_literal),
        group="eval",
        positives=("eval('(' + str + ')');", "const f = eval(`obj.${name}`);", "x = eval(input);"),
        negatives=("evaluate(input);", "model.evaluate(x);"),
    ),
    Rule(
        "RJS102",
        95,
        MEDIUM,
        MEDIUM,
        "eval() runs a string as code",
        CALLS,
        calls(r"(^|\.)eval$"),
        group="eval",
        positives=("eval('1 + 1');",),
        negatives=("JSON.parse(text);",),
    ),
    Rule(
        "RJS103",
        95,
        HIGH,
        MEDIUM,
        "new Function() compiles a built string into code",
        CALLS,
        calls(r"^(new )?Function$", lambda s: next((a for a in s.args if not s.is_literal(a)), None)),
        group="function",
        positives=("return new Function(expr[1], 'return ' + expr[2]);", "var p = new Function('A', code);"),
        negatives=("const f = function () {};", "class Function2 {}"),
    ),
    Rule(
        "RJS104",
        95,
        MEDIUM,
        LOW,
        "new Function() compiles a string into code",
        CALLS,
        calls(r"^(new )?Function$"),
        group="function",
        positives=("self.onClose = new Function();",),
        negatives=("const f = () => 1;",),
    ),
    Rule(
        "RJS105",
        95,
        HIGH,
        MEDIUM,
        "setTimeout/setInterval with a string argument evaluates it as code",
        CALLS,
        calls(r"(^|\.)(setTimeout|setInterval|setImmediate|execScript)$", _string_timer),
        positives=("setTimeout('run(' + id + ')', 10);",),
        negatives=("setTimeout(() => run(id), 10);",),
    ),
    Rule(
        "RJS106",
        78,
        HIGH,
        MEDIUM,
        "a shell command built from variables (command injection); pass an argument array to execFile/spawn",
        CALLS,
        calls(r"(^|\.)(exec|execSync)$", first_arg_built),
        group="exec",
        positives=("child_process.exec('tar -zcf ' + name, cb);", "cp.execSync(`rm -rf ${dir}`);"),
        negatives=(
            "execFile('tar', ['-zcf', name], cb);",
            "regex.exec(text);",
            "child_process.exec('ls -l', cb);",
        ),
    ),
    Rule(
        "RJS107",
        78,
        MEDIUM,
        MEDIUM,
        "a shell command from a variable (command injection); pass an argument array to execFile/spawn",
        CALLS,
        calls(
            r"(^|\.)(child_process|ChildProcess|cp|childProcess|shell)\.(exec|execSync)$|^(exec|execSync)$",
            first_arg_not_literal,
        ),
        group="exec",
        positives=("child_process.exec(cmd, function () {});", "t.p = ChildProcess.exec(command, cb);"),
        negatives=("pattern.exec(line);", "db.exec(stmt);"),
    ),
    Rule(
        "RJS108",
        78,
        HIGH,
        MEDIUM,
        "spawn/execFile with shell: true runs its command through a shell",
        CALLS,
        calls(r"(^|\.)(spawn|spawnSync|execFile|execFileSync)$", _spawn_with_shell),
        positives=("spawn(cmd, args, { shell: true });",),
        negatives=("spawn('git', ['status']);",),
    ),
    Rule(
        "RJS109",
        95,
        MEDIUM,
        MEDIUM,
        "require() of a computed module path loads code an attacker may choose",
        CALLS,
        calls(r"^require$", first_arg_not_literal),
        positives=("var r = require('./lib/handlers/' + file);", "this.engine = require(value);"),
        negatives=("const fs = require('fs');", "const x = require(`./static`);"),
    ),
    Rule(
        "RJS110",
        89,
        HIGH,
        MEDIUM,
        "SQL built by concatenation or a template; use placeholders and parameters",
        CALLS,
        calls(SQL_CALLEE, _sql_built),
        positives=(
            "db.query('SELECT * FROM users WHERE id = ' + id);",
            "conn.execute(`DELETE FROM t WHERE name = '${name}'`);",
        ),
        negatives=("db.query('SELECT * FROM users WHERE id = ?', [id]);", "app.get('/a/' + b, handler);"),
    ),
    Rule(
        "RJS111",
        328,
        MEDIUM,
        HIGH,
        "MD5/SHA-1 are broken hashes; use SHA-256 or better (bcrypt/scrypt for passwords)",
        CALLS,
        calls(r"(^|\.)(createHash|createHmac)$", first_arg_matches(r"^(md5|md4|sha1|sha-1|ripemd160)$")),
        positives=("crypto.createHash('md5').update(s).digest('hex');", "createHash('sha1');"),
        negatives=("crypto.createHash('sha256');",),
    ),
    Rule(
        "RJS112",
        327,
        HIGH,
        HIGH,
        "a broken cipher or ECB mode (DES, 3DES, RC4, Blowfish, *-ecb); use AES-GCM",
        CALLS,
        calls(
            r"(^|\.)(createCipher|createCipheriv|createDecipher|createDecipheriv)$",
            first_arg_matches(r"(^des|^rc4|^rc2|^bf|blowfish|-ecb$|^aes\d*$)"),
        ),
        positives=("crypto.createCipheriv('des-ede3', key, iv);", "createCipheriv('aes-128-ecb', k, null);"),
        negatives=("crypto.createCipheriv('aes-256-gcm', key, iv);",),
    ),
    Rule(
        "RJS113",
        338,
        HIGH,
        MEDIUM,
        "Math.random() is predictable: use crypto.randomBytes/randomUUID for tokens",
        CALLS,
        calls(r"^Math\.random$", _token_random),
        group="random",
        positives=("const token = Math.random().toString(36).slice(2);",),
        negatives=(
            "const token = crypto.randomBytes(32).toString('hex');",
            "const sessionDelay = Math.random() * 1000;",
        ),
    ),
    Rule(
        "RJS114",
        338,
        MEDIUM,
        LOW,
        "Math.random() is not a secure random source (crypto.getRandomValues/randomBytes are)",
        CALLS,
        calls(r"^Math\.random$"),
        group="random",
        positives=("var r = Math.random() * (max - min) + min << 0;", "if (Math.random() > 0.5) {}"),
        negatives=("const id = crypto.randomUUID();",),
    ),
    Rule(
        "RJS115",
        295,
        HIGH,
        HIGH,
        "TLS certificate verification disabled",
        frozenset({"pair", "assignment_expression"}),
        _tls_off,
        positives=(
            "https.request({ host, rejectUnauthorized: false });",
            "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';",
        ),
        negatives=("https.request({ host, rejectUnauthorized: true });",),
    ),
    Rule(
        "RJS116",
        22,
        HIGH,
        MEDIUM,
        "a file path from request input (path traversal); resolve it and check it stays in its folder",
        CALLS,
        calls(_FS + r"|(^|\.)(sendFile|download|readFile|path\.join|path\.resolve)$", any_arg_user_input),
        group="fs",
        positives=("fs.readFile(req.query.file, cb);", "res.sendFile(path.join(root, req.params.name));"),
        negatives=("fs.readFile(path.join(__dirname, 'a.txt'), cb);",),
    ),
    Rule(
        "RJS117",
        22,
        MEDIUM,
        LOW,
        "a file system call with a non-literal path; make sure it cannot leave its folder",
        CALLS,
        calls(_FS, first_arg_not_literal),
        group="fs",
        positives=("fs.readFileSync(config.dir + '/' + name, 'utf8');", "fs.writeFileSync(appjs, '');"),
        negatives=("fs.readFileSync('./config.json', 'utf8');",),
    ),
    Rule(
        "RJS118",
        502,
        HIGH,
        MEDIUM,
        "deserialising untrusted data can run code (node-serialize, funcster, cryo); parse JSON instead",
        CALLS,
        calls(r"(^|\.)(unserialize|deserialize)$", lambda s: s.arguments_node() if s.args else None),
        positives=("var obj = serialize.unserialize(req.cookies.profile);",),
        negatives=("JSON.parse(text);", "store.load();"),
    ),
    Rule(
        "RJS132",
        502,
        MEDIUM,
        LOW,
        "js-yaml's load before version 4 constructs JavaScript types; use the safe schema (or js-yaml 4)",
        CALLS,
        calls(
            r"^(yaml|jsyaml|jsYaml|YAML)\.(load|loadAll)$",
            lambda s: s.arguments_node() if len(s.args) == 1 else None,
        ),
        positives=("const doc = yaml.load(text);",),
        negatives=("const doc = yaml.load(text, { schema: yaml.FAILSAFE_SCHEMA });", "yaml.safeLoad(text);"),
    ),
    Rule(
        "RJS119",
        798,
        MEDIUM,
        MEDIUM,
        "a hard-coded credential; read it from the environment or a secret store",
        BINDINGS,
        hard_coded_secret,
        positives=(
            "const password = 'hunter22';",
            "config.apiKey = 'abcd1234efgh';",
            "x = { secret: 's3cr3t!!' };",
        ),
        negatives=(
            "const password = process.env.DB_PASSWORD;",
            "const passwordField = 'password';",
            "x = { password: '' };",
            "x = { 'passwordLabel': 'secret123' };",
        ),
    ),
    Rule(
        "RJS120",
        79,
        HIGH,
        MEDIUM,
        "request or URL input written into the page as HTML (XSS); use textContent or escape it",
        ASSIGN,
        _assigned_user_html,
        group="html",
        positives=("el.innerHTML = location.hash.slice(1);", "out.innerHTML = `<p>${req.query.q}</p>`;"),
        negatives=("el.textContent = location.hash;", "el.innerHTML = '';"),
    ),
    Rule(
        # A warning, not a block: templates of numbers and escaped values are common and safe.
        "RJS133",
        79,
        MEDIUM,
        MEDIUM,
        "HTML built from variables written into the page (XSS); use textContent or escape them",
        ASSIGN,
        _assigned_built_html,
        group="html",
        positives=("el.innerHTML = '<b>' + name + '</b>';", "div.innerHTML = `<p>${msg}</p>`;"),
        negatives=("el.textContent = name;", "el.innerHTML = '';"),
    ),
    Rule(
        "RJS121",
        79,
        MEDIUM,
        LOW,
        "a non-literal value written as HTML (XSS); use textContent or sanitise it",
        ASSIGN,
        _assigned_html,
        group="html",
        positives=("el.innerHTML = html;",),
        negatives=("el.innerHTML = '<br>';",),
    ),
    Rule(
        "RJS122",
        79,
        MEDIUM,
        MEDIUM,
        "document.write/insertAdjacentHTML with a non-literal value (XSS)",
        CALLS,
        calls(
            r"^document\.(write|writeln)$|(^|\.)insertAdjacentHTML$",
            lambda s: next((a for a in s.args if not s.is_literal(a)), None),
        ),
        positives=("document.write('<p>' + msg + '</p>');", "el.insertAdjacentHTML('beforeend', html);"),
        negatives=("document.write('<br>');",),
    ),
    Rule(
        "RJS123",
        79,
        MEDIUM,
        LOW,
        "dangerouslySetInnerHTML bypasses React's escaping (XSS)",
        frozenset({"jsx_attribute", "pair"}),
        _dangerous_html_prop,
        positives=("const p = { dangerouslySetInnerHTML: { __html: html } };",),
        negatives=("const p = { className: 'x' };",),
    ),
    Rule(
        "RJS124",
        918,
        HIGH,
        MEDIUM,
        "a request to a URL taken from request input (SSRF); check it against an allow-list",
        CALLS,
        calls(
            r"^(fetch|axios|got|request|needle|superagent)$|^(axios|got|request|http|https|needle|superagent)"
            r"\.(get|post|put|delete|request|head|patch)$",
            any_arg_user_input,
        ),
        positives=("fetch(req.query.url);", "axios.get(req.body.target).then(r => r.data);"),
        negatives=("fetch('/api/items');", "axios.get(API_URL + '/items');"),
    ),
    Rule(
        "RJS125",
        319,
        MEDIUM,
        LOW,
        "a request over plain http://; use https",
        CALLS,
        calls(
            r"^(fetch|axios|got)$|^(axios|http|got)\.(get|post|request)$",
            lambda s: (
                s.arg(0)
                if string_value(s.arg(0)).startswith("http://")
                and not re.match(r"http://(localhost|127\.0\.0\.1)", string_value(s.arg(0)))
                else None
            ),
        ),
        positives=("fetch('http://gank.io/api/data/1');",),
        negatives=("fetch('https://example.com/a');",),
    ),
    Rule(
        "RJS126",
        185,
        MEDIUM,
        LOW,
        "a regular expression built at run time (ReDoS, injection); escape or bound it",
        CALLS,
        calls(r"^(new )?RegExp$", first_arg_not_literal),
        positives=("s.replace(new RegExp('^' + original.path), t);", "RegExp(sep, 'g');"),
        negatives=("new RegExp('^a+$');", "/^a+$/.test(s);"),
    ),
    Rule(
        "RJS127",
        345,
        MEDIUM,
        MEDIUM,
        "postMessage to any origin ('*'); name the target origin",
        CALLS,
        calls(r"(^|\.)postMessage$", _wildcard_origin),
        positives=("window.parent.postMessage(data, '*');",),
        negatives=("window.parent.postMessage(data, 'https://app.example');",),
    ),
    Rule(
        "RJS128",
        770,
        MEDIUM,
        LOW,
        "new Buffer() is deprecated and unsafe; use Buffer.from/Buffer.alloc",
        CALLS,
        calls(r"^(new )?Buffer$"),
        positives=("return new Buffer(subject, encoding);",),
        negatives=("Buffer.from(subject, 'utf8');",),
    ),
    Rule(
        "RJS129",
        908,
        MEDIUM,
        LOW,
        "Buffer.allocUnsafe() returns uninitialised memory; use Buffer.alloc",
        CALLS,
        calls(r"^Buffer\.allocUnsafe(Slow)?$"),
        positives=("var buffer = Buffer.allocUnsafe(length);",),
        negatives=("var b = Buffer.alloc(length);",),
    ),
    Rule(
        "RJS130",
        208,
        MEDIUM,
        LOW,
        "a secret compared with ==/!= (timing attack); use crypto.timingSafeEqual",
        frozenset({"binary_expression"}),
        _secret_comparison,
        positives=("if (token == expected) {}", "if (secret !== ReactPropTypesSecret) {}"),
        negatives=("if (count == 3) {}", "if (crypto.timingSafeEqual(a, b)) {}"),
    ),
    Rule(
        "RJS131",
        119,
        MEDIUM,
        LOW,
        "Buffer read/write with noAssert skips bounds checks",
        CALLS,
        calls(
            r"\.(read|write)(U?Int(8|16|32)|Float|Double)(BE|LE)?$",
            lambda s: s.args[-1] if s.args and node_text(s.args[-1]) == "true" else None,
        ),
        positives=("buffer.readUInt16BE(offset, true);",),
        negatives=("buffer.readUInt16BE(offset);",),
    ),
)
