; Roost's Python queries. Capture names are read by roost.context.languages.python.
; The grammar's own tags.scm has no imports, exports or scopes, so these are ours.

; ---- outline: definitions, imports, __all__ -------------------------------------------------------

(class_definition name: (identifier) @name body: (block) @body) @definition.class

(function_definition name: (identifier) @name body: (block) @body) @definition.function

; Module-level variables, also under top-level `if`/`try` (platform switches, optional imports).
(module (expression_statement (assignment left: (identifier) @name) @definition.variable))
(module (expression_statement (assignment left: (pattern_list (identifier) @name)) @definition.variable))
(module (if_statement consequence: (block (expression_statement (assignment left: (identifier) @name) @definition.variable))))
(module (if_statement alternative: (else_clause body: (block (expression_statement (assignment left: (identifier) @name) @definition.variable)))))
(module (try_statement body: (block (expression_statement (assignment left: (identifier) @name) @definition.variable))))
(module (try_statement (except_clause (block (expression_statement (assignment left: (identifier) @name) @definition.variable)))))

; Class attributes.
(class_definition body: (block (expression_statement (assignment left: (identifier) @name) @definition.field)))

(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import

(module (expression_statement (assignment left: (identifier) @all.name right: (_) @all.value)) (#eq? @all.name "__all__"))
(module (expression_statement (augmented_assignment left: (identifier) @all.name right: (_) @all.value)) (#eq? @all.name "__all__"))

; Instance attributes: `self.x = ...` directly in a method body (the extractor keeps the first per class).
(function_definition
  body: (block
    (expression_statement
      (assignment left: (attribute object: (identifier) @self attribute: (identifier) @name)) @definition.instance_field))
  (#eq? @self "self"))
