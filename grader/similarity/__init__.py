"""Similar code across a class: copies found (byte for byte, renamed, or nearly), independent work not flagged.

`normalise` turns one student's code for a task into comparable text, and holds the exact pairwise
method (`find_similar`), the oracle the fast method is checked against. `signatures` keeps, per
student, what the comparison needs in the output folder; `index` finds the clusters of identical code
and the near matches from those signatures, with MinHash and locality-sensitive hashing; `report` holds
what was found and how the summary draws it.
"""

from grader.similarity.index import SignatureMaker, signature_maker, similar_code
from grader.similarity.normalise import (
    MIN_NODES,
    MIN_NODES_NEAR,
    NEAR_RATIO,
    SimilarPair,
    find_similar,
    pairs_for_summary,
)
from grader.similarity.report import Cluster, NearMatch, SimilarityReport

__all__ = [
    "SignatureMaker",
    "signature_maker",
    "MIN_NODES",
    "MIN_NODES_NEAR",
    "NEAR_RATIO",
    "Cluster",
    "NearMatch",
    "SimilarPair",
    "SimilarityReport",
    "find_similar",
    "pairs_for_summary",
    "similar_code",
]
