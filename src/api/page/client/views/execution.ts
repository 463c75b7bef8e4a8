/**
 * The execution page (`/executions/:id`): polls the execution and its new history events every
 * second while it runs, and redraws the header, the graph's colours and the timeline's new rows.
 * After the end it polls until the closing event has arrived (a few polls at most), then stops.
 */
import { ApiError, apiGet, enc, isUnauthorized, messageOf } from '../api.js';
import { byId, h } from '../dom.js';
import { fmtClock, toMs } from '../format.js';
import { HistoryFeed } from '../history-feed.js';
import { computeStatuses, isEnded } from '../status.js';
import { allStates } from '../transitions.js';
import type { ApiExecution, HistoryPage, WorkflowGraph } from '../types.js';
import { ActionBar } from './actions.js';
import { EXECUTION_ACTIONS } from './execution-actions.js';
import { FamilyView } from './family.js';
import { askForToken, banner, live } from './banner.js';
import { applyStatuses, buildGraph, renderLegend, type GraphView } from './graph.js';
import { ExecutionHeader } from './header.js';
import { TimelineView } from './timeline.js';
import { UsageView } from './usage.js';

const POLL_MS = 1000;
const HISTORY_PAGE = 1000;
/** Polls after the execution ended without its closing event in the history, before giving up. */
const EXTRA_POLLS = 3;

export function executionPage(): void {
  const match = /^\/executions\/([^/]+)\/?$/.exec(location.pathname);
  const id = match ? decodeURIComponent(match[1]!) : '';
  const base = `/v1/executions/${enc(id)}`;
  let execution: ApiExecution | null = null;
  let workflow: WorkflowGraph | null = null;
  let workflowTried = false;
  let graph: GraphView | null = null;
  let extraPolls = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const feed = new HistoryFeed((after) =>
    apiGet<HistoryPage>(`${base}/history?limit=${HISTORY_PAGE}${after !== null ? `&after=${enc(after)}` : ''}`),
  );
  const header = new ExecutionHeader(id);
  const timeline = new TimelineView(
    { tbody: byId('timeline').querySelector('tbody')!, empty: byId('timeline-empty'), filterNote: byId('timeline-filter') },
    () => (execution ? toMs(execution.startedAt) : null),
    () => select(graph?.selected ?? ''),
  );
  const actions = new ActionBar(byId('exec-actions'), EXECUTION_ACTIONS, () => schedule(0));
  const family = new FamilyView(byId('exec-family'), id);
  const usage = new UsageView(byId('exec-usage'), `${base}/usage`);

  byId('exec-id').textContent = id || 'Execution';
  renderLegend(byId('legend'));

  const renderGraph = () => {
    if (graph && workflow && execution) applyStatuses(graph, computeStatuses(workflow.states, feed.events, execution.status));
  };

  /** The events the execution's running waitForEvent states wait for (what "Send event" offers). */
  const waitingFor = (): string[] => {
    if (!workflow || !execution) return [];
    const { statuses } = computeStatuses(workflow.states, feed.events, execution.status);
    return allStates(workflow.states)
      .filter((st) => st.type === 'waitForEvent' && typeof st.event === 'string' && statuses.get(st.name) === 'running')
      .map((st) => st.event!);
  };

  /** Clicking a state filters the timeline to it; clicking it again shows everything. */
  function select(state: string): void {
    if (!graph) return;
    graph.selected = graph.selected === state ? null : state;
    timeline.setFilter(graph.selected);
    renderGraph();
  }

  /** The graph of the execution's workflow, loaded once; without it the page still shows the rest. */
  const loadWorkflow = async (x: ApiExecution) => {
    if (workflowTried) return;
    workflowTried = true;
    try {
      const body = await apiGet<WorkflowGraph>(`/v1/workflows/${enc(x.workflow)}`);
      if (!body || !Array.isArray(body.states)) throw new Error('the description has no states');
      workflow = body;
      graph = buildGraph(byId('graph'), workflow, select);
    } catch (e) {
      if (isUnauthorized(e)) throw e;
      workflow = null;
      const g = byId('graph');
      g.replaceChildren(h('div', { class: 'empty', text: `The graph of workflow ${x.workflow} is not available: ${messageOf(e)}` }));
    }
  };

  let polling = false;
  /** A poll was asked for (after an action) while one was under way: run another right after it. */
  let pollAgain = false;

  const poll = async () => {
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    try {
      const x = await apiGet<ApiExecution>(base);
      execution = x;
      await loadWorkflow(x);
      await feed.poll();
      header.render(x, workflow?.version, feed.events.length);
      await usage.refresh(feed.events.length, isEnded(x.status)).catch((e: unknown) => {
        // Extra, like the family links: only a refused token stops the page.
        if (isUnauthorized(e)) throw e;
      });
      actions.render(x, { waitingFor: waitingFor() });
      await family.refresh(x).catch((e: unknown) => {
        // The links are extra: only a refused token stops the page.
        if (isUnauthorized(e)) throw e;
      });
      timeline.render(feed.events);
      renderGraph();
      banner(null);
      if (pollAgain) {
        pollAgain = false;
        schedule(0);
      } else if (isEnded(x.status) && (feed.sawEnd || ++extraPolls > EXTRA_POLLS)) {
        live('', `final · ${x.status.toLowerCase()}`);
      } else {
        live('on', `live · updated ${fmtClock(Date.now()).slice(0, 8)}`);
        schedule(POLL_MS);
      }
    } catch (e) {
      if (isUnauthorized(e)) return askForToken();
      if (e instanceof ApiError && !execution && (e.status === 404 || e.status === 400)) {
        banner('error', e.status === 404 ? `No execution has the id ${id}.` : `Cannot load execution ${id}: ${e.message}`);
        live('error', e.status === 404 ? 'not found' : 'error');
        if (e.status === 404) byId('timeline-empty').textContent = 'Nothing to show.';
        return;
      }
      banner('error', `Could not update: ${messageOf(e)} (retrying)`);
      live('error', 'offline · retrying');
      schedule(POLL_MS * 2);
    } finally {
      polling = false;
    }
  };

  function schedule(ms: number): void {
    clearTimeout(timer);
    timer = setTimeout(() => void poll(), ms);
  }

  void poll();
}
