-- Roost for Neovim: require("roost").setup({...}).
--
-- Starts `roost serve --stdio` for each project root (with vim.lsp.start_client, which Neovim 0.7 has
-- and later versions keep, so nvim-lspconfig is not needed), attaches it to buffers of the languages
-- Roost knows, and adds ghost text, fix-up commands and a status. Code actions come through the
-- standard vim.lsp.buf.code_action().
local util = require("roost.util")
local ghost = require("roost.ghost")
local fixup = require("roost.fixup")
local idle = require("roost.idle")
local trust = require("roost.trust")

local M = {}

local defaults = {
  cmd = { "roost", "serve", "--stdio" },
  -- Extra environment for the server process (e.g. { ROOST_CACHE_DIR = "..." }).
  cmd_env = nil,
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust", "java" },
  root_markers = { "roost.toml", "pyproject.toml", "package.json", "go.mod", "Cargo.toml", "pom.xml", ".git" },
  -- The server's settings, as in roost.toml: { model = { name = "..." }, backend = { kind = "openai",
  -- endpoint = "..." }, context = { budget = 4096 }, gate = { block_severity = "medium" }, ... }.
  settings = {},
  -- Whether a project's own settings file (roost.toml, or [tool.roost] in pyproject.toml) may choose the model,
  -- backend, gate, exclusions, cache and metrics port. "ask": Neovim's trust database decides (vim.secure.read:
  -- it asks once per file and asks again when the file changes; :trust and :RoostRestart trust it later); on
  -- Neovim < 0.9, which has none, such files are trusted. true: always trusted, never asked (only for people
  -- who open their own repositories). false: never trusted. Untrusted, the server ignores those keys of it.
  trust_workspace_config = "ask",
  inline = {
    enabled = true,
    auto_trigger = true,
    debounce_ms = 25,
    -- "auto": Neovim's own vim.lsp.inline_completion when it has one (>= 0.12), else Roost's ghost text.
    -- true: the built-in one whenever vim.lsp.inline_completion exists (whatever the version); false: ghost text.
    builtin = "auto",
  },
  -- Insert-mode keys; each does what it did before when no suggestion is shown. false disables a key.
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-Right>",
    accept_line = "<M-C-Right>",
    dismiss = "<C-]>",
    next = "<M-]>",
    prev = "<M-[>",
    suggest = "<M-\\>",
  },
  -- When the cursor has rested this long (nothing selected), the server is told where (`roost/cursorIdle`) so
  -- it can prepare the prompt there before you type. Off with settings = { completion = { prefetch = false } }.
  cursor_idle = { delay_ms = 300 },
  -- Restart a server that exits on its own, at most this many times in three minutes.
  max_restarts = 5,
  on_attach = nil,
}

local config = vim.deepcopy(defaults)
-- root directory -> client id
local clients_by_root = {}
-- client id -> { state, message, percentage }
local statuses = {}
local restarts = {}
local stopping = {}
-- cmd (joined) -> true once its failure to start was reported (until it starts)
local start_failures = {}

-- Decided from the option each time (not cached at load) so a test can install its own
-- vim.lsp.inline_completion and choose the path with `inline.builtin = true` instead of faking the version.
local function use_builtin_inline()
  local builtin = config.inline.builtin
  if vim.lsp.inline_completion == nil or builtin == false then
    return false
  end
  if builtin == true then
    return true
  end
  return util.has_version(0, 12) -- "auto" (or nil, as before the option took "auto")
end

--- The options in effect (setup()/configure() merged over the defaults), for :checkhealth.
function M.options()
  return config
end

--- "builtin" (Neovim's vim.lsp.inline_completion), "ghost" (Roost's ghost text) or "off".
function M.inline_path()
  if not config.inline.enabled then
    return "off"
  end
  return use_builtin_inline() and "builtin" or "ghost"
end

--- The Roost client attached to bufnr, or nil.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  for _, client in ipairs(util.buf_clients(bufnr)) do
    if client.name == "roost" and not util.call(client, "is_stopped") then
      return client
    end
  end
  return nil
end

-- The key of the server for files in no project (no root marker above them). Such a file's folder was taken as
-- its project, and for ~/notes.py that was the whole home directory, every file of it indexed. That server has
-- no root: it serves the files alone, as VS Code's window without a folder does, and as vim.lsp.enable("roost")
-- does with root_markers.
local NO_ROOT = ""

