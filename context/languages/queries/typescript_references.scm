; Roost reference query for typescript: identifier uses (@ref) and member uses (@member with @receiver).
; Run on demand (the index persists outlines only); definitions and imports are in typescript.scm.

(identifier) @ref
(type_identifier) @ref
(shorthand_property_identifier) @ref
(member_expression
  object: (_) @receiver
  property: (property_identifier) @member)

