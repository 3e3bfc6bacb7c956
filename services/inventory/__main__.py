"""`python -m services.inventory`: runs the inventory service alone, configured by environment."""

from services.inventory.bootstrap import SERVICE
from services.kernel.runtime import main

if __name__ == "__main__":
    main(SERVICE)
