"""`python -m services.procurement`: runs the procurement service alone."""

from services.kernel.runtime import main
from services.procurement.bootstrap import SERVICE

if __name__ == "__main__":
    main(SERVICE)
