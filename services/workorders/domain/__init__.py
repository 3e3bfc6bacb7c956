"""The work orders' domain: plain data and the rules over it, without I/O."""
