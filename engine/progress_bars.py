"""No terminal progress bars in a long-running server process.

transformers draws tqdm bars while it loads a model ("Loading weights"), and every tqdm bar shares one
multiprocessing lock and a monitor thread. In a server nobody sees them (stderr is a log), and the lock can
hang the exit: a `roost serve` left behind by an editor test (its client gone) was found blocked for half an
hour at shutdown, its main thread in a bar's ``__del__`` and tqdm's monitor thread both waiting on that lock.
A disabled bar starts no monitor and takes no lock when it is closed, so the servers disable them all before
tqdm is first imported (it reads ``TQDM_*`` defaults at import). Progress reaches the editor through the
server's own status notifications.
"""

from __future__ import annotations

import os

TQDM_DISABLE_VARIABLE = "TQDM_DISABLE"


def disable_progress_bars() -> None:
    """Disable tqdm bars in this process and the processes it starts, unless the user set the variable."""
    os.environ.setdefault(TQDM_DISABLE_VARIABLE, "1")


def disable_model_loading_bars() -> None:
    """Turn off transformers' and huggingface_hub's own bars ("Loading weights"), whatever tqdm was told: the
    engine reports its load through its progress callback. A server whose tqdm was imported before
    :func:`disable_progress_bars` ran still started tqdm's monitor thread at the load."""
    from huggingface_hub.utils.tqdm import disable_progress_bars as disable_hub_bars
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    disable_hub_bars()
