"""The base score of each candidate source of the retriever, and the factors applied to them."""

# Base scores per source; multiplied by a proximity weight in (0, 1].
SCORE_MEMBER_AT_CURSOR = 1.0
SCORE_PARTIAL_MATCH = 0.95
SCORE_USED_AT_CURSOR = 0.9  # a member used nearby (even on this line): below the listing of all
SCORE_NEAR_NAME = 0.85
SCORE_NEAR_MEMBER = 0.8
SCORE_TYPE = 0.85
SCORE_GUESSED_TYPE = 0.75
SCORE_IMPORT_USED = 0.5
SCORE_IMPORT_UNUSED = 0.45
SCORE_MODULE_IMPORT = 0.3
SCORE_ENCLOSING_OUTLINE = 0.55
SCORE_FILE_OUTLINE = 0.2
SCORE_RECENT = 0.4
SCORE_OPEN_DOCUMENT = 0.35
SCORE_LEXICAL = 0.2
# Code of the file being edited: the prompt's prefix/suffix often shows its surroundings already.
SAME_FILE_FACTOR = 0.8
# A variable's definition line (``S = SingletonRegistry()``) says less than a function's signature.
VARIABLE_FACTOR = 0.7
