; Roost reference query for java: identifier uses (@ref) and member uses (@member with @receiver).
; Run on demand (the index persists outlines only); definitions and imports are in java.scm.

(identifier) @ref
(type_identifier) @ref
(method_invocation object: (_) @receiver name: (identifier) @member)
(field_access object: (_) @receiver field: (identifier) @member)
(scoped_type_identifier (_) @receiver . (type_identifier) @member .)
