"""Security rules for Java. Ids RJV1xx; bandit's scale for severity and confidence (HIGH severity at MEDIUM
confidence blocks under the default policy; MEDIUM warns: rules that also match safe idioms warn only)."""

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
    call_types=frozenset({"method_invocation", "object_creation_expression"}),
    new_types=frozenset({"object_creation_expression"}),
    string_types=frozenset({"string_literal", "text_block"}),
    interpolation_types=frozenset(),
    literal_types=frozenset(
        {
            "decimal_integer_literal",
            "hex_integer_literal",
            "decimal_floating_point_literal",
            "true",
            "false",
            "null_literal",
            "character_literal",
        }
    ),
    binary_types=frozenset({"binary_expression"}),
    comment_types=frozenset({"line_comment", "block_comment"}),
    format_callee=re.compile(r"^String\.(format|join|valueOf)$|\.(formatted|concat|toString)$"),
    user_input=re.compile(
        r"\.(getParameter|getHeader|getQueryString|getInputStream|getReader|getCookies|"
        r"getPathInfo|getRequestURI)\(|@RequestParam"
    ),
    binding_types=frozenset({"variable_declarator", "assignment_expression"}),
)
TERMINATOR = ";"
# Heads that make a bare suggestion parse (a statement in a body, a member in a class, a case in a switch).
WRAPPERS = ("class _ { void _() {", "class _ {", "class _ { void _() { switch (a) {")

CALLS = frozenset({"method_invocation", "object_creation_expression"})
INVOKE = frozenset({"method_invocation"})
NEW = frozenset({"object_creation_expression"})
BINDINGS = frozenset({"variable_declarator", "assignment_expression"})
SQL_TEXT = re.compile(r"(?i)\b(select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|where\s)")


