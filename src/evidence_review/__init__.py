"""Evidence review toolkit for health claims.

Load an article's claims and a curated table of studies, link them by outcome domain, grade the
certainty of the evidence and give each claim a verdict; notebooks present the results.
"""

__version__ = "0.1.0"
