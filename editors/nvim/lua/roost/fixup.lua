-- Multi-turn fix-ups: :RoostFix, :RoostReply, :RoostAccept, :RoostReject, :RoostUndo.
--
-- The server owns the sessions (stored, so a restart loses none); this module remembers which one is
-- on screen, shows its proposal as a unified diff in a preview window, and forwards the user's choice.
-- An accepted edit comes back from the server as `workspace/applyEdit`, which Neovim's built-in
-- handler applies to the buffers (undo with `u` works as for any edit).
local util = require("roost.util")

local M = {}

--- function(bufnr) -> the Roost client for bufnr, or nil. Set by roost.init.
local find_client = function(_)
  return nil
end

-- The proposal on screen: { session, edit, message, client_id, bufnr }.
local current = nil
-- The last accepted session, which :RoostUndo reverts.
local last_accepted = nil
local preview_bufnr = nil

function M.configure(client_finder)
  find_client = client_finder
end

function M.current()
  return current
end

function M.last_accepted()
  return last_accepted
end

local function close_preview()
  if preview_bufnr and vim.api.nvim_buf_is_valid(preview_bufnr) then
    vim.api.nvim_buf_delete(preview_bufnr, { force = true })
  end
  preview_bufnr = nil
end

--- The text edits of a WorkspaceEdit, grouped by URI (file operations are not previewed).
local function edits_by_uri(edit)
  local grouped, order = {}, {}
  local function add(uri, edits)
    if not grouped[uri] then
      grouped[uri] = {}
      table.insert(order, uri)
    end
    vim.list_extend(grouped[uri], edits)
  end
  if type(edit) ~= "table" then
    return grouped, order
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument and change.edits then
      add(change.textDocument.uri, change.edits)
    end
  end
  for uri, edits in pairs(edit.changes or {}) do
    add(uri, edits)
  end
  return grouped, order
end
M.edits_by_uri = edits_by_uri

--- The text of `uri` after `edits`, computed on a scratch copy (the real buffer is not touched).
function M.proposed_text(uri, edits, encoding)
  local source = vim.uri_to_bufnr(uri)
  vim.fn.bufload(source)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, vim.api.nvim_buf_get_lines(source, 0, -1, false))
  local ok, err = pcall(vim.lsp.util.apply_text_edits, edits, scratch, encoding)
  local text = ok and util.buf_text(scratch) or nil
  vim.api.nvim_buf_delete(scratch, { force = true })
  return text, err
end

