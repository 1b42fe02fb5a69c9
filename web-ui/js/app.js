// Entry point: sign-in, role detection, navigation and the route table.
import { api, ApiError, setUnauthorizedHandler } from './api.js';
import { isAdmin, sessionEnd, sessionRole, sessionStart, sessionToken } from './session.js';
import { dispatch, leave, route, setNotFound, currentLocation } from './router.js';
import { buildForm } from './forms.js';
import { h, clearFlash, flash } from './ui.js';
import { overviewView } from './views/overview.js';
import { failedView } from './views/failed.js';
import { devicesView } from './views/devices.js';
import { deviceView } from './views/device.js';
import { profilesView, profileFormView } from './views/profiles.js';
import { casView, caFormView } from './views/cas.js';
import { tokensView } from './views/tokens.js';
import { secretsView } from './views/secrets.js';

route('/', overviewView);
route('/failed', failedView);
route('/devices', devicesView);
route('/devices/:id', deviceView);
route('/profiles', profilesView);
route('/profiles/new', profileFormView);
route('/profiles/:id', profileFormView);
route('/cas', casView);
route('/cas/new', caFormView);
route('/cas/:id', caFormView);
route('/tokens', tokensView);
route('/secrets', secretsView);
setNotFound((root) => {
  root.append(h('h1', { tabindex: '-1' }, 'Page not found'),
    h('p', {}, 'There is no page at this address. ', h('a', { href: '#/' }, 'Go to the overview.')));
});

const main = () => document.getElementById('main');

function showChrome(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('whoami').hidden = !signedIn;
  document.body.classList.toggle('read-only', signedIn && !isAdmin());
  if (signedIn) {
    document.getElementById('role').textContent = isAdmin() ? 'Admin' : 'Observer · read-only';
  }
}

function markCurrentNav() {
  const { path } = currentLocation();
  const section = '/' + (path.split('/')[1] || '');
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href').slice(1);
    if (target === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function signInView(message) {
  // The page shown until now (its refresh would run on without a token,
  // get a 401 and reset this form) ends here.
  leave();
  showChrome(false);
  const root = main();
  root.replaceChildren();
  const form = buildForm({
    id: 'signin',
    submitLabel: 'Sign in',
    fields: [{
      name: 'token', label: 'API token', type: 'password', autocomplete: 'current-password',
      hint: 'An admin or observer token. `make run` prints the admin token when it starts.',
    }],
    onSubmit: async ({ token }) => {
      const t = token.trim();
      if (!t) throw new ApiError(400, 'invalid_request', 'Enter an API token.', 'token');
      let me;
      try {
        me = await api('GET', '/api/v1/whoami', { token: t });
      } catch (err) {
        if (err.status === 401) throw new ApiError(401, err.code, 'This token was not accepted. Check that you pasted all of it.', 'token');
        throw err;
      }
      sessionStart(t, me.role);
      clearFlash();
      await enter();
    },
  });
  root.append(h('section', { class: 'signin card' },
    h('h1', { tabindex: '-1' }, 'Sign in'),
    message ? h('p', { class: 'notice notice-info' }, message) : null,
    form.el));
  form.input('token').focus();
}

async function enter() {
  showChrome(true);
  markCurrentNav();
  await dispatch(main());
}

function signOut(message) {
  sessionEnd();
  clearFlash();
  signInView(message);
}

setUnauthorizedHandler(() => signOut('Your token is no longer accepted. Sign in again.'));

window.addEventListener('hashchange', async () => {
  if (!sessionToken()) return;
  clearFlash();
  markCurrentNav();
  const shown = await dispatch(main());
  // Not shown: the user went on to another page while this one loaded;
  // that page's own dispatch moves the focus.
  if (!shown) return;
  // Move focus to the new page (its title, or main while it loads) so
  // keyboard and screen reader users start there.
  const title = main().querySelector('h1');
  (title || main()).focus();
});

document.getElementById('signout').addEventListener('click', () => signOut('Signed out.'));

window.addEventListener('unhandledrejection', (ev) => {
  // A failure a view did not handle: say so on the page too (it still
  // reaches the console, where it belongs as a bug).
  const err = ev.reason;
  flash('error', err && err.message ? err.message : String(err));
});

if (sessionToken() && sessionRole()) enter();
else signInView();
