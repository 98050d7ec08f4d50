; Roost reference query for rust: identifier uses (@ref) and member uses (@member with @receiver).
; Run on demand (the index persists outlines only); definitions and imports are in rust.scm.

(identifier) @ref
(type_identifier) @ref
(field_expression value: (_) @receiver field: (field_identifier) @member)
(scoped_identifier path: (_) @receiver name: (identifier) @member)
(scoped_type_identifier path: (_) @receiver name: (type_identifier) @member)
