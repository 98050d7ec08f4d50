-- :checkhealth roost — the Neovim version and the inline path it takes, the `roost` command and its version,
-- `roost doctor`'s verdict, and whether a server is attached to the current buffer (or why not).
local M = {}

-- Neovim 0.7 has require("health").report_*; 0.9+ vim.health.start/ok/...; 0.10+ deprecates report_*.
local health = vim.health or require("health")
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local error = health.error or health.report_error
local info = health.info or health.report_info

-- `roost doctor` imports torch; a slow disk can take a while, but a health check must not hang.
local COMMAND_TIMEOUT_MS = 30000

--- Runs argv to completion: ok, output lines (stdout and stderr); ok is false when it could not start, timed
--- out or exited non-zero.
local function run(argv)
  local output = {}
  local function collect(_, data)
    for _, line in ipairs(data or {}) do
      if line ~= "" then
        table.insert(output, line)
      end
    end
  end
  local started, job = pcall(vim.fn.jobstart, argv, { on_stdout = collect, on_stderr = collect })
  if not started or job <= 0 then
    return false, { "could not start " .. argv[1] }
  end
  vim.fn.chanclose(job, "stdin")
  local code = vim.fn.jobwait({ job }, COMMAND_TIMEOUT_MS)[1]
  if code == -1 then
    vim.fn.jobstop(job)
    return false, { ("no answer in %d s"):format(COMMAND_TIMEOUT_MS / 1000) }
  end
  return code == 0, output
end

--- The program part of the server command: `roost` in `roost serve --stdio`, `python -m roost.lsp.cli` in
--- `python -m roost.lsp.cli serve --stdio`; nil for a command that is not Roost's `serve`.
local function program_of(cmd)
  for index, arg in ipairs(cmd) do
    if arg == "serve" and index > 1 then
      return vim.list_slice(cmd, 1, index - 1)
    end
  end
  return nil
end

--- How a project's own settings file (roost.toml, [tool.roost]) is trusted: see trust_workspace_config.
local function check_trust(roost)
  local trusting = roost.options().trust_workspace_config
  if trusting == true then
    warn("project settings files are trusted without asking (trust_workspace_config = true)", {
      "a cloned repository's roost.toml may then choose the backend your prompts go to",
    })
  elseif trusting == false then
    ok("project settings files may not choose the model, backend, gate or exclusions (trust_workspace_config = false)")
  elseif require("roost.trust").has_database() then
    ok("project settings files are asked about through Neovim's trust database (:trust)")
  else
    warn("Neovim < 0.9 has no trust database: a project's roost.toml may choose the backend your prompts go to", {
      "set trust_workspace_config = false to ignore its model, backend, gate and exclusion settings",
    })
  end
end

local function check_neovim(roost)
  local v = vim.version()
  local version = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if v.major == 0 and v.minor < 7 then
    error("Neovim " .. version .. ": Roost needs 0.7 or later")
    return
  end
  ok("Neovim " .. version)
  local path = roost.inline_path()
  if path == "builtin" then
    ok("inline suggestions: Neovim's own vim.lsp.inline_completion")
  elseif path == "ghost" then
    ok("inline suggestions: Roost's ghost text" .. (vim.lsp.inline_completion and "" or " (this Neovim has no vim.lsp.inline_completion)"))
  else
    warn("inline suggestions are off (inline.enabled = false)")
  end
  if vim.g.roost_enabled == false then
    warn("suggestions are toggled off globally", { "run :RoostToggle to turn them back on" })
  end
  check_trust(roost)
end

local function check_command(roost)
  local cmd = roost.options().cmd
  info("server command: " .. table.concat(cmd, " "))
  if vim.fn.executable(cmd[1]) ~= 1 then
    error(("%s is not found or not executable"):format(cmd[1]), {
      "install Roost (pip install roost) into a virtual environment",
      'set cmd = { "/path/to/.venv/bin/roost", "serve", "--stdio" } in require("roost").setup()',
    })
    return false
  end
  local program = program_of(cmd)
  if not program then
    warn("the command is not `roost ... serve`: its version and doctor are not checked")
    return false
  end
  local found, version = run(vim.list_extend(vim.deepcopy(program), { "--version" }))
  if found then
    ok(("%s found: %s"):format(cmd[1], version[1] or "version unknown"))
  else
    error(("%s --version failed: %s"):format(table.concat(program, " "), table.concat(version, " ")))
    return false
  end
  local healthy, report = run(vim.list_extend(vim.deepcopy(program), { "doctor" }))
  if healthy then
    ok("roost doctor: every required check passed")
  else
    error("roost doctor: " .. (report[#report] or "failed"), { "run `roost doctor` in a terminal for the details" })
  end
  return true
end

local function check_attached(roost)
  local bufnr = vim.api.nvim_get_current_buf()
  -- :checkhealth opens its own buffer; the buffer the user came from is the alternate one.
  if vim.bo[bufnr].filetype == "checkhealth" or vim.bo[bufnr].buftype ~= "" then
    local alternate = vim.fn.bufnr("#")
    if alternate > 0 then
      bufnr = alternate
    end
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  local status = roost.status(bufnr)
  if status.attached then
    ok(("server attached to %s (client %d, root %s): %s%s"):format(
      name ~= "" and vim.fn.fnamemodify(name, ":.") or "this buffer",
      status.client_id,
      status.root or "none (a file in no project)",
      tostring(status.state),
      (status.message and status.message ~= "") and (" — " .. status.message) or ""
    ))
    if not status.enabled then
      warn("suggestions are toggled off in this buffer", { "run :RoostToggle buffer" })
    end
    local decision = status.workspace_trust
    if decision and decision.file and not decision.trusted then
      warn(("%s: %s; its model, backend, gate and exclusion settings are ignored"):format(decision.file, decision.why), {
        ":edit it, :trust, then :RoostRestart",
      })
    end
    return
  end
  local filetype = vim.bo[bufnr].filetype
  if not vim.tbl_contains(roost.options().filetypes, filetype) then
    info(("no server attached: filetype %q is not one of %s"):format(filetype, table.concat(roost.options().filetypes, ", ")))
  elseif not roost.configured then
    warn("no server attached: the plugin is not set up", {
      'call require("roost").setup({}) in your config, or vim.lsp.enable("roost") on Neovim 0.11+',
    })
  else
    warn("no server attached to this buffer", { "see :RoostStatus and :LspLog; :RoostRestart starts it again" })
  end
end

function M.check()
  local roost = require("roost")
  start("Neovim")
  check_neovim(roost)
  start("roost command")
  check_command(roost)
  start("server")
  check_attached(roost)
end

return M
