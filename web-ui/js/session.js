// The signed-in API token and its role, kept for this browser tab only
// (sessionStorage): closing the tab or signing out forgets them.
const TOKEN_KEY = 'certdeploy.token';
const ROLE_KEY = 'certdeploy.role';

export function sessionToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function sessionRole() {
  return sessionStorage.getItem(ROLE_KEY);
}

export function sessionStart(token, role) {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(ROLE_KEY, role);
}

export function sessionEnd() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
}

export function isAdmin() {
  return sessionRole() === 'admin';
}
