"""`python -m services.returns`: runs the returns service alone, configured by environment."""

from services.kernel.runtime import main
from services.returns.bootstrap import SERVICE

if __name__ == "__main__":
    main(SERVICE)