def _sql_built(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    if site.is_built_string(node) and SQL_TEXT.search(node_text(node)):
        return node
    return None


def _any_built_arg(site: Site) -> tree_sitter.Node | None:
    return next((a for a in site.args if site.is_built_string(a)), None)


def _shell_builder(site: Site) -> tree_sitter.Node | None:
    texts = [string_value(a) for a in site.args]
    if (
        len(texts) >= 2
        and re.search(r"(^|/)(sh|bash|zsh|cmd(\.exe)?|powershell)$", texts[0])
        and texts[1]
        in (
            "-c",
            "/c",
            "/C",
        )
    ):
        return next((a for a in site.args[2:] if not site.is_literal(a)), None)
    return _any_built_arg(site)


_WEAK_CIPHER = r"^(DES|DESede|TripleDES|RC4|RC2|ARCFOUR|Blowfish)(/.*)?$|^AES$|/ECB/"
_WEAK_CIPHER_EXCEPT = re.compile(r"^RSA/ECB/OAEP", re.IGNORECASE)


def _weak_cipher(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    value = string_value(node)
    if node is None or _WEAK_CIPHER_EXCEPT.match(value):
        return None
    if re.search(_WEAK_CIPHER, value, re.IGNORECASE) and not value.upper().startswith("RSA/ECB/PKCS1"):
        return node
    return None


def _unauthenticated_cipher(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    value = string_value(node).upper()
    if re.match(r"^(AES|DES|DESEDE|BLOWFISH)/(CBC|CTR|CFB\d*|OFB)/", value) or value.startswith(
        "RSA/ECB/PKCS1"
    ):
        return node
    return None


_RANDOM_RECEIVER = re.compile(r"(?i)(^|[.(])(r|rnd|rng|generator|\w*rand\w*)\)?$")


def _weak_random_call(site: Site) -> tree_sitter.Node | None:
    receiver = site.node.child_by_field_name("object")
    text = node_text(receiver)
    if receiver is None or "secure" in text.lower() or "threadlocalrandom" in text.lower():
        return None
    if receiver.type == "object_creation_expression":
        return site.node if node_text(receiver.child_by_field_name("type")) == "Random" else None
    return site.node if _RANDOM_RECEIVER.search(text) else None


def _token_random(site: Site) -> tree_sitter.Node | None:
    weak = (
        site.callee in ("new Random", "new java.util.Random", "Math.random")
        if site.node.type == "object_creation_expression" or site.callee == "Math.random"
        else _weak_random_call(site) is not None
    )
    if not weak:
        return None
    return site.node if TOKEN_NAME.search(site.bound_name()) else None


def _servlet_writer(site: Site) -> tree_sitter.Node | None:
    receiver = node_text(site.node.child_by_field_name("object"))
    if "System.out" in receiver or "System.err" in receiver:
        return None
    if (
        "getWriter()" in receiver
        or "getOutputStream()" in receiver
        or re.search(r"(?i)(writer|^out)$", receiver)
    ):
        return _any_built_arg(site) or any_arg_user_input(site)
    return None


def _xml_parse(site: Site) -> tree_sitter.Node | None:
    receiver = node_text(site.node.child_by_field_name("object"))
    return (
        site.arguments_node()
        if re.search(r"(?i)(parser|reader|^p$|saxparser|xmlreader)$", receiver)
        else None
    )


def _thread_misuse(site: Site) -> tree_sitter.Node | None:
    receiver = node_text(site.node.child_by_field_name("object"))
    return site.node if re.search(r"(?i)thread$", receiver) else None


def _true_arg(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    return node if node_text(node) == "true" else None


def _literal_password(site: Site) -> tree_sitter.Node | None:
    """``getConnection(url, user, password)`` whose password is a non-empty string literal."""
    password = site.arg(2)
    if password is not None and password.type == "string_literal" and string_value(password):
        return password
    return None


def _world_mode(site: Site) -> tree_sitter.Node | None:
    return site.node if re.search(r"MODE_WORLD_(READABLE|WRITEABLE)", site.text) else None


RULES: tuple[Rule, ...] = (
    Rule(
        "RJV101",
        78,
        HIGH,
        MEDIUM,
        "Runtime.exec with a built command (command injection); use ProcessBuilder with an argument list",
        INVOKE,
        calls(r"Runtime\.getRuntime\(\)\.exec$|(^|\.)runtime\.exec$", _any_built_arg),
        group="exec",
        positives=('Runtime.getRuntime().exec("ping " + host);',),
        negatives=('new ProcessBuilder("ping", host).start();',),
    ),
    Rule(
        "RJV102",
        78,
        MEDIUM,
        MEDIUM,
        "Runtime.exec runs a command line split on spaces (command injection); use ProcessBuilder with an argument list",
        INVOKE,
        calls(r"Runtime\.getRuntime\(\)\.exec$|(^|\.)runtime\.exec$"),
        group="exec",
        positives=("p = Runtime.getRuntime().exec(bashCommand);", 'Runtime.getRuntime().exec("su");'),
        negatives=("executor.execute(task);",),
    ),
    Rule(
        "RJV103",
        78,
        HIGH,
        MEDIUM,
        "ProcessBuilder with a shell and a non-literal command, or a built command",
        NEW | INVOKE,
        calls(r"^new ProcessBuilder$|(^|\.)command$", _shell_builder),
        positives=('new ProcessBuilder("sh", "-c", cmd).start();', 'new ProcessBuilder("ls " + dir);'),
        negatives=('new ProcessBuilder("ls", dir).start();',),
    ),
    Rule(
        "RJV104",
        89,
        HIGH,
        MEDIUM,
        "SQL built by concatenation or formatting; use a PreparedStatement with ? parameters",
        INVOKE,
        calls(
            r"(^|\.)(executeQuery|executeUpdate|execute|executeLargeUpdate|addBatch|prepareStatement|"
            r"prepareCall|createQuery|createNativeQuery|queryForObject|queryForList|query|update)$",
            _sql_built,
        ),
        positives=(
            'stmt.executeQuery("SELECT * FROM users WHERE name = \'" + name + "\'");',
            'jdbc.queryForList(String.format("SELECT * FROM t WHERE id = %s", id));',
        ),
        negatives=('conn.prepareStatement("SELECT * FROM users WHERE name = ?");',),
    ),
    Rule(
        "RJV105",
        328,
        MEDIUM,
        HIGH,
        "MD5/SHA-1 are broken hashes; use SHA-256 or better (a password hash for passwords)",
        INVOKE,
        calls(r"(^|\.)MessageDigest\.getInstance$", first_arg_matches(r"^(MD2|MD4|MD5|SHA-?1|SHA)$")),
        group="hash",
        positives=(
            'MessageDigest md = MessageDigest.getInstance("MD5");',
            'MessageDigest.getInstance("SHA-1");',
        ),
        negatives=('MessageDigest.getInstance("SHA-256");',),
    ),
    Rule(
        "RJV106",
        328,
        MEDIUM,
        HIGH,
        "MD5/SHA-1 are broken hashes; use SHA-256 or better",
        INVOKE,
        calls(r"(^|\.)(md5|md5Hex|md2|md2Hex|sha1|shaHex|sha1Hex|DigestUtils\.sha)$"),
        positives=("return DigestUtils.md5Hex(value);", "Hashing.md5().hashString(s, UTF_8);"),
        negatives=("DigestUtils.sha256Hex(value);",),
    ),
    Rule(
        "RJV107",
        327,
        HIGH,
        HIGH,
        'a broken cipher or ECB mode (DES, 3DES, RC4, Blowfish, bare "AES" is AES/ECB); use AES/GCM/NoPadding',
        INVOKE,
        calls(r"(^|\.)Cipher\.getInstance$", _weak_cipher),
        group="cipher",
        positives=(
            'Cipher c = Cipher.getInstance("AES");',
            'Cipher.getInstance("DES/CBC/PKCS5Padding");',
            'Cipher.getInstance("AES/ECB/PKCS5Padding");',
        ),
        negatives=(
            'Cipher.getInstance("AES/GCM/NoPadding");',
            'Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");',
        ),
    ),
    Rule(
        "RJV108",
        327,
        MEDIUM,
        LOW,
        "an unauthenticated cipher mode or PKCS#1 v1.5 padding (padding oracles); prefer AES/GCM or RSA-OAEP",
        INVOKE,
        calls(r"(^|\.)Cipher\.getInstance$", _unauthenticated_cipher),
        group="cipher",
        positives=(
            'Cipher.getInstance("AES/CBC/PKCS5Padding");',
            'Cipher.getInstance("RSA/ECB/PKCS1Padding");',
        ),
        negatives=('Cipher.getInstance("AES/GCM/NoPadding");',),
    ),
    Rule(
        "RJV109",
        330,
        HIGH,
        MEDIUM,
        "java.util.Random for a token or secret is predictable; use SecureRandom",
        CALLS,
        _token_random,
        group="random",
        positives=(
            "String token = Long.toString(new Random().nextLong());",
            "int otp = random.nextInt(999999);",
        ),
        negatives=(
            "String token = Long.toString(secureRandom.nextLong());",
            "String token = new BigInteger(130, secureRandom).toString(32);",
        ),
    ),
    Rule(
        "RJV110",
        330,
        MEDIUM,
        LOW,
        "java.util.Random / Math.random are not secure random sources (SecureRandom is)",
        INVOKE,
        calls(
            r"\.(nextInt|nextLong|nextDouble|nextFloat|nextBoolean|nextBytes|nextGaussian|ints|longs|doubles)$",
            _weak_random_call,
        ),
        group="random",
        positives=("seeds[i] = rnd.nextDouble() * rnd.nextLong();", "setSeed(new Random().nextInt());"),
        negatives=("byte[] b = new byte[16]; secureRandom.nextBytes(b);", "it.nextInt();"),
    ),
    Rule(
        "RJV129",
        330,
        MEDIUM,
        LOW,
        "java.util.Random is not a secure random source (SecureRandom is)",
        NEW,
        calls(r"^new Random$"),
        group="random",
        positives=("Random random = new Random();",),
        negatives=("SecureRandom random = new SecureRandom();",),
    ),
    Rule(
        "RJV111",
        330,
        MEDIUM,
        LOW,
        "Math.random is not a secure random source (SecureRandom is)",
        INVOKE,
        calls(r"^Math\.random$"),
        group="random",
        positives=("double d = Math.random();",),
        negatives=("double d = Math.abs(x);",),
    ),
    Rule(
        "RJV112",
        918,
        HIGH,
        MEDIUM,
        "a connection to a URL from request input (SSRF); check it against an allow-list",
        CALLS,
        calls(
            r"^new (URL|URI|InetSocketAddress|Socket|HttpGet|HttpPost)$|(^|\.)(getForObject|getForEntity|"
            r"exchange|postForObject|uri|create)$",
            any_arg_user_input,
        ),
        group="ssrf",
        positives=('URL u = new URL(request.getParameter("url"));',),
        negatives=('URL u = new URL("https://example.com/a");',),
    ),
    Rule(
        "RJV113",
        918,
        MEDIUM,
        LOW,
        "a connection to a non-literal address; make sure users cannot choose it (SSRF)",
        CALLS,
        calls(r"^new (URL|InetSocketAddress|Socket)$", first_arg_not_literal),
        group="ssrf",
        positives=(
            "stream = new BufferedInputStream(new URL(src).openStream());",
            "socket.bind(new InetSocketAddress(port));",
        ),
        negatives=('new URL("https://example.com/");',),
    ),
    Rule(
        "RJV114",
        502,
        MEDIUM,
        MEDIUM,
        "ObjectInputStream deserialises any class (gadget chains); filter classes or use a data format",
        NEW,
        calls(r"^new ObjectInputStream$"),
        positives=("ObjectInputStream ois = new ObjectInputStream(fis);",),
        negatives=("DataInputStream in = new DataInputStream(fis);",),
    ),
    Rule(
        "RJV115",
        502,
        HIGH,
        MEDIUM,
        "XMLDecoder / XStream / SnakeYAML's load deserialise arbitrary types (remote code execution)",
        CALLS,
        calls(r"^new XMLDecoder$|(^|\.)fromXML$|^new Yaml$|(^|\.)enableDefaultTyping$"),
        positives=("XMLDecoder d = new XMLDecoder(in);", "Object o = xstream.fromXML(xml);"),
        negatives=("Object o = mapper.readValue(json, Foo.class);",),
    ),
    Rule(
        "RJV116",
        611,
        MEDIUM,
        LOW,
        "an XML parser with external entities enabled by default (XXE); disable DTDs",
        INVOKE,
        calls(
            r"(^|\.)(DocumentBuilderFactory|SAXParserFactory|XMLInputFactory|TransformerFactory|SchemaFactory)"
            r"\.new(Instance|Factory)$|(^|\.)XMLReaderFactory\.createXMLReader$|(^|\.)createXMLStreamReader$"
        ),
        positives=(
            "DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();",
            "XMLStreamReader r = inputFactory.createXMLStreamReader(body);",
        ),
        negatives=("Gson gson = new Gson();",),
    ),
    Rule(
        "RJV117",
        611,
        MEDIUM,
        LOW,
        "parsing XML without disabling external entities (XXE)",
        INVOKE,
        calls(r"\.parse$", _xml_parse),
        positives=("parser.parse(source, handler);", "reader.parse(source);"),
        negatives=("Integer.parseInt(s);", "LocalDate.parse(s);"),
    ),
    Rule(
        "RJV118",
        643,
        HIGH,
        MEDIUM,
        "an XPath expression built from variables (XPath injection); use variables via XPathVariableResolver",
        INVOKE,
        calls(r"(^|\.)(compile|evaluate|selectNodes|selectSingleNode)$", first_arg_built),
        group="xpath",
        positives=('xpr = xpath.compile("//group[@name=\'" + group + "\']");',),
        negatives=('xpath.compile("//group[@name=$name]");',),
    ),
    Rule(
        "RJV119",
        643,
        MEDIUM,
        LOW,
        "an XPath expression from a variable (XPath injection)",
        INVOKE,
        calls(r"(?i)xpath\w*\.(compile|evaluate)$", first_arg_not_literal),
        group="xpath",
        positives=("XPathExpression e = xpath.compile(assertionInfo);",),
        negatives=('XPathExpression e = xpath.compile("/a/b");',),
    ),
    Rule(
        "RJV120",
        79,
        MEDIUM,
        LOW,
        "request data or built text written to the response (XSS); encode it for HTML",
        INVOKE,
        calls(r"\.(write|print|println|append|printf|format)$", _servlet_writer),
        positives=('resp.getWriter().write(param + ": " + value);', 'writer.write("Key: " + key.getId());'),
        negatives=('System.out.println("x = " + x);', 'resp.getWriter().write("ok");'),
    ),
    Rule(
        "RJV121",
        22,
        HIGH,
        MEDIUM,
        "a file path from request input (path traversal); normalise it and check its folder",
        CALLS,
        calls(
            r"^new (File|FileInputStream|FileOutputStream|FileReader|FileWriter|RandomAccessFile)$|"
            r"(^|\.)(Paths\.get|Path\.of|Files\.\w+|resolve)$",
            any_arg_user_input,
        ),
        positives=('File f = new File(base, request.getParameter("name"));',),
        negatives=('File f = new File(base, "static.txt");',),
    ),
    Rule(
        "RJV122",
        295,
        HIGH,
        HIGH,
        "TLS host name or certificate verification disabled",
        CALLS,
        calls(
            r"(^|\.)(setHostnameVerifier|setDefaultHostnameVerifier|setSSLHostnameVerifier)$|"
            r"^new (NoopHostnameVerifier|TrustAllStrategy|TrustSelfSignedStrategy)$|"
            r"(^|\.)loadTrustMaterial$",
            lambda s: (
                s.node
                if re.search(
                    r"->\s*true|ALLOW_ALL|Noop|TrustAll|TrustSelfSigned|^new",
                    s.text if s.node.type != "method_invocation" else node_text(s.arguments_node()),
                )
                else None
            ),
        ),
        positives=(
            "conn.setHostnameVerifier((h, s) -> true);",
            "builder.setSSLHostnameVerifier(new NoopHostnameVerifier());",
        ),
        negatives=("conn.setHostnameVerifier(verifier);",),
    ),
    Rule(
        "RJV123",
        798,
        MEDIUM,
        MEDIUM,
        "a hard-coded credential; read it from the environment or a secret store",
        BINDINGS,
        hard_coded_secret,
        positives=('String password = "hunter22";', 'private static final String API_KEY = "abcd1234efgh";'),
        negatives=('String password = System.getenv("DB_PASSWORD");', 'String passwordLabel = "Password";'),
    ),
    Rule(
        "RJV124",
        798,
        MEDIUM,
        MEDIUM,
        "a database connection with a hard-coded password",
        INVOKE,
        calls(r"(^|\.)DriverManager\.getConnection$", _literal_password),
        positives=('DriverManager.getConnection(url, "root", "secret123");',),
        negatives=("DriverManager.getConnection(url, user, password);",),
    ),
    Rule(
        "RJV125",
        276,
        MEDIUM,
        MEDIUM,
        "world-readable or world-writable Android files/preferences",
        frozenset({"field_access", "identifier"}),
        lambda s: (
            s.node
            if re.fullmatch(r"(Context\.)?MODE_WORLD_(READABLE|WRITEABLE)", s.text)
            and (s.node.parent is None or s.node.parent.type != "field_access")
            else None
        ),
        positives=('getSharedPreferences("c", Context.MODE_WORLD_READABLE);',),
        negatives=('getSharedPreferences("c", Context.MODE_PRIVATE);',),
    ),
    Rule(
        "RJV126",
        200,
        MEDIUM,
        LOW,
        "a WebView allowed to read local files or run JavaScript from them",
        INVOKE,
        calls(
            r"\.(setAllowFileAccess|setAllowFileAccessFromFileURLs|setAllowUniversalAccessFromFileURLs|"
            r"setAllowContentAccess)$",
            _true_arg,
        ),
        positives=("settings.setAllowFileAccess(true);",),
        negatives=("settings.setAllowFileAccess(false);",),
    ),
    Rule(
        "RJV127",
        589,
        MEDIUM,
        LOW,
        "Thread.stop is unsafe and Thread.run does not start a thread",
        INVOKE,
        calls(r"\.(stop|run|suspend|resume)$", _thread_misuse),
        positives=("this.gameThread.stop();", "bdsThread.run(expr);"),
        negatives=("timer.stop();", "thread.start();"),
    ),
    Rule(
        "RJV128",
        352,
        MEDIUM,
        MEDIUM,
        "CSRF protection disabled",
        INVOKE,
        calls(r"csrf\(\)\.disable$|\.csrf\(.*\)$", lambda s: s.node if "disable" in s.text else None),
        positives=("http.csrf().disable();",),
        negatives=("http.csrf();",),
    ),
)
