-- "Move to another module…": the server's code action runs the client command roost.chooseMoveTarget with the
-- ranked targets and the other modules of the workspace; the user picks one with vim.ui.select, or "New
-- module…" and types its name with vim.ui.input; then the server's roost.moveSymbol moves the symbol there
-- (creating the module) through workspace/applyEdit.
local util = require("roost.util")

local M = {}

M.NEW_MODULE = "New module…"

--- The choices vim.ui.select shows: suggested targets first, then the other modules, then "New module…".
function M.choices(argument)
  local items = {}
  for _, path in ipairs(argument.suggested or {}) do
    table.insert(items, path)
  end
  for _, path in ipairs(argument.modules or {}) do
    table.insert(items, path)
  end
  table.insert(items, M.NEW_MODULE)
  return items
end

local function run_move(client, argument, target)
  local params = {
    command = "roost.moveSymbol",
    arguments = { { uri = argument.uri, symbol = argument.symbol, target = target } },
  }
  util.call(client, "request", "workspace/executeCommand", params, function(err, result)
    if err then
      util.notify(tostring(err.message or err), vim.log.levels.ERROR)
    elseif type(result) == "table" and result.applied == false then
      util.notify("the move was not applied: " .. tostring(result.message), vim.log.levels.WARN)
    end
  end)
end

--- The handler of the client command (vim.lsp.commands): command = { title, command, arguments }.
function M.choose_target(command, ctx)
  local argument = command.arguments and command.arguments[1]
  local client = ctx and vim.lsp.get_client_by_id(ctx.client_id)
  if type(argument) ~= "table" or not client then
    util.notify("Move to another module: the code action has no target list", vim.log.levels.ERROR)
    return
  end
  local prompt = ("Move `%s` to module"):format(argument.symbol)
  vim.ui.select(M.choices(argument), { prompt = prompt .. ":" }, function(choice)
    if choice == nil then
      return
    end
    if choice ~= M.NEW_MODULE then
      run_move(client, argument, choice)
      return
    end
    local directory = vim.fn.fnamemodify(vim.uri_to_fname(argument.uri), ":h")
    local root = client.config.root_dir or ""
    local default = directory:sub(1, #root) == root and directory:sub(#root + 2) or ""
    vim.ui.input({ prompt = prompt .. " (new): ", default = default ~= "" and (default .. "/") or "" }, function(name)
      if name and vim.trim(name) ~= "" then
        run_move(client, argument, vim.trim(name))
      end
    end)
  end)
end

function M.register()
  vim.lsp.commands["roost.chooseMoveTarget"] = M.choose_target
end

return M