local function show_proposal(result, client, origin_bufnr)
  current = {
    session = result.session,
    edit = result.edit,
    message = result.message or "",
    client_id = client.id,
    bufnr = origin_bufnr,
  }
  local encoding = util.encoding(client)
  local grouped, order = edits_by_uri(result.edit)
  local lines = {}
  if current.message ~= "" then
    for _, line in ipairs(util.split_lines(current.message)) do
      table.insert(lines, "# " .. line)
    end
  end
  table.insert(lines, "# :RoostAccept applies it, :RoostReply {message} revises it, :RoostReject drops it.")
  current.proposed = {}
  for _, uri in ipairs(order) do
    local before = util.buf_text(vim.uri_to_bufnr(uri))
    local after, err = M.proposed_text(uri, grouped[uri], encoding)
    local name = vim.fn.fnamemodify(vim.uri_to_fname(uri), ":~:.")
    if after then
      current.proposed[uri] = after
      table.insert(lines, "--- a/" .. name)
      table.insert(lines, "+++ b/" .. name)
      local diff = util.diff(before, after)
      for _, line in ipairs(util.split_lines(diff)) do
        if line ~= "" then
          table.insert(lines, line)
        end
      end
    else
      table.insert(lines, "# " .. name .. ": the edit does not apply: " .. tostring(err))
    end
  end
  if #order == 0 then
    table.insert(lines, "# (no change proposed)")
  end
  close_preview()
  local origin_win = vim.api.nvim_get_current_win()
  vim.cmd("botright new")
  preview_bufnr = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_name(preview_bufnr, "roost://fixup/" .. result.session)
  vim.api.nvim_buf_set_lines(preview_bufnr, 0, -1, false, lines)
  for option, value in pairs({ buftype = "nofile", bufhidden = "wipe", swapfile = false, modifiable = false }) do
    vim.bo[preview_bufnr][option] = value
  end
  vim.bo[preview_bufnr].filetype = "diff"
  vim.api.nvim_win_set_height(0, math.min(#lines + 1, math.max(5, math.floor(vim.o.lines / 3))))
  vim.api.nvim_set_current_win(origin_win)
  util.notify(current.message ~= "" and current.message or "fix-up proposed (see the preview)")
end

local function execute(client, bufnr, command, argument, on_result)
  local arguments = { command = command, arguments = { argument } }
  util.call(client, "request", "workspace/executeCommand", arguments, function(err, result)
    if err then
      util.notify(command .. " failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    on_result(result)
  end, bufnr)
end

local function client_or_warn(bufnr)
  local client = find_client(bufnr)
  if not client then
    util.notify("no Roost server is attached to this buffer (see :RoostStatus)", vim.log.levels.WARN)
  end
  return client
end

local function check_result(result, command)
  if type(result) ~= "table" or type(result.session) ~= "string" then
    util.notify(command .. ": the server answered " .. vim.inspect(result), vim.log.levels.ERROR)
    return false
  end
  return true
end

--- :[range]RoostFix {instruction}
function M.start(line1, line2, instruction)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_or_warn(bufnr)
  if not client then
    return
  end
  if not instruction or instruction:match("^%s*$") then
    instruction = vim.fn.input("Roost fix-up: ")
    if instruction:match("^%s*$") then
      return
    end
  end
  local argument = {
    uri = vim.uri_from_bufnr(bufnr),
    range = util.lines_range(bufnr, line1, line2, util.encoding(client)),
    instruction = vim.trim(instruction),
  }
  util.notify("working on the fix-up…")
  execute(client, bufnr, "roost.fixup.start", argument, function(result)
    if check_result(result, "roost.fixup.start") then
      show_proposal(result, client, bufnr)
    end
  end)
end

--- :RoostReply {message}
function M.reply(message)
  if not current then
    util.notify("no fix-up to reply to; start one with :RoostFix", vim.log.levels.WARN)
    return
  end
  local client = vim.lsp.get_client_by_id(current.client_id)
  if not client then
    util.notify("the Roost server of this fix-up is gone", vim.log.levels.ERROR)
    return
  end
  if not message or message:match("^%s*$") then
    message = vim.fn.input("Roost reply: ")
    if message:match("^%s*$") then
      return
    end
  end
  local origin = current.bufnr
  util.notify("revising the fix-up…")
  execute(client, origin, "roost.fixup.reply", { session = current.session, message = vim.trim(message) }, function(result)
    if check_result(result, "roost.fixup.reply") then
      show_proposal(result, client, origin)
    end
  end)
end

--- :RoostAccept for a fix-up; returns false when there is none on screen.
function M.accept()
  if not current then
    return false
  end
  local session = current
  local client = vim.lsp.get_client_by_id(session.client_id)
  if not client then
    util.notify("the Roost server of this fix-up is gone", vim.log.levels.ERROR)
    return true
  end
  execute(client, session.bufnr, "roost.fixup.accept", { session = session.session }, function()
    last_accepted = { session = session.session, client_id = session.client_id, bufnr = session.bufnr }
    if current and current.session == session.session then
      current = nil
      close_preview()
    end
    util.notify("fix-up applied (:RoostUndo reverts it)")
  end)
  return true
end

--- :RoostReject
function M.reject()
  if not current then
    util.notify("no fix-up to reject", vim.log.levels.WARN)
    return
  end
  local session = current
  current = nil
  close_preview()
  local client = vim.lsp.get_client_by_id(session.client_id)
  if client then
    execute(client, session.bufnr, "roost.fixup.reject", { session = session.session }, function() end)
  end
end

--- :RoostUndo: reverts the last accepted fix-up (the server refuses if the text changed since).
function M.undo()
  if not last_accepted then
    util.notify("no accepted fix-up to undo", vim.log.levels.WARN)
    return
  end
  local session = last_accepted
  local client = vim.lsp.get_client_by_id(session.client_id)
  if not client then
    util.notify("the Roost server of this fix-up is gone", vim.log.levels.ERROR)
    return
  end
  execute(client, session.bufnr, "roost.fixup.undo", { session = session.session }, function(result)
    last_accepted = nil
    local message = type(result) == "table" and result.message or nil
    util.notify(message and message ~= "" and message or "fix-up reverted")
  end)
end

return M
