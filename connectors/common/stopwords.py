"""Stop words, one list per use. They differ on purpose, and each was tuned where it is used:

- KEYPHRASE_STOPWORDS: words a project's key phrase may not start or end with (the catalog's topics
  and the overlaps' shared phrases, index/catalog/keywords.py); English function words plus the
  filler of READMEs ("example", "includes", "today").
- QUESTION_STOPWORDS: words dropped from a question before full-text search and expert voting
  (index/retrieval/search.py): function words plus the asking words ("who", "built", "knows").
- MODULE_QUESTION_STOPWORDS: words that never name a part of a repository when a question is
  matched against file and folder names (index/expertise/modules.py), short on purpose: "the
  target encoder" must keep "target" and "encoder".

Kept in one place so a newcomer finds them together; merging them would move the figures each was
tuned on.
"""
from __future__ import annotations

KEYPHRASE_STOPWORDS = frozenset("""
a about above after again against all almost also although always am among an and another any anyone anything
are around as at away be became because become been before being below between both but by can cannot could did
do does doing done down during each either else enough etc even ever every few first for from further get gets
got had has have having he her here hers him his how however i if in into is it its itself just last least less
let like made make makes many may me might more most much must my near need needs never new next no nor not now
of off often on once one only onto or other others our ours out over own per please put rather same see seen
several she should show since so some something still such than that the their theirs them then there these
they this those though through thus to too under until up upon us use used uses using very via was way we
well were what when where whether which while who whom whose why will with within without would yet you your
yours
able add added adds already based day days don end etc every example get good great help include includes
including keep kept know lot lots makes part run runs set sets take takes time times today want week
within work works year years yes
""".split())

QUESTION_STOPWORDS = frozenset("""a an and are as at be been but by can could do does did for from has have had he her his how
i if in into is it its me my no not of on or our she so than that the their them then there these they this to
us was we were what when where which who whom why will with would you your yours about any anyone anybody someone
somebody know knows here has have built build need needs help want wants tell show find please should""".split())

MODULE_QUESTION_STOPWORDS = frozenset("a an the of for and or in on at to by with from into behind about our we us you it its this that "
                 "who what which how code module".split())
