"""Building blocks every stage uses: errors, symbolic dims, dtypes, units, capped readers."""
