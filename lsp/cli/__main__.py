import sys

from roost.lsp.cli import main

sys.exit(main())
