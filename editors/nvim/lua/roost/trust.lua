-- Whether the user trusts a project's own Roost settings file. A cloned repository's roost.toml may choose
-- the backend endpoint, the model, the gate and the exclusions: sent to its own server, every prompt typed in
-- that folder would leak. Before a server starts for a root with such a file, Neovim's trust database
-- (vim.secure.read, Neovim >= 0.9: asks once, remembers the file's hash, asks again when it changes) decides;
-- an untrusted file is still read by the server, less the keys of lsp.config.UNTRUSTED_WORKSPACE_RESTRICTED_KEYS,
-- once the plugin sends `roostWorkspaceTrusted = false` in initializationOptions (as VS Code does).
local util = require("roost.util")

local M = {}

-- The initializationOptions key the server reads (lsp/config.py WORKSPACE_TRUSTED_OPTION).
M.OPTION = "roostWorkspaceTrusted"

-- root -> { file = path|nil, trusted = bool, why = string }: one decision per root and session, so a server
-- restarted after a crash does not ask again; :RoostRestart forgets them (M.forget) and asks anew.
local decisions = {}
-- file -> true once the user was told it is not trusted.
local told = {}

local function read_file(path)
  local stat = util.uv.fs_stat(path)
  if not stat or stat.type ~= "file" then
    return nil
  end
  local handle = io.open(path, "rb")
  if not handle then
    return "" -- there, but unreadable to us: asked about like any other (the server may read it)
  end
  local text = handle:read("*a") or ""
  handle:close()
  return text
end

--- Whether a TOML text sets anything: a file of blank lines and comments (a root marker) sets nothing.
local function sets_something(text)
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if not line:match("^%s*$") and not line:match("^%s*#") then
      return true
    end
  end
  return false
end

--- Whether a pyproject.toml may hold a [tool.roost] table. A TOML key spells "roost" either literally or
--- with \u / \U escapes in a quoted key, so a file with neither cannot (any other file is asked about).
local function may_hold_roost_table(text)
  return text:find("roost", 1, true) ~= nil or text:find("\\[uU]") ~= nil
end

--- The file at `root` the server takes settings from, when it sets anything: roost.toml, else
--- pyproject.toml's [tool.roost] (lsp/config.read_workspace_file; roost.toml wins when both exist). Nil: none.
function M.workspace_file(root)
  if root == nil or root == "" then
    return nil -- a file in no project: the server reads no workspace file
  end
  local roost_toml = root .. "/roost.toml"
  local text = read_file(roost_toml)
  if text ~= nil then
    return sets_something(text) and roost_toml or nil
  end
  local pyproject = root .. "/pyproject.toml"
  text = read_file(pyproject)
  if text ~= nil and may_hold_roost_table(text) then
    return pyproject
  end
  return nil
end

--- Whether this Neovim has a trust database (vim.secure.read, 0.9+).
function M.has_database()
  return vim.secure ~= nil and type(vim.secure.read) == "function"
end

--- The decision for `root` under the option `trust_workspace_config` (true: trusted without asking; false:
--- never trusted; nil or "ask": Neovim's trust database, or trusted where there is none, as before).
function M.decide(root, option)
  local known = decisions[root]
  if known then
    return known
  end
  local file = M.workspace_file(root)
  local decision
  if file == nil then
    decision = { trusted = true, why = "no workspace settings file" }
  elseif option == true then
    decision = { file = file, trusted = true, why = "trust_workspace_config = true" }
  elseif option == false then
    decision = { file = file, trusted = false, why = "trust_workspace_config = false" }
  elseif M.has_database() then
    -- Prompts (ignore/view/deny/allow) when the file is unknown or changed; nil when denied or ignored, and
    -- at once where there is no UI to ask (a headless Neovim).
    local trusted = vim.secure.read(file) ~= nil
    decision = { file = file, trusted = trusted, why = trusted and "trusted (:trust)" or "not trusted (:trust)" }
  else
    decision = { file = file, trusted = true, why = "trusted: Neovim < 0.9 has no trust database" }
  end
  decisions[root] = decision
  return decision
end

--- What the user is told once per file when its restricted settings are left out.
local function tell(decision)
  if told[decision.file] then
    return
  end
  told[decision.file] = true
  local how = decision.why == "trust_workspace_config = false" and "trust_workspace_config = false"
    or (":edit it, :trust, then :RoostRestart")
  -- Scheduled: this runs inside a FileType autocommand, where an error message would abort the others.
  vim.schedule(function()
    util.notify(
      ("%s is not trusted: its model, backend, gate, exclusion, cache and metrics settings are ignored (%s)"):format(
        decision.file,
        how
      ),
      vim.log.levels.WARN
    )
  end)
end

--- `init_options` as sent to a server for `root`: a copy with `roostWorkspaceTrusted = false` when the root's
--- settings file is not trusted (the user is told once), else `init_options` itself.
function M.init_options(init_options, root, option)
  local decision = M.decide(root, option)
  if decision.trusted then
    return init_options
  end
  tell(decision)
  local options = vim.deepcopy(init_options or {})
  options[M.OPTION] = false
  return options
end

--- The decision made for `root` this session, or nil (for :RoostStatus).
function M.decision(root)
  return decisions[root]
end

--- Forgets the decision for `root` (every root when nil): the next start asks again, so a file trusted
--- meanwhile with :trust takes effect.
function M.forget(root)
  if root == nil then
    decisions = {}
  else
    decisions[root] = nil
  end
end

return M