--- The buffer's project root (the nearest folder above it holding a root marker), or NO_ROOT.
local function find_root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local current = name ~= "" and vim.fn.fnamemodify(name, ":p:h") or util.uv.cwd()
  while current do
    for _, marker in ipairs(config.root_markers) do
      if util.uv.fs_stat(current .. "/" .. marker) then
        return current
      end
    end
    local parent = vim.fn.fnamemodify(current, ":h")
    if parent == current then
      break
    end
    current = parent
  end
  return NO_ROOT
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  -- Roost serves ghost text through inlineCompletion when the client says it can show it.
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  caps.workspace = caps.workspace or {}
  caps.workspace.applyEdit = true
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  -- Roost counts columns in UTF-16 code units, LSP's default. Neovim >= 0.10 offers utf-8 first and the
  -- server's library would take it, misplacing every position after a non-ASCII character: offer only utf-16.
  caps.general = caps.general or {}
  caps.general.positionEncodings = { "utf-16" }
  return caps
end

--- Whether the client's server takes roost/cursorIdle now: ready, degraded (serving, with a failing
--- backend) or loading the model (which the first prefetch starts; holding notifications until the load
--- ends would leave the cursors the user rests on meanwhile unprepared). Not while it starts or indexes.
local function server_takes_cursor_idle(client)
  local status = statuses[client.id]
  return status ~= nil
    and (status.state == "ready" or status.state == "degraded" or status.state == "loading_model")
end

local function on_status(_, result, ctx)
  if type(result) ~= "table" then
    return
  end
  local previous = statuses[ctx.client_id]
  statuses[ctx.client_id] = { state = result.state, message = result.message or "", percentage = result.percentage }
  if result.state == "ready" and not (previous and previous.state == "ready") then
    -- The cursor may have come to rest while the server was busy: it is where the user is, tell it now.
    local bufnr = vim.api.nvim_get_current_buf()
    local client = M.client(bufnr)
    if client and client.id == ctx.client_id then
      idle.note(bufnr)
    end
  end
  if result.state == "error" and not (previous and previous.state == "error" and previous.message == result.message) then
    util.notify(result.message or "error", vim.log.levels.ERROR)
  elseif
    result.state == "degraded"
    and not (previous and previous.state == "degraded" and previous.message == result.message)
  then
    -- The backend fails requests (HTTP error, timeout …); the server returns to "ready" by itself.
    util.notify(result.message or "the model backend is failing", vim.log.levels.WARN)
  end
  vim.cmd("redrawstatus")
end

local start_client
local on_client_attach
local attach_loaded

local function attach(bufnr, client_id)
  if not vim.lsp.buf_is_attached(bufnr, client_id) then
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
end

--- Attaches every loaded buffer of Roost's filetypes (of `root` only, when given) to its project's server.
attach_loaded = function(root)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if
      vim.api.nvim_buf_is_loaded(bufnr)
      and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype)
      and (root == nil or find_root(bufnr) == root)
    then
      M.attach(bufnr)
    end
  end
end

