-- :RoostExplain: why the last inline completion in this buffer showed what it did — the verdict (offered,
-- loading, refused file, blocked by the gate, backend down or degraded, ...), the context snippets the
-- prompt used and the stage timings, from the server's roost/explainCompletion.
local util = require("roost.util")

local M = {}

local HEADLINES = {
  offered = "Suggestion offered",
  nothing_yet = "No suggestion asked for yet",
  loading = "Roost is still loading",
  refused = "Roost does not complete in this file",
  blocked = "The security gate blocked the suggestion",
  backend_down = "The model backend is down",
  degraded = "The model backend is failing",
  empty = "The model had nothing to suggest",
  error = "The completion failed",
}

--- Whether a value is absent (nil, or JSON null as vim.NIL).
local function absent(value)
  return value == nil or value == vim.NIL
end

--- The view's lines for an explanation (roost/explainCompletion's answer); also used by the tests.
function M.lines(result)
  if type(result) ~= "table" then
    return { "Roost: the server sent no explanation" }
  end
  local verdict = tostring(result.verdict)
  local lines = {
    "Roost: " .. (HEADLINES[verdict] or verdict) .. " [" .. verdict .. "]",
    "  " .. tostring(result.reason or ""),
    "  server: " .. tostring(result.state) .. (absent(result.state_message) and "" or (" — " .. result.state_message)),
  }
  local last = result.last
  if absent(last) then
    return lines
  end
  if type(last.texts) == "table" and #last.texts > 0 then
    table.insert(lines, "")
    table.insert(lines, "Suggestions (" .. tostring(last.source) .. "):")
    for _, text in ipairs(last.texts) do
      table.insert(lines, "  " .. text:gsub("\n", "\n  "))
    end
  end
  if type(last.context) == "table" and #last.context > 0 then
    table.insert(lines, "")
    table.insert(lines, "Context used:")
    for _, item in ipairs(last.context) do
      table.insert(
        lines,
        ("  %s:%d-%d  %s (%s, %d tokens)"):format(
          item.path,
          item.start_line + 1,
          item.end_line + 1,
          tostring(item.kind),
          tostring(item.reason),
          item.tokens or 0
        )
      )
    end
  end
  if type(last.timings_ms) == "table" and not vim.tbl_isempty(last.timings_ms) then
    local stages = vim.tbl_keys(last.timings_ms)
    table.sort(stages)
    local parts = {}
    for _, stage in ipairs(stages) do
      table.insert(parts, ("%s %.0f ms"):format(stage, last.timings_ms[stage]))
    end
    table.insert(lines, "")
    table.insert(lines, "Timings: " .. table.concat(parts, ", "))
  end
  -- Texts may hold newlines; buffer lines may not.
  local flat = {}
  for _, line in ipairs(lines) do
    vim.list_extend(flat, util.split_lines(line))
  end
  return flat
end

--- Shows lines in the preview buffer `roost://explain` (one per tab page, reused).
function M.render(lines)
  local name = "roost://explain"
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].bufhidden = "wipe"
  end
  vim.api.nvim_buf_set_option(bufnr, "modifiable", true)
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.api.nvim_buf_set_option(bufnr, "modifiable", false)
  if vim.fn.bufwinnr(bufnr) == -1 then
    local current = vim.api.nvim_get_current_win()
    vim.cmd("botright " .. math.min(#lines + 1, 20) .. "split")
    vim.api.nvim_win_set_buf(0, bufnr)
    vim.api.nvim_set_current_win(current)
  end
  return bufnr
end

--- Asks the server why (for the current buffer) and shows the answer.
function M.show(client)
  local bufnr = vim.api.nvim_get_current_buf()
  if not client then
    M.render({
      "Roost: no server attached to this buffer",
      "  (filetype " .. (vim.bo[bufnr].filetype ~= "" and vim.bo[bufnr].filetype or "none") .. "; see :checkhealth roost)",
    })
    return
  end
  local enabled = require("roost").enabled(bufnr)
  local params = { uri = vim.uri_from_bufnr(bufnr) }
  util.call(client, "request", "roost/explainCompletion", params, function(err, result)
    local lines
    if err then
      lines = { "Roost: the server could not explain: " .. tostring(err.message or err) }
    else
      lines = M.lines(result)
    end
    if not enabled then
      table.insert(lines, 2, "  suggestions are turned off here (:RoostToggle)")
    end
    M.render(lines)
  end, bufnr)
end

return M
