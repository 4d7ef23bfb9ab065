"""`python -m gemloom` runs the command line."""

import sys

from gemloom.cli import main

sys.exit(main())
