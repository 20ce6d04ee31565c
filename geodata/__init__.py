"""Files and coordinates: data folders in and out, Chinese coordinate systems, the synthetic county."""
