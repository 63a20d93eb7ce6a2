"""``python -m colab_worker`` is the ``colab-worker`` command."""

import sys

from .cli import main

sys.exit(main())
