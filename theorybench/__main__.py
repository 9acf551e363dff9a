import sys

from theorybench.cli import main

sys.exit(main())
