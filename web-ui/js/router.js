// Hash routes: "#/devices/<id>?tab=x" → a view. A view is
// render(root, params, query) and may return a cleanup function, called
// when the user leaves (stops its refresh timers).
const routes = [];
let cleanup = null;
let notFound = null;

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

/** Renders the view for the current hash into root. */
export async function dispatch(root = document.getElementById('main')) {
  if (cleanup) {
    try { cleanup(); } catch { /* a view's cleanup must not block navigation */ }
    cleanup = null;
  }
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
  root.replaceChildren();
  const c = await view(root, params, query);
  cleanup = typeof c === 'function' ? c : null;
}

/** Runs fn now and every ms while the tab is visible; never overlaps. Returns stop(). */
export function every(ms, fn) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await fn(); } catch { /* the view shows its own errors */ }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
