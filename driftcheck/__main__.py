import sys

from driftcheck.console import main

sys.exit(main())
