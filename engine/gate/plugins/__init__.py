"""Roost's own bandit plugins, for weaknesses generated code often has and bandit does not rate or see.

They are ordinary bandit plugins, registered through the ``bandit.plugins`` entry point group in
``pyproject.toml``, so bandit's extension manager loads them into every test set (the gate's warm one and the
``bandit`` command line alike). Test ids are ``RB1xx`` ("Roost bandit"), clear of bandit's own ``B`` ids.

Unlike bandit's rules, several of these do not rely on the module's imports being visible: a suggestion is
often scanned as a window of a larger file whose import block is out of sight.
"""
