import sys

from kucun.cli import main

sys.exit(main())
