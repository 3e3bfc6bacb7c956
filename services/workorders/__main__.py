"""`python -m services.workorders`: runs the workorders service alone, configured by environment."""

from services.kernel.runtime import main
from services.workorders.bootstrap import SERVICE

if __name__ == "__main__":
    main(SERVICE)
