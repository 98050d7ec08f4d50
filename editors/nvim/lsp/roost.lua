-- Neovim 0.11+: `vim.lsp.enable("roost")` starts Roost with this configuration (override any field with
-- `vim.lsp.config("roost", { ... })`). Plugin options (keys, inline path) come from an earlier
-- require("roost").configure({...}); without one the defaults apply. Use this or require("roost").setup(),
-- not both: each starts its own server.
return require("roost").lsp_config()