local function on_exit(root, client_id, code, signal)
  if clients_by_root[root] == client_id then
    clients_by_root[root] = nil
  end
  statuses[client_id] = { state = "error", message = ("server exited (code %s, signal %s)"):format(code, signal) }
  if stopping[client_id] then
    stopping[client_id] = nil
    return
  end
  local now = util.uv.now()
  local recent = {}
  for _, at in ipairs(restarts[root] or {}) do
    if now - at < 180000 then
      table.insert(recent, at)
    end
  end
  table.insert(recent, now)
  restarts[root] = recent
  if #recent > config.max_restarts then
    util.notify(
      ("the server stopped %d times in 3 minutes; not restarting. See :RoostStatus and :LspLog"):format(#recent),
      vim.log.levels.ERROR
    )
    return
  end
  vim.schedule(function()
    attach_loaded(root)
  end)
end

start_client = function(root, bufnr)
  local client_id
  local client_config = {
    name = "roost",
    cmd = config.cmd,
    cmd_env = config.cmd_env,
    root_dir = root ~= NO_ROOT and root or nil,
    workspace_folders = root ~= NO_ROOT and { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ":t") } }
      or nil,
    capabilities = capabilities(),
    init_options = trust.init_options({ roost = config.settings }, root, config.trust_workspace_config),
    -- Sent with workspace/didChangeConfiguration and answered to workspace/configuration.
    settings = { roost = config.settings },
    flags = { debounce_text_changes = 50 },
    handlers = { ["roost/status"] = on_status },
    on_init = function(client)
      statuses[client.id] = statuses[client.id] or { state = "starting", message = "" }
    end,
    on_attach = function(client, bufnr)
      on_client_attach(client, bufnr)
    end,
    on_exit = function(code, signal)
      vim.schedule(function()
        on_exit(root, client_id, code, signal)
      end)
    end,
  }
  local ok
  if util.has_version(0, 10) then
    -- vim.lsp.start_client is deprecated from 0.11; vim.lsp.start starts and attaches in one go.
    ok, client_id = pcall(vim.lsp.start, client_config, {
      bufnr = bufnr,
      reuse_client = function()
        return false -- M.attach already looked for this root's client
      end,
    })
  else
    ok, client_id = pcall(vim.lsp.start_client, client_config)
  end
  if not ok or not client_id then
    -- This runs inside the FileType autocommand: an error raised here (or an error message, which
    -- Neovim >= 0.11 turns into one there) would abort the buffer's other FileType autocommands, the user's
    -- and the ftplugins' after ours. Report it once the autocommand is over, and once per command.
    local command = table.concat(config.cmd, " ")
    if not start_failures[command] then
      start_failures[command] = true
      vim.schedule(function()
        util.notify(
          ("could not start %s%s. Set cmd in require('roost').setup({...}); :checkhealth roost"):format(
            command,
            ok and "" or (": " .. tostring(client_id))
          ),
          vim.log.levels.ERROR
        )
      end)
    end
    return nil
  end
  start_failures[table.concat(config.cmd, " ")] = nil
  clients_by_root[root] = client_id
  return client_id
end

--- Attaches the Roost server of the buffer's project (starting it if needed).
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].buftype ~= "" then
    return
  end
  local root = find_root(bufnr)
  local client_id = clients_by_root[root]
  if not client_id or not vim.lsp.get_client_by_id(client_id) then
    client_id = start_client(root, bufnr)
  end
  if client_id then
    attach(bufnr, client_id)
  end
end

--- Stops every Roost server (no restart).
function M.stop()
  for root, client_id in pairs(clients_by_root) do
    stopping[client_id] = true
    local client = vim.lsp.get_client_by_id(client_id)
    if client then
      util.call(client, "stop")
    end
    clients_by_root[root] = nil
  end
end

--- Stops every Roost server and starts them again for every buffer they served (all of them, not only the
--- current one: M.stop() keeps the automatic restart from reattaching them). A restart by hand also starts the
--- count of automatic restarts afresh, so a server that had been given up on is restarted again if it stops.
function M.restart()
  M.stop()
  restarts = {}
  start_failures = {}
  trust.forget() -- a settings file trusted (:trust) or changed since is asked about again
  attach_loaded(nil)
  M.attach() -- the current buffer, where the user asked, even if its filetype is not one of config.filetypes
end

--- A short status for statuslines, e.g. "Roost: indexing 40%".
function M.statusline(bufnr)
  local client = M.client(bufnr)
  if not client then
    return ""
  end
  local status = statuses[client.id] or { state = "starting" }
  local text = "Roost: " .. tostring(status.state):gsub("_", " ")
  if status.state ~= "ready" and status.state ~= "error" and type(status.percentage) == "number" then
    text = text .. " " .. status.percentage .. "%"
  end
  return text
end

--- The status of the buffer's server as a table (for :RoostStatus and tests).
function M.status(bufnr)
  local client = M.client(bufnr)
  if not client then
    return { attached = false }
  end
  local status = statuses[client.id] or { state = "starting", message = "" }
  return {
    attached = true,
    client_id = client.id,
    root = client.config.root_dir,
    state = status.state,
    message = status.message,
    percentage = status.percentage ~= vim.NIL and status.percentage or nil,
    inline = M.inline_path(),
    enabled = M.enabled(bufnr),
    fixup = fixup.current() and fixup.current().session or nil,
    inline_requests = ghost.requests_sent or 0,
    cursor_idle_sent = idle.sent,
    last_inline_answer = ghost.last_answer,
    -- { file, trusted, why } for the project's settings file (see trust_workspace_config).
    workspace_trust = trust.decision(client.config.root_dir or NO_ROOT),
  }
