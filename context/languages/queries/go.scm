; Roost extraction query for Go. Capture conventions: see javascript.scm; read by roost.context.languages.go.

(package_clause (package_identifier) @package)

; ---- definitions
(function_declaration name: (identifier) @name) @def.function
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @receiver_type
        (pointer_type (type_identifier) @receiver_type)
        (generic_type type: (type_identifier) @receiver_type)
        (pointer_type (generic_type type: (type_identifier) @receiver_type))
      ]))
  name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (_) @type_value) @def.type
(type_alias name: (type_identifier) @name) @def.type
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
(source_file (var_declaration (var_spec_list (var_spec name: (identifier) @name) @def.variable)))
(field_declaration_list (field_declaration name: (field_identifier) @name) @def.field)
; Embedded fields (``struct { Base; *pkg.Other }``) are named by their type: ``b.Base``, ``Outer{Base: …}``.
(field_declaration_list
  (field_declaration !name
    type: [(type_identifier) @name
           (qualified_type name: (type_identifier) @name)
           (generic_type type: [(type_identifier) @name (qualified_type name: (type_identifier) @name)])])
  @def.field)
(interface_type (method_elem name: (field_identifier) @name) @def.method)

; ---- imports
(import_spec) @import
