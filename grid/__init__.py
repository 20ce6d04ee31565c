"""The pure domain core of Gridwatch: types, locate, route, lifecycle and clocks.

Nothing in this package performs I/O or imports a framework; adapters around it
(`geodata`, `sync`, `server`, `console`) feed it data and persist its decisions.
"""
