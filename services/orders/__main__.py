"""`python -m services.orders`: runs the orders service alone, configured by environment."""

from services.kernel.runtime import main
from services.orders.bootstrap import SERVICE

if __name__ == "__main__":
    main(SERVICE)
