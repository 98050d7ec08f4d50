"""Roost's bandit plugins: registered through bandit's entry points, each with positive and negative cases."""

from __future__ import annotations

import textwrap

import pytest
from bandit.core import extension_loader

from roost.engine.gate.bandit_runner import WarmBandit

ROOST_IDS = ("RB101", "RB102", "RB103", "RB104", "RB105")


@pytest.fixture(scope="module")
def runner() -> WarmBandit:
    return WarmBandit()


def _ids(runner: WarmBandit, source: str) -> list[str]:
    return [issue.test_id for issue in runner.scan_source(textwrap.dedent(source))]


def test_plugins_are_loaded_by_bandits_extension_manager(runner: WarmBandit) -> None:
    for test_id in ROOST_IDS:
        assert test_id in extension_loader.MANAGER.plugins_by_id, test_id
        assert test_id in runner.test_ids


@pytest.mark.parametrize(
    ("source", "severity"),
    [
        ("import random\nrandom.seed(1)\n", "MEDIUM"),
        ("import random\nrandom.shuffle(items)\n", "MEDIUM"),
        ("from random import random\nx = random()\n", "MEDIUM"),
        ("salt = randint(1, 99)\n", "HIGH"),
        ("import random\ntoken = ''.join(random.choice(chars) for _ in range(32))\n", "HIGH"),
        ("import random\ndef make_password():\n    return str(random.getrandbits(64))\n", "HIGH"),
        ("import numpy as np\nnp.random.randint(0, 10)\n", "MEDIUM"),
    ],
)
def test_insecure_random_positive(runner: WarmBandit, source: str, severity: str) -> None:
    issues = [i for i in runner.scan_source(source) if i.test_id == "RB101"]
    assert issues and issues[0].severity.value == severity


@pytest.mark.parametrize(
    "source",
    [
        "import secrets\ntoken = secrets.token_hex(16)\n",
        "import random\nrng = random.SystemRandom()\n",
        "deck.shuffle()\n",
        "choice(options)\n",  # unresolved and ambiguous: not necessarily random's
    ],
)
def test_insecure_random_negative(runner: WarmBandit, source: str) -> None:
    assert "RB101" not in _ids(runner, source)


@pytest.mark.parametrize(
    "source",
    [
        "api_key = '3842240593'\n",
        "password = 'megadeth'\n",
        "self.configuration.san_password = 'sysadmin'\n",
        "form['password'] = 'myprecious'\n",
        "connect(host='db', passwd='hunter2')\n",
        "settings = {'client_secret': 'abc123'}\n",
        "SECRET_KEY: str = 'django-insecure-123'\n",
    ],
)
def test_hardcoded_credential_positive(runner: WarmBandit, source: str) -> None:
    assert "RB102" in _ids(runner, source)


@pytest.mark.parametrize(
    "source",
    [
        "password = ''\n",
        "password = os.environ['PASSWORD']\n",
        "password_field = 'password'\n",
        "secret_path = 'data/secrets'\n",
        "token_url = 'https://example.com/token'\n",
        "username = 'admin'\n",
        "print('password')\n",
    ],
)
def test_hardcoded_credential_negative(runner: WarmBandit, source: str) -> None:
    assert "RB102" not in _ids(runner, source)


@pytest.mark.parametrize(
    "source",
    [
        "cursor.execute('DROP TABLE \"%s\"' % table)\n",
        "cursor.execute(sql.format(name=name))\n",
        "cursor.execute(f'SHOW COLUMNS FROM {table}')\n",
        'db.execute("ATTACH DATABASE \'" + path + "\' AS aux")\n',
        "conn.executemany('CREATE TABLE %s (x)' % name)\n",
    ],
)
def test_sql_string_building_positive(runner: WarmBandit, source: str) -> None:
    assert "RB103" in _ids(runner, source)


@pytest.mark.parametrize(
    "source",
    [
        "cursor.execute('SELECT * FROM t WHERE id = %s', (ident,))\n",
        "cursor.execute('SHOW TABLES')\n",
        "cursor.execute('select ' + 'a, b' + ' from t')\n",
        "cursor.execute(query)\n",
        "logger.info('value: %s' % value)\n",
    ],
)
def test_sql_string_building_negative(runner: WarmBandit, source: str) -> None:
    assert "RB103" not in _ids(runner, source)


@pytest.mark.parametrize(
    "source",
    [
        "import cPickle as pickle\npickle.loads(blob)\n",
        "config = yaml.load(stream, Loader=Loader)\n",  # `import yaml` out of sight
        "yaml.unsafe_load(stream)\n",
        "unpickler.decode(text, backend=backend)\n",  # jsonpickle, import out of sight
        "import numpy as np\nnp.load(path, allow_pickle=True)\n",
        "import cloudpickle\ncloudpickle.load(f)\n",
    ],
)
def test_unsafe_deserialization_positive(runner: WarmBandit, source: str) -> None:
    assert "RB104" in _ids(runner, source)


@pytest.mark.parametrize(
    "source",
    [
        "yaml.load(stream, Loader=yaml.SafeLoader)\n",
        "yaml.safe_load(stream)\n",
        "import yaml\nyaml.load(stream)\n",  # bandit's own B506 reports this one
        "import numpy as np\nnp.load(path)\n",
        "json.loads(text)\n",
    ],
)
def test_unsafe_deserialization_negative(runner: WarmBandit, source: str) -> None:
    assert "RB104" not in _ids(runner, source)


def test_unresolved_shell_call(runner: WarmBandit) -> None:
    assert "RB105" in _ids(runner, "system('mv ' + a + ' ' + b)\n")
    assert "RB105" in _ids(runner, "out = popen(cmd).read()\n")
    # Imported in view: bandit's B605 has it, RB105 stays quiet.
    assert _ids(runner, "from os import system\nsystem(cmd)\n") == ["B605"]
    assert "RB105" not in _ids(runner, "self.system(cmd)\n")
    assert "RB105" not in _ids(runner, "def system(x):\n    return x\n")


def test_nosec_names_a_roost_rule(runner: WarmBandit) -> None:
    assert "RB101" not in _ids(runner, "import random\nrandom.seed(1)  # nosec RB101\n")
