; Roost extraction query for JavaScript (.js .jsx .mjs .cjs).
; Capture conventions (read by roost.context.languages._ecmascript):
;   @def.<kind> on the definition node with @name on its name; @ref bare name uses;
;   @member + @receiver for `receiver.member`; @import / @export / @require / @dynamic_import / @cjs_export
;   on whole statements, taken apart in Python (they are few and small).

; ---- definitions
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(class_declaration name: (identifier) @name) @def.class
(method_definition name: (_) @name) @def.method
(field_definition property: (_) @name) @def.field
; ``this.x = …`` written directly in a method's body: a field of the class (``_ecmascript_fields``).
(method_definition
  body: (statement_block
    (expression_statement
      (assignment_expression
        left: (member_expression object: (this) property: (property_identifier) @name)) @def.instance_field)))
; const/let/var bindings: Python decides function vs constant vs local from the value and the position.
; Only bindings that can matter to other code: functions/classes anywhere (nested ones qualify by their
; scope), and any binding at module (or TS namespace) level. Other locals are never matched at all.
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function) (class)]) @def.variable
(program (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable)))
(program (export_statement (variable_declaration (variable_declarator name: (identifier) @name) @def.variable)))

; ---- imports and exports
(import_statement) @import
(export_statement) @export
(call_expression
  function: (identifier) @require_fn
  arguments: (arguments . [(string) (template_string)] @specifier)
  (#eq? @require_fn "require")) @require
(call_expression
  function: (import)
  arguments: (arguments . [(string) (template_string)] @specifier)) @dynamic_import
(assignment_expression
  left: (member_expression
    object: (_) @cjs_object
    property: (property_identifier) @cjs_property)
  (#any-of? @cjs_object "exports" "module" "module.exports")) @cjs_export
