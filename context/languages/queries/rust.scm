; Roost extraction query for Rust. Capture conventions: see javascript.scm; read by
; roost.context.languages.rust. `impl` blocks are scopes (@scope.impl) that qualify their methods.

; ---- definitions
(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.function
(struct_item name: (type_identifier) @name) @def.struct
(union_item name: (type_identifier) @name) @def.struct
(enum_item name: (type_identifier) @name) @def.enum
(enum_variant name: (identifier) @name) @def.constant
(trait_item name: (type_identifier) @name) @def.trait
(type_item name: (type_identifier) @name) @def.type
(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.variable
(macro_definition name: (identifier) @name) @def.macro
(mod_item name: (identifier) @name) @def.module
(field_declaration_list (field_declaration name: (field_identifier) @name) @def.field)
(impl_item type: (_) @impl_type) @scope.impl

; ---- imports
(use_declaration) @use
(extern_crate_declaration) @extern_crate
