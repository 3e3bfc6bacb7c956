"""Generated from protos/ by `python -m launcher.protogen`; do not edit."""
