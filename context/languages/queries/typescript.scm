; Roost extraction query for TypeScript and TSX (.ts .tsx .mts .cts); the TSX grammar is a superset.
; Capture conventions: see javascript.scm (read by roost.context.languages._ecmascript).

; ---- definitions
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(function_signature name: (identifier) @name) @def.function
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.enum
(enum_body name: (property_identifier) @name @def.constant)
(enum_assignment name: (property_identifier) @name) @def.constant
(internal_module name: (identifier) @name) @def.module
(method_definition name: (_) @name) @def.method
(method_signature name: (_) @name) @def.method
(abstract_method_signature name: (_) @name) @def.method
(public_field_definition name: (_) @name) @def.field
(interface_body (property_signature name: (_) @name) @def.field)
; ``this.x = …`` written directly in a method's body: a field of the class (``_ecmascript_fields``).
(method_definition
  body: (statement_block
    (expression_statement
      (assignment_expression
        left: (member_expression object: (this) property: (property_identifier) @name)) @def.instance_field)))
; Only bindings that can matter to other code: functions/classes anywhere (nested ones qualify by their
; scope), and any binding at module (or TS namespace) level. Other locals are never matched at all.
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function) (class)]) @def.variable
(program (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable)))
(program (export_statement (variable_declaration (variable_declarator name: (identifier) @name) @def.variable)))
(program (ambient_declaration (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable)))
(program (ambient_declaration (variable_declaration (variable_declarator name: (identifier) @name) @def.variable)))
(program (export_statement (ambient_declaration (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))))
(internal_module body: (statement_block (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable)))
(internal_module body: (statement_block (export_statement (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))))

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
