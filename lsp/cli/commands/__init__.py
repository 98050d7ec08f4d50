"""One module per ``roost`` subcommand; each defines ``COMMAND``. Keep imports of heavy libraries
(torch, transformers) inside ``run`` so ``roost --help`` stays fast."""
