"""Order rules as pure functions of plain data: routing, states, validation."""
