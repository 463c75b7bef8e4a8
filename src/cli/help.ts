/** The CLI's help texts: the overview (`stepwise --help`) and one per command (`stepwise <command> --help`). */
import { serveHelp } from '../serve/options.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

const CLIENT_OPTIONS = `Options:
  --url URL     the server (default ${DEFAULT_URL}, or env STEPWISE_URL)
  -h, --help    show this help
The bearer token, when the server needs one, is read from env STEPWISE_TOKEN.`;

const EXIT_CODES = 'Exit codes: 0 ok, 1 server/request error, 2 usage error, 3 not found, 4 conflict.';

export const USAGE = `Usage: stepwise <command> [options]

Commands:
  serve [modules...]                      serve workflow modules over HTTP (stepwise serve --help)
  init [dir]                              create a new project that uses stepwise-engine
  start <workflow> --input <json|@file>   start an execution; --input @- reads stdin
        [--id ID] [--wait] [--timeout SECONDS]
  describe <id>                           show one execution (JSON)
  history <id> [--json]                   show an execution's history as a table (--json for scripts)
  list [--workflow W] [--status S]        list executions, newest first (--json for scripts)
       [--limit N] [--cursor C] [--json]
  cancel <id>                             cancel a running execution
  send <id> <event> [--payload <json>]    deliver an event to an execution (stepwise send --help)
  publish <event> --key KEY [--payload]   deliver an event to every execution waiting on its key
  redrive <id>                            resume a FAILED execution from the state that failed
  graph <workflow>                        print the workflow as a Mermaid diagram
  workflows [--json]                      list registered workflows
  schedules list|get|create|pause|resume|delete
                                          manage cron schedules (stepwise schedules --help)
  usage [<id>] [--workflow W] [--from D] [--to D] [--json]
                                          usage and estimated cost, of one execution or per day
  asl import <file.json> [--name NAME]    create or update a Step Functions state machine from ASL

stepwise <command> --help describes one command; stepwise --version prints the version.

Options for every client command:
  --url URL     server to talk to (default ${DEFAULT_URL}, or env STEPWISE_URL)
  -h, --help    show this help
The bearer token, when the server needs one, is read from env STEPWISE_TOKEN.

Exit codes: 0 ok, 1 server/request error, 2 usage error, 3 not found, 4 conflict;
start --wait: 0 SUCCEEDED, 5 FAILED, 6 CANCELLED.`;

const COMMANDS: Record<string, () => string> = {
  serve: serveHelp,
  init: () => `Usage: stepwise init [dir]

Creates a project that depends on stepwise-engine in dir (default: the current directory), which
must be new or empty: package.json (npm start serves the workflows, npm test runs the tests),
stepwise.config.ts, src/workflows.ts (one workflow with an input schema, a task and a durable
timer), test/workflows.test.ts (vitest, on a virtual clock), tsconfig.json and a README.

Options:
  -h, --help    show this help

Exit codes: 0 created; 2 usage error, or DIR_NOT_EMPTY when dir exists and is not empty.`,
  start: () => `Usage: stepwise start <workflow> --input <json|@file|@-> [--id ID] [--wait] [--timeout SECONDS]

Starts an execution of <workflow> and prints it as JSON.

  --input JSON|@file|@-   the execution input: JSON text, a file (@path), or stdin (@-); required
  --id ID                 your id for the execution (1-128 of letters, digits, ._:-); starting
                          again with the same id and input returns the same execution
  --wait                  wait until the execution ends and print the final execution
  --timeout SECONDS       with --wait: give up (exit 1, TIMEOUT) after this long
${CLIENT_OPTIONS}

${EXIT_CODES}
With --wait: 0 SUCCEEDED, 5 FAILED, 6 CANCELLED.`,
  describe: () => `Usage: stepwise describe <id>

Prints one execution as JSON: status, input, output or error, start and end times.
${CLIENT_OPTIONS}

${EXIT_CODES}`,
  history: () => `Usage: stepwise history <id> [--json]

Prints an execution's whole history as a table (SEQ TIME TYPE STEP ATTEMPT DETAIL).

  --json        print { "events": [...] } instead, for scripts
${CLIENT_OPTIONS}

${EXIT_CODES}`,
  list: () => `Usage: stepwise list [--workflow W] [--status S] [--limit N] [--cursor C] [--json]

Lists executions, newest first.

  --workflow W  only executions of workflow W
  --status S    only QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED
  --limit N     at most N (1-500, default 50)
  --cursor C    the next page, as printed after "(more: --cursor C)"
  --json        print the API's { items, nextCursor? } instead, for scripts
${CLIENT_OPTIONS}

${EXIT_CODES}`,
  cancel: () => `Usage: stepwise cancel <id>

Cancels a running execution: its running step is aborted, the compensations of completed steps
run, and it ends CANCELLED. Prints the execution as JSON.
${CLIENT_OPTIONS}

${EXIT_CODES} (4: the execution has already ended)`,
  graph: () => `Usage: stepwise graph <workflow>

Prints the workflow as a Mermaid state diagram.
${CLIENT_OPTIONS}

${EXIT_CODES}`,
  usage: () => `Usage: stepwise usage [<id>] [--workflow W] [--from DATE] [--to DATE] [--json]

With <id>: one execution's state transitions, step attempts, retries, handler time, bytes stored
and estimated cost. Without: the same summed per workflow per UTC day, for executions started in
[--from, --to) (ISO 8601 dates or date-times; default the last 7 days). Prices: docs/observability.md.

  --workflow W  only executions of workflow W
  --json        print the API's answer instead, for scripts
${CLIENT_OPTIONS}

${EXIT_CODES}`,
  workflows: () => `Usage: stepwise workflows [--json]

Lists the registered workflows (name and version), with their input schemas when --json.

  --json        print { "workflows": [...] } instead, for scripts
${CLIENT_OPTIONS}

${EXIT_CODES}`,
};

/** The help of one command, or the overview. */
export function helpFor(command?: string): string {
  return command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command]!() : USAGE;
}
