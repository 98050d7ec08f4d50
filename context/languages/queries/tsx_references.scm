; Roost reference query for TSX (the TypeScript one plus JSX tags): identifier uses (@ref) and member uses (@member with @receiver).
; Run on demand (the index persists outlines only); definitions and imports are in typescript.scm.
; Plain TypeScript has no JSX nodes, so the two grammars need separate reference queries.

; A local binding's own name is a declaration, not a use (module-level ones are skipped as definitions).
(variable_declarator name: (identifier) @ignore)
(identifier) @ref
(type_identifier) @ref
(shorthand_property_identifier) @ref
(member_expression
  object: (_) @receiver
  property: (property_identifier) @member)


; JSX intrinsic elements (``<div>``) are HTML tags, not uses of a binding.
(jsx_opening_element name: (identifier) @ignore (#match? @ignore "^[a-z]"))
(jsx_closing_element name: (identifier) @ignore (#match? @ignore "^[a-z]"))
(jsx_self_closing_element name: (identifier) @ignore (#match? @ignore "^[a-z]"))
