; Roost reference query for go: identifier uses (@ref) and member uses (@member with @receiver).
; Run on demand (the index persists outlines only); definitions and imports are in go.scm.

(identifier) @ref
(type_identifier) @ref
(selector_expression operand: (_) @receiver field: (field_identifier) @member)
(qualified_type package: (package_identifier) @receiver name: (type_identifier) @member)
; Keys of struct literals are the type's fields: ``pkg.Config{Name: …}``, ``Config{…}``, ``Box[T]{…}``, and
; the elided element type of slice/array literals ``[]Config{{Name: …}}``.
(composite_literal
  type: [(type_identifier) (qualified_type)] @receiver
  body: (literal_value (keyed_element key: (literal_element (identifier) @member))))
(composite_literal
  type: (generic_type type: [(type_identifier) (qualified_type)] @receiver)
  body: (literal_value (keyed_element key: (literal_element (identifier) @member))))
(composite_literal
  type: [(slice_type element: [(type_identifier) (qualified_type)] @receiver)
         (array_type element: [(type_identifier) (qualified_type)] @receiver)]
  body: (literal_value
    (literal_element (literal_value (keyed_element key: (literal_element (identifier) @member))))))
