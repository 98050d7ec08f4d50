"""The installed distribution's version, read from its metadata so there is one source of truth."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("roost")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0+unknown"
