import sys

from int_desk.cli import main

sys.exit(main())
