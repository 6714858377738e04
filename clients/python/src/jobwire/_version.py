"""The package's version, also sent in Hello's default client name."""
from typing import Final

__version__: Final = "0.1.0"
DEFAULT_CLIENT_NAME: Final = f"jobwire-python/{__version__}"