end

local function print_status()
  local status = M.status()
  if not status.attached then
    util.notify("no server attached to this buffer (filetypes: " .. table.concat(config.filetypes, ", ") .. ")")
    return
  end
  local lines = {
    M.statusline(),
    "  server: " .. table.concat(config.cmd, " ") .. " (client " .. status.client_id .. ")",
    "  root: " .. (status.root or "none (a file in no project: served alone, nothing indexed)"),
    "  inline completion: " .. status.inline .. (status.enabled and "" or " (turned off here: :RoostToggle)"),
  }
  if status.message and status.message ~= "" then
    table.insert(lines, "  " .. status.message)
  end
  local decision = status.workspace_trust
  if decision and decision.file then
    table.insert(
      lines,
      ("  settings file: %s, %s%s"):format(
        decision.file,
        decision.why,
        decision.trusted and "" or " (its model, backend, gate and exclusion settings are ignored)"
      )
    )
  end
  if status.fixup then
    table.insert(lines, "  fix-up on screen: " .. status.fixup)
  end
  local answer = status.last_inline_answer
  if answer then
    table.insert(
      lines,
      ("  inline requests: %d; last answer: %d item(s), %d shown%s%s"):format(
        status.inline_requests,
        answer.items,
        answer.shown,
        answer.stale and " (stale: the text or cursor had moved on)" or "",
        answer.error and (", error: " .. answer.error) or ""
      )
    )
  end
  vim.api.nvim_echo({ { table.concat(lines, "\n") } }, true, {})
end

--- Replays what `lhs` did before Roost mapped it (another mapping, or the key itself).
local function fallback(lhs, previous)
  local keys
  local mode = "n"
  if previous and previous.lhs and (previous.rhs or previous.callback) then
    mode = previous.noremap == 1 and "n" or "m"
    if previous.callback then
      local result = previous.callback()
      if previous.expr ~= 1 then
        return
      end
      keys = result
    elseif previous.expr == 1 then
      keys = vim.api.nvim_eval(previous.rhs)
    else
      keys = previous.rhs
    end
  else
    keys = lhs
  end
  if type(keys) == "string" and keys ~= "" then
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, true, true), mode .. "i", false)
  end
end

