from collections import Counter
from typing import Annotated

import drivequeue


@drivequeue.kind
def wordcount(text: drivequeue.InputFile, top: Annotated[int, drivequeue.Range(1, 100)] = 10) -> list:
    """The most frequent words of a pushed text file, with their counts."""
    return Counter(text.read_text(encoding="utf-8").lower().split()).most_common(top)
