"""The orders service: places orders over inventory with cost-based routing (a saga that a
crash cannot leave holding stock), cancels and ships them, and serves order pages."""