--- What `lhs` is mapped to in Insert mode now (maparg()'s dictionary), or nil.
local function insert_mapping(lhs)
  local previous = vim.fn.maparg(lhs, "i", false, true)
  if type(previous) ~= "table" or vim.tbl_isempty(previous) then
    return nil
  end
  if previous.callback ~= nil and type(previous.callback) ~= "function" then
    -- Neovim 0.7's maparg() gives a Lua mapping's function as a number, which Lua cannot call (calling it
    -- failed at every key press without a suggestion, and the user's mapping, e.g. a completion plugin's
    -- <Tab>, never ran); nvim_get_keymap gives the function itself.
    local maps = previous.buffer == 1 and vim.api.nvim_buf_get_keymap(0, "i") or vim.api.nvim_get_keymap("i")
    previous.callback = nil
    for _, map in ipairs(maps) do
      if map.lhs == previous.lhs and type(map.callback) == "function" then
        previous.callback = map.callback
      end
    end
  end
  return previous
end

local function map_key(lhs, description, action)
  if not lhs or lhs == false then
    return
  end
  local previous = insert_mapping(lhs)
  vim.keymap.set("i", lhs, function()
    if not action() then
      fallback(lhs, previous)
    end
  end, { silent = true, desc = "Roost: " .. description })
end

--- What each inline key does, by keymaps name: function() -> true when it acted (else the key falls back).
local function inline_actions()
  if use_builtin_inline() then
    -- Neovim's own inline completion has no partial accept or dismiss of its own: those keys fall back.
    return {
      accept = function()
        -- get(opts) returns true when a shown candidate is (scheduled to be) applied, false otherwise,
        -- so the key falls back to its own meaning when nothing is shown.
        return vim.lsp.inline_completion.get({ bufnr = vim.api.nvim_get_current_buf() }) == true
      end,
      next = function()
        vim.lsp.inline_completion.select({ bufnr = vim.api.nvim_get_current_buf(), count = 1 })
        return true
      end,
      prev = function()
        vim.lsp.inline_completion.select({ bufnr = vim.api.nvim_get_current_buf(), count = -1 })
        return true
      end,
    }
  end
  local function with_client(action)
    return function()
      if M.client() then
        action()
        return true
      end
      return false
    end
  end
  return {
    accept = function()
      return ghost.visible() and ghost.accept("all")
    end,
    accept_word = function()
      return ghost.visible() and ghost.accept("word")
    end,
    accept_line = function()
      return ghost.visible() and ghost.accept("line")
    end,
    dismiss = function()
      if ghost.visible() then
        ghost.dismiss()
        return true
      end
      return false
    end,
    next = with_client(function()
      ghost.cycle(1)
    end),
    prev = with_client(function()
      ghost.cycle(-1)
    end),
    suggest = with_client(ghost.suggest),
  }
end

local KEY_DESCRIPTIONS = {
  accept = "accept suggestion",
  accept_word = "accept the next word of the suggestion",
  accept_line = "accept the next line of the suggestion",
  dismiss = "dismiss suggestion",
  next = "next suggestion",
  prev = "previous suggestion",
  suggest = "suggest now",
}

--- Insert-mode <Plug> mappings, one per action, for users who choose their own keys:
--- `imap <C-J> <Plug>(roost-accept)`. They do nothing when there is nothing to act on.
M.plug_mappings = {
  accept = "<Plug>(roost-accept)",
  accept_word = "<Plug>(roost-accept-word)",
  accept_line = "<Plug>(roost-accept-line)",
  dismiss = "<Plug>(roost-dismiss)",
  next = "<Plug>(roost-next)",
  prev = "<Plug>(roost-previous)",
  suggest = "<Plug>(roost-suggest)",
}

local function set_keymaps()
  local actions = inline_actions()
  for name, plug in pairs(M.plug_mappings) do
    local action = actions[name] or function()
      return false
    end
    vim.keymap.set("i", plug, function()
      action()
    end, { silent = true, desc = "Roost: " .. KEY_DESCRIPTIONS[name] })
    if actions[name] then
      map_key(config.keymaps[name], KEY_DESCRIPTIONS[name], action)
    end
  end
end

-- :RoostToggle ---------------------------------------------------------------------------------------

--- Whether inline suggestions are on for bufnr: its own switch (`vim.b.roost_enabled`) when set, else the
--- global one (`vim.g.roost_enabled`, on unless false), and never when `inline.enabled` is false.
function M.enabled(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not config.inline.enabled then
    return false
  end
  local own = vim.b[bufnr].roost_enabled
  if own ~= nil then
    return own ~= false
  end
  return vim.g.roost_enabled ~= false
end

--- Applies the switches to every loaded buffer: hides what is shown where suggestions went off, and tells
--- Neovim's own inline completion (>= 0.12) where it may ask.
local function apply_switches()
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      local on = M.enabled(bufnr)
      if not on then
        ghost.clear(bufnr)
      end
      local client = M.client(bufnr)
      if client and use_builtin_inline() then
        vim.lsp.inline_completion.enable(on, { bufnr = bufnr, client_id = client.id })
      end
    end
  end
end

--- Turns suggestions on or off: scope "global" (default) or "buffer"; on (true/false) or nil to flip.
function M.toggle(scope, on)
  local bufnr = vim.api.nvim_get_current_buf()
  if scope == "buffer" then
    if on == nil then
      on = not M.enabled(bufnr)
    end
    vim.b[bufnr].roost_enabled = on
  elseif scope == nil or scope == "" or scope == "global" then
    if on == nil then
      on = vim.g.roost_enabled == false
    end
    vim.g.roost_enabled = on
  else
    util.notify(('RoostToggle: unknown scope "%s" (global or buffer)'):format(scope), vim.log.levels.ERROR)
    return
  end
  apply_switches()
  util.notify(("suggestions %s%s"):format(on and "on" or "off", scope == "buffer" and " in this buffer" or ""))
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command("RoostFix", function(opts)
    fixup.start(opts.line1, opts.line2, opts.args)
  end, { range = true, nargs = "*", desc = "Roost: fix up the range by instruction" })
  command("RoostReply", function(opts)
    fixup.reply(opts.args)
  end, { nargs = "*", desc = "Roost: revise the fix-up on screen" })
  command("RoostAccept", function()
    -- The fix-up on screen if there is one, else the ghost-text suggestion.
    if not fixup.accept() and not (ghost.visible() and ghost.accept("all")) then
      util.notify("nothing to accept", vim.log.levels.WARN)
    end
  end, { desc = "Roost: accept the fix-up (or suggestion)" })
  command("RoostReject", function()
    fixup.reject()
  end, { desc = "Roost: reject the fix-up" })
  command("RoostUndo", function()
    fixup.undo()
  end, { desc = "Roost: revert the last accepted fix-up" })
  command("RoostStatus", print_status, { desc = "Roost: server status" })
  command("RoostToggle", function(opts)
    M.toggle(opts.args)
  end, {
    nargs = "?",
    complete = function()
      return { "global", "buffer" }
    end,
    desc = "Roost: turn inline suggestions on or off (global, or this buffer)",
  })
  command("RoostExplain", function()
    require("roost.explain").show(M.client())
  end, { desc = "Roost: why no suggestion / what the last one used" })
  command("RoostRestart", function()
    M.restart()
  end, { desc = "Roost: restart the server" })
end

local function check_version()
  if not util.has_version(0, 7) then
    util.notify("needs Neovim 0.7 or later", vim.log.levels.ERROR)
    return false
  end
  return true
end

--- The plugin's options, commands and keys, without starting anything (setup() and lsp/roost.lua use it).
function M.configure(options)
  config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), options or {})
  local trusting = config.trust_workspace_config
  if trusting ~= "ask" and type(trusting) ~= "boolean" then
    util.notify('trust_workspace_config must be true, false or "ask"; using "ask"', vim.log.levels.WARN)
    config.trust_workspace_config = "ask"
  end
  local builtin = config.inline.builtin
  if builtin ~= nil and builtin ~= "auto" and type(builtin) ~= "boolean" then
    util.notify('inline.builtin must be true, false or "auto"; using "auto"', vim.log.levels.WARN)
    config.inline.builtin = "auto"
  end
  vim.cmd("highlight default link RoostSuggestion Comment")
  ghost.configure(
    { debounce_ms = config.inline.debounce_ms, auto_trigger = config.inline.auto_trigger },
    M.client,
    M.enabled
  )
  fixup.configure(M.client)
  idle.configure({ delay_ms = config.cursor_idle.delay_ms }, M.client, M.enabled, server_takes_cursor_idle)
  require("roost.move").register()
  create_commands()
  if config.inline.enabled then
    set_keymaps()
  end
  M.configured = true
