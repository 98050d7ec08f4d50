; Roost reference query for typescript: identifier uses (@ref) and member uses (@member with @receiver).
; Run on demand (the index persists outlines only); definitions and imports are in typescript.scm.

; A local binding's own name is a declaration, not a use (module-level ones are skipped as definitions).
(variable_declarator name: (identifier) @ignore)
(identifier) @ref
(type_identifier) @ref
(shorthand_property_identifier) @ref
(member_expression
  object: (_) @receiver
  property: (property_identifier) @member)

