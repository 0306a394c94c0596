# Managed by the ONEX node template: `copier update` replaces this file.
"""`python -m <package>` starts the node."""

from .cli import main

main()
