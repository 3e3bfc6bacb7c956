"""`python -m services.channels`: runs the channels service alone."""

from services.channels.bootstrap import SERVICE
from services.kernel.runtime import main

if __name__ == "__main__":
    main(SERVICE)
