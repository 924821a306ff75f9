"""The protocol engine: what is due for a client and when (in working days), and the answers that say so with their
sources. Pure functions of the knowledge and a client's facts."""