end

-- bufnr -> the URI the Roost servers have the buffer open under.
local opened_as = {}

local function full_text(bufnr)
  local ending = ({ dos = "\r\n", mac = "\r" })[vim.bo[bufnr].fileformat] or "\n"
  local text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, true), ending)
  if vim.bo[bufnr].eol then
    text = text .. ending
  end
  return text
end

--- Neovim's client tells the server of a buffer's new name only when the buffer is written, and only from 0.11:
--- after `:file new.py` (and `:saveas` on 0.7) the server kept the document under its old URI while the edits and
--- requests named the new one, and Roost refuses documents the editor has not opened: no suggestion came in that
--- buffer again. The document is closed under its old URI and opened under the new one.
local function follow_rename(bufnr)
  local old_uri, uri = opened_as[bufnr], vim.uri_from_bufnr(bufnr)
  if old_uri == nil or old_uri == uri then
    return
  end
  opened_as[bufnr] = uri
  local version = (vim.lsp.util.buf_versions or {})[bufnr] or vim.api.nvim_buf_get_changedtick(bufnr)
  for _, client in ipairs(util.buf_clients(bufnr)) do
    if client.name == "roost" then
      util.call(client, "notify", "textDocument/didClose", { textDocument = { uri = old_uri } })
      util.call(client, "notify", "textDocument/didOpen", {
        textDocument = { uri = uri, languageId = vim.bo[bufnr].filetype, version = version, text = full_text(bufnr) },
      })
    end
  end
