-- `roost/cursorIdle`: tells the server where the cursor came to rest, so it can prefill the completion prompt
-- for that cursor into the model's cache at the lowest priority. On a CPU the first suggestion at a new cursor
-- is bound by that prefill (seconds); a user who reads before typing then gets it without the wait.
--
-- One timer for the whole editor (only the current window's cursor matters): every CursorMoved, CursorMovedI
-- and BufEnter of an attached buffer restarts it, and when it fires the cursor has rested `delay_ms`.
local util = require("roost.util")

local M = {}

M.NOTIFICATION = "roost/cursorIdle"

local config = { delay_ms = 300 }

--- function(bufnr) -> the Roost client attached to bufnr, or nil. Set by roost.init.
local find_client = function(_)
  return nil
end

--- function(bufnr) -> whether suggestions are on for bufnr (:RoostToggle). Set by roost.init.
local is_enabled = function(_)
  return true
end

--- function(client) -> whether its server said it is ready. Set by roost.init.
local is_ready = function(_)
  return true
end

local timer = nil

--- How many notifications went out (for :RoostStatus).
M.sent = 0

function M.configure(options, client_finder, enabled, ready)
  config = vim.tbl_extend("force", config, options or {})
  find_client = client_finder
  is_enabled = enabled or is_enabled
  is_ready = ready or is_ready
end

local function stop_timer()
  if timer then
    timer:stop()
    timer:close()
    timer = nil
  end
end

--- Whether a rest is being waited for (a move was noted and the timer has not fired yet).
function M.waiting()
  return timer ~= nil
end

-- Visual and select modes (characterwise, linewise, blockwise): text is selected, the user is not about to
-- type at the cursor.
local SELECTING = { v = true, V = true, ["\22"] = true, s = true, S = true, ["\19"] = true }

local function selecting()
  return SELECTING[vim.api.nvim_get_mode().mode:sub(1, 1)] == true
end

--- The server setting `completion.prefetch = false` (setup's `settings`, or vim.lsp.config's) turns the
--- prefetch off: then there is nothing to tell the server.
local function prefetch_off(client)
  local settings = client.config and client.config.settings
  local roost = type(settings) == "table" and settings.roost or nil
  local completion = type(roost) == "table" and roost.completion or nil
  return type(completion) == "table" and completion.prefetch == false
end

--- The notification's params for the current window's cursor in bufnr (UTF-16 characters unless the server
--- chose another encoding, like every position the plugin sends).
function M.params(bufnr, client)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local character = util.lsp_character(util.buf_line(bufnr, row), col, util.encoding(client))
  return { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = row, character = character } }
end

local function send(bufnr)
  if vim.api.nvim_get_current_buf() ~= bufnr or selecting() or not is_enabled(bufnr) then
    return
  end
  local client = find_client(bufnr)
  -- Until the server is ready its index is not complete: a prompt prefilled then would differ from the one a
  -- request builds a moment later. roost.init notes the cursor again when the server becomes ready.
  if not client or not is_ready(client) or prefetch_off(client) then
    return
  end
  if util.call(client, "notify", M.NOTIFICATION, M.params(bufnr, client)) then
    M.sent = M.sent + 1
  end
end

--- The cursor moved in bufnr (or bufnr became current): restart the wait for it to rest.
function M.note(bufnr)
  stop_timer()
  local this = util.uv.new_timer()
  timer = this
  this:start(
    config.delay_ms,
    0,
    vim.schedule_wrap(function()
      if timer == this then
        stop_timer()
        send(bufnr)
      end
    end)
  )
end

--- Wires the buffer's events; called when the Roost client attaches to it.
function M.attach(bufnr)
  local group = vim.api.nvim_create_augroup("roost_idle_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI", "BufEnter" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.note(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("BufLeave", {
    group = group,
    buffer = bufnr,
    callback = stop_timer, -- a rest in this buffer can no longer happen
  })
  if vim.api.nvim_get_current_buf() == bufnr then
    -- The client attaches after the buffer was entered: its cursor counts as having just arrived.
    M.note(bufnr)
  end
end

return M
