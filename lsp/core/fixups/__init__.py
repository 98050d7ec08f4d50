"""Multi-turn fix-ups driven by editor commands, with sessions stored in SQLite."""
