; Roost reference query for go: identifier uses (@ref) and member uses (@member with @receiver).
; Run on demand (the index persists outlines only); definitions and imports are in go.scm.

(identifier) @ref
(type_identifier) @ref
(selector_expression operand: (_) @receiver field: (field_identifier) @member)
(qualified_type package: (package_identifier) @receiver name: (type_identifier) @member)
