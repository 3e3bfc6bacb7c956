"""Returns rules as pure functions of plain data: destination, cost, disposition, fraud, refund."""
