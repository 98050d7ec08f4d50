-- Ghost text for Neovim 0.7–0.11: `textDocument/inlineCompletion` drawn with extmarks.
--
-- (Neovim >= 0.12 has `vim.lsp.inline_completion`; roost.init uses it there instead of this module.)
--
-- One suggestion per buffer, anchored at the cursor position it was computed for. Each item is kept as
-- "the text to insert at the anchor" plus how many bytes after the anchor it replaces, so typing the
-- start of the suggestion, accepting a word or a line, and cycling all work on that one shape.
local util = require("roost.util")

local M = {}

local ns = vim.api.nvim_create_namespace("roost_ghost")
M.namespace = ns

-- LSP 3.18 InlineCompletionTriggerKind.
local INVOKED = 1
local AUTOMATIC = 2

local config = {
  -- The server debounces adaptively from the typing rhythm; this only coalesces bursts of events.
  debounce_ms = 25,
  auto_trigger = true,
  hl_group = "RoostSuggestion",
}

--- function(bufnr) -> the Roost client attached to bufnr, or nil. Set by roost.init.
local find_client = function(_)
  return nil
end

--- function(bufnr) -> whether suggestions are on for bufnr (:RoostToggle). Set by roost.init.
local is_enabled = function(_)
  return true
end

local states = {}

--- What the last inline completion answer was, for :RoostStatus and bug reports.
M.last_answer = nil

-- Whether the last answer was an error (the first of a run of them was reported).
local failing = false

local function state(bufnr)
  local s = states[bufnr]
  if not s then
    s = {}
    states[bufnr] = s
  end
  return s
end

local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == "i"
end

function M.configure(options, client_finder, enabled)
  config = vim.tbl_extend("force", config, options or {})
  find_client = client_finder
  is_enabled = enabled or is_enabled
end

-- An extmark belongs to the buffer, and every window showing the buffer draws it: with the buffer split in two,
-- the suggestion showed in both. Neovim 0.11 scopes a namespace to windows (nvim__ns_set). Before it, where the
-- buffer is in more than one window, the suggestion's first line is drawn by a decoration provider, in its own
-- window only (an ephemeral extmark, set as that window is drawn); such a mark cannot hold virtual lines, so the
-- rest of a multi-line suggestion is said to follow, and <Tab> inserts it all as usual.
-- bufnr -> { win, row, col, virt_text } for the suggestions drawn that way.
local window_only = {}
local can_scope_namespace = vim.api.nvim__ns_set ~= nil

local function redraw_row(bufnr, row)
  if vim.api.nvim_buf_is_valid(bufnr) then
    pcall(vim.api.nvim__buf_redraw_range, bufnr, row, row + 1)
  end
end

local function forget_window_only(bufnr)
  local drawn = window_only[bufnr]
  if drawn then
    window_only[bufnr] = nil
    redraw_row(bufnr, drawn.row)
  end
end

if not can_scope_namespace then
  vim.api.nvim_set_decoration_provider(ns, {
    on_win = function(_, win, bufnr)
      local drawn = window_only[bufnr]
      if drawn and drawn.win == win then
        pcall(vim.api.nvim_buf_set_extmark, bufnr, ns, drawn.row, drawn.col, {
          ephemeral = true,
          virt_text = drawn.virt_text,
          virt_text_pos = "overlay",
          hl_mode = "combine",
          priority = 200,
        })
      end
      return false -- no on_line work
    end,
  })
end

