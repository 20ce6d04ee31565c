"""The pure domain core: places, catalogs, locate, route, intake, lifecycle and clocks, whistles,
patrols, the Tuesday sweep and the evaluation.

Nothing here performs I/O or imports a framework; the adapters (`geodata`, `sync`, `server`,
`console`) feed it data and keep its decisions. See docs/architecture.md#layers.
"""
