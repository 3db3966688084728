"""The day simulator: replays service days against the real services, on a virtual clock.

It drives ``dispatch`` only through its public services (intake, runs, the engineer's app, the
service desk) and never through SQL of its own, so what it measures is what production does.
"""
