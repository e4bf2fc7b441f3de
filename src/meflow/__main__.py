import sys

from meflow.cli import main

sys.exit(main())