local function draw_in_window_only(bufnr, suggestion, lines, after)
  local virt_text = { { lines[1], config.hl_group } }
  if #lines > 1 then
    table.insert(virt_text, { ("  (+%d more line%s)"):format(#lines - 1, #lines > 2 and "s" or ""), "NonText" })
    after = after ~= "" and string.rep(" ", vim.fn.strdisplaywidth(after)) or ""
  end
  if after ~= "" then
    table.insert(virt_text, { after, "Normal" })
  end
  window_only[bufnr] = { win = suggestion.win, row = suggestion.row, col = suggestion.col, virt_text = virt_text }
  redraw_row(bufnr, suggestion.row)
end

local function cancel_request(bufnr)
  local s = state(bufnr)
  if s.request_id and s.client_id then
    local client = vim.lsp.get_client_by_id(s.client_id)
    if client then
      util.call(client, "cancel_request", s.request_id)
    end
  end
  s.request_id = nil
end

local function stop_timer(bufnr)
  local s = state(bufnr)
  if s.timer then
    s.timer:stop()
    s.timer:close()
    s.timer = nil
  end
end

--- Removes the suggestion and cancels what is in flight.
function M.clear(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  stop_timer(bufnr)
  cancel_request(bufnr)
  local s = state(bufnr)
  s.suggestion = nil
  forget_window_only(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
end

local function current_item(bufnr)
  local suggestion = state(bufnr).suggestion
  return suggestion and suggestion.items[suggestion.index]
end

function M.visible(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return current_item(bufnr) ~= nil
end

--- The text of the suggestion on screen (what <Tab> would insert), or nil.
function M.text(bufnr)
  local item = current_item(bufnr or vim.api.nvim_get_current_buf())
  return item and item.text
end

-- Neovim does not scroll virtual lines into view: a multi-line suggestion on the window's last line showed its
-- first line only, and <Tab> inserted lines the user had never seen. The window scrolls up just enough for them
-- (never past the cursor's line, nor into 'scrolloff', which would scroll it back).
local function reveal_lines_below(win, count)
  if count == 0 or not vim.api.nvim_win_is_valid(win) then
    return
  end
  vim.api.nvim_win_call(win, function()
    local rows_below = vim.api.nvim_win_get_height(win) - vim.fn.winline()
    if rows_below >= count then
      return
    end
    local view = vim.fn.winsaveview()
    local topline = math.min(view.topline + count - rows_below, view.lnum - vim.fn.eval("&scrolloff"))
    if topline > view.topline then
      view.topline = topline
      vim.fn.winrestview(view)
    end
  end)
end

local function render(bufnr)
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  forget_window_only(bufnr)
  local suggestion = state(bufnr).suggestion
  local item = current_item(bufnr)
  if not item then
    return
  end
  local lines = util.split_lines(item.text)
  local line = util.buf_line(bufnr, suggestion.row)
  local after = line:sub(suggestion.col + 1 + item.delete_after)
  if can_scope_namespace then
    pcall(vim.api.nvim__ns_set, ns, { wins = { suggestion.win } })
  elseif #vim.fn.win_findbuf(bufnr) > 1 then
    draw_in_window_only(bufnr, suggestion, lines, after)
    return
  end
  local hl = config.hl_group
  local opts = { hl_mode = "combine", priority = 200 }
  if util.has_version(0, 10) then
    -- Inline virtual text pushes the rest of the line to the right, exactly as the insertion would.
    opts.virt_text = { { lines[1], hl } }
    opts.virt_text_pos = "inline"
  else
    -- Before 0.10 there is no inline virtual text: overlay the suggestion and redraw the rest of the
    -- line after it, so the line looks as it will after accepting. For a multi-line suggestion the rest
    -- of the line moves to its last line; blank out the original cells instead.
    local first = { { lines[1], hl } }
    if #lines == 1 then
      if after ~= "" then
        table.insert(first, { after, "Normal" })
      end
    elseif after ~= "" then
      table.insert(first, { string.rep(" ", vim.fn.strdisplaywidth(after)), "Normal" })
    end
    opts.virt_text = first
    opts.virt_text_pos = "overlay"
  end
  if #lines > 1 then
    local virt_lines = {}
    for index = 2, #lines do
      local chunks = { { lines[index], hl } }
      if index == #lines and after ~= "" and not util.has_version(0, 10) then
        table.insert(chunks, { after, "Normal" })
      end
      table.insert(virt_lines, chunks)
    end
    opts.virt_lines = virt_lines
  end
  local ok, err = pcall(vim.api.nvim_buf_set_extmark, bufnr, ns, suggestion.row, suggestion.col, opts)
  if not ok then
    util.debug("cannot draw the suggestion: " .. tostring(err))
  elseif opts.virt_lines then
    reveal_lines_below(suggestion.win, #opts.virt_lines)
  end
end

--- Turns the server's items into "text to insert at the cursor" items; items that do not fit what is
--- in the buffer (a range on another line, or text that does not start with what was typed) are dropped.
local function normalize(result, bufnr, row, col, encoding, client_id)
  local list = result
  if type(result) == "table" and result.items then
    list = result.items
  end
  local items, seen = {}, {}
  if type(list) ~= "table" then
    return items
  end
  local line = util.buf_line(bufnr, row)
  for _, item in ipairs(list) do
    local insert = item.insertText
    if type(insert) == "table" then
      insert = insert.value -- a snippet: shown and inserted as its text
    end
    if type(insert) == "string" then
      -- Buffer lines hold no line ending: a CRLF (or CR) break in the text is one line break, as Neovim's own
      -- text edits take it; split on "\n" alone it would leave a "^M" in the buffer (a dos buffer then
      -- writes "\r\r\n").
      insert = insert:gsub("\r\n?", "\n")
    end
    local text, delete_after = insert, 0
    if type(insert) ~= "string" then
      text = nil
    elseif type(item.range) == "table" then
      local start, finish = item.range.start, item.range["end"]
      if start.line ~= row then
        text = nil
      else
        local start_col = util.byte_col(line, start.character, encoding)
        local typed = line:sub(start_col + 1, col)
        if start_col > col or insert:sub(1, #typed) ~= typed then
          text = nil
        else
          text = insert:sub(#typed + 1)
          if finish.line == row then
            delete_after = math.max(0, util.byte_col(line, finish.character, encoding) - col)
          end
        end
      end
    end
    if text and text:match("%S") and not seen[text] then
      seen[text] = true
      table.insert(items, { text = text, delete_after = delete_after, command = item.command, client_id = client_id })
    end
  end
  return items
end

--- Asks the server for suggestions at the cursor (trigger_kind: 1 invoked, 2 automatic). `shown`: the item on
--- screen when the user asked for another one (cycling); `delta`: which way (1 next, -1 previous).
function M.request(bufnr, trigger_kind, shown, delta)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = find_client(bufnr)
  -- Toggled off: the server is not asked at all (not asked and the answer hidden).
  if not client or not is_enabled(bufnr) then
    return
  end
  cancel_request(bufnr)
  local s = state(bufnr)
  local row, col = cursor()
  local line = util.buf_line(bufnr, row)
  local encoding = util.encoding(client)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = util.lsp_character(line, col, encoding) },
    context = { triggerKind = trigger_kind or AUTOMATIC },
  }
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local win = vim.api.nvim_get_current_win()
  local ok, request_id -- declared first: the handler below compares against it
  ok, request_id = util.call(client, "request", "textDocument/inlineCompletion", params, function(err, result)
    if s.request_id ~= request_id then
      return -- superseded
    end
    s.request_id = nil
    local raw_items = type(result) == "table" and (result.items or result) or {}
    M.last_answer = { error = err and (err.message or vim.inspect(err)) or nil, items = #raw_items, shown = 0 }
    if err then
      -- Neovim's default vim.notify echoes every level, so a message per failed request would be one per
      -- keystroke while the server keeps failing: say it once, then again only after a request succeeded.
      if not failing then
        failing = true
        util.notify(
          ("inline completion failed: %s (further failures are not shown until one succeeds; :RoostStatus)"):format(
            M.last_answer.error
          ),
          vim.log.levels.WARN
        )
      end
      return
    end
    failing = false
    -- An answer for text or a position the user has moved on from is dropped.
    local now_row, now_col = cursor()
    if
      not vim.api.nvim_buf_is_valid(bufnr)
      or vim.api.nvim_get_current_buf() ~= bufnr
      or vim.api.nvim_get_current_win() ~= win
      or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
      or now_row ~= row
      or now_col ~= col
      or not in_insert_mode()
    then
      M.last_answer.stale = true
      return
    end
    local items = normalize(result, bufnr, row, col, encoding, client.id)
    M.last_answer.shown = #items
    local index = 1
    if shown then
      -- Asked for another suggestion: the one on screen stays, the answer's others come after it. An answer with
      -- nothing new (the same item, or none) had replaced it, and an empty one left the screen empty.
      local kept = { shown }
      for _, item in ipairs(items) do
        if item.text ~= shown.text then
          table.insert(kept, item)
        end
      end
      items = kept
      index = #items == 1 and 1 or (delta < 0 and #items or 2)
    end
    if #items == 0 then
      M.clear(bufnr)
      return
    end
    s.suggestion =
      { row = row, col = col, prefix = line:sub(1, col), items = items, index = index, tick = tick, win = win }
    render(bufnr)
  end, bufnr)
  if ok then
    s.request_id = request_id
    s.client_id = client.id
    M.requests_sent = (M.requests_sent or 0) + 1
  end
end

--- When the user types the start of the suggestion, keep showing the rest without asking again.
local function follow_typing(bufnr)
  local s = state(bufnr)
  local suggestion = s.suggestion
  if not suggestion then
    return false
  end
  local row, col = cursor()
  local line = util.buf_line(bufnr, row)
  if row ~= suggestion.row or col < suggestion.col or line:sub(1, suggestion.col) ~= suggestion.prefix then
    return false
  end
  local typed = line:sub(suggestion.col + 1, col)
  local kept = {}
  for _, item in ipairs(suggestion.items) do
    if #item.text > #typed and item.text:sub(1, #typed) == typed then
      local rest = item.text:sub(#typed + 1)
      if rest:match("%S") then
        table.insert(kept, vim.tbl_extend("force", item, { text = rest }))
      end
    end
  end
  if #kept == 0 then
    return false
  end
  suggestion.items, suggestion.index = kept, 1
  suggestion.col, suggestion.prefix = col, line:sub(1, col)
  suggestion.tick = vim.api.nvim_buf_get_changedtick(bufnr)
  render(bufnr)
  return true
end

local function schedule_request(bufnr)
  stop_timer(bufnr)
  local s = state(bufnr)
  local timer = util.uv.new_timer()
  s.timer = timer
  timer:start(
    config.debounce_ms,
    0,
    vim.schedule_wrap(function()
      if s.timer == timer then
        stop_timer(bufnr)
        if vim.api.nvim_get_current_buf() == bufnr and in_insert_mode() then
          M.request(bufnr, AUTOMATIC)
        end
      end
    end)
  )
end

function M.on_text_changed(bufnr)
  local s = state(bufnr)
  if s.own_edit_tick == vim.api.nvim_buf_get_changedtick(bufnr) then
    return -- our own accept-word/line edit; the suggestion was already moved along
  end
  if follow_typing(bufnr) then
    return
  end
  M.clear(bufnr)
  if config.auto_trigger then
    schedule_request(bufnr)
  end
end

function M.on_cursor_moved(bufnr)
  local suggestion = state(bufnr).suggestion
  if not suggestion then
    return
  end
  if vim.api.nvim_buf_get_changedtick(bufnr) ~= suggestion.tick then
    return -- typing moved the cursor: TextChangedI (which comes after) decides what stays
  end
  local row, col = cursor()
  if row ~= suggestion.row or col ~= suggestion.col then
    M.clear(bufnr)
  end
end

-- Word characters: ASCII letters, digits and "_", and every byte of a multibyte UTF-8 character (Lua's %w
-- is ASCII only), so a word such as "größe" or "名前" is accepted whole, never split at its first non-ASCII letter.
local WORD = "[%w_\128-\255]"
local NOT_WORD = "[^%w_%s\128-\255]"

local function next_word(text)
  if text:sub(1, 1) == "\n" then
    return "\n" .. (text:match("^\n([ \t]*)") or "")
  end
  return text:match("^[ \t]*" .. WORD .. "+")
    or text:match("^[ \t]*" .. NOT_WORD .. "+")
    or text:match("^[ \t]+")
    or text:sub(1, 1)
end

local function next_line(text)
  if text:sub(1, 1) == "\n" then
    return "\n" .. (text:match("^\n([^\n]*)") or "")
  end
  return text:match("^[^\n]*")
end

local function run_accept_command(item, bufnr)
  local command = item.command
  if type(command) ~= "table" or type(command.command) ~= "string" then
    return
  end
  local client = vim.lsp.get_client_by_id(item.client_id)
  if client then
    -- Accept tracking only; its answer does not matter to the user.
    util.call(client, "request", "workspace/executeCommand", {
      command = command.command,
      arguments = command.arguments,
    }, function() end, bufnr)
  end
end

--- Inserts the suggestion (kind "all"), or its next word or line; returns false when none is shown.
function M.accept(kind)
  local bufnr = vim.api.nvim_get_current_buf()
  local s = state(bufnr)
  local suggestion = s.suggestion
  local item = current_item(bufnr)
  if not item then
    return false
  end
  local row, col = cursor()
  if row ~= suggestion.row or col ~= suggestion.col then
    M.clear(bufnr)
    return false
  end
  local part = item.text
  if kind == "word" then
    part = next_word(item.text)
  elseif kind == "line" then
    part = next_line(item.text)
  end
  local whole = #part >= #item.text
  local lines = util.split_lines(part)
  M.clear(bufnr)
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col + (whole and item.delete_after or 0), lines)
  local new_row = row + #lines - 1
  local new_col = #lines == 1 and col + #lines[1] or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  if whole then
    run_accept_command(item, bufnr)
    return true
  end
  -- The rest stays on screen, anchored after what was inserted.
  s.own_edit_tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local line = util.buf_line(bufnr, new_row)
  s.suggestion = {
    win = suggestion.win,
    row = new_row,
    col = new_col,
    prefix = line:sub(1, new_col),
    items = { vim.tbl_extend("force", item, { text = item.text:sub(#part + 1) }) },
    index = 1,
    tick = s.own_edit_tick,
  }
  render(bufnr)
  return true
end

--- Shows the next (delta 1) or previous (-1) suggestion; asks the server when there is nothing to cycle.
function M.cycle(delta)
  local bufnr = vim.api.nvim_get_current_buf()
  local suggestion = state(bufnr).suggestion
  if suggestion and #suggestion.items > 1 then
    suggestion.index = (suggestion.index - 1 + delta) % #suggestion.items + 1
    render(bufnr)
    return
  end
  local row, col = cursor()
  local shown = suggestion and suggestion.row == row and suggestion.col == col and current_item(bufnr) or nil
  M.request(bufnr, INVOKED, shown, delta)
end

--- Asks for a suggestion now (e.g. with auto_trigger off).
function M.suggest()
  M.request(vim.api.nvim_get_current_buf(), INVOKED)
end

function M.dismiss()
  M.clear(vim.api.nvim_get_current_buf())
end

--- Wires the buffer's events; called when the Roost client attaches to it.
function M.attach(bufnr)
  local group = vim.api.nvim_create_augroup("roost_ghost_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.on_text_changed(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      M.on_cursor_moved(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
    end,
  })
  -- <C-c> leaves Insert mode without InsertLeave: the suggestion stayed on screen in Normal mode. ModeChanged
  -- sees it from 0.8 (0.7 fires nothing on <C-c>; there the first Normal-mode cursor move clears it); the
  -- completion sub-modes (ic, ix) and Replace keep it.
  vim.api.nvim_create_autocmd({ "ModeChanged", "CursorMoved" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      local mode = vim.api.nvim_get_mode().mode
      if mode:sub(1, 1) ~= "i" and mode:sub(1, 1) ~= "R" then
        M.clear(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
      states[bufnr] = nil
    end,
  })
end

return M
