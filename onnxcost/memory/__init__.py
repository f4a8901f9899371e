"""Stage 4, memory: liveness, the minimum-peak schedule and the arena plan."""
