-- Small helpers shared by the Roost plugin: version checks, LSP position conversions, notifications.
-- Written against the Neovim 0.7 API (Debian's), which later versions keep.
local M = {}

--- True when the running Neovim is at least major.minor.
function M.has_version(major, minor)
  local v = vim.version()
  return v.major > major or (v.major == major and v.minor >= minor)
end

M.uv = vim.uv or vim.loop

--- Calls a client method: `client.f(...)` before 0.11, `client:f(...)` after (the dot form is deprecated there).
function M.call(client, method, ...)
  if M.has_version(0, 11) then
    return client[method](client, ...)
  end
  return client[method](...)
end

--- The clients attached to bufnr (vim.lsp.buf_get_clients is deprecated from 0.10).
function M.buf_clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr })
  end
  return vim.tbl_values(vim.lsp.buf_get_clients(bufnr))
end

--- Unified diff of two texts (vim.diff became vim.text.diff in 0.12).
function M.diff(a, b)
  local diff = (vim.text and vim.text.diff) or vim.diff
  return diff(a, b, { result_type = "unified", ctxlen = 3 })
end

function M.notify(message, level)
  vim.notify("Roost: " .. message, level or vim.log.levels.INFO)
end

--- A detail for bug reports, written to the LSP log (:LspLog) rather than echoed: Neovim's default
--- vim.notify shows every level, DEBUG included.
function M.debug(message)
  require("vim.lsp.log").debug("Roost: " .. message)
end

--- The client's position encoding ("utf-16" unless the server chose otherwise).
function M.encoding(client)
  return (client and client.offset_encoding) or "utf-16"
end

--- Byte column of an LSP character offset on `line` (a string), clamped to the line.
function M.byte_col(line, character, encoding)
  if character <= 0 then
    return 0
  end
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local ok, col = pcall(vim.str_byteindex, line, character, encoding == "utf-16")
  if not ok then
    return #line
  end
  return col
end

--- LSP character offset of byte column `col` on `line`.
function M.lsp_character(line, col, encoding)
  col = math.min(col, #line)
  if encoding == "utf-8" then
    return col
  end
  local utf32, utf16 = vim.str_utfindex(line, col)
  if encoding == "utf-16" then
    return utf16
  end
  return utf32
end

function M.buf_line(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
end

--- The LSP range covering whole lines line1..line2 (1-based, inclusive), as :RoostFix passes them.
function M.lines_range(bufnr, line1, line2, encoding)
  local last = M.buf_line(bufnr, line2 - 1)
  return {
    start = { line = line1 - 1, character = 0 },
    ["end"] = { line = line2 - 1, character = M.lsp_character(last, #last, encoding) },
  }
end

--- Splits on "\n" keeping empty pieces ("a\n" -> {"a", ""}), as buffer lines are counted.
function M.split_lines(text)
  return vim.split(text, "\n", { plain = true })
end

--- A buffer's whole text, newline-terminated like the file on disk.
function M.buf_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

return M