end

local function track_name(bufnr)
  opened_as[bufnr] = vim.uri_from_bufnr(bufnr)
  local group = vim.api.nvim_create_augroup("roost_name_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd("BufFilePost", {
    group = group,
    buffer = bufnr,
    callback = function()
      follow_rename(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = bufnr,
    callback = function()
      opened_as[bufnr] = nil
    end,
  })
end

--- What a Roost client needs whoever starts it: inline completion (ghost text or Neovim's own) when it
--- attaches, and the plugin's on_attach.
on_client_attach = function(client, bufnr)
  track_name(bufnr)
  if config.inline.enabled then
    if use_builtin_inline() then
      -- 0.12 API: enable(enable, filter) with filter { bufnr?, client_id? }; scoping it to this
      -- client and buffer leaves other inline-completion servers as the user configured them.
      vim.lsp.inline_completion.enable(M.enabled(bufnr), { bufnr = bufnr, client_id = client.id })
    else
      ghost.attach(bufnr)
    end
  end
  idle.attach(bufnr)
  if config.on_attach then
    config.on_attach(client, bufnr)
  end
end

--- A before_init for clients the plugin does not start (vim.lsp.enable("roost"), nvim-lspconfig): once the
--- client knows its root, the project's settings file is asked about (see trust_workspace_config) and, unless
--- trusted, the server is told (`roostWorkspaceTrusted = false` in initializationOptions). Each start asks, as
--- Neovim asks about an exrc file: :trust takes effect at the next start.
function M.before_init(params, client_config)
  local root = client_config.root_dir or NO_ROOT
  trust.forget(root)
  params.initializationOptions = trust.init_options(params.initializationOptions, root, config.trust_workspace_config)
end

--- The client configuration for Neovim >= 0.11's `vim.lsp.config`/`vim.lsp.enable("roost")` (lsp/roost.lua
--- returns it). Options given to an earlier setup()/configure() apply; `vim.lsp.config("roost", {...})`
--- overrides its fields as usual.
function M.lsp_config()
  if not M.configured then
    M.configure({})
  end
  -- An LspAttach autocommand rather than on_attach: a user's vim.lsp.config on_attach replaces ours.
  local group = vim.api.nvim_create_augroup("roost_enable", { clear = true })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      -- Clients setup() started have their own on_attach.
      if client and client.name == "roost" and clients_by_root[client.config.root_dir or NO_ROOT] ~= client.id then
        on_client_attach(client, args.buf)
      end
    end,
  })
  return {
    cmd = config.cmd,
    cmd_env = config.cmd_env,
    filetypes = config.filetypes,
    root_markers = config.root_markers,
    capabilities = capabilities(),
    init_options = { roost = config.settings },
    -- A vim.lsp.config("roost", { before_init = ... }) of your own replaces this: call M.before_init in it.
    before_init = M.before_init,
    settings = { roost = config.settings },
    handlers = { ["roost/status"] = on_status },
  }
end

--- Tells the servers setup() started about the settings of a setup() run again (a re-sourced config), as
--- an editor does with workspace/didChangeConfiguration: the server applies it live. Without this they kept
--- the settings they started with until :RoostRestart.
local function forward_settings()
  local settings = { roost = vim.deepcopy(config.settings) }
  for _, client_id in pairs(clients_by_root) do
    local client = vim.lsp.get_client_by_id(client_id)
    if client and not vim.deep_equal(client.config.settings, settings) then
      -- What workspace/configuration answers from: client.config.settings before 0.11, client.settings after.
      client.config.settings = settings
      if client.settings ~= nil then
        client.settings = settings
      end
      util.call(client, "notify", "workspace/didChangeConfiguration", { settings = settings })
    end
  end
end

function M.setup(options)
  if not check_version() then
    return
  end
  M.configure(options)
  forward_settings()
  local group = vim.api.nvim_create_augroup("roost", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = group,
    callback = function()
      M.stop()
    end,
  })
  -- Buffers opened before setup() (e.g. `nvim file.py` with setup in a plugin manager's config).
  attach_loaded(nil)
end

return M
