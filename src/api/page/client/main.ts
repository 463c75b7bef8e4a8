/**
 * The history page's script, bundled by esbuild (scripts/build-page.mjs) into one file served at
 * /assets/page.js. The HTML (src/api/page/html.ts) says which page this is in `data-page`.
 */
import { currentToken } from './api.js';
import { executionPage } from './views/execution.js';
import { listPage } from './views/list.js';
import { schedulesSection } from './views/schedules.js';

function start(): void {
  // Take the token out of the address bar before anything else runs.
  currentToken();
  const page = document.body.getAttribute('data-page');
  if (page === 'list') {
    listPage();
    if (document.getElementById('schedules')) schedulesSection();
  }
  else if (page === 'execution') executionPage();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
