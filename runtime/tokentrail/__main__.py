"""`python -m tokentrail`: the same as the `tokentrail` command."""

import sys

from tokentrail._cli import main

sys.exit(main())
