"""One module per validated instrument, each defining one immutable `Instrument` per version.

Never edit a released definition: responses store `(code, version)`, so a changed wording, option
or band goes into a new version (a new constant added to the registry), and the old one stays.
"""
