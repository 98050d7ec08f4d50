; Identifier uses, on demand only (the cold index does not store references).
(identifier) @reference
(attribute attribute: (identifier) @attribute)
