; Roost: Java local variables and parameters (their uses are not uses of indexed symbols).
(formal_parameter name: (identifier) @local)
(spread_parameter (variable_declarator name: (identifier) @local))
(local_variable_declaration declarator: (variable_declarator name: (identifier) @local))
(enhanced_for_statement name: (identifier) @local)
(catch_formal_parameter name: (identifier) @local)
(lambda_expression parameters: (identifier) @local)
(inferred_parameters (identifier) @local)
(resource name: (identifier) @local)
; Where they are visible (approximately: the whole scope, not from the declaration on).
[(method_declaration) (constructor_declaration) (compact_constructor_declaration) (lambda_expression)
 (static_initializer) (block)] @scope
