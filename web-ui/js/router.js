// Hash routes: "#/devices/<id>?tab=x" → a view. A view is
// render(root, params, query, { signal }) and may return (or resolve to) a
// cleanup function, called when the user leaves (stops its refresh timers).
//
// Each dispatch owns the view it shows: a fresh container element, an
// AbortController and the cleanup. A view that is still loading when the
// user navigates again is left behind for good: its container is detached
// (whatever it appends lands off the page), its signal is aborted (its
// fetches may stop), and once it resolves its cleanup is called at once,
// never kept in place of the newer view's.
const routes = [];
let notFound = null;
let current = null; // the shown view: { controller, cleanup }

/** Registers a pattern like "/devices/:id". */
export function route(pattern, view) {
  const names = [];
  const re = new RegExp('^' + pattern.replace(/:([a-z_]+)/g, (_, n) => { names.push(n); return '([^/]+)'; }) + '$');
  routes.push({ re, names, view });
}

export function setNotFound(view) {
  notFound = view;
}

/** The current hash split into path and query. */
export function currentLocation() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(qs) };
}

/** Goes to a hash path ("/devices?q=x"). */
export function navigate(path) {
  if (location.hash === `#${path}`) dispatch();
  else location.hash = path;
}

function runCleanup(fn) {
  try { fn(); } catch { /* a view's cleanup must not block navigation */ }
}

/**
 * Ends the shown view (also one still loading): aborts its signal and runs
 * its cleanup. Call it before anything else takes over the page (sign-in).
 */
export function leave() {
  const was = current;
  current = null;
  if (!was) return;
  was.controller.abort();
  if (was.cleanup) runCleanup(was.cleanup);
}

/**
 * Renders the view for the current hash into root. Resolves to true when
 * that view is still the one shown once it has loaded, false when the user
 * navigated on meanwhile (the page then belongs to a newer dispatch).
 */
export async function dispatch(root = document.getElementById('main')) {
  leave();
  const self = { controller: new AbortController(), cleanup: null };
  current = self;
  const { path, query } = currentLocation();
  let view = notFound;
  const params = {};
  for (const r of routes) {
    const m = path.match(r.re);
    if (m) {
      view = r.view;
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      break;
    }
  }
  const container = document.createElement('div');
  container.className = 'view';
  root.replaceChildren(container);
  let c;
  try {
    c = await view(container, params, query, { signal: self.controller.signal });
  } catch (err) {
    if (current !== self) return false; // nobody is looking at that page any more
    throw err;
  }
  if (current !== self) {
    // Left while loading: stop whatever it started, now.
    if (typeof c === 'function') runCleanup(c);
    return false;
  }
  self.cleanup = typeof c === 'function' ? c : null;
  return true;
}

/**
 * Runs fn now and every ms while the tab is visible; never overlaps.
 * Returns stop(). The timer also stops when signal aborts, by default the
 * signal of the view shown when every() is called, so leaving that view
 * stops it even if the view never hands stop() to the router.
 */
export function every(ms, fn, { signal = current?.controller.signal } = {}) {
  let timer = null;
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  };
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await fn(); } catch { /* the view shows its own errors */ }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  if (signal?.aborted) {
    stopped = true;
    return stop;
  }
  signal?.addEventListener('abort', stop, { once: true });
  tick();
  return stop;
}
