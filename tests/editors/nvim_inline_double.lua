-- A test double of Neovim 0.12's vim.lsp.inline_completion (runtime/lua/vim/lsp/inline_completion.lua),
-- installed by tests/editors/test_nvim_builtin_inline.py on Neovims that lack it (0.7-0.11).
--
-- Each function checks its arguments strictly against the 0.12 signatures and raises on anything else
-- (unknown keys, wrong types), so a plugin that calls the API wrongly fails the test instead of passing
-- against a forgiving fake. Every call is recorded in `calls` for the test to read.
--
--   enable(enable?: boolean, filter?: { bufnr?: integer, client_id?: integer })
--   is_enabled(filter?: { bufnr?: integer, client_id?: integer }) -> boolean
--   get(opts?: { bufnr?: integer, on_accept?: function }) -> boolean
--   select(opts?: { bufnr?: integer, count?: integer, wrap?: boolean })
local M = {
  calls = {},
  -- What get() answers: true when a shown suggestion will be applied. The test sets it.
  get_result = false,
  enabled = {},
}

local function fail(fn, message)
  error("vim.lsp.inline_completion." .. fn .. ": " .. message, 3)
end

local function is_integer(value)
  return type(value) == "number" and value == math.floor(value)
end

-- spec: key -> checker(value) -> ok
local function check_table(fn, name, value, spec)
  if value == nil then
    return
  end
  if type(value) ~= "table" then
    fail(fn, name .. " must be a table or nil, got " .. type(value))
  end
  for key, field in pairs(value) do
    local checker = spec[key]
    if checker == nil then
      fail(fn, name .. " has unknown key " .. vim.inspect(key))
    end
    if not checker(field) then
      fail(fn, name .. "." .. tostring(key) .. " has the wrong type: " .. vim.inspect(field))
    end
  end
end

local function integer(value)
  return is_integer(value)
end

local function boolean(value)
  return type(value) == "boolean"
end

local function callable(value)
  return vim.is_callable(value)
end

local function record(fn, args)
  table.insert(M.calls, { fn = fn, args = args })
end

function M.enable(enable, filter, ...)
  if select("#", ...) > 0 then
    fail("enable", "takes at most two arguments")
  end
  if enable ~= nil and type(enable) ~= "boolean" then
    fail("enable", "enable must be a boolean or nil, got " .. type(enable))
  end
  check_table("enable", "filter", filter, { bufnr = integer, client_id = integer })
  record("enable", { enable = enable == nil and vim.NIL or enable, filter = filter or vim.NIL })
  local key = filter and ((filter.bufnr or "*") .. ":" .. (filter.client_id or "*")) or "*:*"
  M.enabled[key] = enable ~= false
end

function M.is_enabled(filter, ...)
  if select("#", ...) > 0 then
    fail("is_enabled", "takes at most one argument")
  end
  check_table("is_enabled", "filter", filter, { bufnr = integer, client_id = integer })
  record("is_enabled", { filter = filter or vim.NIL })
  local key = filter and ((filter.bufnr or "*") .. ":" .. (filter.client_id or "*")) or "*:*"
  return M.enabled[key] == true
end

function M.get(opts, ...)
  if select("#", ...) > 0 then
    fail("get", "takes at most one argument")
  end
  check_table("get", "opts", opts, { bufnr = integer, on_accept = callable })
  record("get", { opts = opts and { bufnr = opts.bufnr, on_accept = opts.on_accept and true } or vim.NIL })
  return M.get_result
end

function M.select(opts, ...)
  if select("#", ...) > 0 then
    fail("select", "takes at most one argument")
  end
  check_table("select", "opts", opts, { bufnr = integer, count = integer, wrap = boolean })
  record("select", { opts = opts or vim.NIL })
end

return M
